import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { t, fmtDateTime, tOpt } from '../i18n';
import { Badge, Button, Card, Confirm, Empty, ErrorAlert, Field, Loading, OneTimeSecret, PageHeader, byField, useAction, useLoad, ListTable } from '../components';
import { useEnterprise, useMember } from '../app';
import { EVENT_TYPES, type EventType, type Webhook } from '../types';

export function DevelopersPage() {
  const me = useMember();
  return (
    <>
      <PageHeader title={t('dev.title')} subtitle={t('dev.subtitle')} />
      <ApiKey memberId={me.member_id} />
      {me.role === 'admin' ? <Webhooks /> : null}
    </>
  );
}

function ApiKey({ memberId }: { memberId: string }) {
  const [confirm, setConfirm] = useState(false);
  const [key, setKey] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();
  return (
    <Card title={t('dev.apiKey')} actions={<Button variant="secondary" onClick={() => setConfirm(true)}>{t('dev.rotate')}</Button>}>
      <p class="muted">{t('dev.apiKeyBody')}</p>
      <pre class="code" aria-label={t('dev.example')} tabIndex={0}>
        {'curl -H "Authorization: Bearer $ESIGN_KEY" ' + `${location.origin}/v1/seals`}
      </pre>
      {key ? <OneTimeSecret label={t('dev.newKey')} value={key} onDone={() => setKey(null)} /> : null}
      <Confirm
        open={confirm}
        title={t('dev.rotateTitle')}
        body={<p>{t('dev.rotateBody')}</p>}
        confirmLabel={t('dev.rotate')}
        danger
        busy={busy}
        error={error}
        onCancel={() => {
          setConfirm(false);
          setError(null);
        }}
        onConfirm={async () => {
          const r = await run(() => api.rotateKey(memberId));
          if (r) {
            setKey(r.api_key);
            setConfirm(false);
          }
        }}
      />
    </Card>
  );
}

function Webhooks() {
  const { enterprise } = useEnterprise();
  const hooks = useLoad(() => api.webhooks());
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const del = useAction();
  const rot = useAction();
  return (
    <>
      <CreateWebhook
        onCreated={(s) => {
          setSecret({ label: t('dev.newSecret'), value: s });
          hooks.reload();
        }}
      />
      {secret ? <OneTimeSecret label={secret.label} value={secret.value} onDone={() => setSecret(null)} /> : null}
      <Card title={t('dev.webhooks')}>
        <ErrorAlert error={hooks.error ?? rot.error} />
        {!hooks.data ? (
          <Loading />
        ) : hooks.data.items.length === 0 ? (
          <Empty>{t('dev.noWebhooks')}</Empty>
        ) : (
          <ul class="hook-list">
            {hooks.data.items.map((h) => (
              <li key={h.id} class="hook">
                <div class="hook-head">
                  <div>
                    <code class="break">{h.url}</code>
                    {h.description ? <div class="muted small">{h.description}</div> : null}
                    <div class="muted small">
                      {h.event_types.map((e) => tOpt(`event.${e}`) ?? e).join(' · ')}
                    </div>
                    {h.previous_secret_expires_at ? <div class="muted small">{t('dev.oldSecretUntil', { at: fmtDateTime(h.previous_secret_expires_at) })}</div> : null}
                  </div>
                  <div class="row">
                    <Button variant="ghost" class="btn-sm" aria-expanded={open === h.id} onClick={() => setOpen(open === h.id ? null : h.id)}>
                      {t('dev.deliveries')}
                    </Button>
                    <Button
                      variant="ghost"
                      class="btn-sm"
                      busy={rot.busy}
                      onClick={async () => {
                        const r = await rot.run(() => api.rotateWebhook(h.id));
                        if (r) {
                          setSecret({ label: t('dev.rotatedSecret'), value: r.secret });
                          hooks.reload();
                        }
                      }}
                    >
                      {t('dev.rotateSecret')}
                    </Button>
                    <Button variant="ghost" class="btn-sm danger-text" onClick={() => setDeleting(h)}>
                      {t('common.delete')}
                    </Button>
                  </div>
                </div>
                {open === h.id ? <Deliveries hook={h} /> : null}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Confirm
        open={!!deleting}
        title={t('dev.deleteTitle')}
        body={<p>{t('dev.deleteBody', { url: deleting?.url ?? '', name: enterprise?.name ?? '' })}</p>}
        confirmLabel={t('common.delete')}
        danger
        busy={del.busy}
        error={del.error}
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const r = await del.run(() => api.deleteWebhook(deleting!.id).then(() => true));
          if (r) {
            setDeleting(null);
            hooks.reload();
          }
        }}
      />
    </>
  );
}

function CreateWebhook({ onCreated }: { onCreated: (secret: string) => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<EventType[]>([...EVENT_TYPES]);
  const { busy, error, run } = useAction();
  const errs = error instanceof ApiError ? byField(error.fieldErrors) : {};
  const toggle = (e: EventType) => setEvents(events.includes(e) ? events.filter((x) => x !== e) : [...events, e]);
  return (
    <Card title={t('dev.addWebhook')}>
      <form
        noValidate
        onSubmit={async (ev) => {
          ev.preventDefault();
          const r = await run(() => api.createWebhook({ url: url.trim(), event_types: events, ...(description.trim() ? { description: description.trim() } : {}) }));
          if (r) {
            setUrl('');
            setDescription('');
            onCreated(r.secret);
          }
        }}
      >
        <div class="grid2">
          <Field name="webhook_url" type="url" label={t('dev.url')} value={url} onValue={setUrl} error={errs.url} required placeholder="https://" hint={t('dev.urlHint')} />
          <Field name="webhook_description" label={t('dev.description')} value={description} onValue={setDescription} error={errs.description} hint={t('common.optional')} />
        </div>
        <fieldset class="checks">
          <legend>{t('dev.events')}</legend>
          {EVENT_TYPES.map((e) => (
            <label class="check" key={e}>
              <input type="checkbox" checked={events.includes(e)} onChange={() => toggle(e)} />
              <span>
                {tOpt(`event.${e}`) ?? e} <code class="muted small">{e}</code>
              </span>
            </label>
          ))}
          {errs.event_types ? <p class="field-error">{errs.event_types}</p> : null}
        </fieldset>
        {Object.keys(errs).length ? null : <ErrorAlert error={error} />}
        <div class="form-actions">
          <Button type="submit" busy={busy} disabled={!events.length}>
            {t('dev.create')}
          </Button>
        </div>
      </form>
    </Card>
  );
}

function Deliveries({ hook }: { hook: Webhook }) {
  const list = useLoad(() => api.deliveries(hook.id), [hook.id]);
  const re = useAction();
  return (
    <div class="deliveries">
      <ListTable
        list={list}
        error={re.error}
        empty={t('dev.noDeliveries')}
        rowKey={(d) => d.id}
        columns={[
          {
            label: t('dev.event'),
            cell: (d) => (
              <>
                {tOpt(`event.${d.event_type}`) ?? d.event_type}
                <div class="muted small mono">{d.event_id}</div>
              </>
            ),
          },
          {
            label: t('common.status'),
            cell: (d) => (
              <>
                <Badge group="delivery" status={d.status} />
                <div class="muted small">{t('dev.attempts', { n: d.attempt_count })}</div>
              </>
            ),
          },
          {
            label: t('dev.lastAttempt'),
            cell: (d) => {
              const last = d.attempts[d.attempts.length - 1];
              return last ? (
                <>
                  {fmtDateTime(last.at)}
                  <div class="muted small">{last.status_code ? `HTTP ${last.status_code}` : (last.error ?? '—')}</div>
                </>
              ) : (
                '—'
              );
            },
          },
        ]}
        actions={(d) =>
          d.status !== 'pending' ? (
            <Button
              variant="ghost"
              class="btn-sm"
              busy={re.busy}
              onClick={async () => {
                const r = await re.run(() => api.redeliver(hook.id, d.id));
                if (r) list.reload();
              }}
            >
              {t('dev.redeliver')}
            </Button>
          ) : null
        }
      />
    </div>
  );
}
