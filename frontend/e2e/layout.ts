/**
 * Layout checks for phone and desktop screenshots, measured in the page: horizontal scroll
 * (the document and the analyst frame), elements reaching past the viewport, and labels
 * wrapped one character per line (each character's box: a text of n ≥ 2 characters on n
 * lines, or on ≥ 2 lines with under 2 characters a line, is wrapped per character).
 * Elements inside a scroller of their own (a wide table in an overflow-x: auto box) may be
 * wider than the viewport; that scroller may not.
 */
import type { Page } from 'playwright-core';

export interface LayoutReport {
  viewport: number;
  /** scrollWidth of the document and of the analyst frame (should equal the viewport). */
  scrollWidths: { document: number; frame: number | null };
  /** Elements reaching past the viewport (selector-ish description and their right edge). */
  tooWide: string[];
  /** Texts wrapped per character (the text and its line count). */
  perCharacter: string[];
  /** How many text nodes were measured. */
  textsMeasured: number;
}

export async function layoutReport(page: Page): Promise<LayoutReport> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const frame = document.querySelector('.analyst') as HTMLElement | null;
    const roots = new Set<Element>([document.documentElement, document.body, ...(frame ? [frame] : [])]);
    const describe = (el: Element) => {
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).slice(0, 2).join('.')}` : '';
      const test = el.getAttribute('data-test');
      return `${el.tagName.toLowerCase()}${cls}${test ? `[data-test=${test}]` : ''}`;
    };
    const inOwnScroller = (el: Element): boolean => {
      for (let p = el.parentElement; p && !roots.has(p); p = p.parentElement) {
        const ox = getComputedStyle(p).overflowX;
        if (ox === 'auto' || ox === 'scroll' || ox === 'hidden' || ox === 'clip') return true;
      }
      return false;
    };
    const visible = (el: Element) => {
      const s = getComputedStyle(el);
      return s.display !== 'none' && s.visibility !== 'hidden' && (el as HTMLElement).getClientRects().length > 0;
    };
    const tooWide: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      if (!visible(el) || el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if ((r.right > vw + 1 || r.left < -1) && !inOwnScroller(el)) tooWide.push(`${describe(el)} ${Math.round(r.left)}–${Math.round(r.right)}px`);
    }
    const perCharacter: string[] = [];
    let textsMeasured = 0;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent ?? '';
      const chars = Array.from(text.trim());
      if (chars.length < 2 || !n.parentElement || !visible(n.parentElement)) continue;
      if (getComputedStyle(n.parentElement).writingMode.startsWith('vertical')) continue;
      textsMeasured++;
      const tops = new Set<number>();
      let offset = text.indexOf(chars[0]!);
      for (const ch of chars) {
        const at = text.indexOf(ch, offset);
        offset = at + ch.length;
        if (/\s/.test(ch)) continue;
        range.setStart(n, at);
        range.setEnd(n, at + ch.length);
        const rect = range.getBoundingClientRect();
        if (rect.width > 0) tops.add(Math.round(rect.top));
      }
      const lines = tops.size;
      const letters = chars.filter((c) => !/\s/.test(c)).length;
      if (lines >= 2 && letters / lines < 2) perCharacter.push(`${JSON.stringify(text.trim().slice(0, 30))} on ${lines} lines in ${describe(n.parentElement)}`);
    }
    return {
      viewport: vw,
      scrollWidths: { document: document.documentElement.scrollWidth, frame: frame ? frame.scrollWidth : null },
      tooWide: tooWide.slice(0, 20),
      perCharacter: perCharacter.slice(0, 20),
      textsMeasured,
    };
  });
}

/** The report's problems as lines (empty: the layout is fine). */
export function layoutProblems(r: LayoutReport): string[] {
  const out: string[] = [];
  if (r.scrollWidths.document > r.viewport) out.push(`document scrolls sideways: ${r.scrollWidths.document}px > ${r.viewport}px`);
  if (r.scrollWidths.frame !== null && r.scrollWidths.frame > r.viewport) out.push(`analyst frame scrolls sideways: ${r.scrollWidths.frame}px > ${r.viewport}px`);
  for (const w of r.tooWide) out.push(`wider than the viewport: ${w}`);
  for (const p of r.perCharacter) out.push(`wrapped per character: ${p}`);
  return out;
}
