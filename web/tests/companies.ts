// Companies readied through the API for browser tests: registered, verified by an operator signed
// in on a page of its own, a drawn seal approved and granted to the administrator, whose mobile is
// confirmed; contracts prepared and opened through the API; the independent judges on a PDF.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { SAMPLE_ID, codeSentBy, randomMobile, randomTag, sampleUscc } from './helpers';

export interface Company {
  id: string;
  name: string;
  key: string;
  adminId: string;
  mobile: string;
}

const CN = '华联星云信达恒泰安瑞德明创新远博嘉和盛丰';
const cnTag = () => Array.from({ length: 3 }, () => CN[Math.floor(Math.random() * CN.length)]).join('');

/** A write as the operator signed in on `op` (the session cookie and its CSRF token). */
export async function asOperator(op: Page, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
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

/** A verified company with a drawn seal granted to its administrator, whose mobile is confirmed. */
export async function readyCompany(request: APIRequestContext, op: Page, region: string): Promise<Company> {
  const tag = randomTag();
  const name = `深圳市${cnTag()}科技有限公司`;
  const mobile = randomMobile();
  const reg = await request.post('/v1/enterprises', {
    data: { name, contact_email: `legal-${tag}@example.com`, admin: { name: '陈静', mobile, email: `admin-${tag}@example.com` } },
  });
  expect(reg.status(), await reg.text()).toBe(201);
  const r = await reg.json();
  const c: Company = { id: r.enterprise.id, name, key: r.api_key, adminId: r.admin.id, mobile };
  const headers = { Authorization: `Bearer ${c.key}` };
  const { uscc, org } = sampleUscc(region);
  const v = await request.post(`/v1/enterprises/${c.id}/verification`, {
    headers,
    data: {
      company_name: name,
      uscc,
      organization_code: org,
      legal_representative: { name: '陈静', id_number: SAMPLE_ID },
      administrator: { name: '陈静', id_number: SAMPLE_ID, mobile, is_legal_representative: true },
    },
  });
  expect(v.status(), await v.text()).toBe(202);
  const d = await asOperator(op, 'POST', `/v1/operator/verifications/${(await v.json()).verification.id}/decision`, { decision: 'approve' });
  expect(d.status, JSON.stringify(d.json)).toBe(200);

  const s = await request.post('/v1/seals', { headers, data: { name: '合同专用章', kind: 'contract', generate: true } });
  expect(s.status(), await s.text()).toBe(201);
  const sealId = (await s.json()).seal.id as string;
  const sub = await request.post(`/v1/seals/${sealId}/submit`, { headers });
  expect(sub.status(), await sub.text()).toBe(202);
  const a = await asOperator(op, 'POST', `/v1/operator/seals/${sealId}/decision`, { decision: 'approve' });
  expect(a.status, JSON.stringify(a.json)).toBe(200);
  const g = await request.put(`/v1/seals/${sealId}/grants/${c.adminId}`, { headers, data: {} });
  expect(g.status(), await g.text()).toBe(200);

  let otp = '';
  const code = await codeSentBy(request, `+86${mobile}`, async () => {
    const r = await request.post(`/v1/members/${c.adminId}/contacts/confirm`, { headers, data: { channel: 'sms' } });
    expect(r.status(), await r.text()).toBe(201);
    otp = (await r.json()).otp_id;
  });
  const ok = await request.post(`/v1/members/${c.adminId}/contacts/verify`, { headers, data: { channel: 'sms', otp_id: otp, code } });
  expect(ok.status(), await ok.text()).toBe(200);
  return c;
}

/** A contract of `c`'s with `c` as its only party, a seal and a date on page 1, opened: its id. */
export async function openContract(request: APIRequestContext, c: Company, title: string, pdf: Buffer): Promise<string> {
  const headers = { Authorization: `Bearer ${c.key}` };
  const r = await request.post('/v1/contracts', { headers, data: { title, document_size: pdf.length } });
  expect(r.status(), await r.text()).toBe(201);
  const draft = await r.json();
  const id = draft.contract.id as string;
  const up = await request.put(draft.upload.upload_url, { headers: draft.upload.headers, data: pdf });
  expect(up.status(), await up.text()).toBe(200);
  const p = await request.put(`/v1/contracts/${id}/parties`, { headers, data: { order: 'sequential', parties: [{ enterprise_id: c.id }] } });
  expect(p.status(), await p.text()).toBe(200);
  const placements = [
    { kind: 'signature', party: c.id, page: 1, x: 80, y: 420, width: 119, height: 119 },
    { kind: 'signing_date', party: c.id, page: 1, x: 80, y: 560, width: 120, height: 20 },
  ];
  const pl = await request.put(`/v1/contracts/${id}/placements`, { headers, data: { placements } });
  expect(pl.status(), await pl.text()).toBe(200);
  const o = await request.post(`/v1/contracts/${id}/open`, { headers });
  expect(o.status(), await o.text()).toBe(200);
  return id;
}

/** The contract's latest revision, downloaded with `c`'s key, into a temporary file. */
export async function downloadSigned(request: APIRequestContext, c: Company, id: string): Promise<string> {
  const d = await request.get(`/v1/contracts/${id}/document`, { headers: { Authorization: `Bearer ${c.key}` } });
  expect(d.status(), await d.text()).toBe(200);
  const pdf = await request.get((await d.json()).url);
  expect(pdf.status()).toBe(200);
  const file = join(mkdtempSync(join(tmpdir(), 'esign-web-signed-')), 'signed.pdf');
  writeFileSync(file, await pdf.body());
  return file;
}

const here = dirname(fileURLToPath(import.meta.url));

/** `../shared/pdfcheck/check_signed_pdf.sh --expect N` with the platform root as the only anchor must PASS. */
export async function judge(request: APIRequestContext, file: string, expectSigs: number) {
  const pems = await (await request.get('/v1/ca/certificates')).text();
  judgeWithRoot(file, pems.slice(0, pems.indexOf('-----END CERTIFICATE-----') + 26), expectSigs);
}

/**
 * The independent judges (../shared/pdfcheck/check_signed_pdf.sh) on a signed PDF with `rootPem`
 * as the only anchor, then pyHanko's AdES validation (revocation data required for every
 * certificate) with no network (`unshare -rn`): every signature intact and trusted from what the
 * file carries (B-LT, B-LTA).
 */
export function judgeWithRoot(file: string, rootPem: string, expectSigs: number) {
  const root = join(dirname(file), 'root.pem');
  writeFileSync(root, rootPem);
  const kit = join(here, '..', '..', '..', 'shared', 'pdfcheck');
  const r = spawnSync(join(kit, 'check_signed_pdf.sh'), ['--expect', String(expectSigs), file, root], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  expect(r.status === 0 && out.trim().split('\n').pop()!.startsWith('PASS'), `check_signed_pdf.sh: ${out}`).toBe(true);
  const cfg = join(dirname(file), 'pyhanko.yml');
  writeFileSync(cfg, '{}\n');
  const python = join(process.env.PDFCHECK_VENV ?? join(process.env.HOME ?? '/root', '.cache', 'pdfcheck', 'venv'), 'bin', 'python');
  // Two minutes ahead: data no later time stamp covers gets its proof of existence when pyHanko looks.
  const when = new Date(Date.now() + 120_000).toISOString();
  const v = spawnSync('unshare', ['-rn', python, '-m', 'pyhanko', '--no-plugins', '--config', cfg, 'sign', 'adesverify', '--validation-time', when, '--trust', root, '--trust-replace', file], { encoding: 'utf8' });
  const text = `${v.stdout}${v.stderr}`;
  const sigs = text.split('\n').filter((l) => /^[^:]+:[0-9a-f]{64}:/.test(l));
  expect(v.status === 0 && sigs.length > 0 && sigs.every((l) => l.includes(':INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>')), `pyHanko adesverify offline: ${text}`).toBe(true);
}
