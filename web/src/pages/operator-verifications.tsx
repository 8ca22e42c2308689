import { useEffect, useState } from 'preact/hooks';
import { api, blobUrl } from '../api';
import { t, fmtDateTime } from '../i18n';
import { useLocation } from '../router';
import { Alert, Badge, Button, Card, Empty, ErrorAlert, Link, Loading, PageHeader, useLoad, ListTable } from '../components';
import { ReviewDecision, type Decision } from './review-decision';
import type { VerificationDetail, VerificationStatus } from '../types';

const TABS: VerificationStatus[] = ['pending_review', 'approved', 'rejected'];

export function OperatorVerificationsPage() {
  const { query } = useLocation();
  const status = (TABS as string[]).includes(query.get('status') ?? '') ? (query.get('status') as VerificationStatus) : 'pending_review';
  const list = useLoad(() => api.verificationQueue(status), [status]);
  return (
    <>
      <PageHeader title={t('opv.title')} subtitle={t('opv.subtitle')} />
      <nav class="tabs" aria-label={t('opv.filter')}>
        {TABS.map((s) => (
          <Link key={s} href={`/operator/verifications?status=${s}`} class={s === status ? 'tab active' : 'tab'} aria-current={s === status ? 'page' : undefined}>
            {t(`status.verification.${s}`)}
          </Link>
        ))}
      </nav>
      <Card>
        <ListTable
          list={list}
          empty={t('opv.none')}
          rowKey={(v) => v.id}
          columns={[
            {
              label: t('kyb.companyName'),
              cell: (v) => (
                <>
                  <strong>{v.company_name}</strong>
                  <div class="muted small">{v.administrator.is_legal_representative ? t('opv.adminIsLr') : t('opv.adminWithLetter')}</div>
                </>
              ),
            },
            { label: t('kyb.uscc'), cell: (v) => v.uscc, class: 'mono' },
            { label: t('kyb.submittedAt'), cell: (v) => fmtDateTime(v.submitted_at) },
            { label: t('common.status'), cell: (v) => <Badge group="verification" status={v.status} /> },
          ]}
          actions={(v) => (
            <Link href={`/operator/verifications/${v.id}`} class="btn btn-secondary btn-sm">
              {v.status === 'pending_review' ? t('opv.review') : t('opv.view')}
              <span class="sr-only"> {v.company_name}</span>
            </Link>
          )}
        />
      </Card>
    </>
  );
}

export function OperatorVerificationPage({ id }: { id: string }) {
  const v = useLoad(() => api.verification(id), [id]);
  const [decision, setDecision] = useState<Decision | null>(null);
  if (v.error) return <ErrorAlert error={v.error} />;
  const d = v.data;
  if (!d) return <Loading />;
  return (
    <>
      <PageHeader
        title={d.company_name}
        subtitle={t('opv.detailSubtitle', { at: fmtDateTime(d.submitted_at) })}
        back={{ href: '/operator/verifications', label: t('opv.title') }}
        actions={
          d.status === 'pending_review' ? (
            <>
              <Button variant="danger" onClick={() => setDecision('reject')}>
                {t('op.reject')}
              </Button>
              <Button onClick={() => setDecision('approve')}>{t('op.approve')}</Button>
            </>
          ) : (
            <Badge group="verification" status={d.status} />
          )
        }
      />
      {d.uscc_verified_by ? <Alert kind="warning">{t('opv.usccTaken', { id: d.uscc_verified_by })}</Alert> : null}
      {d.status !== 'pending_review' ? (
        <Alert kind={d.status === 'approved' ? 'success' : 'error'}>
          {t('opv.decided', { at: fmtDateTime(d.decided_at), by: d.decided_by ?? '—' })}
          {d.reason ? ` · ${t('kyb.reasonIs', { reason: d.reason })}` : ''}
        </Alert>
      ) : null}
      <div class="grid2 align-start">
        <Card title={t('kyb.company')}>
          <dl class="facts">
            <Fact k={t('kyb.companyName')} v={d.company_name} />
            <Fact k={t('kyb.uscc')} v={d.uscc} mono />
            <Fact k={t('kyb.orgCode')} v={d.organization_code} mono />
            <Fact k={t('opv.enterprise')} v={d.enterprise_id} mono />
          </dl>
        </Card>
        <Card title={t('opv.people')}>
          <dl class="facts">
            <Fact k={t('kyb.lrName')} v={d.legal_representative.name} />
            <Fact k={t('kyb.lrId')} v={d.legal_representative.id_number} mono />
            <Fact k={t('kyb.adName')} v={d.administrator.name} />
            <Fact k={t('kyb.adId')} v={d.administrator.id_number} mono />
            <Fact k={t('kyb.adMobile')} v={d.administrator.mobile} mono />
            <Fact k={t('kyb.isLr')} v={d.administrator.is_legal_representative ? t('common.yes') : t('common.no')} />
          </dl>
        </Card>
      </div>
      {!d.administrator.is_legal_representative ? <Letter detail={d} /> : null}
      <ReviewDecision
        decision={decision}
        onClose={() => setDecision(null)}
        title={(x) => (x === 'approve' ? t('opv.approveTitle', { name: d.company_name }) : t('opv.rejectTitle', { name: d.company_name }))}
        body={(x) => (x === 'approve' ? t('opv.approveBody') : t('opv.rejectBody'))}
        decide={(x, reason) => api.decideVerification(d.id, x, reason)}
        queue="/operator/verifications"
      />
    </>
  );
}

export function Fact({ k, v, mono }: { k: string; v: string; mono?: boolean }) {
  return (
    <div>
      <dt>{k}</dt>
      <dd class={mono ? 'mono break' : ''}>{v}</dd>
    </div>
  );
}

function Letter({ detail }: { detail: VerificationDetail }) {
  const [img, setImg] = useState<string | null>(null);
  const [kind, setKind] = useState<'image' | 'pdf' | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!detail.authorization_letter_url) return;
    let url: string | null = null;
    blobUrl(detail.authorization_letter_url).then(
      (r) => {
        url = r.url;
        if (r.blob.type.startsWith('image/')) {
          setImg(r.url);
          setKind('image');
        } else setKind('pdf');
      },
      (e) => setError(e),
    );
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [detail.authorization_letter_url]);
  return (
    <Card title={t('opv.letter')}>
      {!detail.authorization_letter_url ? <Empty>{t('opv.noLetter')}</Empty> : null}
      <ErrorAlert error={error} />
      {kind === 'image' && img ? <img class="letter-image" src={img} alt={t('opv.letter')} /> : null}
      {detail.authorization_letter_url ? (
        <p>
          <a href={detail.authorization_letter_url} target="_blank" rel="noopener noreferrer">
            {t('opv.openLetter')}
          </a>
        </p>
      ) : null}
    </Card>
  );
}
