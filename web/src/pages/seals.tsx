import { api } from '../api';
import { t, fmtDateTime } from '../i18n';
import { Alert, Badge, Button, Card, Empty, ErrorAlert, Link, Loading, PageHeader, useLoad } from '../components';
import { navigate } from '../router';
import { useEnterprise, useMember } from '../app';
import type { Seal } from '../types';

export function SealGlyph({ seal }: { seal: Pick<Seal, 'name' | 'status'> }) {
  return (
    <svg class={`seal-glyph seal-glyph-${seal.status}`} viewBox="0 0 100 100" aria-hidden="true">
      <circle cx="50" cy="50" r="44" fill="none" stroke="currentColor" stroke-width="5" />
      <path d="M50 30l5.3 12.3 13.3 1.1-10.1 8.7 3.1 13L50 58.2l-11.6 6.9 3.1-13-10.1-8.7 13.3-1.1z" fill="currentColor" />
      <text x="50" y="82" text-anchor="middle" font-size="11" fill="currentColor">
        {seal.name.slice(0, 6)}
      </text>
    </svg>
  );
}

export function SealsPage() {
  const { enterprise } = useEnterprise();
  const member = useMember();
  const verified = enterprise?.status === 'verified';
  const seals = useLoad(() => (verified ? api.seals() : Promise.resolve({ items: [], next_cursor: null })), [verified]);
  const admin = member.role === 'admin';
  return (
    <>
      <PageHeader
        title={t('seals.title')}
        subtitle={t('seals.subtitle')}
        actions={admin && verified ? <Button onClick={() => navigate('/app/seals/new')}>{t('seals.apply')}</Button> : null}
      />
      {!verified ? (
        <Alert kind="warning" title={t('seals.notVerified')}>
          {admin ? <Link href="/app/verification">{t('members.toVerify')}</Link> : null}
        </Alert>
      ) : null}
      <ErrorAlert error={seals.error} />
      {!seals.data ? (
        <Loading />
      ) : seals.data.items.length === 0 ? (
        verified ? (
          <Card>
            <Empty>{admin ? t('seals.noneAdmin') : t('seals.none')}</Empty>
          </Card>
        ) : null
      ) : (
        <ul class="seal-grid">
          {seals.data.items.map((s) => (
            <li key={s.id}>
              <Link href={`/app/seals/${s.id}`} class="seal-card">
                <SealGlyph seal={s} />
                <span class="seal-card-body">
                  <span class="seal-card-name">{s.name}</span>
                  <span class="muted small">
                    {t(`kind.${s.kind}`)} · {t(`alg.${s.key_algorithm}`)}
                  </span>
                  <span class="seal-card-foot">
                    <Badge group="seal" status={s.status} />
                    <span class="muted small">{fmtDateTime(s.updated_at)}</span>
                  </span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
