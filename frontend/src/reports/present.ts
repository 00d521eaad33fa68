/**
 * Plain views of a weekly report for the page (pure functions, unit-tested in
 * test/reports.test.ts): values by unit, metrics with their change and target, tables,
 * dates in the business time zone, the list order and the delivery log. Formatting is the
 * one module's (@siyu-pulse/contracts/format) and the alert center's (changeText), so a figure reads the same
 * everywhere in the product.
 */
import type { KpiUnit } from '@siyu-pulse/contracts/catalogue';
import { changeText } from '../alertCenter/kpiText';
import { MISSING, formatKpi, type Lang } from '@siyu-pulse/contracts/format';
import { formatDateTime } from '../trends/time';
import type { ReportMetric, ReportSummary, ReportTable, WeeklyReport } from './types';

export type ReportUnit = KpiUnit | 'hours' | 'text';

const grouping = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/**
 * A cell or metric value as shown: numbers by their unit (the one formatting module the
 * report's findings and DingTalk text use, so the figure under a finding reads the same as the
 * finding; `hours` stay in hours with one decimal), strings as given, null as "—".
 */
export function formatValue(v: string | number | null | undefined, unit: ReportUnit, lang: Lang): string {
  if (v === null || v === undefined) return MISSING;
  if (typeof v === 'string') return v === '' ? MISSING : v;
  if (!Number.isFinite(v)) return MISSING;
  if (unit === 'text') return grouping.format(v);
  return formatKpi(v, unit, lang);
}

export interface MetricView {
  kpi: string | undefined;
  label: string;
  value: string;
  previous: string;
  /** "+12.0%" / "−3.4%" (U+2212), "—" without a comparison. */
  change: string;
  /** The colour of the change; neutral when there is no change to colour. */
  tone: 'good' | 'bad' | 'neutral';
  target: string | null;
  attained: boolean | null;
  /** A share over 100%: which counter is missing (shown instead of attainment). */
  outrun: string | null;
}

export function metricView(m: ReportMetric, lang: Lang): MetricView {
  const change = changeText(m.change);
  return {
    kpi: m.kpi,
    label: m.label[lang],
    value: formatValue(m.value, m.unit, lang),
    previous: formatValue(m.previous, m.unit, lang),
    change,
    tone: change === MISSING ? 'neutral' : m.tone,
    target: m.target === undefined ? null : formatValue(m.target, m.unit, lang),
    // Attainment is only claimed when the week has a value to judge.
    attained: m.target === undefined || m.attained === undefined || m.value === null ? null : m.attained,
    // A share over 100%: the counter the producer lost, instead of a verdict.
    outrun: m.outrun ? `⚠ ${m.outrun.note[lang]}` : null,
  };
}

export interface TableView {
  columns: string[];
  /** Right-aligned, tabular figures. */
  numeric: boolean[];
  /** Left out on a phone-width page (ReportTable.wideOnly). */
  wideOnly: boolean[];
  rows: string[][];
}

export function tableView(t: ReportTable, lang: Lang): TableView {
  const unitOf = (i: number): ReportUnit => t.units[i] ?? 'text';
  return {
    columns: t.columns.map((c) => c[lang]),
    numeric: t.columns.map((_, i) => unitOf(i) !== 'text'),
    wideOnly: t.columns.map((_, i) => t.wideOnly?.[i] === true),
    rows: t.rows.map((row) => t.columns.map((_, i) => formatValue(row[i], unitOf(i), lang))),
  };
}

const WEEKDAYS: Record<Lang, readonly string[]> = {
  zh: ['周日', '周一', '周二', '周三', '周四', '周五', '周六'],
  en: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
};

/**
 * The `index`-th day of a report week as `11-16 周一` (en `Mon 11-16`). The report sends
 * `MM-DD` (no year), and its days are the week's seven days from Monday, so the weekday
 * follows from the position; a full `YYYY-MM-DD` date is read as such.
 */
export function dayLabel(day: string, index: number, lang: Lang): string {
  const full = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const weekday = full ? new Date(Date.UTC(Number(full[1]), Number(full[2]) - 1, Number(full[3]))).getUTCDay() : /^\d{2}-\d{2}$/.test(day) && index < 7 ? (index + 1) % 7 : -1;
  if (weekday < 0) return day;
  const md = full ? `${full[2]}-${full[3]}` : day;
  const wd = WEEKDAYS[lang][weekday];
  return lang === 'zh' ? `${md} ${wd}` : `${wd} ${md}`;
}

/** Which page a section's link opens: most go to trends, the alerts section to the alert center. */
export function linkKind(link: string): 'trends' | 'alerts' | 'other' {
  const path = link.split('?')[0]!.replace(/^https?:\/\/[^/]+/, '');
  return path === '/trends' ? 'trends' : path === '/alerts' ? 'alerts' : 'other';
}

/** `2026-11-24 09:00` in the business zone. */
export function stamp(ts: number, tz: string): string {
  return formatDateTime(ts, tz);
}

/** Newest week first; a regenerated week by its newest generation. */
export function sortSummaries(list: readonly ReportSummary[]): ReportSummary[] {
  return [...list].sort((a, b) => b.week.from - a.week.from || b.generatedAt - a.generatedAt);
}

export interface DeliveryView {
  notifier: string;
  ok: boolean;
  /** errcode and the notifier's message, for a failure ("" when delivered). */
  detail: string;
  at: number;
}

export function deliveryViews(report: Pick<WeeklyReport, 'delivery'>, name: (notifier: string) => string, errcode: (code: string) => string): DeliveryView[] {
  return report.delivery.map((d) => ({
    notifier: name(d.notifier),
    ok: d.ok,
    // A delivered message needs no code (DingTalk answers errcode 0); a refusal shows both.
    detail: d.ok ? '' : [d.code ? errcode(d.code) : '', d.message ?? ''].filter(Boolean).join(' · '),
    at: d.at,
  }));
}

/** The section's trends link as an absolute URL (printed under the link on paper). */
export function absoluteLink(link: string, origin: string): string {
  try {
    return new URL(link, origin).href;
  } catch {
    return link;
  }
}

/**
 * A CSS string literal (for `content:` through a custom property): quotes, backslashes and
 * line breaks escaped, so text from the server cannot end the string or the declaration.
 */
export function cssString(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&').replace(/[\r\n\f]+/g, ' ')}"`;
}
