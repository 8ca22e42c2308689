import type { ComponentChildren, ButtonHTMLAttributes } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { linkClick } from './router';
import { t, tOpt, problemText, fieldErrorText } from './i18n';
import { ApiError } from './api';
import type { FieldError } from './types';

export function Link(props: { href: string; class?: string; children: ComponentChildren; 'aria-current'?: 'page' | undefined }) {
  return (
    <a href={props.href} class={props.class} onClick={linkClick} aria-current={props['aria-current']}>
      {props.children}
    </a>
  );
}

let idSeq = 0;
export function useId(prefix: string) {
  const ref = useRef<string | undefined>(undefined);
  if (!ref.current) ref.current = `${prefix}-${++idSeq}`;
  return ref.current;
}

type InputProps = {
  label: string;
  onBlur?: () => void;
  maxLength?: number;
  class?: string;
  spellcheck?: boolean;
  placeholder?: string;
  disabled?: boolean;
  value: string;
  onValue: (v: string) => void;
  error?: string | null;
  hint?: string;
  name: string;
  type?: 'text' | 'email' | 'tel' | 'url' | 'datetime-local';
  autocomplete?: string;
  required?: boolean;
  inputMode?: 'text' | 'numeric' | 'tel' | 'email' | 'url';
};

export function Field({ label, value, onValue, error, hint, name, ...rest }: InputProps) {
  const id = useId(name);
  const describedBy = [error ? `${id}-err` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>
        {label}
        {rest.required ? <span class="req" aria-hidden="true"> *</span> : null}
      </label>
      <input
        id={id}
        name={name}
        value={value}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        type={(rest.type ?? 'text') as 'text'}
        autocomplete={rest.autocomplete}
        required={rest.required}
        inputMode={rest.inputMode}
        onBlur={rest.onBlur}
        maxLength={rest.maxLength}
        class={rest.class}
        spellcheck={rest.spellcheck}
        placeholder={rest.placeholder}
        disabled={rest.disabled}
      />
      {hint ? <p class="hint" id={`${id}-hint`}>{hint}</p> : null}
      {error ? (
        <p class="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function Select<V extends string>(props: {
  label: string;
  name: string;
  value: V;
  options: { value: V; label: string }[];
  onValue: (v: V) => void;
  hint?: string;
}) {
  const id = useId(props.name);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value} onChange={(e) => props.onValue((e.currentTarget as HTMLSelectElement).value as V)}>
        {props.options.map((o) => (
          <option value={o.value} key={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {props.hint ? <p class="hint">{props.hint}</p> : null}
    </div>
  );
}

export function Button(
  props: Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'type'> & {
    variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
    busy?: boolean;
    type?: 'button' | 'submit';
    disabled?: boolean;
  },
) {
  const { variant = 'primary', busy, class: cls, children, disabled, type = 'button', ...rest } = props;
  return (
    <button type={type} class={`btn btn-${variant} ${cls ?? ''}`} disabled={disabled || busy} aria-busy={busy ? true : undefined} {...rest}>
      {busy ? <span class="spinner" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

export function Alert(props: { kind?: 'error' | 'info' | 'success' | 'warning'; title?: string; children?: ComponentChildren }) {
  const kind = props.kind ?? 'info';
  return (
    <div class={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {props.title ? <strong class="alert-title">{props.title}</strong> : null}
      {props.children ? <div>{props.children}</div> : null}
    </div>
  );
}

/** A failed request, in words (field errors listed). */
export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    // The same words for several fields (e.g. two parties without a signature place) are said once.
    const errs = [...new Set(error.fieldErrors.map(fieldErrorText))];
    if (errs.length > 1) {
      return (
        <Alert kind="error" title={t('problem.validation-failed')}>
          <ul>
            {errs.map((e, i) => (
              <li key={i}>{e}</li>
            ))}
          </ul>
        </Alert>
      );
    }
    return <Alert kind="error">{errs.length === 1 ? errs[0] : problemText(error)}</Alert>;
  }
  return <Alert kind="error">{t('problem.unknown')}</Alert>;
}

export function Badge(props: { status: string; group: string }) {
  const label = tOpt(`status.${props.group}.${props.status}`) ?? props.status;
  return <span class={`badge badge-${props.status}`}>{label}</span>;
}

export function Card(props: { title?: string; actions?: ComponentChildren; children: ComponentChildren; class?: string; id?: string }) {
  const id = useId('card');
  return (
    <section class={`card ${props.class ?? ''}`} aria-labelledby={props.title ? id : undefined} id={props.id}>
      {props.title || props.actions ? (
        <header class="card-head">
          {props.title ? <h2 id={id}>{props.title}</h2> : <span />}
          {props.actions ? <div class="card-actions">{props.actions}</div> : null}
        </header>
      ) : null}
      <div class="card-body">{props.children}</div>
    </section>
  );
}

export function PageHeader(props: { title: string; subtitle?: string; actions?: ComponentChildren; back?: { href: string; label: string } }) {
  return (
    <div class="page-head">
      <div>
        {props.back ? (
          <Link href={props.back.href} class="back">
            ← {props.back.label}
          </Link>
        ) : null}
        <h1>{props.title}</h1>
        {props.subtitle ? <p class="subtitle">{props.subtitle}</p> : null}
      </div>
      {props.actions ? <div class="page-actions">{props.actions}</div> : null}
    </div>
  );
}

export function Loading() {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {t('common.loading')}
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

/** One column of a [`ListTable`]: its heading, what each row shows under it, and the cell's class. */
export interface Column<T> {
  label: string;
  cell: (row: T) => ComponentChildren;
  class?: string;
}

/**
 * A loaded list as a table (on a phone each row is a card whose cells are labelled by their
 * column, `data-label`): the load's error, a spinner until it answers, `empty` when it has no
 * items, else one row per item, with `actions` in a last column whose heading only screen readers say.
 */
export function ListTable<T>(props: {
  list: { data?: { items: T[] }; error: unknown };
  empty: ComponentChildren;
  rowKey: (row: T) => string;
  columns: Column<T>[];
  actions?: (row: T) => ComponentChildren;
  /** Another error to show in the same place (e.g. of an action on a row). */
  error?: unknown;
}) {
  const { list, columns, actions } = props;
  return (
    <>
      <ErrorAlert error={list.error ?? props.error} />
      {!list.data ? (
        <Loading />
      ) : list.data.items.length === 0 ? (
        <Empty>{props.empty}</Empty>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th scope="col" key={c.label}>
                    {c.label}
                  </th>
                ))}
                {actions ? (
                  <th scope="col">
                    <span class="sr-only">{t('common.actions')}</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((row) => (
                <tr key={props.rowKey(row)}>
                  {columns.map((c) => (
                    <td key={c.label} data-label={c.label} class={c.class}>
                      {c.cell(row)}
                    </td>
                  ))}
                  {actions ? <td class="actions">{actions(row)}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** A modal confirmation (native <dialog>, so focus and Escape work), with an optional reason. */
export function Confirm(props: {
  open: boolean;
  title: string;
  body: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  reason?: { label: string; value: string; onValue: (v: string) => void; error?: string | null };
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId('dlg');
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} onCancel={(e) => { e.preventDefault(); props.onCancel(); }}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          props.onConfirm();
        }}
      >
        <h2 id={titleId}>{props.title}</h2>
        <div class="dialog-body">{props.body}</div>
        {props.reason ? (
          <TextArea label={props.reason.label} name="reason" value={props.reason.value} onValue={props.reason.onValue} error={props.reason.error} required />
        ) : null}
        <ErrorAlert error={props.error} />
        <div class="dialog-actions">
          <Button variant="secondary" onClick={props.onCancel}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" variant={props.danger ? 'danger' : 'primary'} busy={props.busy}>
            {props.confirmLabel}
          </Button>
        </div>
      </form>
    </dialog>
  );
}

export function TextArea(props: { label: string; name: string; value: string; onValue: (v: string) => void; error?: string | null; required?: boolean }) {
  const id = useId(props.name);
  return (
    <div class={`field${props.error ? ' has-error' : ''}`}>
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        name={props.name}
        rows={3}
        value={props.value}
        required={props.required}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-err` : undefined}
        onInput={(e) => props.onValue((e.currentTarget as HTMLTextAreaElement).value)}
      />
      {props.error ? (
        <p class="field-error" id={`${id}-err`} role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** A secret shown once (a new API key or webhook secret): displayed with a copy button, never stored. */
export function OneTimeSecret(props: { label: string; value: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const id = useId('secret');
  return (
    <div class="secret" role="status">
      <p class="secret-label" id={id}>
        {props.label}
      </p>
      <code class="secret-value" aria-labelledby={id}>
        {props.value}
      </code>
      <p class="hint">{t('secret.once')}</p>
      <div class="row">
        <Button
          variant="secondary"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(props.value);
              setCopied(true);
            } catch {
              setCopied(false);
            }
          }}
        >
          {copied ? t('secret.copied') : t('secret.copy')}
        </Button>
        <Button variant="ghost" onClick={props.onDone}>
          {t('secret.done')}
        </Button>
      </div>
    </div>
  );
}

/** Field errors keyed by field path, for inline display. */
export function byField(errors: FieldError[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) if (!(e.field in out)) out[e.field] = fieldErrorText(e);
  return out;
}

/** Runs an async action with busy/error state. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/** Loads data on mount and when deps change; `reload` fetches again. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    fn().then(
      (d) => live && setData(d),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { data, error, reload: () => setN((x) => x + 1), setData };
}

/** A file picker whose button speaks the page's language (the native one speaks the browser's). */
export function FileInput(props: {
  id: string;
  accept: string;
  describedBy?: string;
  invalid?: boolean;
  fileName?: string | null;
  onFile: (f: File | null) => void;
}) {
  return (
    <div class="file">
      <input
        id={props.id}
        class="file-native"
        type="file"
        accept={props.accept}
        aria-invalid={props.invalid ? true : undefined}
        aria-describedby={props.describedBy}
        onChange={(e) => props.onFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
      />
      <label for={props.id} class="btn btn-secondary" aria-hidden="true">
        {t('common.chooseFile')}
      </label>
      <span class="file-name" aria-hidden="true">
        {props.fileName ?? t('common.noFile')}
      </span>
    </div>
  );
}
