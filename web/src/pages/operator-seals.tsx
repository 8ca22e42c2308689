import { useEffect, useState } from 'preact/hooks';
import { api, blobUrl } from '../api';
import { t, fmtDateTime, fmtNumber, fieldErrorText } from '../i18n';
import { Alert, Badge, Button, Card, Empty, ErrorAlert, Link, Loading, PageHeader, useLoad, ListTable } from '../components';
import { Fact } from './operator-verifications';
import { DEFAULT_SEAL_MM } from './seal-image';
import { ReviewDecision, type Decision } from './review-decision';
import type { SealForReview, SealImageCheck } from '../types';

export function OperatorSealsPage() {
  const list = useLoad(() => api.sealQueue());
  return (
    <>
      <PageHeader title={t('ops.title')} subtitle={t('ops.subtitle')} />
      <Card>
        <ListTable
          list={list}
          empty={t('ops.none')}
          rowKey={(s) => s.id}
          columns={[
            { label: t('sealNew.name'), cell: (s) => <strong>{s.name}</strong> },
            { label: t('sealNew.kind'), cell: (s) => t(`kind.${s.kind}`) },
            { label: t('opv.enterprise'), cell: (s) => s.enterprise_id, class: 'mono' },
            { label: t('ops.submitted'), cell: (s) => fmtDateTime(s.updated_at) },
          ]}
          actions={(s) => (
            <Link href={`/operator/seals/${s.id}`} class="btn btn-secondary btn-sm">
              {t('opv.review')}
              <span class="sr-only"> {s.name}</span>
            </Link>
          )}
        />
      </Card>
    </>
  );
}

export function OperatorSealPage({ id }: { id: string }) {
  const queue = useLoad(() => api.sealQueue());
  const seal = queue.data?.items.find((s) => s.id === id);
  const ent = useLoad(() => (seal ? api.enterprise(seal.enterprise_id) : Promise.resolve(null)), [seal?.enterprise_id]);
  const [decision, setDecision] = useState<Decision | null>(null);
  if (queue.error) return <ErrorAlert error={queue.error} />;
  if (!queue.data) return <Loading />;
  if (!seal)
    return (
      <>
        <PageHeader title={t('ops.title')} back={{ href: '/operator/seals', label: t('ops.title') }} />
        <Alert kind="info">{t('ops.gone')}</Alert>
      </>
    );
  const company = ent.data?.name ?? seal.enterprise_id;
  return (
    <>
      <PageHeader
        title={seal.name}
        subtitle={`${company} · ${t(`kind.${seal.kind}`)}`}
        back={{ href: '/operator/seals', label: t('ops.title') }}
        actions={
          <>
            <Button variant="danger" onClick={() => setDecision('reject')}>
              {t('op.reject')}
            </Button>
            <Button onClick={() => setDecision('approve')}>{t('op.approve')}</Button>
          </>
        }
      />
      <div class="grid2 align-start">
        <TrueSize seal={seal} />
        <Card title={t('seal.details')}>
          <dl class="facts">
            <div>
              <dt>{t('common.status')}</dt>
              <dd>
                <Badge group="seal" status={seal.status} />
              </dd>
            </div>
            <Fact k={t('opv.enterprise')} v={company} />
            {ent.data?.status ? <Fact k={t('overview.status')} v={t(`status.enterprise.${ent.data.status}`)} /> : null}
            <Fact k={t('sealNew.kind')} v={t(`kind.${seal.kind}`)} />
            <Fact k={t('sealNew.alg')} v={t(`alg.${seal.key_algorithm}`)} />
            <Fact k={t('seal.id')} v={seal.id} mono />
            {seal.image_sha256 ? <Fact k="SHA-256" v={seal.image_sha256} mono /> : null}
            <Fact k={t('ops.submitted')} v={fmtDateTime(seal.updated_at)} />
          </dl>
        </Card>
      </div>
      <ReviewDecision
        decision={decision}
        onClose={() => setDecision(null)}
        title={(d) => (d === 'approve' ? t('ops.approveTitle', { name: seal.name }) : t('ops.rejectTitle', { name: seal.name }))}
        body={(d) => (d === 'approve' ? t('ops.approveBody') : t('ops.rejectBody'))}
        decide={(d, reason) => api.decideSeal(seal.id, d, reason)}
        queue="/operator/seals"
      />
    </>
  );
}

/** The submitted image, fetched from its short-lived link, shown at the size it will print. */
function TrueSize({ seal }: { seal: SealForReview }) {
  const [img, setImg] = useState<string | null>(null);
  const [check, setCheck] = useState<SealImageCheck | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!seal.image_url) return;
    let url: string | null = null;
    blobUrl(seal.image_url).then(
      (r) => {
        url = r.url;
        setImg(r.url);
        api.checkSealImage(r.blob).then(setCheck, () => setCheck(null));
      },
      setError,
    );
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [seal.image_url]);
  const mm = check?.diameter_mm ?? DEFAULT_SEAL_MM;
  return (
    <Card title={t('ops.trueSize')}>
      <ErrorAlert error={error} />
      {!seal.image_url ? <Empty>{t('ops.noImage')}</Empty> : null}
      {img ? (
        <div class="true-size">
          <div class="ruler" aria-hidden="true" />
          <img src={img} alt={t('ops.imageAlt', { name: seal.name })} style={{ width: `${mm}mm` }} />
        </div>
      ) : seal.image_url && !error ? (
        <Loading />
      ) : null}
      <p class="muted small">
        {t('ops.trueSizeNote', { mm: fmtNumber(mm) })}
        {check?.width_px ? ` · ${fmtNumber(check.width_px)} × ${fmtNumber(check.height_px ?? 0)} px` : ''}
      </p>
      {check && check.errors.length ? (
        <Alert kind="warning">
          <ul>
            {check.errors.map((e, i) => (
              <li key={i}>{fieldErrorText({ ...e, field: 'image' })}</li>
            ))}
          </ul>
        </Alert>
      ) : null}
    </Card>
  );
}
