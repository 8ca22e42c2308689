import { useState } from 'preact/hooks';
import { api } from '../api';
import { t, fmtBytes, fmtNumber, getLang } from '../i18n';
import { Card, ErrorAlert, Loading, PageHeader, useId, useLoad } from '../components';

export function currentMonth(d = new Date()): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

function lastMonths(n: number): string[] {
  const out: string[] = [];
  const d = new Date();
  d.setDate(1);
  for (let i = 0; i < n; i++) {
    out.push(currentMonth(d));
    d.setMonth(d.getMonth() - 1);
  }
  return out;
}

function monthLabel(m: string): string {
  const [y, mo] = m.split('-').map(Number);
  return new Intl.DateTimeFormat(getLang(), { year: 'numeric', month: 'long' }).format(new Date(y, mo - 1, 1));
}

export function UsagePage() {
  const [month, setMonth] = useState(currentMonth());
  const usage = useLoad(() => api.usage(month), [month]);
  const id = useId('month');
  const u = usage.data;
  return (
    <>
      <PageHeader
        title={t('usage.title')}
        subtitle={t('usage.subtitle')}
        actions={
          <div class="field inline">
            <label for={id}>{t('usage.month')}</label>
            <select id={id} value={month} onChange={(e) => setMonth((e.currentTarget as HTMLSelectElement).value)}>
              {lastMonths(12).map((m) => (
                <option key={m} value={m}>
                  {monthLabel(m)}
                </option>
              ))}
            </select>
          </div>
        }
      />
      <ErrorAlert error={usage.error} />
      {!u ? (
        <Loading />
      ) : (
        <>
          <div class="stats">
            <div class="stat">
              <span class="stat-label">{t('usage.signatures')}</span>
              <span class="stat-value">{fmtNumber(u.signatures)}</span>
            </div>
            <div class="stat">
              <span class="stat-label">{t('usage.codes')}</span>
              <span class="stat-value">{fmtNumber(u.codes_sent)}</span>
            </div>
            <div class="stat">
              <span class="stat-label">{t('usage.storage')}</span>
              <span class="stat-value">{fmtBytes(u.bytes_stored)}</span>
            </div>
          </div>
          <Card>
            <p class="muted">{t('usage.note', { month: monthLabel(u.month) })}</p>
          </Card>
        </>
      )}
    </>
  );
}
