// Contracts, once per viewport (on the phone by touch). Two companies are made verified through the
// API (registration, real-name authentication and a drawn seal approved by an operator signed in in a
// browser of its own, the seal granted to the administrator, whose mobile is confirmed). In the app,
// the first administrator uploads a 4-page PDF (pages turned 0/90/180/270, three cropped) as a new
// contract with the other company as second party, drags each party's two widgets onto different
// pages (nudges, copies and deletes some), turns on the first party's cross-page seal (骑缝章) and
// drags its strips down by their handle, saves, reloads (the draft's document comes back from the
// platform) and opens it; then each signs in turn in its own browser with the code from the outbox
// (a wrong one first). The signed PDF downloads, passes the independent judges (as many signatures
// as the contract records signing acts) (../shared/pdfcheck), each stamp's ink lies where its
// widget was dropped and the cross-page strips lie at the right edge of every page at the height
// the handle was dragged to.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import { zhCN as T } from '../src/locales/zh-CN';
import { Pages, codeSentBy, randomMobile, randomTag, sampleUscc, signIn, SAMPLE_ID, TURNED_PAGES, turnedPdf, watchConsole } from './helpers';
import { judgeWithRoot } from './companies';

/** The operator identities scripts/web-test.sh configures for this spec (ESIGN_OPERATORS). */
const operatorFor = (project: string) => `${project}.contracts@example.com`;
const CN = '华联星云信达恒泰安瑞德明创新远博嘉和盛丰';
const cnTag = () => Array.from({ length: 3 }, () => CN[Math.floor(Math.random() * CN.length)]).join('');

interface Company {
  id: string;
  name: string;
  uscc: string;
  /** The same code with a wrong check character. */
  wrongUscc: string;
  key: string;
  adminId: string;
  mobile: string;
}

/** A write as the operator signed in on `op` (the session cookie and its CSRF token). */
async function asOperator(op: Page, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return op.evaluate(
    async ([method, path, body]) => {
      const s = await (await fetch('/v1/session')).json();
      const r = await fetch(path as string, {
        method: method as string,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, json: text ? JSON.parse(text) : null };
    },
    [method, path, body] as const,
  );
}

/** Registers a company, has its real-name authentication approved: a verified company. */
async function verifiedCompany(request: APIRequestContext, op: Page, region: string): Promise<Company> {
  const tag = randomTag();
  const name = `深圳市${cnTag()}科技有限公司`;
  const mobile = randomMobile();
  const reg = await request.post('/v1/enterprises', {
    data: { name, contact_email: `legal-${tag}@example.com`, admin: { name: '陈静', mobile, email: `admin-${tag}@example.com` } },
  });
  expect(reg.status(), await reg.text()).toBe(201);
  const r = await reg.json();
  const key = r.api_key as string;
  const auth = { Authorization: `Bearer ${key}` };
  const { uscc, org, wrong } = sampleUscc(region);
  const v = await request.post(`/v1/enterprises/${r.enterprise.id}/verification`, {
    headers: auth,
    data: {
      company_name: name,
      uscc,
      organization_code: org,
      legal_representative: { name: '陈静', id_number: SAMPLE_ID },
      administrator: { name: '陈静', id_number: SAMPLE_ID, mobile, is_legal_representative: true },
    },
  });
  expect(v.status(), await v.text()).toBe(202);
  const vid = (await v.json()).verification.id as string;
  const d = await asOperator(op, 'POST', `/v1/operator/verifications/${vid}/decision`, { decision: 'approve' });
  expect(d.status, JSON.stringify(d.json)).toBe(200);
  return { id: r.enterprise.id, name, uscc, wrongUscc: wrong, key, adminId: r.admin.id, mobile };
}

/** A seal the platform draws for the company, approved by the operator and granted to its administrator. */
async function sealFor(request: APIRequestContext, op: Page, c: Company) {
  const headers = { Authorization: `Bearer ${c.key}` };
  const r = await request.post('/v1/seals', { headers, data: { name: '合同专用章', kind: 'contract', generate: true } });
  expect(r.status(), await r.text()).toBe(201);
  const id = (await r.json()).seal.id as string;
  const sub = await request.post(`/v1/seals/${id}/submit`, { headers });
  expect(sub.status(), await sub.text()).toBe(202);
  const d = await asOperator(op, 'POST', `/v1/operator/seals/${id}/decision`, { decision: 'approve' });
  expect(d.status, JSON.stringify(d.json)).toBe(200);
  const g = await request.put(`/v1/seals/${id}/grants/${c.adminId}`, { headers, data: {} });
  expect(g.status(), await g.text()).toBe(200);
}

/** The administrator confirms its mobile (codes to sign go only to confirmed contacts). */
async function confirmMobile(request: APIRequestContext, c: Company) {
  const headers = { Authorization: `Bearer ${c.key}` };
  let otp = '';
  const code = await codeSentBy(request, `+86${c.mobile}`, async () => {
    const r = await request.post(`/v1/members/${c.adminId}/contacts/confirm`, { headers, data: { channel: 'sms' } });
    expect(r.status(), await r.text()).toBe(201);
    otp = (await r.json()).otp_id;
  });
  const v = await request.post(`/v1/members/${c.adminId}/contacts/verify`, { headers, data: { channel: 'sms', otp_id: otp, code } });
  expect(v.status(), await v.text()).toBe(200);
}

/** Signs on the contract's page: the code by SMS, typed (or pasted) into the six boxes. */
async function signOnPage(page: Page, request: APIRequestContext, c: Company, how: 'type' | 'paste', shots?: Pages) {
  await expect(page.getByRole('heading', { name: T['sign.title'], level: 2, exact: true })).toBeVisible();
  await expect(page.getByRole('radio', { name: /合同专用章/ })).toBeChecked();
  const code = await codeSentBy(request, `+86${c.mobile}`, async () => {
    await page.getByRole('button', { name: T['sign.codeSms'] }).click();
  });
  const dialog = page.getByRole('dialog', { name: T['sign.dialogTitle'] });
  await expect(dialog).toBeVisible();
  const first = dialog.getByLabel(T['sign.digit'].replace('{n}', '1'));
  await expect(first).toBeFocused();
  if (shots) {
    // A wrong code first: said in words, with the attempts left, and the boxes cleared.
    await page.keyboard.type(code === '000000' ? '111111' : '000000');
    await expect(dialog.getByText(T['signin.attemptsLeft'].replace('{n}', '4'))).toBeVisible();
    await expect(first).toHaveValue('');
    await shots.check(page, 'code-dialog', false);
  }
  if (how === 'type') await page.keyboard.type(code);
  else
    await first.evaluate((el, code) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', code);
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, code);
  await expect(dialog).toHaveCount(0, { timeout: 60_000 });
}

const here = dirname(fileURLToPath(import.meta.url));


/**
 * The bounding box of the ink that the signature widgets put on `pageNo` (tests/ink_bbox.py), only
 * within `clip` ([x0, y0, x1, y1], points from the displayed page's top-left) when given.
 */
function ink(file: string, pageNo: number, clip?: number[]): { x: number; y: number; width: number; height: number } | null {
  const args = [join(here, 'ink_bbox.py'), file, String(pageNo), ...(clip ?? []).map(String)];
  return JSON.parse(execFileSync('python3', args, { encoding: 'utf8' }));
}

/** The contract's PDF as a file named 采购合同.pdf: 4 pages, turned 0/90/180/270, cropped. */
async function contractPdf(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'esign-web-')), '采购合同.pdf');
  writeFileSync(file, await turnedPdf());
  return file;
}

const SEAL = (42 / 25.4) * 72;
const DATE = { width: 120, height: 20 };
/** A cross-page seal's default size: 40 mm. */
const CROSS = (40 / 25.4) * 72;

/**
 * Brings page `pageNo` into view just under the palette: inside the pages' own scroller on a
 * desktop; on a phone the window scrolls and the palette stays on top (sticky).
 */
async function showPage(page: Page, pageNo: number) {
  await page.locator('.pages').evaluate((el, n) => {
    const p = el.querySelector(`[data-page="${n}"]`)!;
    const bar = document.querySelector('.editor-toolbar')!.getBoundingClientRect();
    if (el.scrollHeight > el.clientHeight + 1) {
      window.scrollBy(0, document.querySelector('.editor-toolbar')!.getBoundingClientRect().top - 70); // under the top bar
      el.scrollTop += p.getBoundingClientRect().top - el.getBoundingClientRect().top - 8;
    } else window.scrollBy(0, p.getBoundingClientRect().top - bar.bottom - 16);
  }, pageNo);
  await page.waitForTimeout(100);
}

/** A drag from one point of the screen to another, with the mouse or, on a phone, a finger. */
async function drag(page: Page, touch: boolean, from: { x: number; y: number }, to: { x: number; y: number }) {
  if (touch) {
    const cdp = await page.context().newCDPSession(page);
    const at = (p: { x: number; y: number }) => [{ x: Math.round(p.x), y: Math.round(p.y), id: 1 }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(from) });
    for (let i = 1; i <= 10; i++) {
      const p = { x: from.x + ((to.x - from.x) * i) / 10, y: from.y + ((to.y - from.y) * i) / 10 };
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(p) });
    }
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await cdp.detach();
  } else {
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 10 });
    await page.mouse.up();
  }
}

/**
 * Drags the party's cross-page seal by its strip on `pageNo` so that the seal's top lands `fy` of
 * the way down that page; answers where the strips then are (points from the top, read off the
 * page as drawn).
 */
async function dragCross(page: Page, touch: boolean, party: string, pageNo: number, fy: number): Promise<number> {
  await showPage(page, pageNo);
  const strip = page.locator(`.cross[data-party="${party}"][data-page="${pageNo}"]`);
  const target = page.locator(`.pdf-page[data-page="${pageNo}"]`);
  const s = (await strip.boundingBox())!;
  const t = (await target.boundingBox())!;
  const from = { x: s.x + s.width / 2, y: s.y + s.height / 2 };
  const to = { x: from.x, y: from.y + (t.y + t.height * fy - s.y) };
  expect(to.y, 'the drop point is on screen').toBeLessThan(page.viewportSize()!.height);
  await drag(page, touch, from, to);
  const shown = TURNED_PAGES[pageNo - 1].shown;
  const after = (await strip.boundingBox())!;
  const y = ((after.y - t.y) / t.height) * shown[1];
  // Where the pointer let go, within a pixel of the screen.
  expect(Math.abs(y - fy * shown[1]), `cross-page seal dragged to ${fy * shown[1]}, is at ${y}`).toBeLessThan(1.5 / (t.height / shown[1]) + 0.5);
  return y;
}

/**
 * Drags a palette widget onto `pageNo` so that its centre lands at (fx, fy) of the page as shown
 * (fractions of its width and height), with the mouse or, on a phone, a finger; answers where it
 * must then be, in points from the page's displayed top-left.
 */
async function dropWidget(page: Page, touch: boolean, party: string, kind: 'signature' | 'signing_date', pageNo: number, fx: number, fy: number) {
  const source = page.locator(`.palette-item[data-party="${party}"][data-kind="${kind}"]`);
  await showPage(page, pageNo);
  const target = page.locator(`.pdf-page[data-page="${pageNo}"]`);
  const s = (await source.boundingBox())!;
  const t = (await target.boundingBox())!;
  const from = { x: s.x + s.width / 2, y: s.y + s.height / 2 };
  const to = { x: t.x + t.width * fx, y: t.y + t.height * fy };
  const vh = page.viewportSize()!.height;
  expect(to.y, 'the drop point is on screen').toBeLessThan(vh);
  await drag(page, touch, from, to);
  if (touch) {
    to.x = Math.round(to.x);
    to.y = Math.round(to.y);
  }
  const shown = TURNED_PAGES[pageNo - 1].shown;
  const size = kind === 'signature' ? { width: SEAL, height: SEAL } : DATE;
  return {
    kind,
    party,
    page: pageNo,
    x: ((to.x - t.x) / t.width) * shown[0] - size.width / 2,
    y: ((to.y - t.y) / t.height) * shown[1] - size.height / 2,
    ...size,
  };
}

/** A GET as the member signed in on `page`. */
async function asMember(page: Page, path: string): Promise<any> {
  return page.evaluate(async (path) => (await fetch(path)).json(), path);
}

async function nav(page: Page, label: string) {
  const menu = page.getByRole('button', { name: T['common.menu'] });
  if (await menu.isVisible()) await menu.click();
  await page.getByRole('navigation', { name: T['common.mainNav'] }).getByRole('link', { name: label, exact: true }).click();
}

interface LtvSignature {
  level: string;
  validation_data: { complete: boolean; missing: string[] } | null;
  revocation: { status: 'good' | 'revoked_after_signing' | 'revoked_before_signing' | 'unknown'; meaning: string } | null;
}
interface LtvReport {
  signatures: LtvSignature[];
  document_timestamps?: { intact: boolean }[];
}

/** The report's long-term-validation facts, signature by signature, are on the page in words. */
async function expectLongTermFacts(page: Page, report: LtvReport) {
  const items = page.locator('.report-list > li');
  await expect(items).toHaveCount(report.signatures.length);
  for (const [i, s] of report.signatures.entries()) {
    const li = items.nth(i);
    expect(['B-T', 'B-LT', 'B-LTA'], `signature ${i + 1}'s level`).toContain(s.level);
    await expect(li.locator('.level-badge')).toHaveText(T['report.level'].replace('{level}', s.level));
    await expect(li).toContainText(T[`report.level.${s.level as 'B-T' | 'B-LT' | 'B-LTA'}`]);
    if (!s.validation_data && !s.revocation) await expect(li).toContainText(T['report.ltvNone']);
    if (s.validation_data) await expect(li).toContainText(s.validation_data.complete ? T['report.vdComplete'] : T['report.vdMissing'].replace('{n}', String(s.validation_data.missing.length)));
    if (s.revocation) {
      for (const part of T[`report.rev.${s.revocation.status}`].split('{at}').filter(Boolean)) await expect(li).toContainText(part);
      await expect(li).toContainText(s.revocation.meaning);
    }
  }
  await expect(page.locator('.stamp-list > li')).toHaveCount(report.document_timestamps?.length ?? 0);
}

test('two companies: a contract prepared by dragging widgets onto turned and cropped pages, signed in turn with codes, judged, ink where dropped', async ({ page, browser, request }, info) => {
  const shots = new Pages(info, 'contracts-');
  const errors = watchConsole(page, 'initiator', [
    { status: 422, path: /^\/v1\/contracts\/[^/]+\/(open|sign)$/ },
    // The look-up of a code no verified company holds.
    { status: 404, path: '/v1/enterprises/lookup' },
  ]);

  // The operator, in a browser of its own, approves both companies' authentication.
  const opCtx = await browser.newContext();
  const op = await opCtx.newPage();
  // A code to the same operator a minute ago (an earlier run) is refused with 429 and asked again.
  const opErrors = watchConsole(op, 'operator', [{ status: 429, path: '/v1/sessions/code' }]);
  await op.goto('/operator');
  await signIn(op, request, operatorFor(info.project.name), operatorFor(info.project.name));
  await expect(op).toHaveURL(/\/operator\/verifications$/);
  const a = await verifiedCompany(request, op, '440300');
  const b = await verifiedCompany(request, op, '310115');
  for (const c of [a, b]) {
    await sealFor(request, op, c);
    await confirmMobile(request, c);
  }
  await opCtx.close();

  // A's administrator signs in and starts a contract.
  await page.goto('/signin');
  await signIn(page, request, a.mobile, `+86${a.mobile}`);
  await expect(page).toHaveURL(/\/app$/);
  await nav(page, T['nav.contracts']);
  await expect(page.getByRole('heading', { name: T['contracts.title'], level: 1 })).toBeVisible();
  await shots.check(page, 'list-empty');
  await page.getByRole('button', { name: T['contracts.new'] }).click();
  await expect(page.getByRole('heading', { name: T['contractNew.title'], level: 1 })).toBeVisible();

  // Not a PDF: said at once, nothing uploaded.
  await page.getByLabel(T['contractNew.pdf']).setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByText(T['contractNew.notPdf'])).toBeVisible();
  await page.getByLabel(T['contractNew.pdf']).setInputFiles(await contractPdf());
  await expect(page.getByText(T['contractNew.notPdf'])).toHaveCount(0);
  await expect(page.getByLabel(T['contractNew.name'])).toHaveValue('采购合同');
  const title = `采购合同 ${randomTag()}`;
  await page.getByLabel(T['contractNew.name']).fill(title);
  // The other party found by its USCC: a wrong check character and a letter codes never use are
  // said as they are typed; a well-formed code no verified company holds is said to be unknown;
  // B's code shows B's verified name.
  const usccField = page.getByLabel(T['contractNew.partyUscc'].replace('{n}', '2'));
  await usccField.fill(b.uscc.slice(0, 17) + 'I');
  await expect(page.getByText(T['err.uscc.charset'])).toBeVisible();
  await usccField.fill(b.wrongUscc);
  await expect(page.getByText(T['err.uscc.check_character'])).toBeVisible();
  await usccField.fill(sampleUscc('110105').uscc);
  await expect(page.getByText(T['contractNew.notFound'])).toBeVisible();
  await usccField.fill(b.uscc.toLowerCase());
  await expect(usccField).toHaveValue(b.uscc);
  await expect(page.getByText(T['contractNew.found'].replace('{name}', b.name))).toBeVisible();
  await page.getByLabel(T['order.sequential']).check();
  await shots.check(page, 'new');
  await page.getByRole('button', { name: T['contractNew.submit'] }).click();

  // The draft: both parties in order, not signed; three pages.
  await expect(page).toHaveURL(/\/app\/contracts\/[^/]+$/);
  await expect(page.getByRole('heading', { name: title, level: 1 })).toBeVisible();
  const parties = page.locator('.party-progress li');
  await expect(parties).toHaveCount(2);
  await expect(parties.nth(0)).toContainText(a.name);
  await expect(parties.nth(1)).toContainText(b.name);
  await expect(page.getByText(T['order.sequential'])).toBeVisible();
  const id = new URL(page.url()).pathname.split('/').pop()!;
  await shots.check(page, 'draft');

  // Opening without signature places: the reason, in words.
  await page.getByRole('button', { name: T['contract.openButton'] }).click();
  await expect(page.getByRole('alert').getByText(T['err.no_signature_placement'], { exact: true })).toBeVisible();

  // A draft's document is the initiator's own file until it is opened: nothing to download yet.
  await expect(page.getByRole('link', { name: T['doc.download'] })).toHaveCount(0);

  // The editor: each party's two widgets dragged onto different pages (pages 2-4 are turned 90, 180
  // and 270 degrees; 1, 3 and 4 have a CropBox inside the MediaBox).
  const touch = info.project.name === 'phone';
  await expect(page.locator('.pdf-page')).toHaveCount(4);
  const want = [
    await dropWidget(page, touch, a.id, 'signature', 2, 0.3, 0.25),
    await dropWidget(page, touch, a.id, 'signing_date', 1, 0.5, 0.3),
    await dropWidget(page, touch, b.id, 'signature', 3, 0.6, 0.2),
    await dropWidget(page, touch, b.id, 'signing_date', 4, 0.4, 0.25),
  ];
  await expect(page.locator('.widget')).toHaveCount(4);
  // A seal starts at its true size: 42 mm.
  const seal = page.locator(`.widget[data-party="${a.id}"][data-kind="signature"]`);
  const scaleNow = await page.locator('.pdf-page[data-page="2"]').evaluate((el) => el.getBoundingClientRect().width / 842);
  expect(Math.abs((await seal.boundingBox())!.width / scaleNow - SEAL)).toBeLessThan(1);
  // Arrow keys nudge the focused widget (1 point; 10 with Shift): right 10, up 1, then back.
  await seal.focus();
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Shift+ArrowLeft');
  await page.keyboard.press('ArrowDown');
  // A widget copied to the other pages, then those copies deleted (Delete key and button).
  const date = page.locator(`.widget[data-party="${b.id}"][data-kind="signing_date"]`);
  await date.focus();
  await page.getByRole('button', { name: T['editor.copy'] }).click();
  await expect(date).toHaveCount(4);
  for (const n of [1, 2]) {
    await page.locator(`.pdf-page[data-page="${n}"] .widget[data-party="${b.id}"][data-kind="signing_date"]`).focus();
    await page.keyboard.press('Delete');
  }
  await page.locator(`.pdf-page[data-page="3"] .widget[data-party="${b.id}"][data-kind="signing_date"]`).focus();
  await page.getByRole('button', { name: T['common.delete'], exact: true }).click();
  await expect(date).toHaveCount(1);

  // A's cross-page seal (骑缝章): switched on, a strip at the right edge of every page; switched
  // off and on again; dragged down by its strip on page 2 (mouse or finger), then 3 points up and 1
  // down with the arrow keys.
  const crossSwitch = page.getByRole('switch', { name: T['editor.crossFor'].replace('{party}', a.name) });
  await crossSwitch.check();
  const strips = page.locator(`.cross[data-party="${a.id}"]`);
  await expect(strips).toHaveCount(4);
  await crossSwitch.uncheck();
  await expect(strips).toHaveCount(0);
  await crossSwitch.check();
  await expect(strips).toHaveCount(4);
  let crossY = await dragCross(page, touch, a.id, 2, 0.55);
  const handle = page.getByRole('slider', { name: T['editor.crossLabel'].replace('{party}', a.name).replace('{page}', '1') });
  await handle.focus();
  for (const k of ['ArrowUp', 'ArrowUp', 'ArrowUp', 'ArrowDown']) await page.keyboard.press(k);
  crossY -= 2;
  expect(Math.abs(Number(await handle.getAttribute('aria-valuenow')) - crossY), 'the handle says where it is').toBeLessThan(1.5);
  // Its pages: from page 2 (three strips), then from page 1 again.
  const fromPage = page.getByLabel(T['editor.crossFirst']);
  await fromPage.selectOption('2');
  await expect(strips).toHaveCount(3);
  await expect(page.locator(`.cross[data-party="${a.id}"][data-page="1"]`)).toHaveCount(0);
  await fromPage.selectOption('1');
  await expect(strips).toHaveCount(4);
  // Every strip at the same height, at the right edge, each a quarter of the seal wide.
  for (let n = 1; n <= 4; n++) {
    const sb = (await strips.nth(n - 1).boundingBox())!;
    const pb = (await page.locator(`.pdf-page[data-page="${n}"]`).boundingBox())!;
    const k = pb.width / TURNED_PAGES[n - 1].shown[0];
    expect(Math.abs((sb.y - pb.y) / k - crossY), `strip on page ${n} top`).toBeLessThan(1);
    expect(Math.abs(sb.x + sb.width - (pb.x + pb.width)), `strip on page ${n} at the right edge`).toBeLessThan(1);
    expect(Math.abs(sb.width / k - CROSS / 4), `strip on page ${n} width`).toBeLessThan(1);
  }
  await showPage(page, 2);
  await shots.check(page, 'editor', false);
  await page.getByRole('button', { name: T['editor.save'] }).click();
  await expect(page.getByText(T['editor.saved'])).toBeVisible();

  // Saved where they were dropped, in points from the displayed page's top-left, within 2 points.
  const all = (await asMember(page, `/v1/contracts/${id}`)).placements as ((typeof want)[number] | { kind: 'cross_page'; party: string; y: number; size: number })[];
  const saved = all.filter((p) => p.kind !== 'cross_page') as typeof want;
  const savedCross = all.filter((p) => p.kind === 'cross_page') as { party: string; y: number; size: number; first_page?: number }[];
  expect(saved).toHaveLength(4);
  expect(savedCross).toHaveLength(1);
  expect(savedCross[0].party).toBe(a.id);
  expect(Math.abs(savedCross[0].y - crossY), `cross-page seal y: ${savedCross[0].y} vs ${crossY}`).toBeLessThan(2);
  expect(Math.abs(savedCross[0].size - CROSS)).toBeLessThan(0.1);
  for (const w of want) {
    const got = saved.find((p) => p.party === w.party && p.kind === w.kind)!;
    expect(got.page, `${w.kind} of ${w.party}`).toBe(w.page);
    for (const k of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(got[k] - w[k]), `${w.kind} p${w.page} ${k}: ${got[k]} vs ${w[k]}`).toBeLessThan(2);
  }

  // After a reload the editor draws the draft's document again, read back from the platform, with
  // the widgets and strips where they were saved.
  await page.reload();
  await expect(page.getByRole('heading', { name: title, level: 1 })).toBeVisible();
  await expect(page.locator('.pdf-page')).toHaveCount(4);
  await expect(page.locator('.widget')).toHaveCount(4);
  await expect(strips).toHaveCount(4);
  await expect(page.getByText(T['editor.pickAgain'])).toHaveCount(0);
  await expect(crossSwitch).toBeChecked();

  // Opened for signing.
  await page.getByRole('button', { name: T['contract.openButton'] }).click();
  await expect(page.locator('.page-head .badge')).toHaveText(T['status.contract.signing']);
  await shots.check(page, 'opened');

  // A signs first (sequential): its own widgets highlighted; a wrong code, then the right one typed.
  await expect(page.locator('.widget.mine')).toHaveCount(2);
  await expect(page.locator('.widget.theirs')).toHaveCount(2);
  await signOnPage(page, request, a, 'type', shots);
  await expect(page.getByText(T['sign.done'])).toBeVisible();
  await expect(page.getByRole('heading', { name: T['report.title'] })).toBeVisible();
  await expect(page.getByText(T['report.valid'])).toBeVisible();

  // B, in a browser of its own, opens the contract by its id and signs, pasting the code.
  const bCtx = await browser.newContext();
  const pb = await bCtx.newPage();
  const bErrors = watchConsole(pb, 'party-b');
  await pb.goto('/signin');
  await signIn(pb, request, b.mobile, `+86${b.mobile}`);
  await expect(pb).toHaveURL(/\/app$/);
  await pb.goto('/app/contracts');
  await pb.getByLabel(T['contracts.id']).fill(id);
  await pb.getByRole('button', { name: T['contracts.go'] }).click();
  await expect(pb.getByRole('heading', { name: title, level: 1 })).toBeVisible();
  await expect(pb.locator('.party-progress li').nth(0)).toContainText(T['contract.signed']);
  await expect(pb.locator('.widget.mine')).toHaveCount(2);
  await signOnPage(pb, request, b, 'paste');
  await expect(pb.getByText(T['sign.completed'])).toBeVisible();
  await expect(pb.locator('.page-head .badge')).toHaveText(T['status.contract.completed']);
  await expect(pb.getByText(T['report.valid'])).toBeVisible();
  // One PDF signature per signing act: one per page that carries a party's widgets, or one per
  // party where the platform signs a party's pages in one act; the contract says which.
  const done = await asMember(pb, `/v1/contracts/${id}`);
  const acts = (party: string) => (done.signatures as { party: string; acts: number }[]).filter((x) => x.party === party).reduce((n, x) => n + x.acts, 0);
  const total = acts(a.id) + acts(b.id);
  expect(acts(a.id)).toBeGreaterThan(0);
  expect(acts(b.id)).toBeGreaterThan(0);
  await expect(pb.locator('.report-list > li')).toHaveCount(total);
  await expect(pb.getByText(T['action.contract.completed'])).toBeVisible();
  await expect(pb.locator('.pdf-page canvas').first()).toBeVisible();
  await shots.check(pb, 'signed');

  // The signed PDF downloads; the judges pass it (as many signatures as signing acts, and the
  // document time stamp the completing act adds: B-LTA) and each stamp's ink lies where its
  // widget was dropped.
  const [download] = await Promise.all([pb.waitForEvent('download'), pb.getByRole('link', { name: T['doc.download'] }).click()]);
  const file = join(mkdtempSync(join(tmpdir(), 'esign-web-signed-')), 'signed.pdf');
  await download.saveAs(file);
  const pems = await (await request.get('/v1/ca/certificates')).text();
  judgeWithRoot(file, pems.slice(0, pems.indexOf('-----END CERTIFICATE-----') + 26), total + 1);
  // The strips' seal, cut in four, is a quarter of its size wide on each page: stamps are read
  // left of the strips.
  const stripW = savedCross[0].size / 4;
  for (const w of want) {
    const shown = TURNED_PAGES[w.page - 1].shown;
    const got = ink(file, w.page, [0, 0, shown[0] - stripW - 1, shown[1]]);
    expect(got, `ink on page ${w.page}`).not.toBeNull();
    const g = got!;
    // Within the widget (2 points of slack) ...
    expect(g.x, `${w.kind} p${w.page} left`).toBeGreaterThan(w.x - 2);
    expect(g.y, `${w.kind} p${w.page} top`).toBeGreaterThan(w.y - 2);
    expect(g.x + g.width, `${w.kind} p${w.page} right`).toBeLessThan(w.x + w.width + 2);
    expect(g.y + g.height, `${w.kind} p${w.page} bottom`).toBeLessThan(w.y + w.height + 2);
    // ... and a seal fills it, centred where it was dropped.
    if (w.kind === 'signature') {
      expect(Math.abs(g.x + g.width / 2 - (w.x + w.width / 2)), `seal p${w.page} centre x`).toBeLessThan(2);
      expect(Math.abs(g.y + g.height / 2 - (w.y + w.height / 2)), `seal p${w.page} centre y`).toBeLessThan(2);
    }
  }
  // A's strips: on every page at the right edge, at the height saved; the middle two span their
  // strip's width, and together the four are the seal's height, centred where it was dragged.
  const cy = savedCross[0].y;
  const size = savedCross[0].size;
  let top = Infinity;
  let bottom = -Infinity;
  for (let n = 1; n <= 4; n++) {
    const shown = TURNED_PAGES[n - 1].shown;
    const g = ink(file, n, [shown[0] - stripW - 3, 0, shown[0], shown[1]]);
    expect(g, `strip ink on page ${n}`).not.toBeNull();
    expect(g!.x, `strip p${n} left`).toBeGreaterThan(shown[0] - stripW - 2);
    expect(g!.x + g!.width, `strip p${n} right`).toBeLessThan(shown[0] + 0.5);
    expect(g!.y, `strip p${n} top`).toBeGreaterThan(cy - 2);
    expect(g!.y + g!.height, `strip p${n} bottom`).toBeLessThan(cy + size + 2);
    if (n === 2 || n === 3) {
      expect(Math.abs(g!.x - (shown[0] - stripW)), `strip p${n} spans its width (left)`).toBeLessThan(2);
      expect(Math.abs(g!.x + g!.width - shown[0]), `strip p${n} spans its width (right)`).toBeLessThan(2);
    }
    top = Math.min(top, g!.y);
    bottom = Math.max(bottom, g!.y + g!.height);
  }
  expect(Math.abs((top + bottom) / 2 - (cy + size / 2)), `the seal's centre: ${(top + bottom) / 2} vs ${cy + size / 2}`).toBeLessThan(2);
  expect(bottom - top, 'the seal, top to bottom').toBeGreaterThan(0.9 * size);

  // The public verification page reads the same file: four signatures, both companies, valid; an
  // unsigned PDF has none.
  await pb.goto('/verify');
  await expect(pb.getByRole('heading', { name: T['verify.title'], level: 1 })).toBeVisible();
  await pb.getByLabel(T['verify.file']).setInputFiles(file);
  await expect(pb.getByText(T['report.valid'])).toBeVisible();
  await expect(pb.locator('.report-list > li')).toHaveCount(total);
  await expect(pb.locator('.report-list > li').filter({ hasText: a.name })).toHaveCount(acts(a.id));
  await expect(pb.locator('.report-list > li').filter({ hasText: b.name })).toHaveCount(acts(b.id));
  // A's signature names the pages of its strips.
  await expect(pb.locator('.report-list > li').filter({ hasText: a.name }).getByText(T['report.stripPages'].replace('{pages}', '1–4'))).toBeVisible();
  // Each signature's long-term-validation facts, in words, as the API's report gives them: its
  // PAdES level (at least B-T: a trusted time stamp), the validation data the file carries, the
  // certificate's status at the signing time with the engine's own sentence; document time stamps.
  const rep = await request.post('/v1/verify', { headers: { 'Content-Type': 'application/pdf' }, data: readFileSync(file) });
  expect(rep.status()).toBe(200);
  await expectLongTermFacts(pb, await rep.json());
  await shots.check(pb, 'verify');
  await pb.getByLabel(T['verify.file']).setInputFiles(await contractPdf());
  await expect(pb.getByText(T['report.none'])).toBeVisible();
  expect(bErrors).toEqual([]);
  await bCtx.close();

  // The list shows it (this browser created it).
  await nav(page, T['nav.contracts']);
  await expect(page.getByRole('link', { name: new RegExp(title) })).toBeVisible();
  await shots.check(page, 'list');

  // The contract saved as a template (its original document, layout and places by role); a new
  // contract started from it with the template's document, B found by its USCC for the role 乙方:
  // the places follow the roles (A's cross-page seal too), the editor draws the copied document,
  // and it opens.
  await page.getByRole('link', { name: new RegExp(title) }).click();
  await expect(page.getByRole('heading', { name: title, level: 1 })).toBeVisible();
  const tplName = `采购合同模板 ${randomTag()}`;
  await page.getByLabel(T['templates.name']).fill(tplName);
  await page.getByRole('button', { name: T['templates.saveButton'] }).click();
  await expect(page.getByText(T['templates.saved'].replace('{name}', tplName))).toBeVisible();
  await nav(page, T['nav.templates']);
  await expect(page.getByRole('heading', { name: T['templates.title'], level: 1 })).toBeVisible();
  await expect(page.getByText(tplName, { exact: true })).toBeVisible();
  await shots.check(page, 'templates');
  await page.getByRole('link', { name: T['templates.start'].replace('{name}', tplName) }).click();
  await expect(page.getByRole('heading', { name: T['contractNew.fromTemplate'].replace('{name}', tplName), level: 1 })).toBeVisible();
  await expect(page.getByLabel(T['contractNew.useTemplateDoc'].replace('{pages}', '4'))).toBeChecked();
  // On the phone a new PDF of the same layout instead of the template's own.
  if (touch) {
    await page.getByLabel(T['contractNew.newDocSameLayout']).check();
    await page.getByLabel(T['contractNew.pdf']).setInputFiles(await contractPdf());
  }
  const roleB = page.getByLabel(T['contractNew.partyUsccRole'].replace('{role}', '乙方'));
  await roleB.fill(b.uscc);
  await expect(page.getByText(T['contractNew.found'].replace('{name}', b.name))).toBeVisible();
  const title2 = `${title} 续`;
  await page.getByLabel(T['contractNew.name']).fill(title2);
  await shots.check(page, 'from-template');
  await page.getByRole('button', { name: T['contractNew.submit'] }).click();
  await expect(page.getByRole('heading', { name: title2, level: 1 })).toBeVisible();
  await expect(page.locator('.pdf-page')).toHaveCount(4);
  await expect(page.locator('.widget')).toHaveCount(4);
  await expect(page.locator(`.cross[data-party="${a.id}"]`)).toHaveCount(4);
  const id2 = new URL(page.url()).pathname.split('/').pop()!;
  const c2 = await asMember(page, `/v1/contracts/${id2}`);
  expect(c2.placements).toHaveLength(5);
  expect((c2.placements as { party: string }[]).filter((p) => p.party === a.id)).toHaveLength(3);
  expect((c2.placements as { kind: string; party: string }[]).find((p) => p.kind === 'cross_page')?.party).toBe(a.id);
  expect(c2.template?.name).toBe(tplName);
  await page.getByRole('button', { name: T['contract.openButton'] }).click();
  await expect(page.locator('.page-head .badge')).toHaveText(T['status.contract.signing']);
  await expect(page.getByText(tplName, { exact: true })).toBeVisible();

  // The template deleted, after a confirmation; the contracts started from it keep their copies.
  await nav(page, T['nav.templates']);
  await page.getByRole('button', { name: T['templates.deleteNamed'].replace('{name}', tplName) }).click();
  const confirm = page.getByRole('dialog', { name: T['templates.deleteTitle'] });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: T['common.delete'], exact: true }).click();
  await expect(page.getByText(T['templates.none'])).toBeVisible();
  expect((await asMember(page, `/v1/contracts/${id2}`)).status).toBe('signing');
  expect([...errors, ...opErrors]).toEqual([]);
});
