// The whole flow, once per viewport (projects `desktop` and `phone`): a person registers,
// signs in with the code from the development outbox, fills real-name authentication (seeing the
// inline error for a wrong USCC check character first), an operator approves it in the console,
// the administrator applies for a seal by upload, the operator approves it, the administrator adds
// a member and grants the seal, and at the end revokes the seal with a reason (the trail and the
// issuing CA's CRL must carry it). Every page is screenshotted and scanned by axe; no console errors.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, type Page, type BrowserContextOptions } from '@playwright/test';
import { zhCN as T } from '../src/locales/zh-CN';
import { Pages, signIn, goodSealPng, letterPng, opaqueSealPng, randomMobile, randomTag, sampleId, sampleUscc, SAMPLE_ID, watchConsole } from './helpers';

/** The operator identities scripts/web-test.sh configures (ESIGN_OPERATORS): one per project. */
const operatorFor = (project: string) => `${project}.reviewer@example.com`;
const CN = '华联星云信达恒泰安瑞德明创新远博嘉和盛丰';
const cnTag = () => Array.from({ length: 3 }, () => CN[Math.floor(Math.random() * CN.length)]).join('');

/** Follows a link of the side navigation (behind the menu button on a phone). */
async function nav(page: Page, label: string) {
  const menu = page.getByRole('button', { name: T['common.menu'] });
  if (await menu.isVisible()) await menu.click();
  await page.getByRole('navigation', { name: T['common.mainNav'] }).getByRole('link', { name: label, exact: true }).click();
}


test('register, authenticate, seal, review, member, grant', async ({ page, browser, request, baseURL }, info) => {
  const shots = new Pages(info);
  const errors = watchConsole(page, 'admin');
  const tag = randomTag();
  const company = `深圳市${cnTag()}科技有限公司`;
  const mobile = randomMobile();
  const memberMobile = randomMobile();
  const { uscc, org, wrong } = sampleUscc();

  // 1. Register.
  await page.goto('/register');
  await expect(page.getByRole('heading', { name: T['register.title'] })).toBeVisible();
  await shots.check(page, 'register');
  await page.getByLabel(T['register.name']).fill(company);
  await page.getByLabel(T['register.contactEmail']).fill(`legal-${tag}@example.com`);
  await page.getByLabel(T['register.adminName']).fill('张明');
  await page.getByLabel(T['register.adminMobile']).fill(mobile);
  await page.getByLabel(T['register.adminEmail']).fill(`admin-${tag}@example.com`);
  await page.getByRole('button', { name: T['register.submit'], exact: true }).click();

  // 2. Sign in with the code from the outbox.
  await expect(page).toHaveURL(/\/signin\?registered=1/);
  await expect(page.getByText(T['signin.registered'])).toBeVisible();
  await shots.check(page, 'signin');
  await signIn(page, request, mobile, `+86${mobile}`);
  await expect(page).toHaveURL(/\/app$/);
  await expect(page.getByRole('heading', { name: T['overview.hello'].replace('{name}', '张明') })).toBeVisible();
  await shots.check(page, 'overview');
  const menu = page.getByRole('button', { name: T['common.menu'] });
  if (await menu.isVisible()) {
    await menu.click();
    await expect(page.getByRole('navigation', { name: T['common.mainNav'] })).toBeVisible();
    await shots.check(page, 'menu');
    await menu.click();
  }

  // The language switch: English and Spanish (screenshotted too), then back to Chinese.
  await page.getByLabel(T['common.language']).first().selectOption('en');
  await expect(page.getByRole('heading', { name: 'Hello, 张明' })).toBeVisible();
  await shots.check(page, 'overview-en');
  await page.getByLabel('Language').first().selectOption('es');
  await expect(page.getByRole('heading', { name: 'Hola, 张明' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'es');
  await shots.check(page, 'overview-es');
  await page.getByLabel('Idioma').first().selectOption('zh-CN');
  await expect(page.getByRole('heading', { name: '您好，张明' })).toBeVisible();

  // 3. Real-name authentication: a wrong USCC check character is flagged as it is typed.
  await nav(page, T['nav.verification']);
  await expect(page).toHaveURL(/\/app\/verification$/);
  await page.getByLabel(T['kyb.companyName']).fill(company);
  const usccField = page.getByLabel(T['kyb.uscc']);
  await usccField.fill(wrong);
  await expect(page.getByText(T['err.uscc.check_character'])).toBeVisible();
  await expect(usccField).toHaveAttribute('aria-invalid', 'true');
  await shots.check(page, 'verification-uscc-error');
  await usccField.fill(uscc);
  await expect(page.getByText(T['err.uscc.check_character'])).toHaveCount(0);
  /** Fills the rest of the form and submits; with a letter when the administrator is not the legal representative. */
  const submitVerification = async (withLetter: boolean) => {
    if ((await usccField.inputValue()) !== uscc) await usccField.fill(uscc);
    await page.getByLabel(T['kyb.orgCode']).fill(org);
    await page.getByLabel(T['kyb.lrName']).fill('张明');
    await page.getByLabel(T['kyb.lrId']).fill(SAMPLE_ID);
    if (withLetter) {
      await page.getByRole('radio', { name: T['kyb.isLrNo'] }).check();
      await page.getByLabel(T['kyb.adName']).fill('王芳');
      await page.getByLabel(T['kyb.adId']).fill(sampleId());
      await page.getByLabel(T['kyb.letter']).setInputFiles({ name: 'letter.png', mimeType: 'image/png', buffer: letterPng() });
    }
    await page.getByLabel(T['kyb.adMobile']).fill(mobile);
    await expect(page.locator('.field-error')).toHaveCount(0);
    await page.getByRole('button', { name: T['kyb.submit'] }).click();
    await expect(page.getByText(T['kyb.pendingBody'])).toBeVisible();
  };
  await submitVerification(false);
  await shots.check(page, 'verification-pending');

  // 4. The operator approves it in the console (a browser of its own).
  const opts: BrowserContextOptions = { ...(info.project.use as BrowserContextOptions), baseURL };
  const opContext = await browser.newContext(opts);
  const op = await opContext.newPage();
  const opErrors = watchConsole(op, 'operator');
  await op.goto('/operator');
  await expect(op.getByRole('heading', { name: T['signin.operatorTitle'] })).toBeVisible();
  await shots.check(op, 'operator-signin');
  await signIn(op, request, operatorFor(info.project.name), operatorFor(info.project.name));
  await expect(op).toHaveURL(/\/operator\/verifications$/);
  await expect(op.getByRole('strong').filter({ hasText: company })).toBeVisible();
  await shots.check(op, 'operator-verifications');
  await op.getByRole('link', { name: `${T['opv.review']} ${company}` }).click();
  await expect(op.getByRole('heading', { name: company })).toBeVisible();
  await expect(op.getByText(uscc)).toBeVisible();
  await shots.check(op, 'operator-verification');

  // On the phone the operator first rejects it (the administrator, it turns out, is not the legal
  // representative): the administrator reads the reason and submits again, with a letter.
  const reason = '管理员并非法定代表人，请上传法定代表人签章的授权委托书。';
  if (info.project.name === 'phone') {
    await op.locator('.page-actions').getByRole('button', { name: T['op.reject'] }).click();
    await op.getByRole('dialog').getByLabel(T['op.reason']).fill(reason);
    await shots.check(op, 'operator-reject-reason', false);
    await op.getByRole('dialog').getByRole('button', { name: T['op.reject'] }).click();
    await expect(op).toHaveURL(/\/operator\/verifications$/);

    await page.reload();
    await expect(page.getByText(T['kyb.rejectedTitle'])).toBeVisible();
    await expect(page.getByText(reason)).toBeVisible();
    await shots.check(page, 'verification-rejected');
    await page.getByRole('button', { name: T['kyb.resubmit'] }).click();
    await submitVerification(true);

    await op.reload();
    await op.getByRole('link', { name: `${T['opv.review']} ${company}` }).click();
    await expect(op.getByRole('heading', { name: company })).toBeVisible();
    await expect(op.locator('img.letter-image')).toBeVisible();
    await shots.check(op, 'operator-verification-letter');
  }
  await op.locator('.page-actions').getByRole('button', { name: T['op.approve'] }).click();
  await op.getByRole('dialog').getByRole('button', { name: T['op.approve'] }).click();
  await expect(op).toHaveURL(/\/operator\/verifications$/);

  // 5. The administrator sees it verified and applies for a seal by upload.
  await page.reload();
  await expect(page.getByText(T['kyb.verifiedTitle'])).toBeVisible();
  await shots.check(page, 'verification-verified');
  await nav(page, T['nav.seals']);
  await expect(page.getByText(T['seals.noneAdmin'])).toBeVisible();
  await shots.check(page, 'seals-empty');
  await page.getByRole('button', { name: T['seals.apply'] }).click();
  await expect(page).toHaveURL(/\/app\/seals\/new$/);
  const file = page.getByLabel(T['sealNew.file']);
  await file.setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: opaqueSealPng() });
  await expect(page.getByText(T['err.image.opaque_background'])).toBeVisible();
  await expect(page.getByRole('button', { name: T['sealNew.submit'] })).toBeDisabled();
  await shots.check(page, 'seal-new-rule-failure');
  await file.setInputFiles({ name: 'seal.png', mimeType: 'image/png', buffer: goodSealPng() });
  await expect(page.getByText(T['sealNew.passes'])).toBeVisible();
  await shots.check(page, 'seal-new-preview');
  await page.getByRole('button', { name: T['sealNew.submit'] }).click();
  await expect(page).toHaveURL(/\/app\/seals\/[^/]+\?submitted=1$/);
  const sealId = new URL(page.url()).pathname.split('/').pop()!;
  await expect(page.getByText(T['seal.submittedTitle'])).toBeVisible();
  await shots.check(page, 'seal-pending');

  // 6. The operator checks the image at true size and approves.
  await nav(op, T['nav.opSeals']);
  await expect(op).toHaveURL(/\/operator\/seals$/);
  await shots.check(op, 'operator-seals');
  await op.locator(`a[href="/operator/seals/${sealId}"]`).click();
  await expect(op.locator('.true-size img')).toBeVisible();
  await shots.check(op, 'operator-seal');
  await op.locator('.page-actions').getByRole('button', { name: T['op.approve'] }).click();
  await op.getByRole('dialog').getByRole('button', { name: T['op.approve'] }).click();
  await expect(op).toHaveURL(/\/operator\/seals$/);
  await op.getByRole('button', { name: T['common.signOut'] }).click();
  await expect(op).toHaveURL(/\/operator$/);

  // 7. The administrator adds a member and grants the seal.
  await page.reload();
  await expect(page.locator('.badge-active').first()).toBeVisible();
  await nav(page, T['nav.members']);
  await shots.check(page, 'members');
  await page.getByRole('textbox', { name: T['members.name'], exact: true }).fill('李华');
  await page.getByRole('textbox', { name: T['members.mobile'], exact: true }).fill(memberMobile);
  await page.getByRole('textbox', { name: T['members.email'], exact: true }).fill(`li-${tag}@example.com`);
  await page.getByRole('button', { name: T['members.addSubmit'], exact: true }).click();
  await expect(page.getByText(T['members.newKey'].replace('{name}', '李华'))).toBeVisible();
  await expect(page.locator('tr', { hasText: '李华' })).toBeVisible();
  await shots.check(page, 'members-added');
  await page.getByRole('button', { name: T['secret.done'] }).click();

  await nav(page, T['nav.seals']);
  await shots.check(page, 'seals');
  await page.locator(`a[href="/app/seals/${sealId}"]`).click();
  await expect(page.locator('.badge-active').first()).toBeVisible();
  await page.getByRole('combobox', { name: T['grants.member'], exact: true }).selectOption({ label: `李华 (${T['role.member']})` });
  await page.getByRole('button', { name: T['grants.grant'], exact: true }).click();
  await expect(page.locator('.table').getByText('李华')).toBeVisible();
  await shots.check(page, 'seal-granted');
  await page.getByRole('button', { name: T['seal.revoke'], exact: true }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await expect(page.getByRole('dialog').getByText(T['seal.revokeBody'])).toBeVisible();
  await shots.check(page, 'seal-revoke-confirm', false);
  await page.getByRole('dialog').getByRole('button', { name: T['common.cancel'] }).click();

  // On the desktop, a second seal drawn by the platform from the verified company name.
  if (info.project.name === 'desktop') {
    await nav(page, T['nav.seals']);
    await page.getByRole('button', { name: T['seals.apply'] }).click();
    await page.getByLabel(T['sealNew.kind']).selectOption('official');
    await expect(page.getByLabel(T['sealNew.name'])).toHaveValue(T['kind.official']);
    await page.getByRole('radio', { name: T['sealNew.generate'] }).check();
    await expect(page.getByText(T['sealNew.generateBody'].split('“')[0])).toBeVisible();
    await page.getByRole('button', { name: T['sealNew.submit'] }).click();
    await expect(page.getByText(T['seal.submittedTitle'])).toBeVisible();
    await expect(page.getByRole('heading', { name: T['kind.official'] })).toBeVisible();
    await shots.check(page, 'seal-generated-pending');
  }

  await nav(page, T['nav.members']);
  const row = page.locator('tr', { hasText: '李华' });
  await expect(row.getByRole('link', { name: T['kind.contract'] })).toBeVisible();
  await shots.check(page, 'members-can-sign');

  await nav(page, T['nav.usage']);
  await expect(page.getByText(T['usage.signatures']).first()).toBeVisible();
  await shots.check(page, 'usage');
  await nav(page, T['nav.developers']);
  await expect(page.getByRole('heading', { name: T['dev.apiKey'] })).toBeVisible();
  await shots.check(page, 'developers');
  // A webhook endpoint (plain http to a loopback host is allowed in development): its secret once.
  await page.getByLabel(T['dev.url']).fill('http://127.0.0.1:9/esign-hook');
  await page.getByRole('button', { name: T['dev.create'] }).click();
  await expect(page.locator('.secret-value')).toHaveText(/^whsec_/);
  await expect(page.locator('.hook code').first()).toHaveText('http://127.0.0.1:9/esign-hook');
  await page.getByRole('button', { name: T['secret.done'] }).click();
  // A new API key for programs: shown once after a confirmation.
  await page.getByRole('button', { name: T['dev.rotate'] }).click();
  await page.getByRole('dialog').getByRole('button', { name: T['dev.rotate'] }).click();
  await expect(page.locator('.secret-value')).toHaveText(/^esk_/);
  await shots.check(page, 'developers-secrets');

  // 8. The administrator revokes the uploaded seal and says why (the reason its certificate's CRL
  // entry and OCSP answers give): on the desktop it was superseded by the drawn one, on the phone
  // its key may be compromised (the confirmation then says that revoking does not reach back).
  const why = info.project.name === 'phone' ? 'key_compromise' : 'superseded';
  const whyWords = T[`revocation.${why}`];
  await nav(page, T['nav.seals']);
  await page.locator(`a[href="/app/seals/${sealId}"]`).click();
  await page.getByRole('button', { name: T['seal.revoke'], exact: true }).click();
  const confirm = page.getByRole('dialog');
  await expect(confirm.getByRole('radio', { name: T['revocation.unspecified'], exact: true })).toBeChecked();
  await expect(confirm.getByText(T['seal.revokePublishedNone'])).toBeVisible();
  await confirm.getByRole('radio', { name: whyWords, exact: true }).check();
  await expect(confirm.getByText(T['seal.revokeBefore'])).toBeVisible();
  await expect(confirm.getByText(T['seal.revokePublished'].replace('{reason}', whyWords))).toBeVisible();
  await expect(confirm.getByText(T['seal.revokeCompromise'])).toHaveCount(why === 'key_compromise' ? 1 : 0);
  await shots.check(page, 'seal-revoke-reason', false);
  await confirm.getByRole('button', { name: T['seal.revokeConfirm'] }).click();
  await expect(page.getByText(T['seal.revokedBody'])).toBeVisible();
  await expect(page.getByText(T['seal.revokedReason'].replace('{reason}', whyWords))).toBeVisible();
  await shots.check(page, 'seal-revoked');
  // The platform took the reason: on the seal's trail, and on the issuing CA's CRL (reissued at
  // once) as the certificate's reason code.
  const revoked = await page.evaluate(async (id) => {
    const seal = await (await fetch(`/v1/seals/${id}`)).json();
    const audit = await (await fetch(`/v1/seals/${id}/audit`)).json();
    return { status: seal.status, serial: seal.certificate.serial as string, events: audit.items as { action: string; details: { reason?: string } }[] };
  }, sealId);
  expect(revoked.status).toBe('revoked');
  expect(revoked.events.find((e) => e.action === 'seal.revoked')?.details.reason).toBe(why);
  const crl = await request.get('/v1/ca/crl');
  expect(crl.status()).toBe(200);
  const dir = mkdtempSync(join(tmpdir(), 'esign-web-crl-'));
  writeFileSync(join(dir, 'issuing.crl'), await crl.body());
  const listing = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', join(dir, 'issuing.crl'), '-noout', '-text'], { encoding: 'utf8' });
  const entry = listing.split('Serial Number:').find((e) => e.trim().toLowerCase().replace(/^0+/, '').startsWith(revoked.serial.toLowerCase().replace(/^0+/, '')));
  expect(entry, `the CRL lists serial ${revoked.serial}`).toBeTruthy();
  expect(entry).toContain(why === 'key_compromise' ? 'Key Compromise' : 'Superseded');

  await page.getByRole('button', { name: T['common.signOut'] }).click();
  await expect(page).toHaveURL(/\/signin$/);

  await opContext.close();
  expect([...errors, ...opErrors]).toEqual([]);
});

test('a person in two enterprises chooses one at sign-in', async ({ page, request }, info) => {
  const shots = new Pages(info, 'z');
  const errors = watchConsole(page, 'two-enterprises', [{ status: 409, path: '/v1/sessions' }]);
  const mobile = randomMobile();
  const tag = randomTag();
  const names = [`上海${cnTag()}贸易有限公司`, `杭州${cnTag()}网络有限公司`];
  for (const [i, name] of names.entries()) {
    const res = await request.post('/v1/enterprises', {
      data: { name, contact_email: `c${i}-${tag}@example.com`, admin: { name: '陈静', mobile, email: `chen${i}-${tag}@example.com` } },
    });
    expect(res.status()).toBe(201);
  }
  await page.goto('/signin');
  await page.getByLabel(T['signin.identifier']).fill(mobile);
  await signIn(page, request, mobile, `+86${mobile}`);
  await expect(page.getByRole('heading', { name: T['signin.chooseAccount'] })).toBeVisible();
  await shots.check(page, 'signin-choose-account');
  await page.getByRole('button', { name: names[1] }).click();
  await expect(page).toHaveURL(/\/app$/);
  await expect(page.locator('.who-sub').first()).toContainText(names[1]);
  expect(errors).toEqual([]);
});
