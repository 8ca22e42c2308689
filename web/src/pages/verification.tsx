import { useState } from 'preact/hooks';
import { api, uploadTo } from '../api';
import { t, fieldErrorText, fmtDateTime, fmtBytes } from '../i18n';
import { Alert, Badge, Button, Card, ErrorAlert, Field, FileInput, PageHeader, useAction, useId } from '../components';
import { useLiveChecks, showsWhileTyping } from '../checks';
import { useEnterprise, useMember } from '../app';
import type { FieldError, VerificationRequest } from '../types';

const LETTER_TYPES = ['application/pdf', 'image/png', 'image/jpeg'];
const LETTER_MAX = 10 * 1024 * 1024;

type Form = {
  company_name: string;
  uscc: string;
  organization_code: string;
  lr_name: string;
  lr_id: string;
  ad_name: string;
  ad_id: string;
  ad_mobile: string;
};
const FIELD_OF: Record<string, keyof Form | 'letter'> = {
  company_name: 'company_name',
  uscc: 'uscc',
  organization_code: 'organization_code',
  'legal_representative.name': 'lr_name',
  'legal_representative.id_number': 'lr_id',
  'administrator.name': 'ad_name',
  'administrator.id_number': 'ad_id',
  'administrator.mobile': 'ad_mobile',
  authorization_letter_file_id: 'letter',
};

export function VerificationPage() {
  const { enterprise } = useEnterprise();
  const [again, setAgain] = useState(false);
  const e = enterprise!;
  const v = e.verification;
  const showForm = e.status === 'registered' || (e.status === 'rejected' && again);
  return (
    <>
      <PageHeader title={t('kyb.title')} subtitle={t('kyb.subtitle')} />
      {v ? (
        <Card title={t('kyb.latest')}>
          <dl class="facts">
            <div>
              <dt>{t('common.status')}</dt>
              <dd>
                <Badge group="enterprise" status={e.status} />
              </dd>
            </div>
            <div>
              <dt>{t('kyb.submittedAt')}</dt>
              <dd>{fmtDateTime(v.submitted_at)}</dd>
            </div>
            {v.decided_at ? (
              <div>
                <dt>{t('kyb.decidedAt')}</dt>
                <dd>{fmtDateTime(v.decided_at)}</dd>
              </div>
            ) : null}
          </dl>
          {e.status === 'pending_review' ? <Alert kind="info">{t('kyb.pendingBody')}</Alert> : null}
          {e.status === 'verified' ? <Alert kind="success" title={t('kyb.verifiedTitle')}>{t('kyb.verifiedBody', { name: e.name })}</Alert> : null}
          {e.status === 'rejected' ? (
            <Alert kind="error" title={t('kyb.rejectedTitle')}>
              <p>
                {t('kyb.reasonIs', { reason: v.reason ?? '—' })}
              </p>
              {!again ? (
                <Button variant="secondary" onClick={() => setAgain(true)}>
                  {t('kyb.resubmit')}
                </Button>
              ) : null}
            </Alert>
          ) : null}
        </Card>
      ) : null}
      {showForm ? <VerificationForm /> : null}
    </>
  );
}

function VerificationForm() {
  const { enterprise, reload } = useEnterprise();
  const member = useMember();
  const [f, setF] = useState<Form>({
    company_name: enterprise?.name ?? '',
    uscc: '',
    organization_code: '',
    lr_name: '',
    lr_id: '',
    ad_name: member.name,
    ad_id: '',
    ad_mobile: '',
  });
  const [isLr, setIsLr] = useState(true);
  const [letter, setLetter] = useState<File | null>(null);
  const [letterId, setLetterId] = useState<string | null>(null);
  const [letterError, setLetterError] = useState<string | null>(null);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldError[]>([]);
  const { busy, error, run } = useAction();
  const letterInput = useId('letter');

  const request = (): VerificationRequest => ({
    company_name: f.company_name.trim(),
    uscc: f.uscc.trim(),
    organization_code: f.organization_code.trim(),
    legal_representative: { name: f.lr_name.trim(), id_number: f.lr_id.trim() },
    administrator: {
      name: (isLr ? f.lr_name : f.ad_name).trim(),
      id_number: (isLr ? f.lr_id : f.ad_id).trim(),
      mobile: f.ad_mobile.trim(),
      is_legal_representative: isLr,
    },
    ...(!isLr && letterId ? { authorization_letter_file_id: letterId } : {}),
  });
  const live = useLiveChecks(api.checkVerification, request());

  const errs: Partial<Record<keyof Form | 'letter', string>> = {};
  const shown = (k: keyof Form | 'letter') => (k === 'letter' ? !!letter || submitted : !!f[k]);
  for (const e of [...serverErrors, ...live]) {
    let k = FIELD_OF[e.field];
    if (isLr && (k === 'ad_name' || k === 'ad_id')) k = k === 'ad_name' ? 'lr_name' : 'lr_id';
    if (k && !errs[k] && (shown(k) || submitted) && (touched[k] || submitted || showsWhileTyping(e))) errs[k] = fieldErrorText(e);
  }
  if (letterError) errs.letter = letterError;

  const set = (k: keyof Form, upper = false) => (v: string) => {
    setF({ ...f, [k]: upper ? v.toUpperCase() : v });
    setServerErrors(serverErrors.filter((e) => FIELD_OF[e.field] !== k));
  };
  const blur = (k: keyof Form) => () => setTouched({ ...touched, [k]: true });

  const pickLetter = (file: File | null) => {
    setLetter(file);
    setLetterId(null);
    setLetterError(null);
    if (!file) return;
    if (!LETTER_TYPES.includes(file.type)) setLetterError(t('kyb.letterType'));
    else if (file.size > LETTER_MAX) setLetterError(t('kyb.letterSize', { max: fmtBytes(LETTER_MAX) }));
  };

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setSubmitted(true);
    if (letterError) return;
    const ok = await run(async () => {
      let fileId = letterId;
      if (!isLr && letter && !fileId) {
        const up = await api.letterUpload(enterprise!.id, letter.type, letter.size);
        await uploadTo(up, letter);
        fileId = up.file_id;
        setLetterId(fileId);
      }
      const body = request();
      if (!isLr && fileId) body.authorization_letter_file_id = fileId;
      try {
        return await api.submitVerification(enterprise!.id, body);
      } catch (err) {
        const fe = (err as { fieldErrors?: FieldError[] }).fieldErrors;
        if (fe?.length) setServerErrors(fe);
        throw err;
      }
    });
    if (ok) reload();
  };

  return (
    <form onSubmit={submit} noValidate class="stack">
      <Card title={t('kyb.company')}>
        <Field name="company_name" label={t('kyb.companyName')} value={f.company_name} onValue={set('company_name')} onBlur={blur('company_name')} error={errs.company_name} required hint={t('kyb.companyNameHint')} />
        <div class="grid2">
          <Field name="uscc" label={t('kyb.uscc')} value={f.uscc} onValue={set('uscc', true)} onBlur={blur('uscc')} error={errs.uscc} required maxLength={18} autocomplete="off" spellcheck={false} class="mono" hint={t('kyb.usccHint')} />
          <Field name="organization_code" label={t('kyb.orgCode')} value={f.organization_code} onValue={set('organization_code', true)} onBlur={blur('organization_code')} error={errs.organization_code} required maxLength={10} autocomplete="off" spellcheck={false} class="mono" hint={t('kyb.orgCodeHint')} />
        </div>
      </Card>
      <Card title={t('kyb.lr')}>
        <div class="grid2">
          <Field name="lr_name" label={t('kyb.lrName')} value={f.lr_name} onValue={set('lr_name')} onBlur={blur('lr_name')} error={errs.lr_name} required />
          <Field name="lr_id" label={t('kyb.lrId')} value={f.lr_id} onValue={set('lr_id', true)} onBlur={blur('lr_id')} error={errs.lr_id} required maxLength={18} autocomplete="off" spellcheck={false} class="mono" />
        </div>
      </Card>
      <Card title={t('kyb.admin')}>
        <fieldset class="radios">
          <legend>{t('kyb.isLr')}</legend>
          <label class="radio">
            <input type="radio" name="is_lr" checked={isLr} onChange={() => setIsLr(true)} />
            {t('kyb.isLrYes')}
          </label>
          <label class="radio">
            <input type="radio" name="is_lr" checked={!isLr} onChange={() => setIsLr(false)} />
            {t('kyb.isLrNo')}
          </label>
        </fieldset>
        {!isLr ? (
          <div class="grid2">
            <Field name="ad_name" label={t('kyb.adName')} value={f.ad_name} onValue={set('ad_name')} onBlur={blur('ad_name')} error={errs.ad_name} required />
            <Field name="ad_id" label={t('kyb.adId')} value={f.ad_id} onValue={set('ad_id', true)} onBlur={blur('ad_id')} error={errs.ad_id} required maxLength={18} autocomplete="off" spellcheck={false} class="mono" />
          </div>
        ) : null}
        <Field name="ad_mobile" type="tel" inputMode="tel" label={t('kyb.adMobile')} value={f.ad_mobile} onValue={set('ad_mobile')} onBlur={blur('ad_mobile')} error={errs.ad_mobile} required autocomplete="tel" />
        {!isLr ? (
          <div class={`field${errs.letter ? ' has-error' : ''}`}>
            <label for={letterInput}>{t('kyb.letter')}</label>
            <FileInput
              id={letterInput}
              accept="application/pdf,image/png,image/jpeg"
              invalid={!!errs.letter}
              describedBy={`${letterInput}-hint${errs.letter ? ` ${letterInput}-err` : ''}`}
              fileName={letter?.name}
              onFile={pickLetter}
            />
            <p class="hint" id={`${letterInput}-hint`}>
              {t('kyb.letterHint', { max: fmtBytes(LETTER_MAX) })}
            </p>
            {errs.letter ? (
              <p class="field-error" id={`${letterInput}-err`} role="alert">
                {errs.letter}
              </p>
            ) : null}
          </div>
        ) : null}
      </Card>
      <ErrorAlert error={serverErrors.length ? null : error} />
      {serverErrors.length ? <Alert kind="error">{t('kyb.fixErrors')}</Alert> : null}
      <div class="form-actions">
        <Button type="submit" busy={busy}>
          {t('kyb.submit')}
        </Button>
      </div>
    </form>
  );
}
