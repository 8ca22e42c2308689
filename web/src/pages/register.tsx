import { useState } from 'preact/hooks';
import { api } from '../api';
import { t, fieldErrorText } from '../i18n';
import { navigate } from '../router';
import { Button, ErrorAlert, Field, Link, useAction } from '../components';
import { useLiveChecks, showsWhileTyping } from '../checks';

type Form = { name: string; contact_email: string; contact_phone: string; admin_name: string; admin_mobile: string; admin_email: string };
const FIELD_OF: Record<string, keyof Form> = {
  name: 'name',
  contact_email: 'contact_email',
  contact_phone: 'contact_phone',
  'admin.name': 'admin_name',
  'admin.mobile': 'admin_mobile',
  'admin.email': 'admin_email',
};

export function RegisterPage() {
  const [f, setF] = useState<Form>({ name: '', contact_email: '', contact_phone: '', admin_name: '', admin_mobile: '', admin_email: '' });
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);
  const { busy, error, run } = useAction();
  const body = {
    name: f.name,
    contact_email: f.contact_email,
    contact_phone: f.contact_phone,
    admin: { name: f.admin_name, mobile: f.admin_mobile, email: f.admin_email },
  };
  const live = useLiveChecks(api.checkRegistration as (b: unknown) => Promise<{ errors: [] }>, body);
  const errs: Partial<Record<keyof Form, string>> = {};
  for (const e of live) {
    const k = FIELD_OF[e.field];
    if (k && !errs[k] && f[k] && (touched[k] || submitted || showsWhileTyping(e))) errs[k] = fieldErrorText(e);
  }
  const set = (k: keyof Form) => (v: string) => setF({ ...f, [k]: v });
  const blur = (k: keyof Form) => () => setTouched({ ...touched, [k]: true });

  const submit = async (e: Event) => {
    e.preventDefault();
    setSubmitted(true);
    const res = await run(() =>
      api.register({
        name: f.name.trim(),
        contact_email: f.contact_email.trim(),
        ...(f.contact_phone.trim() ? { contact_phone: f.contact_phone.trim() } : {}),
        admin: { name: f.admin_name.trim(), mobile: f.admin_mobile.trim(), email: f.admin_email.trim() },
      }),
    );
    if (res) navigate(`/signin?registered=1&identifier=${encodeURIComponent(f.admin_mobile.trim())}`);
  };

  return (
    <div class="auth-card auth-wide">
      <h1>{t('register.title')}</h1>
      <p class="subtitle">{t('register.subtitle')}</p>
      <form onSubmit={submit} noValidate>
        <fieldset>
          <legend>{t('register.enterprise')}</legend>
          <Field name="name" label={t('register.name')} value={f.name} onValue={set('name')} onBlur={blur('name')} error={errs.name} required autocomplete="organization" hint={t('register.nameHint')} />
          <div class="grid2">
            <Field name="contact_email" type="email" label={t('register.contactEmail')} value={f.contact_email} onValue={set('contact_email')} onBlur={blur('contact_email')} error={errs.contact_email} required autocomplete="email" />
            <Field name="contact_phone" type="tel" label={t('register.contactPhone')} value={f.contact_phone} onValue={set('contact_phone')} onBlur={blur('contact_phone')} error={errs.contact_phone} hint={t('common.optional')} autocomplete="tel" />
          </div>
        </fieldset>
        <fieldset>
          <legend>{t('register.admin')}</legend>
          <Field name="admin_name" label={t('register.adminName')} value={f.admin_name} onValue={set('admin_name')} onBlur={blur('admin_name')} error={errs.admin_name} required autocomplete="name" />
          <div class="grid2">
            <Field name="admin_mobile" type="tel" inputMode="tel" label={t('register.adminMobile')} value={f.admin_mobile} onValue={set('admin_mobile')} onBlur={blur('admin_mobile')} error={errs.admin_mobile} required autocomplete="tel" hint={t('register.mobileHint')} />
            <Field name="admin_email" type="email" label={t('register.adminEmail')} value={f.admin_email} onValue={set('admin_email')} onBlur={blur('admin_email')} error={errs.admin_email} required autocomplete="email" />
          </div>
        </fieldset>
        <ErrorAlert error={error} />
        <Button type="submit" busy={busy} class="btn-block">
          {t('register.submit')}
        </Button>
      </form>
      <p class="auth-alt">
        {t('register.haveAccount')} <Link href="/signin">{t('register.toSignIn')}</Link>
      </p>
    </div>
  );
}
