import { useState } from 'preact/hooks';
import { api } from '../api';
import { t, fmtDateTime } from '../i18n';
import { Alert, Button, Card, Confirm, ErrorAlert, Field, Link, OneTimeSecret, PageHeader, Select, byField, useAction, useLoad, ListTable } from '../components';
import { useEnterprise, useMember } from '../app';
import type { Grant, Member, MemberRole, Seal } from '../types';
import { ApiError } from '../api';

/** Every seal's grants, for "who can sign with what". */
async function loadGrants(): Promise<{ seals: Seal[]; grants: Grant[] }> {
  const seals = (await api.seals()).items.filter((s) => s.status !== 'revoked');
  const pages = await Promise.all(seals.map((s) => api.grants(s.id).catch(() => ({ items: [] as Grant[], next_cursor: null }))));
  return { seals, grants: pages.flatMap((p) => p.items) };
}

export function MembersPage() {
  const { enterprise } = useEnterprise();
  const me = useMember();
  const verified = enterprise?.status === 'verified';
  const members = useLoad(() => api.members());
  const access = useLoad(() => (verified ? loadGrants() : Promise.resolve({ seals: [], grants: [] })), [verified]);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [newKey, setNewKey] = useState<{ name: string; key: string } | null>(null);
  const remove = useAction();

  const sealName = (id: string) => access.data?.seals.find((s) => s.id === id)?.name ?? id;
  const canSign = (m: Member) => (access.data?.grants ?? []).filter((g) => g.member_id === m.id && (!g.expires_at || Date.parse(g.expires_at) > Date.now()));

  return (
    <>
      <PageHeader title={t('members.title')} subtitle={t('members.subtitle')} />
      {!verified ? (
        <Alert kind="warning" title={t('members.notVerified')}>
          <Link href="/app/verification">{t('members.toVerify')}</Link>
        </Alert>
      ) : (
        <AddMember
          onAdded={(name, key) => {
            setNewKey({ name, key });
            members.reload();
          }}
        />
      )}
      {newKey ? <OneTimeSecret label={t('members.newKey', { name: newKey.name })} value={newKey.key} onDone={() => setNewKey(null)} /> : null}
      <Card title={t('members.list')}>
        <ListTable
          list={members}
          empty={t('members.none')}
          rowKey={(m) => m.id}
          columns={[
            {
              label: t('members.name'),
              cell: (m) => (
                <>
                  <strong>{m.name}</strong>
                  <div class="muted small">{t('members.since', { at: fmtDateTime(m.created_at) })}</div>
                </>
              ),
            },
            {
              label: t('members.contact'),
              cell: (m) => (
                <>
                  <div>
                    {m.mobile} {m.mobile_confirmed ? <span class="tag tag-ok">{t('members.confirmed')}</span> : <span class="tag">{t('members.unconfirmed')}</span>}
                  </div>
                  <div class="muted small">
                    {m.email} {m.email_confirmed ? <span class="tag tag-ok">{t('members.confirmed')}</span> : null}
                  </div>
                </>
              ),
            },
            { label: t('members.role'), cell: (m) => (m.role === 'admin' ? t('role.admin') : t('role.member')) },
            {
              label: t('members.canSign'),
              cell: (m) => {
                const grants = canSign(m);
                return grants.length === 0 ? (
                  <span class="muted">{t('members.noSeal')}</span>
                ) : (
                  <ul class="plain">
                    {grants.map((g) => (
                      <li key={g.seal_id}>
                        <Link href={`/app/seals/${g.seal_id}`}>{sealName(g.seal_id)}</Link>
                        <span class="muted small"> {g.expires_at ? t('members.until', { at: fmtDateTime(g.expires_at) }) : t('members.noExpiry')}</span>
                      </li>
                    ))}
                  </ul>
                );
              },
            },
          ]}
          actions={(m) =>
            m.id !== me.member_id ? (
              <Button variant="ghost" class="btn-sm danger-text" onClick={() => setRemoving(m)} aria-label={t('members.removeWho', { name: m.name })}>
                {t('members.remove')}
              </Button>
            ) : (
              <span class="muted small">{t('members.you')}</span>
            )
          }
        />
      </Card>
      <Confirm
        open={!!removing}
        title={t('members.removeTitle', { name: removing?.name ?? '' })}
        body={<p>{t('members.removeBody')}</p>}
        confirmLabel={t('members.remove')}
        danger
        busy={remove.busy}
        error={remove.error}
        onCancel={() => {
          setRemoving(null);
          remove.setError(null);
        }}
        onConfirm={async () => {
          const r = await remove.run(() => api.removeMember(removing!.id).then(() => true));
          if (r) {
            setRemoving(null);
            members.reload();
            access.reload();
          }
        }}
      />
    </>
  );
}

function AddMember({ onAdded }: { onAdded: (name: string, key: string) => void }) {
  const [name, setName] = useState('');
  const [mobile, setMobile] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<MemberRole>('member');
  const { busy, error, run } = useAction();
  const errs = error instanceof ApiError ? byField(error.fieldErrors) : {};
  return (
    <Card title={t('members.add')}>
      <form
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          const r = await run(() => api.addMember({ name: name.trim(), mobile: mobile.trim(), email: email.trim(), role }));
          if (r) {
            onAdded(r.member.name, r.api_key);
            setName('');
            setMobile('');
            setEmail('');
            setRole('member');
          }
        }}
      >
        <div class="grid4">
          <Field name="member_name" label={t('members.name')} value={name} onValue={setName} error={errs.name} required autocomplete="off" />
          <Field name="member_mobile" type="tel" label={t('members.mobile')} value={mobile} onValue={setMobile} error={errs.mobile} required autocomplete="off" />
          <Field name="member_email" type="email" label={t('members.email')} value={email} onValue={setEmail} error={errs.email} required autocomplete="off" />
          <Select
            name="member_role"
            label={t('members.role')}
            value={role}
            onValue={setRole}
            options={[
              { value: 'member', label: t('role.member') },
              { value: 'admin', label: t('role.admin') },
            ]}
          />
        </div>
        {Object.keys(errs).length ? null : <ErrorAlert error={error} />}
        <div class="form-actions">
          <Button type="submit" busy={busy}>
            {t('members.addSubmit')}
          </Button>
        </div>
      </form>
    </Card>
  );
}
