import { useState } from 'preact/hooks';
import { api, ApiError, uploadTo } from '../api';
import { t, fmtDateTime, timeZone, tOpt } from '../i18n';
import { useLocation } from '../router';
import { Alert, Badge, Button, Card, Confirm, Empty, ErrorAlert, Field, Loading, PageHeader, Select, byField, useAction, useLoad, ListTable } from '../components';
import { useMember } from '../app';
import { SealGlyph } from './seals';
import { SealImagePicker, type Picked } from './seal-image';
import { REVOCATION_REASONS, type AuditEvent, type Member, type RevocationReason, type Seal } from '../types';

type Action = 'suspend' | 'resume' | 'revoke';

export function SealPage({ id }: { id: string }) {
  const me = useMember();
  const { query } = useLocation();
  const seal = useLoad(() => api.seal(id), [id]);
  const [action, setAction] = useState<Action | null>(null);
  const [reason, setReason] = useState<RevocationReason>('unspecified');
  const [changes, setChanges] = useState(0);
  const act = useAction();
  const admin = me.role === 'admin';
  const members = useLoad(() => (admin ? api.members() : Promise.resolve(null)), [admin]);
  const names = new Map((members.data?.items ?? []).map((m) => [m.id, m.name]));
  const s = seal.data;
  if (seal.error) return <ErrorAlert error={seal.error} />;
  if (!s) return <Loading />;
  return (
    <>
      <PageHeader
        title={s.name}
        subtitle={`${t(`kind.${s.kind}`)} · ${t(`alg.${s.key_algorithm}`)}`}
        back={{ href: '/app/seals', label: t('seals.title') }}
        actions={
          admin ? (
            <>
              {s.status === 'active' ? (
                <Button variant="secondary" onClick={() => setAction('suspend')}>
                  {t('seal.suspend')}
                </Button>
              ) : null}
              {s.status === 'suspended' ? (
                <Button variant="secondary" onClick={() => setAction('resume')}>
                  {t('seal.resume')}
                </Button>
              ) : null}
              {s.status === 'active' || s.status === 'suspended' ? (
                <Button
                  variant="danger"
                  onClick={() => {
                    setReason('unspecified');
                    setAction('revoke');
                  }}
                >
                  {t('seal.revoke')}
                </Button>
              ) : null}
            </>
          ) : null
        }
      />
      {query.get('submitted') && s.status === 'pending_review' ? <Alert kind="success" title={t('seal.submittedTitle')}>{t('seal.submittedBody')}</Alert> : null}
      <Card title={t('seal.details')}>
        <div class="seal-detail">
          <SealGlyph seal={s} />
          <dl class="facts">
            <div>
              <dt>{t('common.status')}</dt>
              <dd>
                <Badge group="seal" status={s.status} />
              </dd>
            </div>
            <div>
              <dt>{t('seal.id')}</dt>
              <dd class="mono">{s.id}</dd>
            </div>
            <div>
              <dt>{t('seal.created')}</dt>
              <dd>{fmtDateTime(s.created_at)}</dd>
            </div>
            {s.certificate ? (
              <>
                <div>
                  <dt>{t('seal.certSerial')}</dt>
                  <dd class="mono break">{s.certificate.serial}</dd>
                </div>
                <div>
                  <dt>{t('seal.validity')}</dt>
                  <dd>
                    {fmtDateTime(s.certificate.not_before)} – {fmtDateTime(s.certificate.not_after)}
                  </dd>
                </div>
              </>
            ) : null}
            {s.review ? (
              <div>
                <dt>{t('seal.review')}</dt>
                <dd>
                  {s.review.decision === 'approved' ? t('seal.reviewApproved') : t('seal.reviewRejected')} · {fmtDateTime(s.review.decided_at)}
                  {s.review.reason ? (
                    <p class="reason">
                      {t('kyb.reasonIs', { reason: s.review.reason })}
                    </p>
                  ) : null}
                </dd>
              </div>
            ) : null}
          </dl>
        </div>
        {s.status === 'pending_review' ? <Alert kind="info">{t('seal.pendingBody')}</Alert> : null}
        {s.status === 'suspended' ? <Alert kind="warning">{t('seal.suspendedBody')}</Alert> : null}
        {s.status === 'revoked' ? <Alert kind="error">{t('seal.revokedBody')}</Alert> : null}
      </Card>
      {admin && (s.status === 'draft' || s.status === 'rejected') ? <NewImage seal={s} onDone={seal.reload} /> : null}
      {admin && (s.status === 'active' || s.status === 'suspended') ? <Grants seal={s} members={members.data?.items ?? []} onChange={() => setChanges((n) => n + 1)} /> : null}
      {admin ? <Trail id={s.id} names={names} key={`${s.updated_at}-${changes}`} /> : null}
      <Confirm
        open={!!action}
        title={action ? t(`seal.${action}Title`, { name: s.name }) : ''}
        body={action === 'revoke' ? <RevokeBody reason={reason} onReason={setReason} /> : action ? <p>{t(`seal.${action}Body`)}</p> : null}
        confirmLabel={action ? t(`seal.${action}Confirm`) : ''}
        danger={action === 'revoke'}
        busy={act.busy}
        error={act.error}
        onCancel={() => {
          setAction(null);
          act.setError(null);
        }}
        onConfirm={async () => {
          const r = await act.run(() => (action === 'revoke' ? api.revokeSeal(s.id, reason) : api.sealAction(s.id, action!)));
          if (r) {
            setAction(null);
            seal.reload();
          }
        }}
      />
    </>
  );
}

/** The revocation's consequences in plain words, and the reason published with it. */
function RevokeBody({ reason, onReason }: { reason: RevocationReason; onReason: (r: RevocationReason) => void }) {
  return (
    <>
      <p>{t('seal.revokeBody')}</p>
      <fieldset class="radios revoke-reasons">
        <legend>{t('seal.revokeReason')}</legend>
        {REVOCATION_REASONS.map((r) => (
          <label class="radio radio-hint" key={r}>
            <input type="radio" name="revoke_reason" value={r} checked={reason === r} onChange={() => onReason(r)} aria-labelledby={`revoke-reason-${r}-label`} aria-describedby={`revoke-reason-${r}`} />
            <span>
              <span class="radio-label" id={`revoke-reason-${r}-label`}>
                {t(`revocation.${r}`)}
              </span>
              <span class="hint" id={`revoke-reason-${r}`}>
                {t(`revocation.${r}Hint`)}
              </span>
            </span>
          </label>
        ))}
      </fieldset>
      <ul class="consequences">
        <li>{t('seal.revokeBefore')}</li>
        <li>{reason === 'unspecified' ? t('seal.revokePublishedNone') : t('seal.revokePublished', { reason: t(`revocation.${reason}`) })}</li>
      </ul>
      {reason === 'key_compromise' ? <Alert kind="warning">{t('seal.revokeCompromise')}</Alert> : null}
    </>
  );
}

function NewImage({ seal, onDone }: { seal: Seal; onDone: () => void }) {
  const [picked, setPicked] = useState<Picked | null>(null);
  const { busy, error, run } = useAction();
  const bad = !picked || (picked.check?.errors.length ?? 0) > 0;
  return (
    <Card title={seal.status === 'rejected' ? t('seal.newImageRejected') : t('seal.newImage')}>
      <form
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          if (bad) return;
          const ok = await run(async () => {
            const d = await api.newSealImage(seal.id, { image_size: picked!.file.size });
            await uploadTo(d.upload!, picked!.file);
            await api.submitSeal(seal.id);
            return true;
          });
          if (ok) onDone();
        }}
      >
        <SealImagePicker onPicked={setPicked} />
        <ErrorAlert error={error} />
        <div class="form-actions">
          <Button
            variant="secondary"
            busy={busy}
            onClick={async () => {
              const ok = await run(async () => {
                await api.newSealImage(seal.id, { generate: true });
                await api.submitSeal(seal.id);
                return true;
              });
              if (ok) onDone();
            }}
          >
            {t('seal.generateInstead')}
          </Button>
          <Button type="submit" busy={busy} disabled={bad}>
            {t('sealNew.submit')}
          </Button>
        </div>
      </form>
    </Card>
  );
}

function Grants({ seal, members, onChange }: { seal: Seal; members: Member[]; onChange: () => void }) {
  const grants = useLoad(() => api.grants(seal.id), [seal.id]);
  const [memberId, setMemberId] = useState('');
  const [expires, setExpires] = useState('');
  const [revoking, setRevoking] = useState<string | null>(null);
  const add = useAction();
  const rev = useAction();
  const nameOf = (id: string) => members.find((m) => m.id === id)?.name ?? id;
  const granted = new Set((grants.data?.items ?? []).map((g) => g.member_id));
  const candidates = members.filter((m) => !granted.has(m.id));
  const selected = memberId && candidates.some((m) => m.id === memberId) ? memberId : (candidates[0]?.id ?? '');
  const errs = add.error instanceof ApiError ? byField(add.error.fieldErrors) : {};
  return (
    <Card title={t('grants.title')}>
      <p class="muted">{t('grants.subtitle')}</p>
      {seal.status === 'active' && candidates.length ? (
        <form
          class="grant-form"
          noValidate
          onSubmit={async (e) => {
            e.preventDefault();
            const iso = expires ? new Date(expires).toISOString() : null;
            const r = await add.run(() => api.grant(seal.id, selected, iso));
            if (r) {
              setExpires('');
              setMemberId('');
              grants.reload();
              onChange();
            }
          }}
        >
          <div class="grid3">
            <Select name="grant_member" label={t('grants.member')} value={selected} onValue={setMemberId} options={candidates.map((m) => ({ value: m.id, label: `${m.name} (${m.role === 'admin' ? t('role.admin') : t('role.member')})` }))} />
            <Field name="grant_expires" type="datetime-local" label={t('grants.expires')} value={expires} onValue={setExpires} error={errs.expires_at} hint={t('grants.expiresHint', { tz: timeZone() })} />
            <div class="field field-button">
              <Button type="submit" busy={add.busy}>
                {t('grants.grant')}
              </Button>
            </div>
          </div>
          {Object.keys(errs).length ? null : <ErrorAlert error={add.error} />}
        </form>
      ) : null}
      <ListTable
        list={grants}
        empty={t('grants.none')}
        rowKey={(g) => g.member_id}
        columns={[
          { label: t('grants.member'), cell: (g) => nameOf(g.member_id) },
          { label: t('grants.until'), cell: (g) => (g.expires_at ? fmtDateTime(g.expires_at) : t('members.noExpiry')) },
          { label: t('grants.grantedAt'), cell: (g) => fmtDateTime(g.granted_at) },
        ]}
        actions={(g) => (
          <Button variant="ghost" class="btn-sm danger-text" onClick={() => setRevoking(g.member_id)} aria-label={t('grants.revokeWho', { name: nameOf(g.member_id) })}>
            {t('grants.revoke')}
          </Button>
        )}
      />
      <Confirm
        open={!!revoking}
        title={t('grants.revokeTitle', { name: revoking ? nameOf(revoking) : '' })}
        body={<p>{t('grants.revokeBody', { seal: seal.name })}</p>}
        confirmLabel={t('grants.revoke')}
        danger
        busy={rev.busy}
        error={rev.error}
        onCancel={() => setRevoking(null)}
        onConfirm={async () => {
          const r = await rev.run(() => api.revokeGrant(seal.id, revoking!).then(() => true));
          if (r) {
            setRevoking(null);
            grants.reload();
            onChange();
          }
        }}
      />
    </Card>
  );
}

export function actorText(e: AuditEvent, names: Map<string, string>): string {
  const kind = tOpt(`actor.${e.actor.kind}`) ?? e.actor.kind;
  return e.actor.id ? `${kind} ${names.get(e.actor.id) ?? e.actor.id}` : kind;
}

function Trail({ id, names }: { id: string; names: Map<string, string> }) {
  const trail = useLoad(() => api.sealAudit(id), [id]);
  return (
    <Card title={t('trail.title')}>
      <ErrorAlert error={trail.error} />
      {!trail.data ? (
        <Loading />
      ) : (
        <>
          <p class={trail.data.chain_intact ? 'ok-text' : 'danger-text'}>{trail.data.chain_intact ? `✓ ${t('trail.intact')}` : `⚠ ${t('trail.broken')}`}</p>
          {trail.data.items.length === 0 ? (
            <Empty>{t('trail.none')}</Empty>
          ) : (
            <ol class="timeline">
              {trail.data.items.map((e) => (
                <li key={e.seq}>
                  <span class="tl-dot" aria-hidden="true" />
                  <div>
                    <strong>{tOpt(`action.${e.action}`) ?? e.action}</strong>
                    {e.action === 'seal.revoked' && typeof e.details?.reason === 'string' ? (
                      <div class="small">{t('seal.revokedReason', { reason: tOpt(`revocation.${e.details.reason}`) ?? e.details.reason })}</div>
                    ) : null}
                    <div class="muted small">
                      {fmtDateTime(e.at)} · {actorText(e, names)}
                    </div>
                  </div>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </Card>
  );
}
