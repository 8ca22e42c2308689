// Embedded signing, once per viewport. A company is readied through the API and opens a contract
// with itself as the party; its server asks for a single-use signing link. A customer's page on
// ANOTHER origin (a tiny server on localhost, the app on 127.0.0.1) frames the link in a browser
// that never signed in: no cookie is ever sent or set. The member signs inside the frame with the
// code from the outbox; the host page hears {type: "esign.signing", contract_id, status: "signed"}
// from the app's origin; the PDF passes the independent judges. The same link a second time shows
// the "used or expired" page. A second link without a frame goes back to its return_url with the
// contract id and status in the query. The company's contracts page then lists both, signed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import { zhCN as T } from '../src/locales/zh-CN';
import { Pages, codeSentBy, signIn, turnedPdf, watchConsole } from './helpers';
import { downloadSigned, judge, openContract, readyCompany, type Company } from './companies';

/** The operator identities scripts/web-test.sh configures for this spec (ESIGN_OPERATORS). */
const operatorFor = (project: string) => `${project}.embed@example.com`;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The integrator's page: frames `src` and shows (and keeps) the messages from `app`'s origin only. */
function hostPage(src: string, app: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer portal</title>
<style>body{font-family:sans-serif;margin:0;padding:8px 12px}h1{font-size:18px;margin:4px 0}iframe{display:block;width:100%;height:80vh;border:1px solid #999}</style>
</head><body><main><h1>Customer portal</h1><p id="heard" role="status">waiting for the signature</p>
<iframe id="esign" title="Sign the contract" src="${esc(src)}"></iframe></main>
<script>
window.messages = [];
addEventListener('message', (e) => {
  if (e.origin !== ${JSON.stringify(app)}) return;
  window.messages.push(e.data);
  document.getElementById('heard').textContent = 'heard: ' + JSON.stringify(e.data);
});
</script></body></html>`;
}

let server: Server;
let host = '';

test.beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/host') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(hostPage(url.searchParams.get('src') ?? '', url.searchParams.get('app') ?? ''));
    } else if (url.pathname === '/back') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Back</title></head><body><main><h1>Back at the customer</h1></main></body></html>');
    } else {
      res.writeHead(204);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, r));
  host = `http://localhost:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise((r) => server.close(r));
});

/** The integrator's server asks for a signing link for its administrator. */
async function signingLink(request: APIRequestContext, c: Company, id: string, body: Record<string, string>): Promise<string> {
  const r = await request.post(`/v1/contracts/${id}/signing-sessions`, {
    headers: { Authorization: `Bearer ${c.key}` },
    data: { member_id: c.adminId, ...body },
  });
  expect(r.status(), await r.text()).toBe(201);
  const url = (await r.json()).url as string;
  expect(url).toContain(`/embed/sign/${id}#token=`);
  return url;
}

/** Picks the seal, asks for a code by SMS and types it from the outbox, in `scope` (a frame or the page). */
async function sign(page: Page, scope: ReturnType<Page['frameLocator']> | Page, request: APIRequestContext, c: Company) {
  await expect(scope.getByRole('heading', { name: T['sign.title'], level: 2, exact: true })).toBeVisible();
  await expect(scope.getByRole('radio', { name: /合同专用章/ })).toBeChecked();
  const code = await codeSentBy(request, `+86${c.mobile}`, async () => {
    await scope.getByRole('button', { name: T['sign.codeSms'] }).click();
  });
  const dialog = scope.getByRole('dialog', { name: T['sign.dialogTitle'] });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel(T['sign.digit'].replace('{n}', '1'))).toBeFocused();
  await page.keyboard.type(code);
  await expect(dialog).toHaveCount(0, { timeout: 60_000 });
}

test('embedded signing in a frame of another origin with no cookies, its message, the used link, the redirect', async ({ browser, request, baseURL }, info) => {
  const app = new URL(baseURL!).origin;
  const shots = new Pages(info, 'embed-');

  const opCtx = await browser.newContext();
  const op = await opCtx.newPage();
  const opErrors = watchConsole(op, 'operator', [{ status: 429, path: '/v1/sessions/code' }]);
  await op.goto('/operator');
  await signIn(op, request, operatorFor(info.project.name), operatorFor(info.project.name));
  await expect(op).toHaveURL(/\/operator\/verifications$/);
  const a = await readyCompany(request, op, '440300');
  await opCtx.close();
  expect(opErrors).toEqual([]);

  const pdf = await turnedPdf();
  const framed = await openContract(request, a, '嵌入签署合同', pdf);
  const link = await signingLink(request, a, framed, { parent_origin: host });

  // A browser that never signed in anywhere; every request to the app is watched for cookies.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const errors = watchConsole(page, 'embed', [{ status: 410, path: '/v1/signing-sessions/exchange' }]);
  const cookies: string[] = [];
  page.on('request', async (r) => {
    if (new URL(r.url()).origin !== app) return;
    const h = await r.allHeaders().catch(() => ({}) as Record<string, string>);
    if (h.cookie) cookies.push(`${r.url()}: ${h.cookie}`);
  });
  const hostUrl = `${host}/host?src=${encodeURIComponent(link)}&app=${encodeURIComponent(app)}`;
  await page.goto(hostUrl);
  const frame = page.frameLocator('iframe#esign');
  await expect(frame.getByRole('heading', { name: '嵌入签署合同', level: 1 })).toBeVisible();
  // The secret left the frame's address bar as soon as the page read it.
  const embedded = page.frames().find((f) => f.url().includes('/embed/sign/'))!;
  expect(embedded.url()).toBe(`${app}/embed/sign/${framed}`);
  await shots.check(page, 'framed');

  await sign(page, frame, request, a);
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { messages: unknown[] }).messages), { message: 'the host page hears of the signature' })
    .toEqual([{ type: 'esign.signing', contract_id: framed, status: 'signed' }]);
  await expect(frame.getByText(T['embed.signedTitle'], { exact: true })).toBeVisible();
  await shots.check(page, 'framed-signed');
  expect(cookies, 'no cookie went to the app').toEqual([]);
  expect(await ctx.cookies(), 'no cookie was set').toEqual([]);
  // The signature and the document time stamp that completing the contract adds (B-LTA).
  await judge(request, await downloadSigned(request, a, framed), 2);

  // The same link again: used.
  await page.goto(hostUrl);
  await expect(frame.getByText(T['embed.goneTitle'])).toBeVisible();
  await shots.check(page, 'framed-used');

  // Not framed, with a return URL: back to the integrator with the contract and its status.
  const redirected = await openContract(request, a, '跳转签署合同', pdf);
  const back = `${host}/back?from=esign`;
  const link2 = await signingLink(request, a, redirected, { return_url: back });
  await page.goto(link2);
  await expect(page.getByRole('heading', { name: '跳转签署合同', level: 1 })).toBeVisible();
  await expect(page).toHaveURL(`${app}/embed/sign/${redirected}`);
  await shots.check(page, 'page');
  await sign(page, page, request, a);
  await expect(page).toHaveURL(`${host}/back?from=esign&contract_id=${redirected}&status=signed`, { timeout: 30_000 });
  await judge(request, await downloadSigned(request, a, redirected), 2);
  expect(cookies, 'no cookie went to the app').toEqual([]);
  expect(await ctx.cookies()).toEqual([]);
  await ctx.close();
  expect(errors).toEqual([]);

  // In the console, the company's contracts page lists both, newest first, signed; none is still open.
  const consoleCtx = await browser.newContext();
  const member = await consoleCtx.newPage();
  const memberErrors = watchConsole(member, 'console', [{ status: 429, path: '/v1/sessions/code' }]);
  await member.goto('/signin');
  await signIn(member, request, a.mobile, `+86${a.mobile}`);
  await expect(member).toHaveURL(/\/app$/);
  await member.goto('/app/contracts');
  const rows = member.locator('.contract-list .contract-row-title');
  await expect(rows).toHaveText(['跳转签署合同', '嵌入签署合同']);
  await expect(member.locator('.contract-list .badge-completed')).toHaveCount(2);
  await shots.check(member, 'contracts-list');
  await member.getByLabel(T['contracts.filter']).selectOption('signing');
  await expect(member).toHaveURL(/\/app\/contracts\?status=signing$/);
  await expect(member.getByText(T['contracts.noneWithStatus'])).toBeVisible();
  await member.getByLabel(T['contracts.filter']).selectOption('completed');
  await expect(rows).toHaveCount(2);
  await consoleCtx.close();
  expect(memberErrors).toEqual([]);
});
