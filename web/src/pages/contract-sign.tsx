// A contract once opened: the latest document with the widgets (the viewer's party highlighted),
// signing (a seal of one's own, a one-time code by SMS or email entered in a dialog), the signed
// document to download, the platform's verification report and the trail in plain words.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, blobUrl } from '../api';
import { t, tOpt, fmtDateTime, fieldErrorText } from '../i18n';
import { Alert, Button, Card, Empty, ErrorAlert, Loading, useAction, useLoad } from '../components';
import { openPdf, type PDFDocumentProxy } from '../pdf';
import { PlacementEditor, crossRange, crossSeals, withKeys } from './placement-editor';
import { SealGlyph } from './seals';
import { isPagePlacement, type AuditEvent, type Contract, type DocTimestampFinding, type OtpSent, type Seal, type SignatureFinding, type UsableSeal, type VerificationReport } from '../types';

/** The latest revision, drawn with the widgets; and a link to save it. */
export function DocumentCard({ contract, highlight }: { contract: Contract; highlight?: string }) {
  const rev = contract.revisions.length;
  const [doc, setDoc] = useState<PDFDocumentProxy | null>(null);
  const [file, setFile] = useState<{ url: string; name: string; revision: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    setDoc(null);
    setError(null);
    (async () => {
      const d = await api.contractDocument(contract.id);
      const b = await blobUrl(d.url);
      const pdf = await openPdf(await b.blob.arrayBuffer());
      if (!live) return URL.revokeObjectURL(b.url);
      setFile({ url: b.url, name: `${contract.title}${d.revision ? `-${t('doc.signedSuffix')}-${d.revision}` : ''}.pdf`, revision: d.revision });
      setDoc(pdf);
    })().catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [contract.id, rev]);
  const signedParties = new Set(contract.parties.filter((p) => p.signed).map((p) => p.enterprise_id));
  // Widgets of parties that signed are ink now: only the ones still to sign are drawn over the page.
  const unsigned = contract.placements.filter((p) => !signedParties.has(p.party));
  const widgets = withKeys(unsigned);
  const cross = crossSeals(unsigned);
  return (
    <Card title={t('doc.title')} class="editor-card">
      <ErrorAlert error={error} />
      {!doc || !file ? (
        error ? null : <Loading />
      ) : (
        <>
          <p class="muted small">{file.revision ? t('doc.revision', { n: String(file.revision) }) : t('doc.original')}</p>
          <PlacementEditor
            doc={doc}
            parties={contract.parties}
            widgets={widgets}
            cross={cross}
            highlight={highlight}
            toolbar={
              <a class="btn btn-secondary" href={file.url} download={file.name}>
                {t('doc.download')}
              </a>
            }
          />
        </>
      )}
    </Card>
  );
}

/** Whose turn it is, as the API decides it: sequential parties in order, parallel ones all at once. */
export function canSign(c: Contract, enterpriseId: string): 'now' | 'wait' | 'done' | 'no' {
  const i = c.parties.findIndex((p) => p.enterprise_id === enterpriseId);
  if (i < 0 || c.status !== 'signing') return c.parties[i]?.signed ? 'done' : 'no';
  if (c.parties[i].signed) return 'done';
  if (c.order === 'parallel') return 'now';
  return c.parties.slice(0, i).every((p) => p.signed) ? 'now' : 'wait';
}

export function SignCard({ contract, enterpriseId, onSigned }: { contract: Contract; enterpriseId: string; onSigned: (c: Contract) => void }) {
  // The seals this member may sign with now (active, granted, unexpired), each with its image.
  const seals = useLoad(() => api.usableSeals(), []);
  const active = seals.data?.items ?? [];
  const [sealId, setSealId] = useState<string | null>(null);
  const [otp, setOtp] = useState<OtpSent | null>(null);
  const [channel, setChannel] = useState<'sms' | 'email'>('sms');
  const send = useAction();
  useEffect(() => {
    if (!sealId && active.length) setSealId(active[0].id);
  }, [active.length]);
  const sendCode = async (ch: 'sms' | 'email') => {
    setChannel(ch);
    const r = await send.run(() => api.contractOtp(contract.id, ch));
    if (r) setOtp(r);
  };
  const mine = contract.placements.filter((p) => p.party === enterpriseId);
  const pages = [...new Set(mine.filter(isPagePlacement).map((p) => p.page))].sort((a, b) => a - b);
  const cross = crossSeals(mine)[0];
  const crossPages = cross ? crossRange(cross, contract.page_count ?? 0) : null;
  return (
    <Card title={t('sign.title')}>
      <p>
        {t('sign.places', { n: String(mine.length - (cross ? 1 : 0)), pages: pages.join(', ') })}
        {crossPages ? ` ${t('sign.cross', { first: String(crossPages[0]), last: String(crossPages[1]) })}` : null}
      </p>
      <ErrorAlert error={seals.error} />
      {!seals.data ? (
        <Loading />
      ) : active.length === 0 ? (
        <Alert kind="warning">{t('sign.noSeal')}</Alert>
      ) : (
        <fieldset class="seal-choice">
          <legend>{t('sign.chooseSeal')}</legend>
          {active.map((s) => (
            <label key={s.id} class={`seal-option${sealId === s.id ? ' chosen' : ''}`}>
              <input type="radio" name="seal" checked={sealId === s.id} onChange={() => setSealId(s.id)} />
              <SealImage seal={s} />
              <span>
                <span class="seal-card-name">{s.name}</span>
                <span class="muted small">{t(`kind.${s.kind}`)}</span>
              </span>
            </label>
          ))}
        </fieldset>
      )}
      <p class="hint">{t('sign.codeHint')}</p>
      <ErrorAlert error={send.error} />
      <div class="form-actions start">
        <Button onClick={() => sendCode('sms')} busy={send.busy && channel === 'sms'} disabled={!sealId || send.busy}>
          {t('sign.codeSms')}
        </Button>
        <Button variant="secondary" onClick={() => sendCode('email')} busy={send.busy && channel === 'email'} disabled={!sealId || send.busy}>
          {t('sign.codeEmail')}
        </Button>
      </div>
      {otp && sealId ? (
        <CodeDialog
          otp={otp}
          seal={active.find((s) => s.id === sealId)!}
          onResend={async () => {
            const r = await api.contractOtp(contract.id, otp.channel);
            setOtp(r);
            return r;
          }}
          onSign={(code) => api.signContract(contract.id, sealId, otp.otp_id, code)}
          onClose={() => setOtp(null)}
          onSigned={(c) => {
            setOtp(null);
            onSigned(c);
          }}
        />
      ) : null}
    </Card>
  );
}

/** A usable seal's approved image, fetched as a blob: URL (the CSP names no bucket); a glyph until then. */
function SealImage({ seal }: { seal: UsableSeal }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let url: string | null = null;
    blobUrl(seal.image_url).then(
      (b) => {
        url = b.url;
        if (live) setSrc(b.url);
        else URL.revokeObjectURL(b.url);
      },
      () => {
        /* the link expired or the store is unreachable: the glyph stays */
      },
    );
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [seal.id, seal.image_url]);
  // Beside the seal's name, the impression is decoration: no second name for it.
  return src ? <img class="seal-image" src={src} alt="" width={56} height={56} /> : <SealGlyph seal={seal} />;
}

const COOL_DOWN = 60;

/** The code, in six boxes: typing moves on, a paste fills them all; resend after a minute. */
function CodeDialog(props: {
  otp: OtpSent;
  seal: Seal;
  onResend: () => Promise<OtpSent>;
  onSign: (code: string) => Promise<Contract>;
  onClose: () => void;
  onSigned: (c: Contract) => void;
}) {
  const [digits, setDigits] = useState(['', '', '', '', '', '']);
  const [wait, setWait] = useState(COOL_DOWN);
  const [message, setMessage] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const sign = useAction();
  const boxes = useRef<(HTMLInputElement | null)[]>([]);
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(document.activeElement);
  useEffect(() => {
    if (dialog.current && !dialog.current.open) dialog.current.showModal();
    boxes.current[0]?.focus();
    const timer = setInterval(() => setWait((w) => Math.max(0, w - 1)), 1000);
    return () => {
      clearInterval(timer);
      (opener.current as HTMLElement | null)?.focus?.();
    };
  }, []);
  const code = digits.join('');
  const submit = async (value = code) => {
    if (!/^\d{6}$/.test(value) || sign.busy) return;
    setMessage(null);
    const r = await sign.run(() => props.onSign(value));
    if (r) return props.onSigned(r);
  };
  useEffect(() => {
    const e = sign.error;
    if (!e) return;
    if (e instanceof ApiError && e.status === 422) {
      const fe = e.fieldErrors[0];
      const left = fe?.message.match(/(\d+) attempt/)?.[1];
      setMessage(`${fe ? fieldErrorText(fe) : t('signin.wrongCode')}${left !== undefined ? ` ${t('signin.attemptsLeft', { n: left })}` : ''}`);
      setDigits(['', '', '', '', '', '']);
      boxes.current[0]?.focus();
    } else setMessage(null);
  }, [sign.error]);
  const put = (i: number, v: string) => {
    const only = v.replace(/\D/g, '');
    if (only.length > 1) return fill(only, i);
    const next = digits.map((d, j) => (j === i ? only : d));
    setDigits(next);
    if (only && i < 5) boxes.current[i + 1]?.focus();
    if (next.join('').length === 6) void submit(next.join(''));
  };
  const fill = (text: string, from = 0) => {
    const only = text.replace(/\D/g, '').slice(0, 6 - from);
    if (!only) return;
    const next = [...digits];
    for (let k = 0; k < only.length; k++) next[from + k] = only[k];
    setDigits(next);
    boxes.current[Math.min(from + only.length, 5)]?.focus();
    if (next.join('').length === 6) void submit(next.join(''));
  };
  const key = (i: number) => (e: KeyboardEvent) => {
    if (e.key === 'Backspace' && !digits[i] && i > 0) {
      e.preventDefault();
      setDigits(digits.map((d, j) => (j === i - 1 ? '' : d)));
      boxes.current[i - 1]?.focus();
    } else if (e.key === 'ArrowLeft' && i > 0) boxes.current[i - 1]?.focus();
    else if (e.key === 'ArrowRight' && i < 5) boxes.current[i + 1]?.focus();
  };
  const resend = async () => {
    setMessage(null);
    setInfo(null);
    try {
      const r = await props.onResend();
      setWait(COOL_DOWN);
      setDigits(['', '', '', '', '', '']);
      setInfo(t(r.channel === 'sms' ? 'sign.sentSms' : 'sign.sentEmail', { to: r.sent_to }));
      boxes.current[0]?.focus();
    } catch (e) {
      setMessage(e instanceof ApiError ? (tOpt(`problem.${e.kind}`) ?? e.message) : t('problem.unknown'));
    }
  };
  return (
    <dialog
      class="dialog code-dialog"
      aria-labelledby="code-title"
      aria-describedby="code-desc"
      ref={dialog}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
        <h2 id="code-title">{t('sign.dialogTitle')}</h2>
        <p id="code-desc">
          {t(props.otp.channel === 'sms' ? 'sign.sentSms' : 'sign.sentEmail', { to: props.otp.sent_to })} {t('sign.dialogSeal', { seal: props.seal.name })}
        </p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
          noValidate
        >
          <fieldset class="code-boxes" aria-describedby={message ? 'code-err' : undefined}>
            <legend class="sr-only">{t('sign.code')}</legend>
            {digits.map((d, i) => (
              <input
                key={i}
                ref={(el) => {
                  boxes.current[i] = el;
                }}
                value={d}
                inputMode="numeric"
                autocomplete={i === 0 ? 'one-time-code' : 'off'}
                maxLength={i === 0 ? 6 : 1}
                aria-label={t('sign.digit', { n: String(i + 1) })}
                aria-invalid={message ? true : undefined}
                onInput={(e) => put(i, (e.currentTarget as HTMLInputElement).value)}
                onKeyDown={key(i)}
                onPaste={(e) => {
                  e.preventDefault();
                  fill(e.clipboardData?.getData('text') ?? '', i);
                }}
                onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
                disabled={sign.busy}
              />
            ))}
          </fieldset>
          {message ? (
            <p class="field-error" id="code-err" role="alert">
              {message}
            </p>
          ) : null}
          {info ? <p role="status">{info}</p> : null}
          {sign.error && !(sign.error instanceof ApiError && sign.error.status === 422) ? <ErrorAlert error={sign.error} /> : null}
          <div class="form-actions">
            <button type="button" class="linklike" onClick={resend} disabled={wait > 0}>
              {wait > 0 ? t('signin.resendIn', { s: wait }) : t('signin.resend')}
            </button>
            <Button variant="secondary" onClick={props.onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" busy={sign.busy} disabled={code.length !== 6}>
              {t('sign.submit')}
            </Button>
          </div>
        </form>
    </dialog>
  );
}

/** The verification report in words: who signed, when (by whose clock), intact, trusted, changes after. */
export function ReportView({ report }: { report: VerificationReport }) {
  return (
    <div class="report">
      <Alert kind={report.valid ? 'success' : 'error'} title={report.valid ? t('report.valid') : t('report.invalid')}>
        {t('report.summary', { n: String(report.signatures.length), r: String(report.revisions) })}
      </Alert>
      {report.signatures.length === 0 ? (
        <Empty>{t('report.none')}</Empty>
      ) : (
        <ol class="report-list">
          {report.signatures.map((s, i) => (
            <li key={i} class={s.intact && s.trusted !== false ? 'ok' : 'bad'}>
              <h3>
                {s.seal ? t('report.sealOf', { company: s.seal.enterprise_name, seal: s.seal.seal_name }) : (s.signer ?? t('report.unknownSigner'))}
              </h3>
              <ul class="plain">
                {s.seal ? <li>{t('report.uscc', { uscc: s.seal.uscc })}</li> : null}
                {s.stamp_pages?.length ? <li>{t('report.stampPages', { pages: pageList(s.stamp_pages) })}</li> : null}
                {s.strip_pages?.length ? <li>{t('report.stripPages', { pages: pageList(s.strip_pages) })}</li> : null}
                <li>
                  {s.signing_time
                    ? t(s.time_source === 'timestamp' ? 'report.timeTsa' : 'report.timeClaimed', { at: fmtDateTime(s.signing_time) })
                    : t('report.timeNone')}
                </li>
                <Check ok={s.intact}>{s.intact ? t('report.intact') : t('report.notIntact')}</Check>
                <Check ok={s.trusted === true}>{s.trusted ? t('report.trusted') : t('report.notTrusted')}</Check>
                {s.timestamp_valid === null ? null : <Check ok={s.timestamp_valid}>{s.timestamp_valid ? t('report.tsaOk') : t('report.tsaBad')}</Check>}
                <li>{s.covers_whole_document ? t('report.coversAll') : t('report.later', { coverage: s.coverage })}</li>
                <LongTerm s={s} />
                {s.disallowed_changes.map((c, j) => (
                  <Check ok={false} key={`c${j}`}>
                    {t('report.change', { what: c })}
                  </Check>
                ))}
                {s.problems.map((p, j) => (
                  <Check ok={false} key={`p${j}`}>
                    {p}
                  </Check>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
      {report.document_timestamps?.length ? (
        <section class="report-stamps" aria-labelledby="report-stamps-title">
          <h3 id="report-stamps-title">{t('report.docTsTitle')}</h3>
          <p class="muted small">{t('report.docTsHint')}</p>
          <ol class="stamp-list">
            {report.document_timestamps.map((d, i) => (
              <DocTimestamp d={d} key={i} />
            ))}
          </ol>
        </section>
      ) : null}
    </div>
  );
}

const LEVELS = ['B-B', 'B-T', 'B-LT', 'B-LTA'];

/**
 * What makes the signature provable for years, in words: its PAdES level, the validation data
 * the file carries for it, and the signer certificate's status when it signed (with the engine's
 * own sentence for it).
 */
function LongTerm({ s }: { s: SignatureFinding }) {
  const level = s.level;
  const vd = s.validation_data;
  const rev = s.revocation;
  const known = level && LEVELS.includes(level);
  return (
    <>
      {level && level !== 'none' ? (
        <li class="report-level">
          <span class="level-badge">{t('report.level', { level })}</span> {known ? t(`report.level.${level as 'B-B' | 'B-T' | 'B-LT' | 'B-LTA'}`) : null}
        </li>
      ) : null}
      {!vd && !rev ? (
        level && level !== 'none' ? <li>{t('report.ltvNone')}</li> : null
      ) : (
        <>
          {vd ? (
            vd.complete ? (
              <Check ok>{t('report.vdComplete')}</Check>
            ) : (
              <Check ok={false}>{t('report.vdMissing', { n: String(vd.missing.length) })}</Check>
            )
          ) : (
            <li>{t('report.vdNone')}</li>
          )}
          {vd && !vd.complete && vd.missing.length ? (
            <li class="muted small">
              <ul class="engine-words" lang="en">
                {vd.missing.map((m, j) => (
                  <li key={j}>{m}</li>
                ))}
              </ul>
            </li>
          ) : null}
          {rev ? <Revocation rev={rev} /> : null}
        </>
      )}
    </>
  );
}

function Revocation({ rev }: { rev: NonNullable<SignatureFinding['revocation']> }) {
  const at = fmtDateTime(rev.at);
  const words = tOpt(`report.rev.${rev.status}`, { at });
  const ok = rev.status === 'good' || rev.status === 'revoked_after_signing';
  return (
    <>
      {words ? rev.status === 'unknown' ? <li>{words}</li> : <Check ok={ok}>{words}</Check> : null}
      {rev.meaning ? (
        <li class="small">
          {t('report.revMeaning')} <q lang="en">{rev.meaning}</q>
        </li>
      ) : null}
      <li class="small">
        <details class="rev-chain">
          <summary>{t('report.revChain', { n: String(rev.chain.length) })}</summary>
          <p class="muted">
            {t('report.revSource')} <span lang="en">{rev.source}</span>
          </p>
          <ul class="plain">
            {rev.chain.map((c, j) => (
              <li key={j}>
                <span class="break">{c.subject}</span>: {tOpt(`report.revStatus.${c.status}`) ?? c.status} · <span lang="en">{c.source}</span>
              </li>
            ))}
          </ul>
        </details>
      </li>
    </>
  );
}

/** A document time stamp: when, by which time-stamping authority, and whether it holds. */
function DocTimestamp({ d }: { d: DocTimestampFinding }) {
  return (
    <li class={d.intact && d.trusted !== false ? 'ok' : 'bad'}>
      <h4>{d.time ? t('report.docTsAt', { at: fmtDateTime(d.time) }) : t('report.docTsNoTime')}</h4>
      <ul class="plain">
        {d.tsa ? <li>{t('report.docTsBy', { tsa: d.tsa })}</li> : null}
        <Check ok={d.intact}>{d.intact ? t('report.docTsIntact') : t('report.docTsBroken')}</Check>
        {d.trusted === null ? null : <Check ok={d.trusted}>{d.trusted ? t('report.trusted') : t('report.notTrusted')}</Check>}
        {d.validation_data_complete ? (
          <Check ok>{t('report.docTsVdComplete')}</Check>
        ) : (
          <Check ok={false}>{t('report.vdMissing', { n: String(d.missing_validation_data.length) })}</Check>
        )}
        <li>{d.covers_whole_document ? t('report.coversAll') : t('report.later', { coverage: d.coverage })}</li>
        {[...d.disallowed_changes.map((c) => t('report.change', { what: c })), ...d.problems].map((p, j) => (
          <Check ok={false} key={j}>
            {p}
          </Check>
        ))}
      </ul>
    </li>
  );
}

/** Pages as runs: 1–4, 7, 9–10. */
function pageList(pages: number[]): string {
  const sorted = [...new Set(pages)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    runs.push(j > i ? `${sorted[i]}–${sorted[j]}` : String(sorted[i]));
    i = j;
  }
  return runs.join(', ');
}

function Check({ ok, children }: { ok: boolean; children: ComponentChildren }) {
  return (
    <li class={ok ? 'ok-text' : 'danger-text'}>
      <span aria-hidden="true">{ok ? '✓ ' : '⚠ '}</span>
      {children}
    </li>
  );
}

export function ContractReportCard({ contract }: { contract: Contract }) {
  const rep = useLoad(() => api.verifyContract(contract.id), [contract.id, contract.revisions.length]);
  return (
    <Card title={t('report.title')}>
      <ErrorAlert error={rep.error} />
      {rep.data ? <ReportView report={rep.data} /> : rep.error ? null : <Loading />}
    </Card>
  );
}

/** The contract's trail, each event in a sentence. */
export function ContractTrailCard({ contract }: { contract: Contract }) {
  const trail = useLoad(() => api.contractAudit(contract.id), [contract.id, contract.revisions.length, contract.status]);
  const party = (id: unknown) => contract.parties.find((p) => p.enterprise_id === id)?.enterprise_name ?? String(id ?? '');
  const sentence = (e: AuditEvent) => {
    const d = e.details ?? {};
    const base = tOpt(`action.${e.action}`) ?? e.action;
    if (e.action === 'contract.signed') {
      const sig = (d.signature ?? d) as Record<string, unknown>;
      return t('trail.contractSigned', { party: String(sig.enterprise_name ?? party(sig.party)), seal: String(sig.seal_name ?? '') });
    }
    if (e.action === 'otp.sent' && d.channel) return `${base} (${d.channel === 'email' ? t('sign.email') : t('sign.sms')})`;
    return base;
  };
  return (
    <Card title={t('trail.title')}>
      <ErrorAlert error={trail.error} />
      {!trail.data ? (
        trail.error ? null : <Loading />
      ) : (
        <>
          <p class={trail.data.chain_intact ? 'ok-text' : 'danger-text'}>{trail.data.chain_intact ? `✓ ${t('trail.intact')}` : `⚠ ${t('trail.broken')}`}</p>
          <ol class="timeline">
            {trail.data.items.map((e) => (
              <li key={e.seq}>
                <span class="tl-dot" aria-hidden="true" />
                <div>
                  <strong>{sentence(e)}</strong>
                  <div class="muted small">
                    {fmtDateTime(e.at)} · {tOpt(`actor.${e.actor.kind}`) ?? e.actor.kind}
                  </div>
                </div>
              </li>
            ))}
          </ol>
        </>
      )}
    </Card>
  );
}
