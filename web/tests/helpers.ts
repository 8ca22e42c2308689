// Test-only helpers: valid Chinese registration numbers, seal PNGs, codes from the development
// outbox, axe scans, screenshots and console watching.
import { deflateSync } from 'node:zlib';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { zhCN as T } from '../src/locales/zh-CN';

// ---- registration numbers (the rules of shared/core/src/kyb.rs, for making test data only)

const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

/** A valid USCC of a company registered in `region` and its organization code (XXXXXXXX-X). */
export function sampleUscc(region = '440300'): { uscc: string; org: string; wrong: string } {
  const body = Array.from({ length: 8 }, () => String(Math.floor(Math.random() * 10))).join('');
  const o = 11 - (ORG_WEIGHTS.reduce((s, w, i) => s + Number(body[i]) * w, 0) % 11);
  const orgCheck = o === 10 ? 'X' : o === 11 ? '0' : String(o);
  const head = `91${region}${body}${orgCheck}`;
  const sum = USCC_WEIGHTS.reduce((s, w, i) => s + USCC_CHARSET.indexOf(head[i]) * w, 0);
  const check = USCC_CHARSET[(31 - (sum % 31)) % 31];
  const wrongCheck = USCC_CHARSET[(USCC_CHARSET.indexOf(check) + 7) % 31];
  return { uscc: head + check, org: `${body}-${orgCheck}`, wrong: head + wrongCheck };
}

/** A valid PRC resident ID number (the README's example). */
export const SAMPLE_ID = '11010519491231002X';

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** A valid resident ID number (Beijing Chaoyang, born 1990-03-07) with a random sequence. */
export function sampleId(): string {
  const body = `11010519900307${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`;
  const c = (12 - (ID_WEIGHTS.reduce((s, w, i) => s + Number(body[i]) * w, 0) % 11)) % 11;
  return body + (c === 10 ? 'X' : String(c));
}

/** A scanned authorization letter, as a PNG: a white page with lines of grey "text" and a red stamp. */
export function letterPng(): Buffer {
  const n = 360;
  return png(n, (x, y) => {
    const d = Math.hypot(x - 270, y - 290);
    if (d > 38 && d < 46) return [200, 22, 32, 255];
    if (x > 40 && x < 320 && y % 28 < 6 && y > 40 && y < 240 && (y < 200 || x < 220)) return [150, 150, 150, 255];
    return [255, 255, 255, 255];
  });
}

export function randomMobile(): string {
  return `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
}

export function randomTag(): string {
  return Math.random().toString(36).slice(2, 8);
}

// ---- PNG files

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** An RGBA PNG of n×n pixels, each from `pixel(x, y)`; printed `mm` across when given (pHYs). */
export function png(n: number, pixel: (x: number, y: number) => [number, number, number, number], mm?: number): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < n; y++) {
    const row = Buffer.alloc(1 + 4 * n);
    for (let x = 0; x < n; x++) row.set(pixel(x, y), 1 + 4 * x);
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(n, 0);
  ihdr.writeUInt32BE(n, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const phys = Buffer.alloc(9);
  if (mm) {
    const perMetre = Math.round(n / (mm / 1000));
    phys.writeUInt32BE(perMetre, 0);
    phys.writeUInt32BE(perMetre, 4);
    phys[8] = 1;
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(mm ? [chunk('pHYs', phys)] : []),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
/** A seal that passes every image rule: a red ring and a red star-like disc on transparency. */
export function goodSealPng(): Buffer {
  const n = 400;
  return png(n, (x, y) => {
    const dx = x + 0.5 - n / 2;
    const dy = y + 0.5 - n / 2;
    const d = Math.hypot(dx, dy);
    const a = Math.atan2(dy, dx);
    const star = d < (0.16 + 0.08 * Math.cos(5 * (a + Math.PI / 2))) * n;
    return (0.8 * n) / 2 < d && d < (0.95 * n) / 2 ? [200, 22, 32, 255] : star ? [200, 22, 32, 255] : [0, 0, 0, 0];
  }, 42);
}
/** A seal scanned on white paper: no transparent border (rule `opaque_background`). */
export function opaqueSealPng(): Buffer {
  const n = 300;
  return png(n, (x, y) => {
    const d = Math.hypot(x + 0.5 - n / 2, y + 0.5 - n / 2);
    return (0.8 * n) / 2 < d && d < (0.95 * n) / 2 ? [200, 22, 32, 255] : [255, 255, 255, 255];
  });
}

// ---- the development outbox

interface OutboxEntry {
  recipient: string;
  body: string;
  at: string;
}

async function newest(request: APIRequestContext, recipient: string): Promise<OutboxEntry | undefined> {
  const res = await request.get(`/v1/dev/outbox?recipient=${encodeURIComponent(recipient)}&limit=1`);
  expect(res.status()).toBe(200);
  return ((await res.json()) as { items: OutboxEntry[] }).items[0];
}

/** Runs `send`, then waits for a new message to `recipient` and answers its 6-digit code. */
export async function codeSentBy(request: APIRequestContext, recipient: string, send: () => Promise<void>): Promise<string> {
  const before = await newest(request, recipient);
  await send();
  let entry: OutboxEntry | undefined;
  await expect
    .poll(
      async () => {
        entry = await newest(request, recipient);
        return !!entry && (!before || entry.at !== before.at || entry.body !== before.body);
      },
      { message: `a new code in the outbox for ${recipient}`, timeout: 15_000 },
    )
    .toBe(true);
  const m = entry!.body.match(/\b(\d{6})\b/);
  expect(m, `a 6-digit code in "${entry!.body}"`).toBeTruthy();
  return m![1];
}

// ---- checks on every page: axe, console, screenshots

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(here, '..', 'screenshots');

const inflight = new WeakMap<Page, number>();

/** Waits until the page has had no request in flight for a moment (an SPA never "loads" again). */
async function settle(page: Page) {
  let quiet = 0;
  for (let i = 0; i < 100 && quiet < 3; i++) {
    await page.waitForTimeout(150);
    quiet = (inflight.get(page) ?? 0) === 0 ? quiet + 1 : 0;
  }
}

/**
 * Watches the page for console errors and uncaught exceptions (and counts its requests in flight).
 * `expected` names API answers the app asks for and handles (Chromium logs every 4xx response as a
 * console error, e.g. the 409 that asks a person to choose an account): those lines alone pass.
 */
export function watchConsole(page: Page, label: string, expected: { status: number; path: string | RegExp }[] = []): string[] {
  const errors: string[] = [];
  const isExpected = (text: string, url: string) =>
    expected.some((e) => {
      const path = new URL(url).pathname;
      return text.includes(`status of ${e.status}`) && (typeof e.path === 'string' ? path === e.path : e.path.test(path));
    });
  inflight.set(page, 0);
  page.on('request', () => inflight.set(page, (inflight.get(page) ?? 0) + 1));
  const done = () => inflight.set(page, Math.max(0, (inflight.get(page) ?? 0) - 1));
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  page.on('console', (m) => {
    if (m.type() === 'error' && !isExpected(m.text(), m.location().url)) errors.push(`[${label}] console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`[${label}] page error: ${e.message}`));
  return errors;
}

const cleared = new Set<string>();

export class Pages {
  private n = 0;
  readonly seen: string[] = [];
  private dir: string;
  /** Starts the project's screenshot folder afresh, so it shows this run's pages only. */
  constructor(info: TestInfo, private prefix = '') {
    this.dir = join(SCREENSHOTS, info.project.name);
    if (!cleared.has(this.dir)) {
      rmSync(this.dir, { recursive: true, force: true });
      cleared.add(this.dir);
    }
    mkdirSync(this.dir, { recursive: true });
  }

  /** Screenshot (full page) into screenshots/<project>/, and an axe scan with no serious or critical violation. */
  async check(page: Page, name: string, fullPage = true) {
    await page.waitForLoadState('networkidle');
    await settle(page);
    await expect(page.locator('.loading')).toHaveCount(0);
    const file = join(this.dir, `${this.prefix}${String(++this.n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage });
    this.seen.push(name);
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(
      bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`),
      `axe on ${name}`,
    ).toEqual([]);
  }
}

// ---- signing in through the page

/** Signs in on the page's sign-in form (member or operator) with the code from the outbox. */
export async function signIn(page: Page, request: Parameters<typeof codeSentBy>[0], identifier: string, recipient: string) {
  const field = page.getByLabel(T['signin.identifier']);
  if ((await field.inputValue()) !== identifier) await field.fill(identifier);
  const code = await codeSentBy(request, recipient, async () => {
    // A destination that was just sent a code (an earlier run) is asked to wait a few seconds.
    for (let i = 0; i < 15; i++) {
      await page.getByRole('button', { name: T['signin.sendCode'] }).click();
      const sent = page.getByText(T['signin.sentSms'].slice(0, 4)).or(page.getByText(T['signin.sentEmail'].slice(0, 4)));
      const limited = page.getByText(T['problem.rate-limited']);
      await expect(sent.or(limited)).toBeVisible();
      if (await sent.isVisible()) return;
      await page.waitForTimeout(5_000);
    }
  });
  await page.getByRole('textbox', { name: T['signin.code'], exact: true }).fill(code);
  await page.getByRole('button', { name: T['signin.submit'], exact: true }).click();
}

// ---- a contract PDF whose pages are turned and cropped

/** What each page of `turnedPdf()` is: /Rotate, the CropBox's offset in the MediaBox, size as displayed. */
export const TURNED_PAGES = [
  { rotate: 0, crop: [30, 40], media: [595, 842], crop_size: [535, 762] },
  { rotate: 90, crop: [0, 0], media: [595, 842], crop_size: [595, 842] },
  { rotate: 180, crop: [25, 15], media: [595, 842], crop_size: [545, 800] },
  { rotate: 270, crop: [20, 30], media: [842, 595], crop_size: [800, 540] },
].map((p) => ({ ...p, shown: p.rotate % 180 ? [p.crop_size[1], p.crop_size[0]] : p.crop_size }));

/** A 4-page contract (pdf-lib): pages turned 0/90/180/270, three with a CropBox inside the MediaBox. */
export async function turnedPdf(): Promise<Buffer> {
  const { PDFDocument, StandardFonts, degrees, rgb } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  TURNED_PAGES.forEach((p, i) => {
    const page = doc.addPage(p.media as [number, number]);
    page.setCropBox(p.crop[0], p.crop[1], p.crop_size[0], p.crop_size[1]);
    page.setRotation(degrees(p.rotate));
    for (let l = 0; l < 12; l++) {
      page.drawText(`Purchase agreement - page ${i + 1} - clause ${l + 1}`, { x: p.crop[0] + 40, y: p.crop[1] + p.crop_size[1] - 60 - 24 * l, size: 11, font, color: rgb(0.2, 0.2, 0.25) });
    }
  });
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}
