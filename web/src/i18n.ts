// One table of every visible string, in Simplified Chinese (the default), English and Spanish.
// The tables are typed against the Chinese one, so a key missing from (or unknown to) any
// language fails `tsc` (npm run build, npm run typecheck); tests/i18n.spec.ts checks it at run
// time too, and that no value is empty.
import { zhCN } from './locales/zh-CN';
import { en } from './locales/en';
import { es } from './locales/es';
import type { FieldError } from './types';
import type { ApiError } from './api';

export type Key = keyof typeof zhCN;
export type Table = Record<Key, string>;
export const LANGS = ['zh-CN', 'en', 'es'] as const;
export type Lang = (typeof LANGS)[number];
export const TABLES: Record<Lang, Table> = { 'zh-CN': zhCN, en, es };
export const LANG_NAMES: Record<Lang, string> = { 'zh-CN': '简体中文', en: 'English', es: 'Español' };

const STORAGE = 'esign.lang';
let current: Lang = initialLang();

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE);
    if (saved && (LANGS as readonly string[]).includes(saved)) return saved as Lang;
  } catch {
    /* storage may be unavailable */
  }
  return 'zh-CN';
}

export function getLang(): Lang {
  return current;
}

export function setLang(lang: Lang) {
  current = lang;
  document.documentElement.lang = lang;
  try {
    localStorage.setItem(STORAGE, lang);
  } catch {
    /* not kept then */
  }
}

/** The string for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: Key, params?: Record<string, string | number>): string {
  const s = TABLES[current][key] ?? zhCN[key];
  return params ? s.replace(/\{(\w+)\}/g, (m, p: string) => (p in params ? String(params[p]) : m)) : s;
}

/** A string whose key is computed (an API code, a status): undefined when the table has none. */
export function tOpt(key: string, params?: Record<string, string | number>): string | undefined {
  return key in zhCN ? t(key as Key, params) : undefined;
}

/** The words for one broken rule: by field and code, then by code, then the API's own message. */
export function fieldErrorText(e: FieldError): string {
  const field = e.field.replace(/\./g, '_');
  const last = e.field.slice(e.field.lastIndexOf('.') + 1);
  return tOpt(`err.${field}.${e.code}`) ?? tOpt(`err.${last}.${e.code}`) ?? tOpt(`err.${e.code}`) ?? e.message;
}

/** The words for a failed request: by problem type, then the API's detail or title. */
export function problemText(e: ApiError): string {
  if (e.status === 0) return tOpt(`problem.${e.kind}`) ?? t('problem.network');
  const errs = e.fieldErrors;
  if (errs.length) return errs.map(fieldErrorText).join('; ');
  return tOpt(`problem.${e.kind}`) ?? e.problem.detail ?? e.problem.title ?? t('problem.unknown');
}

/** Date and time in the viewer's language, with the time zone named. */
export function fmtDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  // The time zone goes after the time ("2026年12月2日 13:59 (GMT+8)"), where every language
  // reads it, rather than where each locale's pattern would put it.
  const when = new Intl.DateTimeFormat(current, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(d);
  const zone = new Intl.DateTimeFormat(current, { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value;
  return zone ? `${when} (${zone})` : when;
}

export function fmtNumber(n: number): string {
  return new Intl.NumberFormat(current).format(n);
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(current, { maximumFractionDigits: i ? 1 : 0 }).format(v)} ${units[i]}`;
}

/** The viewer's time zone, as Intl names it (shown beside dates and expiry inputs). */
export function timeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
