// As-you-type checks: the half-filled form goes to the platform's /v1/checks/* routes, which run
// the very validators the real request runs, so the rules and their wording have one source.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Checks, FieldError } from './types';

/** Drops empty strings and empty objects, so a check sees only what has been typed. */
export function filled(value: unknown): unknown {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (Array.isArray(value) || value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const f = filled(v);
    if (f !== undefined) out[k] = f;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Checks `body` (debounced) and answers the latest errors; a failing check endpoint shows nothing. */
export function useLiveChecks(check: (body: unknown) => Promise<Checks>, body: unknown, delayMs = 300): FieldError[] {
  const [errors, setErrors] = useState<FieldError[]>([]);
  const seq = useRef(0);
  const key = JSON.stringify(filled(body) ?? {});
  useEffect(() => {
    if (key === '{}') {
      setErrors([]);
      return;
    }
    const mine = ++seq.current;
    const timer = setTimeout(() => {
      check(JSON.parse(key)).then(
        (r) => mine === seq.current && setErrors(r.errors ?? []),
        () => mine === seq.current && setErrors([]),
      );
    }, delayMs);
    return () => clearTimeout(timer);
  }, [key]);
  return errors;
}

/** Whether an error is worth showing before the field is left: not while it is simply unfinished. */
export function showsWhileTyping(e: FieldError): boolean {
  return e.code !== 'length' && e.code !== 'required';
}
