/**
 * Numbers in report findings and the DingTalk text, by the wall's conventions (the 万 / 亿
 * steps are shared with the wall through catalogue/magnitude.ts): money is fen
 * shown as ¥ with 万 / 亿 (en: K / M / B), percent values are fractions shown with one
 * decimal, negative numbers and changes carry a real minus sign (U+2212) so they line up
 * with '+'.
 */
import type { KpiUnit, Label } from '../catalogue/kpis.js';
import { round, stepped as steppedParts } from '../catalogue/magnitude.js';

export type Lang = keyof Label;
export type ReportUnit = KpiUnit | 'hours';

export const MISSING = '—';
export const MINUS = '−';

const grouping0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const grouping2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const missing = (v: number | null | undefined): v is null | undefined => v === null || v === undefined || !Number.isFinite(v);
const sign = (v: number) => (v < 0 ? MINUS : '');
/** 1.2万 as one string (the wall sets number and suffix apart; a message does not). */
const stepped = (abs: number, lang: Lang, small: (a: number) => string) => {
  const p = steppedParts(abs, lang, small);
  return `${p.number}${p.suffix}`;
};

export function formatCount(v: number | null | undefined, lang: Lang = 'zh'): string {
  if (missing(v)) return MISSING;
  const small = (a: number) => (Number.isInteger(a) ? grouping0.format(a) : a < 100 ? a.toFixed(1) : grouping0.format(Math.round(a)));
  return sign(v) + stepped(Math.abs(v), lang, small);
}

/** Integer fen → ¥9,876.50 · ¥43.2万 · ¥1.23亿 (en: ¥432.1K · ¥1.23M). */
export function formatMoney(fen: number | null | undefined, lang: Lang = 'zh'): string {
  if (missing(fen)) return MISSING;
  return `${sign(fen)}¥${stepped(Math.abs(fen) / 100, lang, (a) => grouping2.format(a))}`;
}

/** A fraction as percent with one decimal: 0.0412 → 4.1%. */
export function formatPercent(v: number | null | undefined): string {
  if (missing(v)) return MISSING;
  const p = Math.abs(v) * 100;
  const text = p >= 1000 ? grouping0.format(Math.round(p)) : p.toFixed(1);
  return `${text === '0.0' ? '' : sign(v)}${text}%`;
}

function formatMs(ms: number, lang: Lang): string {
  const u = lang === 'zh' ? { ms: ' 毫秒', s: ' 秒', min: ' 分钟', h: ' 小时', d: ' 天' } : { ms: ' ms', s: ' s', min: ' min', h: ' h', d: ' d' };
  const abs = Math.abs(ms);
  const pre = sign(ms);
  if (Math.round(abs) < 1000) return `${pre}${Math.round(abs)}${u.ms}`;
  const s = abs / 1000;
  if (round(s, 1) < 10) return `${pre}${s.toFixed(1)}${u.s}`;
  if (Math.round(s) < 60) return `${pre}${Math.round(s)}${u.s}`;
  const min = s / 60;
  if (round(min, 1) < 60) return `${pre}${min.toFixed(1)}${u.min}`;
  const h = min / 60;
  if (round(h, 1) < 48) return `${pre}${h.toFixed(1)}${u.h}`;
  return `${pre}${(h / 24).toFixed(1)}${u.d}`;
}

export function formatValue(v: number | null | undefined, unit: ReportUnit, lang: Lang = 'zh'): string {
  if (missing(v)) return MISSING;
  switch (unit) {
    case 'count':
      return formatCount(v, lang);
    case 'fen':
      return formatMoney(v, lang);
    case 'percent':
      return formatPercent(v);
    case 'ms':
      return formatMs(v, lang);
    case 'hours':
      return lang === 'zh' ? `${sign(v)}${Math.abs(v).toFixed(1)} 小时` : `${sign(v)}${Math.abs(v).toFixed(1)} h`;
    case 'multiple':
      return `${sign(v)}${Math.abs(v).toFixed(2)}${lang === 'zh' ? ' 倍' : '×'}`;
    case 'per_member':
      return `${sign(v)}${Math.abs(v).toFixed(2)}${lang === 'zh' ? ' 次/人' : ' per member'}`;
  }
}

/** A value with an explicit sign: +310 / −42 (net growth, money moves). */
export function formatSigned(v: number | null | undefined, unit: ReportUnit, lang: Lang = 'zh'): string {
  if (missing(v)) return MISSING;
  const text = formatValue(v, unit, lang);
  return v > 0 ? `+${text}` : text;
}

/** A relative change as a signed percent: +8.2% / −8.2% / 0.0%. */
export function formatChange(change: number | null | undefined): string {
  if (missing(change)) return MISSING;
  const text = formatPercent(change);
  return change > 0 && text !== '0.0%' ? `+${text}` : text;
}

/** A difference of two rates in percentage points: +1.2 个百分点 / +1.2 pp. */
export function formatPoints(diff: number | null | undefined, lang: Lang = 'zh'): string {
  if (missing(diff)) return MISSING;
  const p = Math.abs(diff) * 100;
  const s = diff > 0 && p.toFixed(1) !== '0.0' ? '+' : diff < 0 && p.toFixed(1) !== '0.0' ? MINUS : '';
  return `${s}${p.toFixed(1)}${lang === 'zh' ? ' 个百分点' : ' pp'}`;
}

/**
 * A value and its target as text, with one more decimal when one decimal would show them
 * equal (a paid conversion of 5.17% against 5.2% must not read "5.2%, below the 5.2% target").
 */
export function formatAgainst(value: number | null | undefined, target: number, unit: ReportUnit, lang: Lang = 'zh'): [string, string] {
  const a = formatValue(value, unit, lang);
  const b = formatValue(target, unit, lang);
  if (a !== b || missing(value) || value === target || unit !== 'percent') return [a, b];
  const fine = (v: number) => `${sign(v)}${(Math.abs(v) * 100).toFixed(2)}%`;
  return [fine(value), fine(target)];
}
