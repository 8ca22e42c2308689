// Choosing a seal PNG: a live preview on a page-like background at its printed size, and every
// image rule it breaks in words, from the platform's own checks (/v1/checks/seal-image).
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { t, fieldErrorText, fmtBytes, fmtNumber, getLang } from '../i18n';
import { FileInput, useId } from '../components';
import { useEnterprise } from '../app';
import type { SealImageCheck } from '../types';

export const SEAL_MAX_BYTES = 2 * 1024 * 1024;
/** The printed diameter when the platform does not tell one: a round official seal is 40-42 mm. */
export const DEFAULT_SEAL_MM = 42;

export interface Picked {
  file: File;
  check: SealImageCheck | null;
}

export function SealImagePicker({ onPicked }: { onPicked: (p: Picked | null) => void }) {
  const id = useId('seal-file');
  const [file, setFile] = useState<File | null>(null);
  const [url, setUrl] = useState<string | null>(null);
  const [check, setCheck] = useState<SealImageCheck | null>(null);
  const [checking, setChecking] = useState(false);
  const [checkFailed, setCheckFailed] = useState(false);

  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);

  const pick = async (f: File | null) => {
    setFile(f);
    setCheck(null);
    setCheckFailed(false);
    setUrl(f ? URL.createObjectURL(f) : null);
    onPicked(f ? { file: f, check: null } : null);
    if (!f) return;
    if (f.size > SEAL_MAX_BYTES) {
      const c = { errors: [{ field: 'image', code: 'too_large', message: '' }] };
      setCheck(c);
      onPicked({ file: f, check: c });
      return;
    }
    setChecking(true);
    try {
      const c = await api.checkSealImage(f);
      setCheck(c);
      onPicked({ file: f, check: c });
    } catch {
      setCheckFailed(true);
    } finally {
      setChecking(false);
    }
  };

  const errors = check?.errors ?? [];
  return (
    <div class="seal-picker">
      <div class={`field${errors.length ? ' has-error' : ''}`}>
        <label for={id}>{t('sealNew.file')}</label>
        <FileInput id={id} accept="image/png" describedBy={`${id}-hint ${id}-result`} invalid={errors.length > 0} fileName={file?.name} onFile={pick} />
        <p class="hint" id={`${id}-hint`}>
          {t('sealNew.rules', { max: fmtBytes(SEAL_MAX_BYTES) })}
        </p>
      </div>
      <div class="seal-preview-wrap">
        <SealOnPaper url={url} mm={check?.diameter_mm} label={file ? t('sealNew.previewOf', { name: file.name }) : t('sealNew.previewEmpty')} />
        <div id={`${id}-result`} class="seal-result" aria-live="polite">
          {checking ? <p class="muted">{t('sealNew.checking')}</p> : null}
          {checkFailed ? <p class="muted">{t('sealNew.checkUnavailable')}</p> : null}
          {check && errors.length === 0 ? (
            <p class="ok-text">
              ✓ {t('sealNew.passes')}
              {check.width_px ? ` · ${fmtNumber(check.width_px)} × ${fmtNumber(check.height_px ?? 0)} px` : ''}
              {check.diameter_mm ? ` · ${t('sealNew.diameter', { mm: fmtNumber(check.diameter_mm) })}` : ''}
            </p>
          ) : null}
          {errors.length ? (
            <div class="rule-failures" role="alert">
              <p>
                <strong>{t('sealNew.fails')}</strong>
              </p>
              <ul>
                {errors.map((e, i) => (
                  <li key={i}>{fieldErrorText({ ...e, field: 'image' })}</li>
                ))}
              </ul>
            </div>
          ) : null}
        </div>
      </div>
    </div>
  );
}

/** A seal image on a sheet of paper with some lines of "text", at its printed size. */
export function SealOnPaper({ url, mm, label }: { url: string | null; mm?: number; label: string }) {
  const { enterprise } = useEnterprise();
  return (
    <figure class="paper" aria-label={label}>
      <div class="paper-lines" aria-hidden="true">
        <span />
        <span />
        <span class="short" />
        <span />
        <span class="short" />
      </div>
      <div class="paper-sign" aria-hidden="true">
        <p>
          {t('sealNew.paperParty')}
          {enterprise?.name ?? ''}
        </p>
        <p>
          {t('sealNew.paperDate')}
          {new Intl.DateTimeFormat(getLang(), { dateStyle: 'long' }).format(new Date())}
        </p>
      </div>
      {url ? <img class="paper-seal" src={url} alt={label} style={{ width: `${mm ?? DEFAULT_SEAL_MM}mm` }} /> : <div class="paper-seal placeholder" aria-hidden="true" />}
      <figcaption class="sr-only">{label}</figcaption>
    </figure>
  );
}
