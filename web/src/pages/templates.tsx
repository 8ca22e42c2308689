// Contract templates: the enterprise's templates (a contract's document, its layout and its
// placements by party role), a new contract started from one, deleting one; and the card on a
// contract's page that saves it as a template.
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { t, fmtDateTime } from '../i18n';
import { Alert, Button, Card, Confirm, Empty, ErrorAlert, Field, Link, Loading, PageHeader, byField, useAction, useLoad } from '../components';
import { useEnterprise, useMember } from '../app';
import type { Contract, ContractTemplate } from '../types';

/** The default role names, in party order: 甲方, 乙方, 丙方, … (the API's own default). */
const ROLE_NAMES = ['甲方', '乙方', '丙方', '丁方', '戊方', '己方', '庚方', '辛方', '壬方', '癸方'];
export const defaultRole = (i: number) => ROLE_NAMES[i] ?? `第${i + 1}方`;

export function TemplatesPage() {
  const member = useMember();
  const { enterprise } = useEnterprise();
  const verified = enterprise?.status === 'verified';
  const list = useLoad(() => api.templates(), []);
  const [deleting, setDeleting] = useState<ContractTemplate | null>(null);
  const del = useAction();
  const doDelete = async () => {
    if (!deleting) return;
    const ok = await del.run(async () => {
      await api.deleteTemplate(deleting.id);
      return true;
    });
    if (ok) {
      setDeleting(null);
      list.reload();
    }
  };
  return (
    <>
      <PageHeader title={t('templates.title')} subtitle={t('templates.subtitle')} />
      {!verified ? <Alert kind="warning" title={t('contracts.notVerified')} /> : null}
      <ErrorAlert error={list.error} />
      <Card title={t('templates.list')}>
        {!list.data ? (
          list.error ? null : <Loading />
        ) : list.data.items.length === 0 ? (
          <Empty>{t('templates.none')}</Empty>
        ) : (
          <ul class="template-list">
            {list.data.items.map((tp) => (
              <li key={tp.id} class="template-row">
                <div>
                  <span class="contract-row-title">{tp.name}</span>
                  <span class="muted small">
                    {t('templates.facts', { roles: tp.roles.join(' · '), pages: String(tp.document.pages.length), n: String(tp.placements.length) })}
                  </span>
                  <span class="muted small">{fmtDateTime(tp.created_at)}</span>
                </div>
                <div class="template-actions">
                  {verified ? (
                    <Link href={`/app/contracts/new?template=${encodeURIComponent(tp.id)}`} class="btn btn-primary">
                      {t('templates.start', { name: tp.name })}
                    </Link>
                  ) : null}
                  {tp.created_by === member.member_id || member.role === 'admin' ? (
                    <Button variant="ghost" onClick={() => setDeleting(tp)} aria-label={t('templates.deleteNamed', { name: tp.name })}>
                      {t('common.delete')}
                    </Button>
                  ) : null}
                </div>
              </li>
            ))}
          </ul>
        )}
        <p class="hint">{t('templates.howToSave')}</p>
      </Card>
      <Confirm
        open={!!deleting}
        title={t('templates.deleteTitle')}
        body={<p>{t('templates.deleteBody', { name: deleting?.name ?? '' })}</p>}
        confirmLabel={t('common.delete')}
        danger
        busy={del.busy}
        error={del.error}
        onConfirm={doDelete}
        onCancel={() => setDeleting(null)}
      />
    </>
  );
}

/** On a contract's page (its initiator): saves the document, its layout and placements as a template. */
export function SaveTemplateCard({ contract }: { contract: Contract }) {
  const [name, setName] = useState(`${contract.title}`.slice(0, 200));
  const [roles, setRoles] = useState(() => contract.parties.map((_, i) => defaultRole(i)));
  const save = useAction();
  const [saved, setSaved] = useState<ContractTemplate | null>(null);
  const errs = save.error instanceof ApiError ? byField(save.error.fieldErrors) : {};
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await save.run(() => api.createTemplate({ name: name.trim(), contract_id: contract.id, roles: roles.map((x) => x.trim()) }));
    if (r) setSaved(r);
  };
  return (
    <Card title={t('templates.save')}>
      <p class="muted small">{t('templates.saveHint')}</p>
      {saved ? (
        <Alert kind="success" title={t('templates.saved', { name: saved.name })}>
          <Link href="/app/templates">{t('templates.title')}</Link>
        </Alert>
      ) : (
        <form class="stack" onSubmit={submit} noValidate>
          <Field name="template_name" label={t('templates.name')} value={name} onValue={setName} error={errs.name} required maxLength={200} />
          <div class="role-fields">
            {contract.parties.map((p, i) => (
              <Field
                key={p.enterprise_id}
                name={`role_${i}`}
                label={t('templates.role', { n: String(i + 1), party: p.enterprise_name })}
                value={roles[i]}
                onValue={(v) => setRoles(roles.map((x, j) => (j === i ? v : x)))}
                error={errs[`roles[${i}]`]}
                maxLength={50}
              />
            ))}
          </div>
          <ErrorAlert error={save.error} />
          <div class="form-actions start">
            <Button type="submit" variant="secondary" busy={save.busy}>
              {t('templates.saveButton')}
            </Button>
          </div>
        </form>
      )}
    </Card>
  );
}
