import { api } from '../api';
import { t, fmtDateTime, fmtNumber } from '../i18n';
import { Badge, Card, Empty, Link, PageHeader, useLoad } from '../components';
import { useEnterprise, useMember } from '../app';
import { currentMonth } from './usage';

export function OverviewPage() {
  const { enterprise } = useEnterprise();
  const member = useMember();
  const e = enterprise!;
  const verified = e.status === 'verified';
  const seals = useLoad(() => (verified ? api.seals() : Promise.resolve(null)), [verified]);
  const members = useLoad(() => (verified && member.role === 'admin' ? api.members() : Promise.resolve(null)), [verified]);
  const usage = useLoad(() => api.usage(currentMonth()).catch(() => null));
  const signing = useLoad(() => (verified ? api.contracts('signing').catch(() => null) : Promise.resolve(null)), [verified]);
  // Contracts open for signing where it is this company's turn (in order, or any time in parallel).
  const toSign = (signing.data?.items ?? [])
    .filter((c) => c.parties.some((p) => p.enterprise_id === member.enterprise_id && p.status === 'pending'))
    .filter((c) => c.order === 'parallel' || c.next_signer?.enterprise_id === member.enterprise_id)
    .slice(0, 5);
  const activeSeals = seals.data?.items.filter((s) => s.status === 'active').length ?? 0;
  const steps = [
    { done: verified, label: t('overview.stepVerify'), href: '/app/verification', pending: e.status === 'pending_review' },
    { done: activeSeals > 0, label: t('overview.stepSeal'), href: '/app/seals', pending: !!seals.data?.items.some((s) => s.status === 'pending_review') },
    { done: (members.data?.items.length ?? 0) > 1, label: t('overview.stepMembers'), href: '/app/members', pending: false },
  ];
  return (
    <>
      <PageHeader title={t('overview.hello', { name: member.name })} subtitle={e.name} />
      <div class="stats">
        <div class="stat">
          <span class="stat-label">{t('overview.status')}</span>
          <span class="stat-value">
            <Badge group="enterprise" status={e.status} />
          </span>
        </div>
        <div class="stat">
          <span class="stat-label">{t('overview.activeSeals')}</span>
          <span class="stat-value">{fmtNumber(activeSeals)}</span>
        </div>
        <div class="stat">
          <span class="stat-label">{t('overview.signaturesThisMonth')}</span>
          <span class="stat-value">{usage.data ? fmtNumber(usage.data.signatures) : '—'}</span>
        </div>
      </div>
      {verified ? (
        <Card title={t('overview.contracts')} actions={<Link href="/app/contracts">{t('overview.allContracts')}</Link>}>
          {!signing.data ? null : toSign.length === 0 ? (
            <Empty>{t('overview.noneToSign')}</Empty>
          ) : (
            <ul class="contract-list">
              {toSign.map((c) => (
                <li key={c.id}>
                  <Link href={`/app/contracts/${c.id}`} class="contract-row">
                    <span class="contract-row-title">{c.title}</span>
                    <span class="contract-row-foot">
                      <Badge group="contract" status={c.status} />
                      <span class="muted small">{t('contracts.createdAt', { at: fmtDateTime(c.created_at) })}</span>
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </Card>
      ) : null}
      {member.role === 'admin' ? (
        <Card title={t('overview.gettingStarted')}>
          <ol class="steps">
            {steps.map((s, i) => (
              <li key={i} class={s.done ? 'done' : s.pending ? 'pending' : ''}>
                <span class="step-num" aria-hidden="true">
                  {s.done ? '✓' : i + 1}
                </span>
                <Link href={s.href}>{s.label}</Link>
                <span class="step-state">{s.done ? t('overview.done') : s.pending ? t('overview.inReview') : t('overview.todo')}</span>
              </li>
            ))}
          </ol>
        </Card>
      ) : null}
      <Card title={t('overview.account')}>
        <dl class="facts">
          <div>
            <dt>{t('overview.enterpriseId')}</dt>
            <dd class="mono">{e.id}</dd>
          </div>
          <div>
            <dt>{t('overview.contactEmail')}</dt>
            <dd>{e.contact_email}</dd>
          </div>
          <div>
            <dt>{t('overview.registeredAt')}</dt>
            <dd>{fmtDateTime(e.created_at)}</dd>
          </div>
        </dl>
      </Card>
    </>
  );
}
