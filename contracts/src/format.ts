/**
 * The one formatting module: numbers, money, 万 / 亿, percentages, durations and
 * business-time-zone dates for the wall, the weekly report (page, markdown, DingTalk text),
 * the morning brief and the DingTalk / WeCom alert messages alike, so a figure reads the same
 * wherever a person meets it. Pure functions, unit-tested in frontend/test/format.test.ts.
 *
 * Conventions (README, "KPIs"): money is integer fen and shows as ¥ with 万 / 亿; `percent`
 * values are fractions (0.052 → 5.2%); `ms` shows as 毫秒 / 秒 / 分钟 / 小时 / 天. English uses
 * K / M / B and ms / s / min / h instead. A missing value (null, NaN) shows as an em dash;
 * negative numbers and changes carry a real minus sign (U+2212), the width of '+'.
 */
import type { KpiUnit, Label } from './catalogue/kpis.js';

export type Lang = keyof Label;
/** A catalogue unit, or `hours` (alert durations in the weekly report). */
export type ValueUnit = KpiUnit | 'hours';

/** A formatted value split so the number can be set large and the prefix/suffix smaller. */
export interface ValueParts {
  prefix: string;
  number: string;
  suffix: string;
}

export const MISSING = '—';
/** U+2212 MINUS SIGN: the same width as '+', so signed figures line up. */
export const MINUS = '−';

const grouping = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const grouping2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function isMissing(v: number | null | undefined): v is null | undefined {
  return v === null || v === undefined || !Number.isFinite(v);
}

function sign(v: number): string {
  return v < 0 ? MINUS : '';
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// ── 万 / 亿 (en: K / M / B) ────────────────────────────────────────────────────────────

interface Step {
  /** Lower bound of this step (absolute value), in the input's unit. */
  min: number;
  divisor: number;
  digits: number;
  suffix: string;
}

const STEPS: Record<Lang, readonly Step[]> = {
  zh: [
    { min: 1e4, divisor: 1e4, digits: 1, suffix: '万' },
    { min: 1e8, divisor: 1e8, digits: 2, suffix: '亿' },
  ],
  en: [
    { min: 1e4, divisor: 1e3, digits: 1, suffix: 'K' },
    { min: 1e6, divisor: 1e6, digits: 2, suffix: 'M' },
    { min: 1e9, divisor: 1e9, digits: 2, suffix: 'B' },
  ],
};

/**
 * Picks the largest step whose bound |v| reaches — *after rounding*, so ¥9,999.996 never
 * shows as "¥10,000.00" but as "¥1.0万", and 9999.96万 as "1.00亿". `small` formats values
 * below the first step.
 */
function stepped(abs: number, lang: Lang, small: (abs: number) => string): { number: string; suffix: string } {
  const steps = STEPS[lang];
  let chosen = -1;
  for (let i = 0; i < steps.length; i++) if (abs >= steps[i]!.min) chosen = i;
  const next = steps[chosen + 1];
  if (next) {
    const cur = steps[chosen];
    const shown = cur ? round(abs / cur.divisor, cur.digits) * cur.divisor : Number(small(abs).replace(/,/g, ''));
    if (shown >= next.min) chosen++;
  }
  const s = steps[chosen];
  if (!s) return { number: small(abs), suffix: '' };
  // Three significant figures for the two-decimal steps: 1.23亿 but 12.3亿 / 123.5M, not 123.46M.
  const digits = s.digits === 2 && round(abs / s.divisor, 2) >= 10 ? 1 : s.digits;
  return { number: (abs / s.divisor).toFixed(digits), suffix: s.suffix };
}

// ── values as parts ────────────────────────────────────────────────────────────────────

/** Counts: 1,234 · 12.3万 · 1.23亿 · 12.3亿 (en: 1,234 · 12.3K · 1.23M · 123.5M · 1.23B). */
export function countParts(v: number | null | undefined, lang: Lang = 'zh'): ValueParts {
  if (isMissing(v)) return { prefix: '', number: MISSING, suffix: '' };
  const abs = Math.abs(v);
  const small = (a: number) => (Number.isInteger(a) ? grouping.format(a) : a < 100 ? a.toFixed(1) : grouping.format(Math.round(a)));
  const { number, suffix } = stepped(abs, lang, small);
  return { prefix: sign(v), number, suffix };
}

/**
 * Money in integer fen: ¥9,876.50 · ¥123.5万 · ¥1.23亿 · ¥12.3亿 (en: ¥9,876.50 · ¥123.5K · ¥1.23M · ¥123.5M).
 * 123456789 fen = ¥1,234,567.89 = ¥123.5万.
 */
export function moneyParts(fen: number | null | undefined, lang: Lang = 'zh'): ValueParts {
  if (isMissing(fen)) return { prefix: '', number: MISSING, suffix: '' };
  const yuan = Math.abs(fen) / 100;
  const { number, suffix } = stepped(yuan, lang, (a) => grouping2.format(a));
  return { prefix: `${sign(fen)}¥`, number, suffix };
}

/** Fractions as percent with one decimal: 0.052 → 5.2%. */
export function percentParts(v: number | null | undefined): ValueParts {
  if (isMissing(v)) return { prefix: '', number: MISSING, suffix: '' };
  const p = Math.abs(v) * 100;
  const text = p >= 1000 ? grouping.format(Math.round(p)) : p.toFixed(1);
  return { prefix: text === '0.0' ? '' : sign(v), number: text, suffix: '%' };
}

const DURATION_UNITS = {
  zh: { ms: ' 毫秒', s: ' 秒', min: ' 分钟', h: ' 小时', d: ' 天' },
  en: { ms: ' ms', s: ' s', min: ' min', h: ' h', d: ' d' },
} as const;

/** Durations in ms: 850 毫秒 · 4.2 秒 · 42 秒 · 3.5 分钟 · 1.2 小时 (en: 850 ms · 42 s · 3.5 min · 1.2 h). */
export function durationParts(ms: number | null | undefined, lang: Lang = 'zh'): ValueParts {
  if (isMissing(ms)) return { prefix: '', number: MISSING, suffix: '' };
  const u = DURATION_UNITS[lang];
  const abs = Math.abs(ms);
  const pre = sign(ms);
  if (Math.round(abs) < 1000) return { prefix: pre, number: String(Math.round(abs)), suffix: u.ms };
  const s = abs / 1000;
  if (round(s, 1) < 10) return { prefix: pre, number: s.toFixed(1), suffix: u.s };
  if (Math.round(s) < 60) return { prefix: pre, number: String(Math.round(s)), suffix: u.s };
  const min = s / 60;
  if (round(min, 1) < 60) return { prefix: pre, number: min.toFixed(1), suffix: u.min };
  const h = min / 60;
  if (round(h, 1) < 48) return { prefix: pre, number: h.toFixed(1), suffix: u.h };
  return { prefix: pre, number: (h / 24).toFixed(1), suffix: u.d };
}

/** Any value by its unit (a catalogue unit, or `hours` with one decimal). */
export function kpiParts(value: number | null | undefined, unit: ValueUnit, lang: Lang = 'zh'): ValueParts {
  if (isMissing(value)) return { prefix: '', number: MISSING, suffix: '' };
  switch (unit) {
    case 'count':
      return countParts(value, lang);
    case 'fen':
      return moneyParts(value, lang);
    case 'percent':
      return percentParts(value);
    case 'ms':
      return durationParts(value, lang);
    case 'hours':
      return { prefix: sign(value), number: Math.abs(value).toFixed(1), suffix: lang === 'zh' ? ' 小时' : ' h' };
    case 'multiple':
      return { prefix: sign(value), number: Math.abs(value).toFixed(2), suffix: lang === 'zh' ? ' 倍' : '×' };
    case 'per_member':
      return { prefix: sign(value), number: Math.abs(value).toFixed(2), suffix: lang === 'zh' ? ' 次/人' : ' /member' };
  }
}

export function joinParts(p: ValueParts): string {
  return `${p.prefix}${p.number}${p.suffix}`;
}

// ── values as text ─────────────────────────────────────────────────────────────────────

/** The exact text a tile, a report line or an alert message shows for a value. */
export function formatKpi(value: number | null | undefined, unit: ValueUnit, lang: Lang = 'zh'): string {
  return joinParts(kpiParts(value, unit, lang));
}

export const formatMoney = (fen: number | null | undefined, lang: Lang = 'zh') => joinParts(moneyParts(fen, lang));
export const formatCount = (v: number | null | undefined, lang: Lang = 'zh') => joinParts(countParts(v, lang));
export const formatPercent = (v: number | null | undefined) => joinParts(percentParts(v));
export const formatDuration = (ms: number | null | undefined, lang: Lang = 'zh') => joinParts(durationParts(ms, lang));

/** Relative change (a fraction) without sign, e.g. 0.123 → "12.3%", 12.5 → "1,250%". */
export function formatChangeMagnitude(change: number | null | undefined): string {
  if (isMissing(change)) return MISSING;
  const p = Math.abs(change) * 100;
  return p >= 1000 ? `${grouping.format(Math.round(p))}%` : `${p.toFixed(1)}%`;
}

/** A value with an explicit sign: +310 / −42 (net growth, money moves). */
export function formatSigned(v: number | null | undefined, unit: ValueUnit, lang: Lang = 'zh'): string {
  if (isMissing(v)) return MISSING;
  const text = formatKpi(v, unit, lang);
  return v > 0 ? `+${text}` : text;
}

/** A relative change as a signed percent: +8.2% / −8.2% / 0.0%. */
export function formatChange(change: number | null | undefined): string {
  if (isMissing(change)) return MISSING;
  const text = formatPercent(change);
  return change > 0 && text !== '0.0%' ? `+${text}` : text;
}

/** A difference of two rates in percentage points: +1.2 个百分点 / +1.2 pp. */
export function formatPoints(diff: number | null | undefined, lang: Lang = 'zh'): string {
  if (isMissing(diff)) return MISSING;
  const p = Math.abs(diff) * 100;
  const s = diff > 0 && p.toFixed(1) !== '0.0' ? '+' : diff < 0 && p.toFixed(1) !== '0.0' ? MINUS : '';
  return `${s}${p.toFixed(1)}${lang === 'zh' ? ' 个百分点' : ' pp'}`;
}

/**
 * A value and its target as text, with one more decimal when one decimal would show them
 * equal (a paid conversion of 5.17% against 5.2% must not read "5.2%, below the 5.2% target").
 */
export function formatAgainst(value: number | null | undefined, target: number, unit: ValueUnit, lang: Lang = 'zh'): [string, string] {
  const a = formatKpi(value, unit, lang);
  const b = formatKpi(target, unit, lang);
  if (a !== b || isMissing(value) || value === target || unit !== 'percent') return [a, b];
  const fine = (v: number) => `${sign(v)}${(Math.abs(v) * 100).toFixed(2)}%`;
  return [fine(value), fine(target)];
}

// ── time ───────────────────────────────────────────────────────────────────────────────

/** "刚刚" / "12 秒前" / "3 分钟前" … for a duration in ms (en, compact for narrow tiles: "now" / "12s ago"). */
export function formatAgo(ms: number, lang: Lang = 'zh'): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 3) return lang === 'zh' ? '刚刚' : 'now';
  if (s < 60) return lang === 'zh' ? `${s} 秒前` : `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return lang === 'zh' ? `${m} 分钟前` : `${m}m ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return lang === 'zh' ? `${h} 小时前` : `${h}h ago`;
  const d = Math.floor(h / 24);
  return lang === 'zh' ? `${d} 天前` : `${d}d ago`;
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
function dtf(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let f = timeFormats.get(key);
  if (!f) {
    f = make();
    timeFormats.set(key, f);
  }
  return f;
}

/** 24-hour wall-clock time in the business time zone: "14:05:09" (or "14:05" without seconds). */
export function formatTime(ts: number, timeZone: string, seconds = true): string {
  const f = dtf(`t|${timeZone}|${seconds}`, () =>
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      ...(seconds ? { second: '2-digit' } : {}),
      hourCycle: 'h23',
    }),
  );
  return f.format(ts);
}

/** "2025年11月23日 星期日" / "Sun, 23 Nov 2025" in the business time zone. */
export function formatDate(ts: number, timeZone: string, lang: Lang = 'zh'): string {
  const f = dtf(`d|${timeZone}|${lang}`, () =>
    lang === 'zh'
      ? new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: 'long', day: 'numeric', weekday: 'long' })
      : new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'short', day: 'numeric', weekday: 'short' }),
  );
  return f.format(ts);
}

/** A moment's calendar fields in a time zone, two digits each (year four): the one zone lookup. */
export interface ZonedParts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

export function zonedParts(ts: number, timeZone: string): ZonedParts {
  const f = dtf(`dt|${timeZone}`, () =>
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }),
  );
  const p = Object.fromEntries(f.formatToParts(ts).map((x) => [x.type, x.value]));
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour!, minute: p.minute!, second: p.second! };
}

/**
 * `2026-11-23 14:05` in the business time zone (alert messages, CSV rows, range captions);
 * with `seconds`, `2026-11-23 14:05:10`.
 */
export function formatDateTime(ts: number, timeZone: string, seconds = false): string {
  const p = zonedParts(ts, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${seconds ? `:${p.second}` : ''}`;
}

/** "11-23 14:05:09" in the business time zone, the year in front when it is not this year (alert tables). */
export function formatStamp(ts: number, timeZone: string, now = Date.now()): string {
  const withYear = new Date(ts).getUTCFullYear() !== new Date(now).getUTCFullYear();
  const p = zonedParts(ts, timeZone);
  return `${withYear ? `${p.year}-` : ''}${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}
