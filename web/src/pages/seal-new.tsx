import { useState } from 'preact/hooks';
import { api, ApiError, uploadTo } from '../api';
import { t } from '../i18n';
import { navigate } from '../router';
import { Alert, Button, Card, ErrorAlert, Field, PageHeader, Select, byField, useAction } from '../components';
import { useEnterprise } from '../app';
import { SealImagePicker, type Picked } from './seal-image';
import type { KeyAlgorithm, SealKind } from '../types';

export const KINDS: SealKind[] = ['official', 'contract', 'finance', 'invoice', 'personnel'];

export function NewSealPage() {
  const { enterprise } = useEnterprise();
  const [kind, setKind] = useState<SealKind>('contract');
  const [name, setName] = useState(t('kind.contract'));
  const [nameEdited, setNameEdited] = useState(false);
  const [alg, setAlg] = useState<KeyAlgorithm>('ecdsa_p256');
  const [method, setMethod] = useState<'upload' | 'generate'>('upload');
  const [picked, setPicked] = useState<Picked | null>(null);
  const [afterCreate, setAfterCreate] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const errs = error instanceof ApiError ? byField(error.fieldErrors) : {};
  const imageBad = method === 'upload' && (!picked || (picked.check?.errors.length ?? 0) > 0);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (imageBad) return;
    let sealId: string | null = afterCreate;
    const done = await run(async () => {
      if (method === 'upload') {
        const file = picked!.file;
        const draft = sealId
          ? await api.newSealImage(sealId, { image_size: file.size })
          : await api.createSeal({ name: name.trim(), kind, key_algorithm: alg, image_size: file.size });
        sealId = draft.seal.id;
        setAfterCreate(sealId);
        await uploadTo(draft.upload!, file);
      } else {
        const draft = sealId ? await api.newSealImage(sealId, { generate: true }) : await api.createSeal({ name: name.trim(), kind, key_algorithm: alg, generate: true });
        sealId = draft.seal.id;
        setAfterCreate(sealId);
      }
      await api.submitSeal(sealId);
      return true;
    });
    if (done && sealId) navigate(`/app/seals/${sealId}?submitted=1`);
  };

  return (
    <>
      <PageHeader title={t('sealNew.title')} subtitle={t('sealNew.subtitle')} back={{ href: '/app/seals', label: t('seals.title') }} />
      <form onSubmit={submit} noValidate class="stack">
        <Card title={t('sealNew.about')}>
          <div class="grid3">
            <Select
              name="kind"
              label={t('sealNew.kind')}
              value={kind}
              onValue={(k) => {
                setKind(k);
                if (!nameEdited) setName(t(`kind.${k}`));
              }}
              options={KINDS.map((k) => ({ value: k, label: t(`kind.${k}`) }))}
            />
            <Field
              name="seal_name"
              label={t('sealNew.name')}
              value={name}
              onValue={(v) => {
                setName(v);
                setNameEdited(true);
              }}
              error={errs.name}
              required
              maxLength={50}
              hint={t('sealNew.nameHint')}
              disabled={!!afterCreate}
            />
            <Select
              name="key_algorithm"
              label={t('sealNew.alg')}
              value={alg}
              onValue={setAlg}
              options={[
                { value: 'ecdsa_p256', label: t('alg.ecdsa_p256') },
                { value: 'rsa_2048', label: t('alg.rsa_2048') },
              ]}
              hint={t('sealNew.algHint')}
            />
          </div>
        </Card>
        <Card title={t('sealNew.image')}>
          <fieldset class="radios">
            <legend>{t('sealNew.method')}</legend>
            <label class="radio">
              <input type="radio" name="method" checked={method === 'upload'} onChange={() => setMethod('upload')} />
              {t('sealNew.upload')}
            </label>
            <label class="radio">
              <input type="radio" name="method" checked={method === 'generate'} onChange={() => setMethod('generate')} />
              {t('sealNew.generate')}
            </label>
          </fieldset>
          {method === 'upload' ? (
            <SealImagePicker onPicked={setPicked} />
          ) : (
            <Alert kind="info">{t('sealNew.generateBody', { name: enterprise?.name ?? '' })}</Alert>
          )}
        </Card>
        {afterCreate ? <Alert kind="warning">{t('sealNew.createdNotSubmitted')}</Alert> : null}
        {Object.keys(errs).length && !errs.image ? null : <ErrorAlert error={error} />}
        <div class="form-actions">
          <Button variant="secondary" onClick={() => navigate('/app/seals')}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" busy={busy} disabled={imageBad}>
            {t('sealNew.submit')}
          </Button>
        </div>
      </form>
    </>
  );
}
