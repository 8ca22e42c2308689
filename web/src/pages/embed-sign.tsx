// The embedded signing page, /embed/sign/:id#token=esl_…: opened inside an integrator's page (a
// third-party iframe, where the browser keeps no cookies) or by redirect. It takes the link's secret
// from the fragment and removes it from the address bar, exchanges it once for a bearer kept in
// memory only, and shows the console's signing parts (document, seal, code dialog, report) with no
// navigation. When the member's company has signed (now or before) it tells the host page by
// postMessage, to the exchange's parent_origin only (never "*"), or, not framed, goes back to the
// return_url with ?contract_id=…&status=…. A used or expired link gets a page that says so.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, setBearer, setCookieless } from '../api';
import { t } from '../i18n';
import { Alert, ErrorAlert, Loading } from '../components';
import { LanguageSwitch } from '../app';
import { ContractReportCard, ContractTrailCard, DocumentCard, SignCard, canSign } from './contract-sign';
import type { Contract, SigningSessionGrant } from '../types';

/** What the host page hears: `{type: "esign.signing", contract_id, status}`. */
export type EmbedStatus = 'signed' | 'expired';

/** Reads `token` from the fragment and removes the fragment from the address bar (and history). */
function takeToken(): string | null {
  const hash = location.hash.replace(/^#/, '');
  const token = new URLSearchParams(hash).get('token');
  if (hash) history.replaceState(history.state, '', location.pathname + location.search);
  return token && token.length <= 200 ? token : null;
}

/** Tells the host page (framed) or goes back to the integrator (redirect); answers whether it went away. */
function finish(grant: SigningSessionGrant, status: EmbedStatus): boolean {
  const message = { type: 'esign.signing', contract_id: grant.contract_id, status };
  if (window.parent !== window) {
    if (grant.parent_origin) window.parent.postMessage(message, grant.parent_origin);
    return false;
  }
  if (grant.return_url) {
    const back = new URL(grant.return_url);
    back.searchParams.set('contract_id', grant.contract_id);
    back.searchParams.set('status', status);
    location.assign(back.toString());
    return true;
  }
  return false;
}

type State =
  | { kind: 'opening' }
  | { kind: 'gone' }
  | { kind: 'error'; error: unknown }
  | { kind: 'ready'; grant: SigningSessionGrant; contract: Contract; leaving: boolean };

export function EmbedSignPage({ id }: { id: string }) {
  const [state, setState] = useState<State>({ kind: 'opening' });
  useEffect(() => {
    setCookieless();
    document.title = t('embed.title');
    const token = takeToken();
    if (!token) {
      setState({ kind: 'gone' });
      return;
    }
    (async () => {
      const grant = await api.exchangeSigningSession(token);
      if (grant.contract_id !== id) throw new ApiError({ type: 'urn:esign:problem:not-found', title: t('embed.notYours'), detail: t('embed.notYours'), status: 404 });
      setBearer(grant.access_token);
      const contract = await api.contract(id);
      const done = settled(contract, grant);
      setState({ kind: 'ready', grant, contract, leaving: done ? finish(grant, done) : false });
    })().catch((e) => {
      if (e instanceof ApiError && (e.status === 410 || e.status === 401)) setState({ kind: 'gone' });
      else setState({ kind: 'error', error: e });
    });
  }, [id]);

  const onSigned = (contract: Contract) => {
    if (state.kind !== 'ready') return;
    const done = settled(contract, state.grant);
    setState({ ...state, contract, leaving: done ? finish(state.grant, done) : false });
  };

  return (
    <div class="embed">
      <header class="embed-head">
        <h1>{state.kind === 'ready' ? state.contract.title : t('embed.title')}</h1>
        <LanguageSwitch />
      </header>
      <main id="main">
        {state.kind === 'opening' ? (
          <>
            <p class="muted">{t('embed.opening')}</p>
            <Loading />
          </>
        ) : state.kind === 'gone' ? (
          <Alert kind="warning" title={t('embed.goneTitle')}>
            <p>{t('embed.goneBody')}</p>
          </Alert>
        ) : state.kind === 'error' ? (
          <ErrorAlert error={state.error} />
        ) : (
          <Signing contract={state.contract} enterpriseId={state.grant.enterprise_id} leaving={state.leaving} onSigned={onSigned} />
        )}
      </main>
    </div>
  );
}

/** Whether the host page should hear of this contract now: the member's company signed, or it expired first. */
function settled(c: Contract, grant: SigningSessionGrant): EmbedStatus | null {
  const party = c.parties.find((p) => p.enterprise_id === grant.enterprise_id);
  if (party?.signed) return 'signed';
  if (c.status === 'expired') return 'expired';
  return null;
}

function Signing({ contract, enterpriseId, leaving, onSigned }: { contract: Contract; enterpriseId: string; leaving: boolean; onSigned: (c: Contract) => void }) {
  const turn = canSign(contract, enterpriseId);
  if (leaving) return <Alert kind="success">{t('embed.returning')}</Alert>;
  return (
    <div class="stack">
      {turn === 'done' ? (
        <Alert kind="success" title={t('embed.signedTitle')}>
          <p>{t('embed.signedBody')}</p>
        </Alert>
      ) : null}
      {contract.status === 'expired' ? <Alert kind="warning">{t('embed.expired')}</Alert> : null}
      {turn === 'wait' ? <Alert kind="info">{t('sign.wait')}</Alert> : null}
      {turn === 'now' ? <SignCard contract={contract} enterpriseId={enterpriseId} onSigned={onSigned} /> : null}
      <DocumentCard contract={contract} highlight={enterpriseId} />
      {contract.signatures.length ? <ContractReportCard contract={contract} /> : null}
      <ContractTrailCard contract={contract} />
    </div>
  );
}
