/**
 * The page's display model, built from the fetched answers: which series are shown (top N
 * per KPI), their names, colours and axes, the aligned comparison, the summary row of each
 * series, the alert markers and the CSV columns. Pure: the components only render it.
 */
import type { KpiDef, KpiUnit } from '@siyu-pulse/contracts/catalogue';
import type { AlertRow } from '@siyu-pulse/contracts/alerts';
import type { ChangeTone } from '../kpi';
import type { Lang } from '@siyu-pulse/contracts/format';
import { channelLabel } from '../wall/channels';
import { UNIT_HEADER, type CsvColumn } from './csv';
import { additiveValues, alignComparison, changeSummary, hasData, isAdditive, tagKey, topSeries, type Point, type RangeValues, type SeriesAnswer, type Tags } from './series';
import type { CompareMode, Dim, TrendsState } from './state';
import { outrunOf, type Outrun } from '@siyu-pulse/contracts/catalogue';

export const TOP_N = 8;

/** Distinct on a light background, colour-blind-friendlier order first. */
export const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626', '#475569', '#a16207'];

export interface KpiResult {
  def: KpiDef;
  current: SeriesAnswer;
  /** The same query one comparison shift earlier, or null when compare is off. */
  comparison: SeriesAnswer | null;
  shift: number;
  /** Range values of the current / comparison window (see series.ts for how). */
  range: RangeValues;
  compareRange: RangeValues | null;
  alerts: AlertRow[];
}

export interface ShownSeries {
  id: string;
  kpi: string;
  unit: KpiUnit;
  good: KpiDef['good'];
  axis: number;
  color: string;
  name: string;
  tags: Tags;
  points: Point[];
  /** On the current time axis: `[ts, value, original ts]`. */
  comparison: [number, number | null, number][] | null;
  value: number | null;
  /** Why `value` is missing when it is. */
  valueNote: 'unaligned' | 'refused' | null;
  valueDetail?: string;
  compareValue: number | null;
  change: { text: string; tone: ChangeTone; change: number | null } | null;
  additive: boolean;
  /** Ratios: points with fewer than `thinBelow` denominator events (drawn, not to be read as rates). */
  thinPoints: number;
  thinBelow: number | null;
  /** Their timestamps, so the chart can draw them hollow and say so in the tooltip. */
  thinTs: number[];
  /** Share KPIs: points over 100% in the range. */
  outrunPoints: number;
  /** Their timestamps: drawn as warnings on the chart, never as plain business figures. */
  outrunTs: number[];
  /** The range value is over 100% (or some points are): which counter is missing. */
  outrun: Outrun | null;
}

export interface AlertMarker {
  ts: number;
  state: 'firing' | 'resolved' | 'flapping';
  kpi: string;
  axis: number;
  rule: string;
  split: string;
  value: number | null;
  unit: KpiUnit;
  summary: string;
}

export interface TargetLine {
  kpi: string;
  axis: number;
  value: number;
  seriesId: string;
}

export interface TrendsModel {
  series: ShownSeries[];
  hidden: { kpi: string; name: string }[];
  /** One y axis per unit, in order of first use (at most two). */
  units: KpiUnit[];
  from: number;
  to: number;
  targets: TargetLine[];
  alerts: AlertMarker[];
  /** Nothing to draw: no series, or every value null / 0. */
  empty: boolean;
  /** The comparison window (of the first KPI), when compare is on. */
  compareWindow: { from: number; to: number } | null;
}

export interface ModelTexts {
  lang: Lang;
  /** A split value nobody tagged (''). */
  untagged: string;
  compareSuffix: Record<CompareMode, string>;
  /** 社群 names by id (from /api/v1/communities/names); an id without one shows as itself. */
  communityNames?: ReadonlyMap<string, string>;
}

export function splitValueLabel(dim: Dim, value: string, texts: Pick<ModelTexts, 'lang' | 'untagged' | 'communityNames'>): string {
  if (value === '') return texts.untagged;
  if (dim === 'community') return texts.communityNames?.get(value) ?? value;
  return dim === 'channel' ? channelLabel(value)[texts.lang] : value;
}

export function seriesName(def: KpiDef, tags: Tags, state: Pick<TrendsState, 'by' | 'filter'>, texts: Pick<ModelTexts, 'lang' | 'untagged' | 'communityNames'>): string {
  const base = def.label[texts.lang];
  if (state.by) return `${base} · ${splitValueLabel(state.by, tags[state.by] ?? '', texts)}`;
  if (state.filter) return `${base} · ${splitValueLabel(state.filter.dim, state.filter.value, texts)}`;
  return base;
}

const ALERT_STATES = new Set(['firing', 'resolved', 'flapping']);

export function buildModel(results: readonly KpiResult[], state: Pick<TrendsState, 'by' | 'filter' | 'compare'>, texts: ModelTexts): TrendsModel {
  const units: KpiUnit[] = [];
  for (const r of results) if (!units.includes(r.def.unit)) units.push(r.def.unit);
  const axisOf = (u: KpiUnit) => Math.max(0, units.indexOf(u));

  const series: ShownSeries[] = [];
  const hidden: TrendsModel['hidden'] = [];
  const targets: TargetLine[] = [];
  const alerts: AlertMarker[] = [];
  let colour = 0;
  for (const r of results) {
    const additive = isAdditive(r.def);
    const range = additive ? additiveValues(r.current) : r.range;
    const cmpRange = r.comparison ? (additive ? additiveValues(r.comparison) : r.compareRange) : null;
    const rangeOf = (rv: RangeValues | null, key: string) => (rv && rv.ok ? (rv.values.get(key) ?? null) : null);
    const { shown, hidden: rest } = topSeries(r.current, additive, TOP_N, (k) => rangeOf(range, k));
    const cmpByKey = new Map((r.comparison?.series ?? []).map((s) => [tagKey(s.tags), s.points]));
    const rawByKey = new Map(r.current.series.map((s) => [tagKey(s.tags), s]));
    for (const s of shown) {
      const value = rangeOf(range, s.key);
      const compareValue = r.comparison ? rangeOf(cmpRange, s.key) : null;
      const id = `${r.def.id}|${s.key}`;
      series.push({
        id,
        kpi: r.def.id,
        unit: r.def.unit,
        good: r.def.good,
        axis: axisOf(r.def.unit),
        color: PALETTE[colour++ % PALETTE.length]!,
        name: seriesName(r.def, s.tags, state, texts),
        tags: s.tags,
        points: s.points,
        comparison: r.comparison ? alignComparison(s.points, cmpByKey.get(s.key), r.shift) : null,
        value,
        valueNote: range.ok ? null : range.why,
        ...(range.ok || range.detail === undefined ? {} : { valueDetail: range.detail }),
        compareValue,
        change: r.comparison ? changeSummary(value, compareValue, r.def.good) : null,
        additive,
        thinPoints: rawByKey.get(s.key)?.thin?.length ?? 0,
        thinBelow: r.current.thinBelow ?? null,
        thinTs: rawByKey.get(s.key)?.thin ?? [],
        outrunPoints: rawByKey.get(s.key)?.outruns?.length ?? 0,
        outrunTs: rawByKey.get(s.key)?.outruns ?? [],
        outrun: outrunOf(r.def, value) ?? (rawByKey.get(s.key)?.outruns?.length ? (r.current.outrun ?? null) : null),
      });
    }
    for (const s of rest) hidden.push({ kpi: r.def.id, name: seriesName(r.def, s.tags, state, texts) });
    const firstOfKpi = series.find((s) => s.kpi === r.def.id);
    // Filtered to one channel: that channel's own target when configured.
    const channelTargets = (r.def as KpiDef & { channelTargets?: Record<string, number> }).channelTargets;
    const target = state.filter?.dim === 'channel' ? (channelTargets?.[state.filter.value] ?? r.def.target) : r.def.target;
    if (target !== undefined && firstOfKpi) targets.push({ kpi: r.def.id, axis: axisOf(r.def.unit), value: target, seriesId: firstOfKpi.id });

    for (const a of r.alerts) {
      if (!ALERT_STATES.has(a.state) || a.ts < r.current.from || a.ts >= r.current.to) continue;
      // With a filter, only the filtered value's alerts and the total's belong on this chart.
      if (state.filter && a.splitDim !== '' && (a.splitDim !== state.filter.dim || a.splitValue !== state.filter.value)) continue;
      alerts.push({
        ts: a.ts,
        state: a.state as AlertMarker['state'],
        kpi: a.kpi,
        axis: axisOf(r.def.unit),
        rule: a.ruleName || a.ruleId,
        split: a.splitDim ? splitValueLabel(a.splitDim as Dim, a.splitValue, texts) : '',
        value: a.value,
        unit: r.def.unit,
        summary: a.summary,
      });
    }
  }
  alerts.sort((a, b) => a.ts - b.ts);
  const from = results.length ? Math.min(...results.map((r) => r.current.from)) : 0;
  const to = results.length ? Math.max(...results.map((r) => r.current.to)) : 0;
  const cmp = results.find((r) => r.comparison)?.comparison;
  const compareWindow = cmp ? { from: cmp.from, to: cmp.to } : null;
  return { series, hidden, units, from, to, targets, alerts, empty: !series.some((s) => hasData(s.points)), compareWindow };
}

/** CSV columns for the shown series (and their comparison, when on), full fetched range. */
export function csvColumns(model: TrendsModel, texts: ModelTexts, compare: CompareMode | null): CsvColumn[] {
  const cols: CsvColumn[] = [];
  for (const s of model.series) {
    const header = `${s.name}${UNIT_HEADER[s.unit][texts.lang]}`;
    cols.push({ header, unit: s.unit, values: new Map(s.points) });
    if (s.comparison && compare) {
      cols.push({ header: `${header} · ${texts.compareSuffix[compare]}`, unit: s.unit, values: new Map(s.comparison.map(([ts, v]) => [ts, v])) });
    }
  }
  return cols;
}
