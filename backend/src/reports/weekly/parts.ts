/** Building blocks every section uses: metrics with change, tone and target, and the wording helpers. */
import { isSpan, usesDistinct, type KpiDef, type KpiUnit, type Label } from '@siyu-pulse/contracts/catalogue';
import { outrunOf } from '@siyu-pulse/contracts/catalogue';
import type { ReportChart, ReportMetric } from '@siyu-pulse/contracts/reports';
import { formatAgainst, formatChange, formatKpi as formatValue, type Lang } from '@siyu-pulse/contracts/format';
import type { Reader } from './reader.js';

export type Value = number | null;
export interface Pair {
  value: Value;
  previous: Value;
}

export const lbl = (zh: string, en: string): Label => ({ zh, en });

export function relativeChange(value: Value, previous: Value): Value {
  if (value === null || previous === null || previous === 0) return null;
  return (value - previous) / Math.abs(previous);
}

export function toneOf(good: KpiDef['good'] | 'neutral', change: Value): ReportMetric['tone'] {
  if (change === null || change === 0 || good === 'neutral') return 'neutral';
  return change > 0 === (good === 'up') ? 'good' : 'bad';
}

/** Whether a week's value meets a target, by the KPI's good direction. */
export function attains(def: Pick<KpiDef, 'good'>, value: Value, target: number): boolean | undefined {
  if (value === null) return undefined;
  return def.good === 'down' ? value <= target : value >= target;
}

/** Label of a figure computed from daily values. */
export const dailyLabel = (l: Label): Label => lbl(`${l.zh}（日均）`, `${l.en} (daily average)`);
/** Label of a month-level KPI read on the week's last day. */
export const asOfLabel = (l: Label): Label => lbl(`${l.zh}（截至周末）`, `${l.en} (as of the week's end)`);
/** The label a KPI's week figure gets (see the header: how each kind is read). */
export const weekLabelOf = (def: KpiDef): Label | undefined => (isSpan(def) ? asOfLabel(def.label) : usesDistinct(def) ? dailyLabel(def.label) : undefined);

export function kpiMetric(def: KpiDef, p: Pair, opts: { label?: Label; target?: number } = {}): ReportMetric {
  const change = relativeChange(p.value, p.previous);
  const m: ReportMetric = { kpi: def.id, label: opts.label ?? def.label, unit: def.unit, value: p.value, previous: p.previous, change, tone: toneOf(def.good, change) };
  const outrun = outrunOf(def, p.value);
  if (outrun) m.outrun = outrun;
  if (opts.target !== undefined) {
    m.target = opts.target;
    // A share over 100% is a data gap: it neither meets nor misses a target.
    const a = outrun ? undefined : attains(def, p.value, opts.target);
    if (a !== undefined) m.attained = a;
  }
  return m;
}

/** A catalogue KPI's metric for the week, daily-based when it must be; null when not in the catalogue. */
export async function metricOf(r: Reader, id: string): Promise<{ def: KpiDef; metric: ReportMetric; days?: number } | null> {
  const def = r.kpi(id);
  if (!def) return null;
  const p = await r.pair(def);
  const target = r.targetOf(def);
  const label = weekLabelOf(def);
  const metric = kpiMetric(def, p, { ...(label ? { label } : {}), ...(target !== undefined ? { target } : {}) });
  return { def, metric, ...(p.days !== undefined ? { days: p.days } : {}) };
}

export type Found = NonNullable<Awaited<ReturnType<typeof metricOf>>>;

export async function metricsOf(r: Reader, ids: string[]): Promise<Map<string, Found>> {
  const found = await Promise.all(ids.map((id) => metricOf(r, id)));
  return new Map(found.filter((f): f is Found => f !== null).map((f) => [f.def.id, f]));
}

/** The metric's value as text. */
export const v = (m: ReportMetric | undefined, lang: Lang) => (m ? formatValue(m.value, m.unit, lang) : '—');

/** "，环比 −8.2%" / ", −8.2% week over week"; says so when the week before has nothing to compare. */
export function wow(m: ReportMetric | undefined, lang: Lang): string {
  if (!m) return '';
  if (m.change !== null) {
    const c = formatChange(m.change);
    if (c === '0.0%') return lang === 'zh' ? '，环比持平' : ', flat week over week';
    return lang === 'zh' ? `，环比 ${c}` : `, ${c} week over week`;
  }
  if (m.value === null) return '';
  if (m.previous === null) return lang === 'zh' ? '，上周无数据' : ', no data the week before';
  if (m.previous === 0) return lang === 'zh' ? '，上周为 0' : ', zero the week before';
  return '';
}

/** "，达到目标 5.2%" / "，未达到目标 5.2%" (or for lower-is-better KPIs "，在目标 15.0% 以内" / "，超过目标 15.0%"). */
export function vsTarget(def: KpiDef, m: ReportMetric | undefined, lang: Lang): string {
  if (!m || m.target === undefined || m.attained === undefined) return '';
  const [, t] = formatAgainst(m.value, m.target, m.unit, lang);
  if (def.good === 'down') {
    if (lang === 'zh') return m.attained ? `，在目标 ${t} 以内` : `，超过目标 ${t}`;
    return m.attained ? `, within the ${t} target` : `, above the ${t} target`;
  }
  if (lang === 'zh') return m.attained ? `，达到目标 ${t}` : `，未达到目标 ${t}`;
  return m.attained ? `, meeting the ${t} target` : `, below the ${t} target`;
}

/** The value as text, precise enough to differ from its target when it misses it narrowly. */
export function vt(m: ReportMetric | undefined, lang: Lang): string {
  if (!m) return '—';
  return m.target === undefined ? v(m, lang) : formatAgainst(m.value, m.target, m.unit, lang)[0];
}

/** How a daily-based figure was computed: "（每天互动 ÷ 当天活跃成员，7 天平均）". */
export function dailyHow(zhWhat: string, enWhat: string, days: number | undefined, lang: Lang): string {
  const n = days ?? 7;
  return lang === 'zh' ? `（每天${zhWhat} ÷ 当天活跃成员，${n} 天平均）` : ` (each day's ${enWhat} ÷ that day's active members, averaged over ${n} days)`;
}

export function dailyChart(r: Reader, unit: KpiUnit, label: Label, series: { name: Label; values: Value[] }[]): ReportChart {
  return { kind: 'daily', unit, label, days: r.days(), series };
}

export const sentence = (parts: string[], lang: Lang) => (lang === 'zh' ? parts.join('') : parts.filter(Boolean).join(' '));
