// The placement editor: the contract's pages drawn by pdf.js, a palette per party (its colour) with
// the two widgets, which are dragged onto a page (mouse, pen or touch), moved, resized, nudged by the
// arrow keys, copied to the other pages and deleted; and per party a toggle for its cross-page seal
// (骑缝章), shown as one strip at the right edge of every page with a handle that sets its height.
// Positions are kept and saved in points from the top-left of the page as displayed (pdf.js
// viewports already apply /Rotate and the CropBox), which is how the API and the signing engine
// read them.
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { Button } from '../components';
import { renderPage, pageSize, type PDFDocumentProxy, type PDFPageProxy } from '../pdf';
import { isPagePlacement, type ContractParty, type ContractPlacement, type CrossPagePlacement, type PagePlacement, type PlacementKind } from '../types';

/** A seal's true size: 42 mm across. */
export const SEAL_PT = (42 / 25.4) * 72;
/** A cross-page seal's size unless given: 40 mm, the usual official seal (what the API assumes). */
export const CROSS_PT = (40 / 25.4) * 72;
const DATE_W = 120;
const DATE_H = 20;
const MIN = 8;
export const PARTY_COLOURS = ['#c8102e', '#1f5fd1', '#157347', '#7c3aed', '#a15c00', '#0e7490'];

export interface Widget extends PagePlacement {
  key: number;
}
let seq = 0;
/** The page widgets of a list of placements, each with a key of its own. */
export const withKeys = (ps: ContractPlacement[]): Widget[] => ps.filter(isPagePlacement).map((p) => ({ ...p, key: ++seq }));
export const withoutKeys = (ws: Widget[]): PagePlacement[] =>
  ws.map(({ key: _k, ...p }) => ({ ...p, x: r2(p.x), y: r2(p.y), width: r2(p.width), height: r2(p.height) }));
const r2 = (n: number) => Math.round(n * 100) / 100;

/** The cross-page seals of a list of placements. */
export const crossSeals = (ps: ContractPlacement[]): CrossPagePlacement[] =>
  ps.filter((p): p is CrossPagePlacement => p.kind === 'cross_page');
/** A cross-page seal as the API takes it: rounded, no empty range ends. */
export const crossForApi = (c: CrossPagePlacement): CrossPagePlacement => ({
  kind: 'cross_page',
  party: c.party,
  ...(c.first_page ? { first_page: c.first_page } : {}),
  ...(c.last_page ? { last_page: c.last_page } : {}),
  y: r2(c.y),
  size: r2(c.size ?? CROSS_PT),
});
/** The pages a cross-page seal spans in a document of `count` pages. */
export function crossRange(c: CrossPagePlacement, count: number): [number, number] {
  return [c.first_page || 1, c.last_page || count];
}

type Size = { width: number; height: number };

function clampInto(w: Widget, size: Size): Widget {
  const width = Math.min(Math.max(w.width, MIN), size.width);
  const height = Math.min(Math.max(w.height, MIN), size.height);
  return { ...w, width, height, x: Math.min(Math.max(w.x, 0), size.width - width), y: Math.min(Math.max(w.y, 0), size.height - height) };
}

export function partyColour(parties: ContractParty[], id: string) {
  const i = parties.findIndex((p) => p.enterprise_id === id);
  return PARTY_COLOURS[(i < 0 ? 0 : i) % PARTY_COLOURS.length];
}

function kindLabel(kind: PlacementKind) {
  return kind === 'signature' ? t('editor.signature') : t('editor.date');
}

export function PlacementEditor(props: {
  doc: PDFDocumentProxy;
  parties: ContractParty[];
  widgets: Widget[];
  onChange?: (ws: Widget[]) => void;
  /** The parties' cross-page seals, and (when editable) where changes to them go. */
  cross?: CrossPagePlacement[];
  onCrossChange?: (cs: CrossPagePlacement[]) => void;
  /** Read-only: shows the widgets, this party's highlighted. */
  highlight?: string;
  toolbar?: JSX.Element | null;
}) {
  const editable = !!props.onChange;
  const [pages, setPages] = useState<PDFPageProxy[]>([]);
  const [scale, setScale] = useState(0);
  const [selected, setSelected] = useState<number | null>(null);
  const [current, setCurrent] = useState(1);
  const [ghost, setGhost] = useState<{ kind: PlacementKind; party: string; x: number; y: number } | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const widgetsRef = useRef(props.widgets);
  widgetsRef.current = props.widgets;
  const justDragged = useRef(false);
  const cross = props.cross ?? [];
  const crossRef = useRef(cross);
  crossRef.current = cross;

  useEffect(() => {
    let live = true;
    (async () => {
      const ps: PDFPageProxy[] = [];
      for (let i = 1; i <= props.doc.numPages; i++) ps.push(await props.doc.getPage(i));
      if (live) setPages(ps);
    })();
    return () => {
      live = false;
    };
  }, [props.doc]);

  const sizes = pages.map(pageSize);
  const fit = () => {
    const w = scroller.current?.clientWidth ?? 600;
    const widest = Math.max(...sizes.map((s) => s.width), 1);
    return Math.max(0.3, Math.min(2, (w - 24) / widest));
  };
  useEffect(() => {
    if (pages.length && !scale) setScale(fit());
  }, [pages.length]);

  const change = (ws: Widget[]) => props.onChange?.(ws);
  const update = (key: number, f: (w: Widget) => Widget) =>
    change(widgetsRef.current.map((w) => (w.key === key ? clampInto(f(w), sizes[w.page - 1]) : w)));

  const newWidget = (kind: PlacementKind, party: string, page: number, cx?: number, cy?: number): Widget => {
    const size = sizes[page - 1];
    const width = kind === 'signature' ? SEAL_PT : DATE_W;
    const height = kind === 'signature' ? SEAL_PT : DATE_H;
    const x = (cx ?? size.width / 2) - width / 2;
    const y = (cy ?? size.height / 2) - height / 2;
    return clampInto({ key: ++seq, kind, party, page, x, y, width, height }, size);
  };
  const add = (w: Widget) => {
    change([...widgetsRef.current, w]);
    setSelected(w.key);
    requestAnimationFrame(() => document.getElementById(`widget-${w.key}`)?.focus());
  };

  /** Where a point of the screen falls: the page under it and the point there, in points. */
  const pointAt = (clientX: number, clientY: number) => {
    const els = scroller.current?.querySelectorAll<HTMLElement>('.pdf-page') ?? [];
    for (const el of Array.from(els)) {
      const r = el.getBoundingClientRect();
      if (clientX >= r.left && clientX <= r.right && clientY >= r.top && clientY <= r.bottom) {
        return { page: Number(el.dataset.page), x: (clientX - r.left) / scale, y: (clientY - r.top) / scale };
      }
    }
    return null;
  };

  // From the palette: a drag drops the widget where it is let go; a click or Enter adds it to the
  // middle of the page in view.
  const paletteDown = (kind: PlacementKind, party: string) => (e: PointerEvent) => {
    if (e.button !== 0) return;
    const x0 = e.clientX;
    const y0 = e.clientY;
    let moved = false;
    const move = (ev: PointerEvent) => {
      if (!moved && Math.hypot(ev.clientX - x0, ev.clientY - y0) < 5) return;
      moved = true;
      ev.preventDefault();
      setGhost({ kind, party, x: ev.clientX, y: ev.clientY });
    };
    const up = (ev: PointerEvent) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', up);
      setGhost(null);
      if (!moved || ev.type === 'pointercancel') return;
      justDragged.current = true;
      setTimeout(() => (justDragged.current = false), 0);
      const at = pointAt(ev.clientX, ev.clientY);
      if (at) {
        setCurrent(at.page);
        add(newWidget(kind, party, at.page, at.x, at.y));
      }
    };
    window.addEventListener('pointermove', move, { passive: false });
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);
  };
  const paletteClick = (kind: PlacementKind, party: string) => () => {
    if (justDragged.current) return;
    add(newWidget(kind, party, current));
  };

  // On a widget: drag to move, the corner to resize (a seal stays round), keys to nudge.
  const widgetDown = (w: Widget, mode: 'move' | 'resize') => (e: PointerEvent) => {
    if (!editable || e.button !== 0) return;
    e.stopPropagation();
    e.preventDefault();
    setSelected(w.key);
    (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
    const x0 = e.clientX;
    const y0 = e.clientY;
    const start = { ...w };
    const move = (ev: PointerEvent) => {
      const dx = (ev.clientX - x0) / scale;
      const dy = (ev.clientY - y0) / scale;
      update(w.key, (cur) => {
        if (mode === 'move') return { ...cur, x: start.x + dx, y: start.y + dy };
        if (cur.kind === 'signature') {
          const d = Math.max(dx, dy);
          return { ...cur, width: start.width + d, height: start.height + d };
        }
        return { ...cur, width: start.width + dx, height: start.height + dy };
      });
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', up);
      document.getElementById(`widget-${w.key}`)?.focus();
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);
  };
  const widgetKey = (w: Widget) => (e: KeyboardEvent) => {
    if (!editable || e.target !== e.currentTarget) return;
    const step = e.shiftKey ? 10 : 1;
    const d: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (d[e.key]) {
      e.preventDefault();
      update(w.key, (cur) => ({ ...cur, x: cur.x + d[e.key][0], y: cur.y + d[e.key][1] }));
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      remove(w);
    }
  };
  const remove = (w: Widget) => {
    change(widgetsRef.current.filter((x) => x.key !== w.key));
    setSelected(null);
  };
  const copyToOthers = (w: Widget) => {
    const others = sizes
      .map((_, i) => i + 1)
      .filter((p) => p !== w.page && !widgetsRef.current.some((x) => x.page === p && x.party === w.party && x.kind === w.kind))
      .map((page) => clampInto({ ...w, key: ++seq, page }, sizes[page - 1]));
    change([...widgetsRef.current, ...others]);
  };

  // The cross-page seal: on or off per party; its strips move up and down together, dragged by any
  // strip (mouse, pen, finger) or with the arrow keys on the first one.
  const crossOf = (party: string) => cross.find((c) => c.party === party);
  /** The highest `y` the seal may take: it stays on every page of its range. */
  const crossMax = (c: CrossPagePlacement) => {
    const [f, l] = crossRange(c, sizes.length);
    const heights = sizes.slice(f - 1, l).map((s) => s.height);
    return Math.max(0, Math.min(...heights, Infinity) - (c.size ?? CROSS_PT));
  };
  const setCrossY = (party: string, y: (c: CrossPagePlacement) => number) =>
    props.onCrossChange?.(crossRef.current.map((c) => (c.party === party ? { ...c, y: Math.min(Math.max(y(c), 0), crossMax(c)) } : c)));
  const toggleCross = (party: string, on: boolean) => {
    const rest = crossRef.current.filter((c) => c.party !== party);
    if (!on) return props.onCrossChange?.(rest);
    const i = Math.max(0, props.parties.findIndex((p) => p.enterprise_id === party));
    const c: CrossPagePlacement = { kind: 'cross_page', party, y: 0, size: r2(CROSS_PT) };
    // One party's seal under the other's, from a fifth of the page down.
    c.y = Math.min(crossMax(c), Math.min(...sizes.map((s) => s.height)) / 5 + i * (CROSS_PT + 24));
    props.onCrossChange?.([...rest, c]);
  };
  /** The pages a party's seal spans: ends left out when they are the document's own. */
  const setCrossRange = (party: string, first: number, last: number) => {
    const n = sizes.length;
    const f = Math.min(Math.max(first, 1), n - 1);
    const l = Math.min(Math.max(last, f + 1), n);
    props.onCrossChange?.(
      crossRef.current.map((c) => {
        if (c.party !== party) return c;
        const next: CrossPagePlacement = { kind: 'cross_page', party, y: c.y, size: c.size, ...(f > 1 ? { first_page: f } : {}), ...(l < n ? { last_page: l } : {}) };
        return { ...next, y: Math.min(Math.max(next.y, 0), crossMax(next)) };
      }),
    );
  };
  const crossDown = (c: CrossPagePlacement) => (e: PointerEvent) => {
    if (!props.onCrossChange || e.button !== 0) return;
    e.stopPropagation();
    e.preventDefault();
    setSelected(null);
    (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
    const y0 = e.clientY;
    const start = c.y;
    const move = (ev: PointerEvent) => setCrossY(c.party, () => start + (ev.clientY - y0) / scale);
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);
  };
  const crossKey = (c: CrossPagePlacement) => (e: KeyboardEvent) => {
    if (!props.onCrossChange) return;
    const step = e.shiftKey || e.key === 'PageUp' || e.key === 'PageDown' ? 10 : 1;
    const d: Record<string, number> = { ArrowUp: -step, ArrowDown: step, PageUp: -step, PageDown: step };
    if (e.key in d) {
      e.preventDefault();
      setCrossY(c.party, (cur) => cur.y + d[e.key]);
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      setCrossY(c.party, () => (e.key === 'Home' ? 0 : Infinity));
    }
  };

  const zoomTo = (s: number) => setScale(Math.max(0.3, Math.min(3, Math.round(s * 100) / 100)));
  const goTo = (n: number) => {
    setCurrent(n);
    scroller.current?.querySelector(`[data-page="${n}"]`)?.scrollIntoView({ block: 'start', behavior: 'smooth' });
  };
  const partyName = (id: string) => props.parties.find((p) => p.enterprise_id === id)?.enterprise_name ?? id;

  return (
    <div class="editor">
      <div class="editor-toolbar">
        {editable ? (
          <div class="palette" role="group" aria-label={t('editor.palette')}>
            {props.parties.map((p) => (
              <div class="palette-party" key={p.enterprise_id}>
                <span class="palette-name">
                  <span class={`swatch c${props.parties.indexOf(p) % PARTY_COLOURS.length}`} aria-hidden="true" />
                  {p.enterprise_name}
                </span>
                {(['signature', 'signing_date'] as const).map((kind) => (
                  <button
                    type="button"
                    key={kind}
                    class={`palette-item c${props.parties.indexOf(p) % PARTY_COLOURS.length}`}
                    data-party={p.enterprise_id}
                    data-kind={kind}
                    aria-label={t('editor.add', { what: kindLabel(kind), party: p.enterprise_name })}
                    onPointerDown={paletteDown(kind, p.enterprise_id)}
                    onClick={paletteClick(kind, p.enterprise_id)}
                  >
                    {kind === 'signature' ? t('editor.signatureBoth') : t('editor.dateBoth')}
                  </button>
                ))}
                {props.onCrossChange ? (
                  <label class={`cross-toggle c${props.parties.indexOf(p) % PARTY_COLOURS.length}`}>
                    <input
                      type="checkbox"
                      role="switch"
                      data-party={p.enterprise_id}
                      checked={!!crossOf(p.enterprise_id)}
                      disabled={sizes.length < 2}
                      aria-label={t('editor.crossFor', { party: p.enterprise_name })}
                      onChange={(e) => toggleCross(p.enterprise_id, (e.currentTarget as HTMLInputElement).checked)}
                    />
                    <span aria-hidden="true">{t('editor.crossBoth')}</span>
                  </label>
                ) : null}
              </div>
            ))}
            <p class="hint" id="palette-hint">
              {t('editor.paletteHint')}
            </p>
          </div>
        ) : null}
        <div class="zoom" role="group" aria-label={t('editor.zoom')}>
          <Button variant="secondary" onClick={() => zoomTo(scale - 0.1)} aria-label={t('editor.zoomOut')}>
            −
          </Button>
          <span class="zoom-value" aria-live="polite">
            {Math.round(scale * 100)}%
          </span>
          <Button variant="secondary" onClick={() => zoomTo(scale + 0.1)} aria-label={t('editor.zoomIn')}>
            +
          </Button>
          <Button variant="ghost" onClick={() => zoomTo(fit())}>
            {t('editor.fit')}
          </Button>
          {props.toolbar}
        </div>
      </div>
      <div class="editor-body">
        <nav class="thumbs" aria-label={t('editor.pages')}>
          {pages.map((pg, i) => (
            <button type="button" key={i} class={`thumb${current === i + 1 ? ' current' : ''}`} onClick={() => goTo(i + 1)} aria-current={current === i + 1 ? 'page' : undefined}>
              <Canvas page={pg} scale={96 / Math.max(sizes[i].width, sizes[i].height)} />
              <span>{t('editor.page', { n: String(i + 1) })}</span>
              <span class="thumb-marks" aria-hidden="true">
                {props.widgets
                  .filter((w) => w.page === i + 1)
                  .map((w) => (
                    <span key={w.key} class={`dot c${props.parties.findIndex((p) => p.enterprise_id === w.party) % PARTY_COLOURS.length}`} />
                  ))}
                {cross
                  .filter((c) => {
                    const [f, l] = crossRange(c, sizes.length);
                    return i + 1 >= f && i + 1 <= l;
                  })
                  .map((c) => (
                    <span key={`cross-${c.party}`} class={`bar c${props.parties.findIndex((p) => p.enterprise_id === c.party) % PARTY_COLOURS.length}`} />
                  ))}
              </span>
            </button>
          ))}
        </nav>
        <div class="pages" ref={scroller} onPointerDown={() => setSelected(null)} tabIndex={0} role="region" aria-label={t('doc.title')}>
          {scale
            ? pages.map((pg, i) => (
                <div
                  class="pdf-page"
                  key={i}
                  data-page={i + 1}
                  style={{ width: `${sizes[i].width * scale}px`, height: `${sizes[i].height * scale}px` }}
                  aria-label={t('editor.page', { n: String(i + 1) })}
                  role="region"
                >
                  <Canvas page={pg} scale={scale} label={t('editor.pageImage', { n: String(i + 1) })} />
                  {cross.map((c) => {
                    const [f, l] = crossRange(c, sizes.length);
                    if (i + 1 < f || i + 1 > l) return null;
                    const size = c.size ?? CROSS_PT;
                    const w = size / (l - f + 1);
                    const k = i + 1 - f;
                    const ci = props.parties.findIndex((p) => p.enterprise_id === c.party) % PARTY_COLOURS.length;
                    const mine = props.highlight ? c.party === props.highlight : true;
                    const edit = !!props.onCrossChange;
                    return (
                      <div
                        key={`cross-${c.party}`}
                        class={`cross c${ci}${mine ? ' mine' : ' theirs'}`}
                        style={{ left: `${(sizes[i].width - w) * scale}px`, top: `${c.y * scale}px`, width: `${w * scale}px`, height: `${size * scale}px` }}
                        data-party={c.party}
                        data-page={i + 1}
                        {...(edit
                          ? {
                              role: 'slider',
                              tabIndex: i + 1 === f ? 0 : -1,
                              'aria-orientation': 'vertical',
                              'aria-label': t('editor.crossLabel', { party: partyName(c.party), page: String(i + 1) }),
                              'aria-valuemin': 0,
                              'aria-valuemax': Math.round(crossMax(c)),
                              'aria-valuenow': Math.round(c.y),
                              'aria-valuetext': t('editor.crossAt', { y: String(Math.round(c.y)) }),
                              onPointerDown: crossDown(c),
                              onKeyDown: crossKey(c),
                            }
                          : { 'aria-hidden': true })}
                      >
                        <span class="cross-strip" aria-hidden="true">
                          <span class="cross-seal" style={{ left: `${-k * w * scale}px`, width: `${size * scale}px`, height: `${size * scale}px` }} />
                        </span>
                        {edit ? (
                          <span class="cross-grip" aria-hidden="true">
                            ⇕
                          </span>
                        ) : null}
                      </div>
                    );
                  })}
                  {props.widgets
                    .filter((w) => w.page === i + 1)
                    .map((w) => {
                      const ci = props.parties.findIndex((p) => p.enterprise_id === w.party) % PARTY_COLOURS.length;
                      const mine = props.highlight ? w.party === props.highlight : true;
                      const label = t('editor.widgetLabel', {
                        what: kindLabel(w.kind),
                        party: partyName(w.party),
                        page: String(w.page),
                        x: String(Math.round(w.x)),
                        y: String(Math.round(w.y)),
                      });
                      return (
                        <div
                          key={w.key}
                          id={`widget-${w.key}`}
                          class={`widget c${ci}${w.kind === 'signature' ? ' widget-seal' : ''}${selected === w.key ? ' selected' : ''}${mine ? ' mine' : ' theirs'}`}
                          style={{ left: `${w.x * scale}px`, top: `${w.y * scale}px`, width: `${w.width * scale}px`, height: `${w.height * scale}px` }}
                          tabIndex={editable || mine ? 0 : -1}
                          role="group"
                          aria-label={label}
                          data-party={w.party}
                          data-kind={w.kind}
                          onPointerDown={widgetDown(w, 'move')}
                          onFocus={() => setSelected(w.key)}
                          onKeyDown={widgetKey(w)}
                        >
                          <span class="widget-label" aria-hidden="true">
                            {kindLabel(w.kind)}
                          </span>
                          {editable && selected === w.key ? (
                            <span class="widget-tools">
                              <button type="button" onPointerDown={(e) => e.stopPropagation()} onClick={() => copyToOthers(w)}>
                                {t('editor.copy')}
                              </button>
                              <button type="button" onPointerDown={(e) => e.stopPropagation()} onClick={() => remove(w)}>
                                {t('common.delete')}
                              </button>
                            </span>
                          ) : null}
                          {editable ? <span class="widget-resize" aria-hidden="true" onPointerDown={widgetDown(w, 'resize')} /> : null}
                        </div>
                      );
                    })}
                </div>
              ))
            : null}
        </div>
      </div>
      {props.onCrossChange && cross.length ? (
        <div class="cross-ranges">
          {cross.map((c) => {
            const [f, l] = crossRange(c, sizes.length);
            const ci = props.parties.findIndex((p) => p.enterprise_id === c.party) % PARTY_COLOURS.length;
            const pages = sizes.map((_, i) => i + 1);
            return (
              <fieldset key={c.party} class={`cross-range c${ci}`}>
                <legend>{t('editor.crossRange', { party: partyName(c.party) })}</legend>
                <label>
                  {t('editor.crossFirst')}
                  <select value={String(f)} onChange={(e) => setCrossRange(c.party, Number((e.currentTarget as HTMLSelectElement).value), l)}>
                    {pages.slice(0, -1).map((n) => (
                      <option key={n} value={String(n)}>
                        {n}
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  {t('editor.crossLast')}
                  <select value={String(l)} onChange={(e) => setCrossRange(c.party, f, Number((e.currentTarget as HTMLSelectElement).value))}>
                    {pages.slice(f).map((n) => (
                      <option key={n} value={String(n)}>
                        {n}
                      </option>
                    ))}
                  </select>
                </label>
                <span class="muted small">{t('editor.crossStrips', { n: String(l - f + 1), w: ((c.size ?? CROSS_PT) / (l - f + 1)).toFixed(1) })}</span>
              </fieldset>
            );
          })}
        </div>
      ) : null}
      {editable ? (
        <p class="hint editor-hint-below" aria-hidden="true">
          {t('editor.paletteHint')}
        </p>
      ) : null}
      {ghost ? (
        <div class={`ghost c${props.parties.findIndex((p) => p.enterprise_id === ghost.party) % PARTY_COLOURS.length}${ghost.kind === 'signature' ? ' widget-seal' : ''}`} aria-hidden="true" style={ghostStyle(ghost, scale)}>
          {kindLabel(ghost.kind)}
        </div>
      ) : null}
    </div>
  );
}

function ghostStyle(g: { kind: PlacementKind; x: number; y: number }, scale: number) {
  const w = (g.kind === 'signature' ? SEAL_PT : DATE_W) * scale;
  const h = (g.kind === 'signature' ? SEAL_PT : DATE_H) * scale;
  return { left: `${g.x - w / 2}px`, top: `${g.y - h / 2}px`, width: `${w}px`, height: `${h}px` };
}

function Canvas({ page, scale, label }: { page: PDFPageProxy; scale: number; label?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    return renderPage(page, ref.current, scale);
  }, [page, scale]);
  const v = page.getViewport({ scale });
  return (
    <canvas
      ref={ref}
      class="page-canvas"
      style={{ width: `${v.width}px`, height: `${v.height}px` }}
      role={label ? 'img' : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
    />
  );
}
