// PDF rendering with pdf.js, bundled: the library is loaded when a page first needs it and its
// worker is a file of the build, served from our own origin (the CSP allows `worker-src 'self'`).
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

export type { PDFDocumentProxy, PDFPageProxy };

let lib: Promise<typeof import('pdfjs-dist')> | null = null;
function pdfjs() {
  lib ??= import('pdfjs-dist').then((m) => {
    m.GlobalWorkerOptions.workerSrc = workerUrl;
    return m;
  });
  return lib;
}

export async function openPdf(data: ArrayBuffer): Promise<PDFDocumentProxy> {
  const m = await pdfjs();
  return m.getDocument({ data: new Uint8Array(data), useSystemFonts: true }).promise;
}

/** A page's size in points as a viewer shows it (after /Rotate, within the CropBox). */
export function pageSize(page: PDFPageProxy): { width: number; height: number } {
  const v = page.getViewport({ scale: 1 });
  return { width: v.width, height: v.height };
}

/**
 * Draws the page into the canvas at `scale` CSS pixels per point (sharp on high-density screens);
 * answers a function that cancels the drawing (a new zoom replaces it).
 */
export function renderPage(page: PDFPageProxy, canvas: HTMLCanvasElement, scale: number): () => void {
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const v = page.getViewport({ scale: scale * dpr });
  canvas.width = Math.ceil(v.width);
  canvas.height = Math.ceil(v.height);
  const task = page.render({ canvas, viewport: v });
  task.promise.catch(() => {
    /* cancelled, or a page pdf.js cannot draw: the canvas stays blank */
  });
  return () => task.cancel();
}

/** PDFs the initiator uploaded in this tab, by contract id: a draft's document is only its file. */
export const localDocuments = new Map<string, Blob>();
