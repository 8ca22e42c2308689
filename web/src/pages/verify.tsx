// The public verification page: drop any PDF (up to 4 MiB, what one request carries) and read the
// platform's report: who signed, when by the time stamp, intact and trusted, later revisions.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { t } from '../i18n';
import { Card, ErrorAlert, FileInput, Loading, PageHeader, useAction, useId } from '../components';
import { ReportView } from './contract-sign';
import type { VerificationReport } from '../types';

const MAX = 4 * 1024 * 1024;

export function VerifyPage() {
  const [name, setName] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [report, setReport] = useState<VerificationReport | null>(null);
  const [over, setOver] = useState(false);
  const check = useAction();
  const id = useId('verify');
  const take = async (f: File | null) => {
    setReport(null);
    setProblem(null);
    setName(f?.name ?? null);
    if (!f) return;
    if (f.size > MAX) return setProblem(t('verify.tooLarge'));
    const head = String.fromCharCode(...new Uint8Array(await f.slice(0, 5).arrayBuffer()));
    if (head !== '%PDF-') return setProblem(t('contractNew.notPdf'));
    const r = await check.run(() => api.verifyPdf(f));
    if (r) setReport(r);
  };
  return (
    <div class="verify-page">
      <PageHeader title={t('verify.title')} subtitle={t('verify.subtitle')} />
      <Card>
        <div
          class={`dropzone${over ? ' over' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => {
            e.preventDefault();
            setOver(false);
            void take(e.dataTransfer?.files?.[0] ?? null);
          }}
        >
          <p class="dropzone-text">{t('verify.drop')}</p>
          <label for={id} class="sr-only">
            {t('verify.file')}
          </label>
          <FileInput id={id} accept="application/pdf,.pdf" describedBy={`${id}-hint`} invalid={!!problem} fileName={name} onFile={take} />
          <p class="hint" id={`${id}-hint`}>
            {t('verify.hint')}
          </p>
          {problem ? (
            <p class="field-error" role="alert">
              {problem}
            </p>
          ) : null}
        </div>
      </Card>
      <ErrorAlert error={check.error} />
      {check.busy ? <Loading /> : null}
      {report ? (
        <Card title={t('verify.reportFor', { name: name ?? '' })}>
          <ReportView report={report} />
        </Card>
      ) : null}
    </div>
  );
}
