import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { t, fieldErrorText } from '../i18n';
import { navigate, useLocation } from '../router';
import { Alert, Button, ErrorAlert, Field, Link, useAction } from '../components';
import { useSession } from '../app';
import type { AccountChoice, SignInChallenge } from '../types';

export function SignInPage({ audience }: { audience: 'member' | 'operator' }) {
  const { query } = useLocation();
  const { setSession } = useSession();
  const [identifier, setIdentifier] = useState(query.get('identifier') ?? '');
  const [challenge, setChallenge] = useState<SignInChallenge | null>(null);
  const [code, setCode] = useState('');
  const [accounts, setAccounts] = useState<AccountChoice[] | null>(null);
  const [now, setNow] = useState(Date.now());
  const send = useAction();
  const verify = useAction();

  useEffect(() => {
    if (!challenge) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [challenge]);

  const start = async (e?: Event) => {
    e?.preventDefault();
    const c = await send.run(() => api.startSignIn(identifier.trim(), audience));
    if (c) {
      setChallenge(c);
      setCode('');
      setAccounts(null);
      verify.setError(null);
    }
  };

  const finish = async (memberId?: string) => {
    if (!challenge) return;
    try {
      const s = await verify.run(async () => {
        try {
          return await api.createSession(challenge.challenge_id, code.trim(), memberId);
        } catch (err) {
          if (err instanceof ApiError && err.status === 409 && err.problem.accounts?.length) {
            setAccounts(err.problem.accounts);
            return undefined;
          }
          throw err;
        }
      });
      if (s) {
        setSession(s);
        const next = query.get('next');
        navigate(s.principal.kind === 'operator' ? '/operator/verifications' : next && next.startsWith('/app') ? next : '/app', true);
      }
    } catch {
      /* shown by verify.error */
    }
  };

  const identifierError =
    !challenge && send.error instanceof ApiError && send.error.fieldErrors.length ? fieldErrorText(send.error.fieldErrors[0]) : null;
  const codeError = verify.error instanceof ApiError && verify.error.status === 422 ? codeErrorText(verify.error) : null;
  const wait = challenge ? Math.max(0, Math.ceil((Date.parse(challenge.resend_after) - now) / 1000)) : 0;
  const isOperator = audience === 'operator';

  return (
    <div class="auth-card">
      <h1>{isOperator ? t('signin.operatorTitle') : t('signin.title')}</h1>
      <p class="subtitle">{isOperator ? t('signin.operatorSubtitle') : t('signin.subtitle')}</p>
      {query.get('registered') && !challenge ? <Alert kind="success" title={t('signin.registered')}>{t('signin.registeredBody')}</Alert> : null}

      {!challenge ? (
        <form onSubmit={start} noValidate>
          <Field
            name="identifier"
            label={t('signin.identifier')}
            value={identifier}
            onValue={setIdentifier}
            error={identifierError}
            required
            autocomplete="username"
            hint={t('signin.identifierHint')}
          />
          {identifierError ? null : <ErrorAlert error={send.error} />}
          <Button type="submit" busy={send.busy} class="btn-block" disabled={!identifier.trim()}>
            {t('signin.sendCode')}
          </Button>
        </form>
      ) : accounts ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
          }}
        >
          <h2 class="h3">{t('signin.chooseAccount')}</h2>
          <p class="hint">{t('signin.chooseAccountHint')}</p>
          <ul class="choices">
            {accounts.map((a) => (
              <li key={a.member_id}>
                <button type="button" class="choice" onClick={() => finish(a.member_id)} disabled={verify.busy}>
                  <span class="choice-title">{a.enterprise_name}</span>
                  <span class="choice-sub">{a.enterprise_id}</span>
                </button>
              </li>
            ))}
          </ul>
          <ErrorAlert error={verify.error} />
        </form>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            finish();
          }}
          noValidate
        >
          <Alert kind="info">
            {t(challenge.channel === 'sms' ? 'signin.sentSms' : 'signin.sentEmail', { to: identifier.trim() })}
          </Alert>
          <Field
            name="code"
            label={t('signin.code')}
            value={code}
            onValue={(v) => setCode(v.replace(/\D/g, '').slice(0, 6))}
            error={codeError}
            required
            inputMode="numeric"
            autocomplete="one-time-code"
            maxLength={6}
            hint={t('signin.codeHint')}
          />
          {codeError ? null : <ErrorAlert error={verify.error} />}
          <Button type="submit" busy={verify.busy} class="btn-block" disabled={code.length !== 6}>
            {t('signin.submit')}
          </Button>
          <div class="row between small">
            <button type="button" class="linklike" onClick={() => setChallenge(null)}>
              {t('signin.changeIdentifier')}
            </button>
            <button type="button" class="linklike" onClick={() => start()} disabled={wait > 0 || send.busy}>
              {wait > 0 ? t('signin.resendIn', { s: wait }) : t('signin.resend')}
            </button>
          </div>
          <ErrorAlert error={send.error} />
        </form>
      )}
      {isOperator ? null : (
        <p class="auth-alt">
          {t('signin.noAccount')} <Link href="/register">{t('signin.toRegister')}</Link>
        </p>
      )}
    </div>
  );
}

function codeErrorText(e: ApiError): string {
  const fe = e.fieldErrors[0];
  if (!fe) return t('signin.wrongCode');
  // The API words a wrong code as "the code is wrong; N attempt(s) left".
  const left = fe.code === 'mismatch' ? fe.message.match(/(\d+) attempt/)?.[1] : undefined;
  const base = fieldErrorText(fe);
  return left !== undefined ? `${base} ${t('signin.attemptsLeft', { n: left })}` : base;
}
