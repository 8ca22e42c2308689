// Contracts: the enterprise's list (GET /v1/contracts, by status, page by page), a new contract
// (PDF straight to the files store by its presigned PUT, title, parties by enterprise id, order)
// and one contract's page (status, parties, opening it for signing, the document).
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, uploadTo } from '../api';
import { t, fmtDateTime } from '../i18n';
import { navigate, useLocation } from '../router';
import { Alert, Badge, Button, Card, Empty, ErrorAlert, Field, FileInput, Link, Loading, PageHeader, byField, useAction, useId, useLoad } from '../components';
import { useEnterprise, useMember } from '../app';
import type { Contract, ContractStatus, ContractSummary, SigningOrder } from '../types';
import { localDocuments, openPdf, type PDFDocumentProxy } from '../pdf';
import { PlacementEditor, withKeys, withoutKeys, type Widget } from './placement-editor';
import { ContractReportCard, ContractTrailCard, DocumentCard, SignCard, canSign } from './contract-sign';

const MAX_PDF = 32 * 1024 * 1024;
const STATUSES: ContractStatus[] = ['draft', 'signing', 'completed', 'expired'];

/** One row of the list: title, each party's progress, whose turn it is, status and date. */
function ContractRow({ c, me }: { c: ContractSummary; me: string }) {
  const turn = c.next_signer ? (c.next_signer.enterprise_id === me ? t('contracts.yourTurn') : t('contracts.turnOf', { name: c.next_signer.name })) : null;
  return (
    <li>
      <Link href={`/app/contracts/${c.id}`} class="contract-row">
        <span class="contract-row-title">{c.title}</span>
        {c.parties.length === 0 ? (
          <span class="muted small">{t('contracts.noParties')}</span>
        ) : (
          <span class="contract-row-parties small">
            {c.parties.map((p) => (
              <span key={p.enterprise_id} class={`party-chip ${p.status}`}>
                {p.name} · {p.status === 'signed' ? t('contract.signed') : t('contract.notSigned')}
              </span>
            ))}
          </span>
        )}
        <span class="contract-row-foot">
          <Badge group="contract" status={c.status} />
          {turn ? <span class={`small${c.next_signer?.enterprise_id === me ? ' your-turn' : ' muted'}`}>{turn}</span> : null}
          <span class="muted small">{t('contracts.createdAt', { at: fmtDateTime(c.created_at) })}</span>
        </span>
      </Link>
    </li>
  );
}

export function ContractsPage() {
  const { enterprise } = useEnterprise();
  const member = useMember();
  const verified = enterprise?.status === 'verified';
  const { query } = useLocation();
  const q = query.get('status');
  const status = STATUSES.find((s) => s === q);
  const [pages, setPages] = useState<ContractSummary[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const list = useLoad(async () => {
    const first = await api.contracts(status);
    setPages([first.items]);
    setCursor(first.next_cursor);
    return first;
  }, [status]);
  const more = useAction();
  const loadMore = async () => {
    if (!cursor) return;
    const r = await more.run(() => api.contracts(status, cursor));
    if (r) {
      setPages((p) => [...p, r.items]);
      setCursor(r.next_cursor);
    }
  };
  const items = pages.flat();
  const [openId, setOpenId] = useState('');
  const go = (e: Event) => {
    e.preventDefault();
    const id = openId.trim();
    if (id) navigate(`/app/contracts/${encodeURIComponent(id)}`);
  };
  const filterId = useId('status');
  return (
    <>
      <PageHeader
        title={t('contracts.title')}
        subtitle={t('contracts.subtitle')}
        actions={verified ? <Button onClick={() => navigate('/app/contracts/new')}>{t('contracts.new')}</Button> : null}
      />
      {!verified ? <Alert kind="warning" title={t('contracts.notVerified')} /> : null}
      <Card
        title={t('contracts.list')}
        actions={
          <div class="inline-filter">
            <label for={filterId}>{t('contracts.filter')}</label>
            <select
              id={filterId}
              value={status ?? ''}
              onChange={(e) => {
                const v = (e.currentTarget as HTMLSelectElement).value;
                navigate(v ? `/app/contracts?status=${v}` : '/app/contracts', true);
              }}
            >
              <option value="">{t('contracts.all')}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`status.contract.${s}`)}
                </option>
              ))}
            </select>
          </div>
        }
      >
        <ErrorAlert error={list.error} />
        {!list.data ? (
          list.error ? null : <Loading />
        ) : items.length === 0 ? (
          <Empty>{status ? t('contracts.noneWithStatus') : t('contracts.none')}</Empty>
        ) : (
          <ul class="contract-list">
            {items.map((c) => (
              <ContractRow key={c.id} c={c} me={member.enterprise_id} />
            ))}
          </ul>
        )}
        <ErrorAlert error={more.error} />
        {cursor ? (
          <div class="form-actions start">
            <Button variant="secondary" onClick={loadMore} busy={more.busy}>
              {t('contracts.more')}
            </Button>
          </div>
        ) : null}
      </Card>
      <Card title={t('contracts.openById')}>
        <form class="inline-form" onSubmit={go} noValidate>
          <Field name="contract_id" label={t('contracts.id')} value={openId} onValue={setOpenId} spellcheck={false} />
          <Button type="submit" variant="secondary" disabled={!openId.trim()}>
            {t('contracts.go')}
          </Button>
        </form>
      </Card>
    </>
  );
}

export function NewContractPage() {
  const { enterprise } = useEnterprise();
  const [title, setTitle] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [others, setOthers] = useState<string[]>(['']);
  const [order, setOrder] = useState<SigningOrder>('sequential');
  const [created, setCreated] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const errs = error instanceof ApiError ? byField(error.fieldErrors) : {};
  const fileId = useId('pdf');

  const pick = async (f: File | null) => {
    setFile(null);
    setFileError(null);
    if (!f) return;
    if (f.size > MAX_PDF) return setFileError(t('contractNew.tooLarge'));
    const head = new Uint8Array(await f.slice(0, 5).arrayBuffer());
    if (String.fromCharCode(...head) !== '%PDF-') return setFileError(t('contractNew.notPdf'));
    setFile(f);
    if (!title) setTitle(f.name.replace(/\.pdf$/i, '').slice(0, 100));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return setFileError(t('contractNew.choose'));
    let id = created;
    const ok = await run(async () => {
      if (!id) {
        const draft = await api.createContract({ title: title.trim(), document_size: file.size });
        id = draft.contract.id;
        setCreated(id);
        await uploadTo(draft.upload, file);
        localDocuments.set(id, file);
      }
      const ids = [enterprise!.id, ...others.map((o) => o.trim()).filter(Boolean)];
      await api.setParties(id, order, ids);
      return true;
    });
    if (ok && id) navigate(`/app/contracts/${id}`);
  };

  return (
    <>
      <PageHeader title={t('contractNew.title')} subtitle={t('contractNew.subtitle')} back={{ href: '/app/contracts', label: t('contracts.title') }} />
      <form onSubmit={submit} noValidate class="stack">
        <Card title={t('contractNew.document')}>
          <div class={`field${fileError ? ' has-error' : ''}`}>
            <label for={fileId}>{t('contractNew.pdf')}</label>
            <FileInput id={fileId} accept="application/pdf,.pdf" describedBy={`${fileId}-hint`} invalid={!!fileError} fileName={file?.name} onFile={pick} />
            <p class="hint" id={`${fileId}-hint`}>
              {t('contractNew.pdfHint')}
            </p>
            {fileError ? (
              <p class="field-error" role="alert">
                {fileError}
              </p>
            ) : null}
          </div>
          <Field name="title" label={t('contractNew.name')} value={title} onValue={setTitle} error={errs.title} required maxLength={200} disabled={!!created} />
        </Card>
        <Card title={t('contractNew.parties')}>
          <p class="muted small">{t('contractNew.partiesHint')}</p>
          <ol class="party-list">
            <li>
              <span class="party-self">
                {enterprise?.name} <span class="tag">{t('contractNew.us')}</span>
              </span>
            </li>
            {others.map((o, i) => (
              <li key={i}>
                <div class="party-row">
                  <Field
                    name={`party_${i + 1}`}
                    label={t('contractNew.partyId', { n: String(i + 2) })}
                    value={o}
                    onValue={(v) => setOthers(others.map((x, j) => (j === i ? v : x)))}
                    error={errs[`parties[${i + 1}].enterprise_id`] ?? errs[`parties[${i + 1}]`]}
                    spellcheck={false}
                    hint={t('contractNew.partyIdHint')}
                  />
                  {others.length > 1 ? (
                    <Button variant="ghost" onClick={() => setOthers(others.filter((_, j) => j !== i))}>
                      {t('contractNew.removeParty', { n: String(i + 2) })}
                    </Button>
                  ) : null}
                </div>
              </li>
            ))}
          </ol>
          <Button variant="secondary" onClick={() => setOthers([...others, ''])}>
            {t('contractNew.addParty')}
          </Button>
          <fieldset class="radios">
            <legend>{t('contractNew.order')}</legend>
            <label class="radio">
              <input type="radio" name="order" checked={order === 'sequential'} onChange={() => setOrder('sequential')} />
              {t('order.sequential')}
            </label>
            <label class="radio">
              <input type="radio" name="order" checked={order === 'parallel'} onChange={() => setOrder('parallel')} />
              {t('order.parallel')}
            </label>
          </fieldset>
        </Card>
        {created ? <Alert kind="warning">{t('contractNew.createdNoParties')}</Alert> : null}
        <ErrorAlert error={error} />
        <div class="form-actions">
          <Button variant="secondary" onClick={() => navigate(created ? `/app/contracts/${created}` : '/app/contracts')}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" busy={busy}>
            {t('contractNew.submit')}
          </Button>
        </div>
      </form>
    </>
  );
}

export function ContractPage({ id }: { id: string }) {
  const member = useMember();
  const c = useLoad(() => api.contract(id), [id]);
  const open = useAction();
  if (c.error && !c.data) return <ErrorAlert error={c.error} />;
  if (!c.data) return <Loading />;
  const k = c.data;
  const initiator = k.initiator_id === member.enterprise_id;
  const partyName = (pid: string) => k.parties.find((p) => p.enterprise_id === pid)?.enterprise_name ?? pid;
  const doOpen = async () => {
    const r = await open.run(() => api.openContract(k.id));
    if (r) c.setData(r);
  };
  const turn = canSign(k, member.enterprise_id);
  return (
    <>
      <PageHeader title={k.title} subtitle={t('contract.subtitle', { id: k.id })} back={{ href: '/app/contracts', label: t('contracts.title') }} actions={<Badge group="contract" status={k.status} />} />
      <div class="stack">
        <Card title={t('contract.details')}>
          <dl class="facts">
            <dt>{t('common.status')}</dt>
            <dd>
              <Badge group="contract" status={k.status} />
            </dd>
            <dt>{t('contractNew.order')}</dt>
            <dd>{t(`order.${k.order}`)}</dd>
            <dt>{t('contract.pages')}</dt>
            <dd>{k.page_count ?? '—'}</dd>
            <dt>{t('contract.created')}</dt>
            <dd>{fmtDateTime(k.created_at)}</dd>
            <dt>{t('contract.placements')}</dt>
            <dd>{t('contract.placementCount', { n: String(k.placements.length) })}</dd>
          </dl>
        </Card>
        <Card title={t('contractNew.parties')}>
          {k.parties.length === 0 ? (
            <Empty>{t('contracts.noParties')}</Empty>
          ) : (
            <ol class="party-progress">
              {k.parties.map((p) => (
                <li key={p.enterprise_id} class={p.signed ? 'signed' : ''}>
                  <div>
                    <span class="party-name">{p.enterprise_name}</span>
                    <span class="muted small mono">{p.enterprise_id}</span>
                    <span class={`badge badge-${p.signed ? 'active' : 'pending'}`}>{p.signed ? t('contract.signed') : t('contract.notSigned')}</span>
                  </div>
                </li>
              ))}
            </ol>
          )}
          {k.signatures.length ? (
            <ul class="plain">
              {k.signatures.map((s) => (
                <li key={s.revision}>{t('contract.signedBy', { party: partyName(s.party), seal: s.seal_name, at: fmtDateTime(s.signed_at) })}</li>
              ))}
            </ul>
          ) : null}
        </Card>
        {initiator && k.status === 'draft' ? <PlacementCard contract={k} onSaved={c.setData} /> : null}
        {initiator && k.status === 'draft' ? (
          <Card title={t('contract.open')}>
            <p>{t('contract.openHint')}</p>
            <ErrorAlert error={open.error} />
            <Button onClick={doOpen} busy={open.busy}>
              {t('contract.openButton')}
            </Button>
          </Card>
        ) : null}
        {k.status === 'draft' ? null : <DocumentCard contract={k} highlight={member.enterprise_id} />}
        {turn === 'now' ? <SignCard contract={k} enterpriseId={member.enterprise_id} onSigned={c.setData} /> : null}
        {turn === 'wait' ? <Alert kind="info">{t('sign.wait')}</Alert> : null}
        {k.status === 'completed' ? <Alert kind="success">{t('sign.completed')}</Alert> : turn === 'done' ? <Alert kind="success">{t('sign.done')}</Alert> : null}
        {k.signatures.length ? <ContractReportCard contract={k} /> : null}
        <ContractTrailCard contract={k} />
      </div>
    </>
  );
}

/** The initiator's placement editor for a draft: the PDF it uploaded in this tab, or picked again. */
function PlacementCard({ contract, onSaved }: { contract: Contract; onSaved: (c: Contract) => void }) {
  const [doc, setDoc] = useState<PDFDocumentProxy | null>(null);
  const [docError, setDocError] = useState<string | null>(null);
  const [widgets, setWidgets] = useState<Widget[]>(() => withKeys(contract.placements));
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const pickId = useId('again');
  const load = async (b: Blob) => {
    setDocError(null);
    try {
      setDoc(await openPdf(await b.arrayBuffer()));
    } catch {
      setDocError(t('editor.unreadable'));
    }
  };
  useEffect(() => {
    const b = localDocuments.get(contract.id);
    if (b) void load(b);
  }, [contract.id]);
  const onChange = (ws: Widget[]) => {
    setWidgets(ws);
    setDirty(true);
    setSaved(false);
  };
  const doSave = async () => {
    const r = await save.run(() => api.setPlacements(contract.id, withoutKeys(widgets)));
    if (r) {
      setDirty(false);
      setSaved(true);
      onSaved(r);
    }
  };
  return (
    <Card title={t('editor.title')} class="editor-card">
      {!doc ? (
        <div class={`field${docError ? ' has-error' : ''}`}>
          <p>{t('editor.pickAgain')}</p>
          <label for={pickId}>{t('contractNew.pdf')}</label>
          <FileInput id={pickId} accept="application/pdf,.pdf" invalid={!!docError} onFile={(f) => f && load(f)} />
          {docError ? (
            <p class="field-error" role="alert">
              {docError}
            </p>
          ) : null}
        </div>
      ) : (
        <>
          <PlacementEditor
            doc={doc}
            parties={contract.parties}
            widgets={widgets}
            onChange={onChange}
            toolbar={
              <Button onClick={doSave} busy={save.busy} disabled={!dirty}>
                {t('editor.save')}
              </Button>
            }
          />
          <div class="editor-status" role="status">
            {dirty ? t('editor.unsaved') : saved ? t('editor.saved') : ''}
          </div>
          <ErrorAlert error={save.error} />
        </>
      )}
    </Card>
  );
}
