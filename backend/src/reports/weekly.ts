/**
 * The weekly report (数据周报): nine sections for one Monday–Sunday of the business time
 * zone, each compared with the week before. Every KPI number is read through SeriesService,
 * the logic behind `/api/v1/series`, so it equals what the history API answers by
 * construction:
 * - counts and money: the week's sum (`step=all`, which equals the sum of the daily points);
 * - ratios and quantiles: `step=all`, one Σ÷Σ over the whole week;
 * - KPIs with a distinct count (active members, churn rate, interactions per active member,
 *   …) cannot be added up across days, so their weekly figure is the mean of the daily
 *   values (`step=1d`) over the days that have data, labelled 日均 / daily average;
 * - month-level KPIs (月活, 人均互动频次（月）, 留存率, 复购率: each day's value already covers
 *   the 7 or 30 days ending with it) are read as of the week's last day with data
 *   (`step=1d`, the last point), labelled 截至周末 / as of the week's end.
 * Alerts come from the store's alert events (what `/api/v1/alerts/history` serves).
 * Findings are sentences built from these numbers only.
 */
import { channelLabel } from '../catalogue/channels.js';
import { EVENT_TYPES, countCounterOf } from '../catalogue/events.js';
import { KPIS, isSpan, usesDistinct, type KpiDef, type KpiUnit, type Label } from '../catalogue/kpis.js';
import type { SeriesService } from '../query/series.js';
import type { AlertRow, MetricStore } from '../store/port.js';
import { HOUR, alignmentOffset } from '../time/zone.js';
import type { ReportChart, ReportMetric, ReportSection, ReportTable, WeeklyReport } from './contract.js';
import { formatAgainst, formatChange, formatPercent, formatSigned, formatValue, type Lang } from './format.js';
import { addDays, localDate, previousWeek, weekId, weekLabel, type Week } from './week.js';
import { outrunOf } from '../catalogue/outrun.js';

/** One count per event type: any event shows in one of them (amounts and latencies come with a count). */
const EVENT_COUNTS = EVENT_TYPES.map(countCounterOf);

export interface WeeklyReportInput {
  series: SeriesService;
  store: MetricStore;
  /** The KPI catalogue with its targets (default: the built-in catalogue). */
  catalogue?: readonly KpiDef[];
  /** Targets that override the catalogue's: KPI id → target in the KPI's unit. */
  targets?: Readonly<Record<string, number>>;
  timezone: string;
  /** Monday 00:00 of the report's week (business time zone), epoch ms. */
  weekStart: number;
  now: number;
  trigger: WeeklyReport['trigger'];
  /** Prefix of the trends links ('' keeps them relative, as the contract says). */
  linkBase?: string;
}

/**
 * A week is partial when it has a run of at least this many hours without a single event:
 * a quiet night of a small business is normal, but six hours of nothing means the system
 * was not collecting (not yet installed, down, producers disconnected).
 */
export const PARTIAL_GAP_HOURS = 6;
/** Alert events read per week (the history API's own maximum). */
export const ALERT_EVENT_LIMIT = 5000;

type Value = number | null;
interface Pair {
  value: Value;
  previous: Value;
}

const lbl = (zh: string, en: string): Label => ({ zh, en });

export function relativeChange(value: Value, previous: Value): Value {
  if (value === null || previous === null || previous === 0) return null;
  return (value - previous) / Math.abs(previous);
}

function toneOf(good: KpiDef['good'] | 'neutral', change: Value): ReportMetric['tone'] {
  if (change === null || change === 0 || good === 'neutral') return 'neutral';
  return change > 0 === (good === 'up') ? 'good' : 'bad';
}

/** Whether a week's value meets a target, by the KPI's good direction. */
export function attains(def: Pick<KpiDef, 'good'>, value: Value, target: number): boolean | undefined {
  if (value === null) return undefined;
  return def.good === 'down' ? value <= target : value >= target;
}

/** Label of a figure computed from daily values. */
const dailyLabel = (l: Label): Label => lbl(`${l.zh}（日均）`, `${l.en} (daily average)`);
/** Label of a month-level KPI read on the week's last day. */
const asOfLabel = (l: Label): Label => lbl(`${l.zh}（截至周末）`, `${l.en} (as of the week's end)`);
/** The label a KPI's week figure gets (see the header: how each kind is read). */
const weekLabelOf = (def: KpiDef): Label | undefined => (isSpan(def) ? asOfLabel(def.label) : usesDistinct(def) ? dailyLabel(def.label) : undefined);

export async function generateWeeklyReport(input: WeeklyReportInput): Promise<WeeklyReport> {
  const tz = input.timezone;
  const week: Week = { from: input.weekStart, to: addDays(input.weekStart, 7, tz) };
  const prev = previousWeek(week, tz);
  const r = new Reader(input, week, prev);
  const [coverage, previousCoverage] = await Promise.all([r.coverage(week), r.coverage(prev)]);
  const partial = coverage.longestGapHours >= PARTIAL_GAP_HOURS;
  const previousPartial = previousCoverage.longestGapHours >= PARTIAL_GAP_HOURS;

  // Sections read independently (a store that answers in parallel, InfluxDB, is used so).
  const sections = (
    await Promise.all([
      scale(r, { partial, coverage, previousPartial }),
      interaction(r),
      reach(r),
      funnel(r),
      value(r),
      retention(r),
      channels(r),
      alerts(r),
      targets(r),
    ])
  ).filter((s): s is ReportSection => s !== null);

  return {
    id: weekId(week.from, tz),
    kind: 'weekly',
    timezone: tz,
    week: { ...week, label: weekLabel(week, tz) },
    previousWeek: { ...prev, label: weekLabel(prev, tz) },
    generatedAt: input.now,
    trigger: input.trigger,
    partial,
    sections,
    delivery: [],
  };
}

// ── reading ────────────────────────────────────────────────────────────────────────────

interface Coverage {
  hours: number;
  hoursWithData: number;
  longestGapHours: number;
}

/** Reads KPI values for the report's week and the week before through SeriesService. */
class Reader {
  readonly tz: string;
  private readonly kpis: Map<string, KpiDef>;
  private readonly targetOverrides: Readonly<Record<string, number>>;

  constructor(
    readonly input: WeeklyReportInput,
    readonly week: Week,
    readonly prev: Week,
  ) {
    this.tz = input.timezone;
    this.kpis = new Map((input.catalogue ?? KPIS).map((k) => [k.id, k]));
    this.targetOverrides = input.targets ?? {};
  }

  /** A KPI of the catalogue, or undefined (a catalogue without it: the metric is left out). */
  kpi(id: string): KpiDef | undefined {
    return this.kpis.get(id);
  }

  catalogue(): KpiDef[] {
    return [...this.kpis.values()];
  }

  targetOf(def: KpiDef): number | undefined {
    return Object.prototype.hasOwnProperty.call(this.targetOverrides, def.id) ? this.targetOverrides[def.id] : def.target;
  }

  /** One Σ÷Σ value over the week (step=all), total or per channel. */
  async whole(kpi: string, w: Week): Promise<Value> {
    const res = await this.input.series.series({ kpi, from: String(w.from), to: String(w.to), step: 'all', filter: {} });
    return res.series[0]?.points[0]?.[1] ?? null;
  }

  async wholeByChannel(kpi: string, w: Week): Promise<Map<string, Value>> {
    const res = await this.input.series.series({ kpi, from: String(w.from), to: String(w.to), step: 'all', by: 'channel', filter: {} });
    return new Map(res.series.map((s) => [s.tags.channel ?? '', s.points[0]?.[1] ?? null]));
  }

  /** The seven daily values (step=1d, local days). */
  async daily(kpi: string, w: Week): Promise<Value[]> {
    const res = await this.input.series.series({ kpi, from: String(w.from), to: String(w.to), step: '1d', filter: {} });
    return (res.series[0]?.points ?? []).map(([, v]) => v);
  }

  /**
   * The week's figure for a KPI: Σ÷Σ over the week, or for distinct-based KPIs the mean of
   * the daily values over the days with data (a day without any active member has none).
   */
  async weekValue(def: KpiDef, w: Week): Promise<{ value: Value; days?: number }> {
    if (!usesDistinct(def)) return { value: await this.whole(def.id, w) };
    if (isSpan(def)) {
      // Each day's value covers the days ending with it: the week's is its last day with data.
      const last = (await this.daily(def.id, w)).filter((v): v is number => v !== null).pop();
      return { value: last ?? null };
    }
    const days = (await this.daily(def.id, w)).filter((v): v is number => v !== null && (def.formula.kind !== 'distinct' || v > 0));
    return { value: days.length ? days.reduce((a, b) => a + b, 0) / days.length : null, days: days.length };
  }

  async pair(def: KpiDef): Promise<Pair & { days?: number }> {
    const [cur, before] = await Promise.all([this.weekValue(def, this.week), this.weekValue(def, this.prev)]);
    return { value: cur.value, previous: before.value, ...(cur.days !== undefined ? { days: cur.days } : {}) };
  }

  /** Hours of the week with any counter data, and the longest run of empty hours. */
  async coverage(w: Week): Promise<Coverage> {
    const [series] = await this.input.store.queryCounters({
      from: w.from, to: w.to, stepMs: HOUR, offsetMs: alignmentOffset(HOUR, this.tz, w.from), counters: EVENT_COUNTS, by: [], filter: {},
    });
    const withData = new Set((series?.points ?? []).filter((p) => Object.values(p.sums).some((v) => v > 0)).map((p) => p.ts));
    let longest = 0;
    let run = 0;
    let hours = 0;
    for (let t = w.from; t < w.to; t += HOUR) {
      hours++;
      run = withData.has(t) ? 0 : run + 1;
      longest = Math.max(longest, run);
    }
    return { hours, hoursWithData: withData.size, longestGapHours: longest };
  }

  async alertEvents(w: Week): Promise<AlertRow[]> {
    return this.input.store.queryAlertEvents({ from: w.from, to: w.to, limit: ALERT_EVENT_LIMIT });
  }

  /** `MM-DD` of each day of the report's week. */
  days(): string[] {
    return Array.from({ length: 7 }, (_, i) => {
      const d = localDate(addDays(this.week.from, i, this.tz), this.tz);
      return `${String(d.m).padStart(2, '0')}-${String(d.d).padStart(2, '0')}`;
    });
  }

  /** Trends page deep link for the week, compared with the week before. */
  link(kpis: string[], extra: Record<string, string> = {}): string {
    const q = [`kpi=${kpis.map(encodeURIComponent).join(',')}`, `from=${this.week.from}`, `to=${this.week.to}`, 'compare=prev'];
    for (const [k, v] of Object.entries(extra)) q.push(`${k}=${encodeURIComponent(v)}`);
    return `${this.input.linkBase ?? ''}/trends?${q.join('&')}`;
  }
}

// ── building blocks ──────────────────────────────────────────────────────────────────────

function kpiMetric(def: KpiDef, p: Pair, opts: { label?: Label; target?: number } = {}): ReportMetric {
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
async function metricOf(r: Reader, id: string): Promise<{ def: KpiDef; metric: ReportMetric; days?: number } | null> {
  const def = r.kpi(id);
  if (!def) return null;
  const p = await r.pair(def);
  const target = r.targetOf(def);
  const label = weekLabelOf(def);
  const metric = kpiMetric(def, p, { ...(label ? { label } : {}), ...(target !== undefined ? { target } : {}) });
  return { def, metric, ...(p.days !== undefined ? { days: p.days } : {}) };
}

type Found = NonNullable<Awaited<ReturnType<typeof metricOf>>>;

async function metricsOf(r: Reader, ids: string[]): Promise<Map<string, Found>> {
  const found = await Promise.all(ids.map((id) => metricOf(r, id)));
  return new Map(found.filter((f): f is Found => f !== null).map((f) => [f.def.id, f]));
}

/** The metric's value as text. */
const v = (m: ReportMetric | undefined, lang: Lang) => (m ? formatValue(m.value, m.unit, lang) : '—');

/** "，环比 −8.2%" / ", −8.2% week over week"; says so when the week before has nothing to compare. */
function wow(m: ReportMetric | undefined, lang: Lang): string {
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
function vsTarget(def: KpiDef, m: ReportMetric | undefined, lang: Lang): string {
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
function vt(m: ReportMetric | undefined, lang: Lang): string {
  if (!m) return '—';
  return m.target === undefined ? v(m, lang) : formatAgainst(m.value, m.target, m.unit, lang)[0];
}

/** How a daily-based figure was computed: "（每天互动 ÷ 当天活跃成员，7 天平均）". */
function dailyHow(zhWhat: string, enWhat: string, days: number | undefined, lang: Lang): string {
  const n = days ?? 7;
  return lang === 'zh' ? `（每天${zhWhat} ÷ 当天活跃成员，${n} 天平均）` : ` (each day's ${enWhat} ÷ that day's active members, averaged over ${n} days)`;
}

function dailyChart(r: Reader, unit: KpiUnit, label: Label, series: { name: Label; values: Value[] }[]): ReportChart {
  return { kind: 'daily', unit, label, days: r.days(), series };
}

const sentence = (parts: string[], lang: Lang) => (lang === 'zh' ? parts.join('') : parts.filter(Boolean).join(' '));

// ── sections ───────────────────────────────────────────────────────────────────────────

async function scale(r: Reader, c: { partial: boolean; coverage: Coverage; previousPartial: boolean }): Promise<ReportSection> {
  const ms = await metricsOf(r, ['new_members', 'lost_members', 'net_growth', 'active_members', 'active_members_30d']);
  const [joins, leaves, net] = await Promise.all(['new_members', 'lost_members', 'net_growth'].map((id) => (r.kpi(id) ? r.daily(id, r.week) : Promise.resolve([]))));
  const n = ms.get('new_members')?.metric;
  const l = ms.get('lost_members')?.metric;
  const g = ms.get('net_growth')?.metric;
  const a = ms.get('active_members');
  const mau = ms.get('active_members_30d')?.metric;
  const gap = c.coverage.hours - c.coverage.hoursWithData;
  const netZh = g?.value === null || g === undefined ? '' : g.value < 0 ? `；净减少 ${formatValue(-g.value, 'count', 'zh')}` : `；净增 ${v(g, 'zh')}`;
  const activeDays = (lang: Lang) => (a?.days !== undefined && a.days < 7 ? (lang === 'zh' ? `（${a.days} 天平均）` : ` (over ${a.days} days)`) : '');
  const finding = (lang: Lang) =>
    sentence(
      lang === 'zh'
        ? [
            c.partial ? `注意：本周有 ${gap} 小时没有任何数据（如系统刚上线或采集中断），以下数字只覆盖有数据的时段。` : '',
            `新增成员 ${v(n, 'zh')}${wow(n, 'zh')}；流失 ${v(l, 'zh')}${wow(l, 'zh')}${netZh}。`,
            a ? `日均活跃成员 ${v(a.metric, 'zh')}${activeDays('zh')}${wow(a.metric, 'zh')}。` : '',
            mau && mau.value !== null ? `月活（截至周末的 30 天）${v(mau, 'zh')}${wow(mau, 'zh')}。` : '',
            c.previousPartial && !c.partial ? '上周数据不完整，环比仅供参考。' : '',
          ]
        : [
            c.partial ? `Note: ${gap} hours of this week have no data at all (a new install or a collection gap); the figures cover only the time with data.` : '',
            `New members ${v(n, 'en')}${wow(n, 'en')}; lost ${v(l, 'en')}${wow(l, 'en')}; net ${formatSigned(g?.value, 'count', 'en')}.`,
            a ? `Daily active members averaged ${v(a.metric, 'en')}${activeDays('en')}${wow(a.metric, 'en')}.` : '',
            mau && mau.value !== null ? `30-day active members ${v(mau, 'en')} as of the week's end${wow(mau, 'en')}.` : '',
            c.previousPartial && !c.partial ? 'The week before is incomplete: treat the comparison with care.' : '',
          ],
      lang,
    );
  return {
    id: 'scale',
    title: lbl('用户规模', 'Scale and growth'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: dailyChart(r, 'count', lbl('每日新增 / 流失 / 净增', 'Daily joined / left / net'), [
      { name: lbl('新增', 'Joined'), values: joins ?? [] },
      { name: lbl('流失', 'Left'), values: leaves ?? [] },
      { name: lbl('净增', 'Net'), values: net ?? [] },
    ]),
    link: r.link(['new_members', 'lost_members', 'net_growth'], { step: '1d' }),
  };
}

async function interaction(r: Reader): Promise<ReportSection> {
  const ms = await metricsOf(r, ['messages', 'interactions', 'interactions_per_active', 'interactions_per_member_month']);
  const [messages, interactions] = await Promise.all(['messages', 'interactions'].map((id) => (r.kpi(id) ? r.daily(id, r.week) : Promise.resolve([]))));
  const m = ms.get('messages')?.metric;
  const i = ms.get('interactions')?.metric;
  const per = ms.get('interactions_per_active');
  const month = ms.get('interactions_per_member_month');
  const finding = (lang: Lang) =>
    lang === 'zh'
      ? `消息 ${v(m, 'zh')}${wow(m, 'zh')}；互动 ${v(i, 'zh')}${wow(i, 'zh')}。` +
        (per ? `人均互动日均 ${vt(per.metric, 'zh')}${dailyHow('互动', 'interactions', per.days, 'zh')}${wow(per.metric, 'zh')}${vsTarget(per.def, per.metric, 'zh')}。` : '') +
        (month && month.metric.value !== null ? `人均互动频次（月）${vt(month.metric, 'zh')}（截至周末的 30 天互动 ÷ 月活）${wow(month.metric, 'zh')}${vsTarget(month.def, month.metric, 'zh')}。` : '')
      : `Messages ${v(m, 'en')}${wow(m, 'en')}; interactions ${v(i, 'en')}${wow(i, 'en')}.` +
        (per ? ` Interactions per active member averaged ${vt(per.metric, 'en')} a day${dailyHow('interactions', 'interactions', per.days, 'en')}${wow(per.metric, 'en')}${vsTarget(per.def, per.metric, 'en')}.` : '') +
        (month && month.metric.value !== null ? ` Interactions per member over the 30 days to the week's end: ${vt(month.metric, 'en')} (÷ 30-day active members)${wow(month.metric, 'en')}${vsTarget(month.def, month.metric, 'en')}.` : '');
  return {
    id: 'interaction',
    title: lbl('互动深度', 'Interaction depth'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: dailyChart(r, 'count', lbl('每日消息 / 互动', 'Daily messages / interactions'), [
      { name: lbl('消息', 'Messages'), values: messages ?? [] },
      { name: lbl('互动', 'Interactions'), values: interactions ?? [] },
    ]),
    link: r.link(['messages', 'interactions', 'interactions_per_active', 'interactions_per_member_month'], { step: '1d' }),
  };
}

async function reach(r: Reader): Promise<ReportSection | null> {
  const ms = await metricsOf(r, ['push_open_rate', 'push_click_rate']);
  const open = ms.get('push_open_rate')?.metric;
  const click = ms.get('push_click_rate')?.metric;
  if (!open && !click) return null;
  const per = async (id: string) => (r.kpi(id) ? Promise.all([r.wholeByChannel(id, r.week), r.wholeByChannel(id, r.prev)]) : [new Map<string, Value>(), new Map<string, Value>()]);
  const [[openNow, openBefore], [clickNow, clickBefore]] = await Promise.all([per('push_open_rate'), per('push_click_rate')]);
  const rows = [...new Set([...openNow.keys(), ...clickNow.keys()])]
    .map((ch) => ({ ch, open: openNow.get(ch) ?? null, click: clickNow.get(ch) ?? null, openPrev: openBefore.get(ch) ?? null, clickPrev: clickBefore.get(ch) ?? null }))
    .filter((x) => x.open !== null || x.click !== null)
    .sort((a, b) => (b.open ?? -1) - (a.open ?? -1) || a.ch.localeCompare(b.ch));
  const table: ReportTable = {
    columns: [lbl('渠道', 'Channel'), lbl('打开率', 'Open rate'), lbl('打开率环比', 'Open rate WoW'), lbl('点击率', 'Click rate'), lbl('点击率环比', 'Click rate WoW')],
    units: ['text', 'percent', 'percent', 'percent', 'percent'],
    rows: rows.map((x) => [zhName(x.ch), x.open, relativeChange(x.open, x.openPrev), x.click, relativeChange(x.click, x.clickPrev)]),
  };
  const ranked = rows.filter((x) => x.open !== null);
  const best = ranked[0];
  const worst = ranked.length > 1 ? ranked[ranked.length - 1] : undefined;
  const finding = (lang: Lang) =>
    lang === 'zh'
      ? `推送打开率 ${v(open, 'zh')}${wow(open, 'zh')}；点击率 ${v(click, 'zh')}${wow(click, 'zh')}（全周打开、点击数 ÷ 送达数）。` +
        (best && worst ? `打开率最高的渠道是${zhName(best.ch)}（${formatPercent(best.open)}），最低是${zhName(worst.ch)}（${formatPercent(worst.open)}）。` : '')
      : `Push open rate ${v(open, 'en')}${wow(open, 'en')}; click rate ${v(click, 'en')}${wow(click, 'en')} (the week's opens and clicks ÷ deliveries).` +
        (best && worst ? ` Highest open rate: ${enName(best.ch)} (${formatPercent(best.open)}); lowest: ${enName(worst.ch)} (${formatPercent(worst.open)}).` : '');
  return {
    id: 'reach',
    title: lbl('触达效果', 'Reach'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    table,
    chart: { kind: 'bar', unit: 'percent', label: lbl('各渠道推送打开率', 'Push open rate by channel'), categories: rows.map((x) => zhName(x.ch)), values: rows.map((x) => x.open) },
    link: r.link(['push_open_rate', 'push_click_rate'], { by: 'channel' }),
  };
}

const FUNNEL_STEPS = ['view_to_cart_rate', 'cart_to_order_rate', 'order_to_paid_rate'] as const;

/** The funnel step with the lowest pass-through rate (where most are lost), or null. */
export function biggestDropOff(rates: { id: string; rate: Value }[]): { id: string; rate: number } | null {
  let worst: { id: string; rate: number } | null = null;
  for (const s of rates) if (s.rate !== null && (worst === null || s.rate < worst.rate)) worst = { id: s.id, rate: s.rate };
  return worst;
}

async function funnel(r: Reader): Promise<ReportSection | null> {
  const ms = await metricsOf(r, [...FUNNEL_STEPS, 'paid_conversion']);
  const steps = FUNNEL_STEPS.filter((id) => ms.has(id)).map((id) => ({ id, def: ms.get(id)!.def, rate: ms.get(id)!.metric.value }));
  if (!steps.length) return null;
  const drop = biggestDropOff(steps);
  const dropDef = drop ? r.kpi(drop.id)! : null;
  const paid = ms.get('paid_conversion');
  const finding = (lang: Lang) =>
    lang === 'zh'
      ? (drop && dropDef ? `流失最大的环节是「${dropDef.label.zh}」：只有 ${formatPercent(drop.rate)} 进入下一步。` : '本周漏斗没有数据。') +
        (paid ? `整体支付转化率 ${vt(paid.metric, 'zh')}${wow(paid.metric, 'zh')}${vsTarget(paid.def, paid.metric, 'zh')}。` : '')
      : (drop && dropDef ? `The biggest drop-off is ${dropDef.label.en}: only ${formatPercent(drop.rate)} go on to the next step.` : 'No funnel data this week.') +
        (paid ? ` Overall paid conversion ${vt(paid.metric, 'en')}${wow(paid.metric, 'en')}${vsTarget(paid.def, paid.metric, 'en')}.` : '');
  return {
    id: 'funnel',
    title: lbl('转化漏斗', 'Conversion funnel'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: { kind: 'funnel', steps: steps.map((s) => ({ label: s.def.label, rate: s.rate })) },
    link: r.link([...steps.map((s) => s.id), ...(paid ? ['paid_conversion'] : [])]),
  };
}

async function value(r: Reader): Promise<ReportSection | null> {
  const ms = await metricsOf(r, ['gmv', 'paid_orders', 'aov', 'spend', 'roas', 'repeat_purchase_rate']);
  if (!ms.size) return null;
  const gmvDaily = r.kpi('gmv') ? await r.daily('gmv', r.week) : [];
  const g = ms.get('gmv')?.metric;
  const o = ms.get('paid_orders')?.metric;
  const a = ms.get('aov')?.metric;
  const s = ms.get('spend')?.metric;
  const roas = ms.get('roas')?.metric;
  const repeat = ms.get('repeat_purchase_rate')?.metric;
  const repeatZh = repeat && repeat.value !== null ? `复购率 ${v(repeat, 'zh')}（截至周末 30 天的付款成员中此前 30 天也付过款的占比）${wow(repeat, 'zh')}。` : '';
  const repeatEn = repeat && repeat.value !== null ? ` Repeat purchase rate ${v(repeat, 'en')} (buyers of the 30 days to the week's end who also paid in the 30 days before)${wow(repeat, 'en')}.` : '';
  return {
    id: 'value',
    title: lbl('价值贡献', 'Value'),
    finding: lbl(
      `成交额 GMV ${v(g, 'zh')}${wow(g, 'zh')}；支付订单 ${v(o, 'zh')} 笔，客单价 ${v(a, 'zh')}${wow(a, 'zh')}。投放花费 ${v(s, 'zh')}，ROAS ${v(roas, 'zh')}${wow(roas, 'zh')}。${repeatZh}`,
      `GMV ${v(g, 'en')}${wow(g, 'en')}; ${v(o, 'en')} paid orders, average order value ${v(a, 'en')}${wow(a, 'en')}. Spend ${v(s, 'en')}, ROAS ${v(roas, 'en')}${wow(roas, 'en')}.${repeatEn}`,
    ),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: dailyChart(r, 'fen', lbl('每日成交额', 'Daily GMV'), [{ name: lbl('成交额', 'GMV'), values: gmvDaily }]),
    link: r.link(['gmv', 'aov', 'roas'], { step: '1d' }),
  };
}

async function retention(r: Reader): Promise<ReportSection | null> {
  const ids = ['churn_rate', 'retention_7d', 'retention_30d', 'push_over_cap_share', 'activity_participation_rate', 'service_resolution_rate', 'service_frt_p50'];
  const ms = await metricsOf(r, ids);
  if (!ms.size) return null;
  const churnDaily = r.kpi('churn_rate') ? await r.daily('churn_rate', r.week) : [];
  const churn = ms.get('churn_rate');
  const kept = [ms.get('retention_7d'), ms.get('retention_30d')].filter((x): x is Found => x !== undefined && x.metric.value !== null);
  const keptText = (lang: Lang) =>
    kept.length
      ? lang === 'zh'
        ? `截至周末：${kept.map((x) => `${x.def.label.zh} ${vt(x.metric, 'zh')}${wow(x.metric, 'zh')}${vsTarget(x.def, x.metric, 'zh')}`).join('；')}（上一期活跃且本期仍活跃的成员 ÷ 上一期活跃成员）。`
        : `As of the week's end: ${kept.map((x) => `${x.def.label.en} ${vt(x.metric, 'en')}${wow(x.metric, 'en')}${vsTarget(x.def, x.metric, 'en')}`).join('; ')} (members active in the period before who are active again ÷ members active in the period before).`
      : '';
  const cap = ms.get('push_over_cap_share');
  const act = ms.get('activity_participation_rate')?.metric;
  const res = ms.get('service_resolution_rate')?.metric;
  const frt = ms.get('service_frt_p50')?.metric;
  const finding = (lang: Lang) =>
    sentence(
      lang === 'zh'
        ? [
            churn ? `流失率日均 ${vt(churn.metric, 'zh')}${dailyHow('流失', 'leavers', churn.days, 'zh')}${wow(churn.metric, 'zh')}${vsTarget(churn.def, churn.metric, 'zh')}。` : '',
            keptText('zh'),
            cap ? `超频触达占比日均 ${vt(cap.metric, 'zh')}${wow(cap.metric, 'zh')}${vsTarget(cap.def, cap.metric, 'zh')}。` : '',
            act ? `活动参与率 ${v(act, 'zh')}${wow(act, 'zh')}。` : '',
            res ? `客服解决率 ${v(res, 'zh')}${wow(res, 'zh')}${frt ? `；首次响应中位数 ${v(frt, 'zh')}` : ''}。` : '',
          ]
        : [
            churn ? `Churn rate averaged ${vt(churn.metric, 'en')} a day${dailyHow('leavers', 'leavers', churn.days, 'en')}${wow(churn.metric, 'en')}${vsTarget(churn.def, churn.metric, 'en')}.` : '',
            keptText('en'),
            cap ? `Over-cap push share averaged ${vt(cap.metric, 'en')} a day${wow(cap.metric, 'en')}${vsTarget(cap.def, cap.metric, 'en')}.` : '',
            act ? `Activity participation ${v(act, 'en')}${wow(act, 'en')}.` : '',
            res ? `Service resolution ${v(res, 'en')}${wow(res, 'en')}${frt ? `; median first response ${v(frt, 'en')}` : ''}.` : '',
          ],
      lang,
    );
  return {
    id: 'retention',
    title: lbl('留存质量', 'Retention'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: dailyChart(r, 'percent', lbl('每日流失率', 'Daily churn rate'), [{ name: lbl('流失率', 'Churn rate'), values: churnDaily }]),
    link: r.link(['churn_rate', 'retention_7d', 'retention_30d', 'activity_participation_rate'], { step: '1d' }),
  };
}

/** Channel names as the wall shows them (企业微信 …); tables and charts use the Chinese one. */
const zhName = (id: string) => channelLabel(id).zh;
const enName = (id: string) => channelLabel(id).en;

interface ChannelRow {
  ch: string;
  gmv: number;
  before: number;
  delta: number;
  change: Value;
}

/** Channels by GMV (highest first) with their change; movers by the change in money. */
export function rankChannels(now: Map<string, Value>, before: Map<string, Value>): { rows: ChannelRow[]; best: ChannelRow | null; worst: ChannelRow | null } {
  const rows = [...new Set([...now.keys(), ...before.keys()])]
    .map((ch) => {
      const gmv = now.get(ch) ?? 0;
      const b = before.get(ch) ?? 0;
      return { ch, gmv, before: b, delta: gmv - b, change: relativeChange(gmv, b) };
    })
    .filter((x) => x.gmv !== 0 || x.before !== 0)
    .sort((a, b) => b.gmv - a.gmv || a.ch.localeCompare(b.ch));
  if (rows.length < 2) return { rows, best: null, worst: null };
  const byDelta = [...rows].sort((a, b) => b.delta - a.delta || a.ch.localeCompare(b.ch));
  return { rows, best: byDelta[0]!, worst: byDelta[byDelta.length - 1]! };
}

async function channels(r: Reader): Promise<ReportSection | null> {
  const gmvDef = r.kpi('gmv');
  if (!gmvDef) return null;
  const [now, before] = await Promise.all([r.wholeByChannel('gmv', r.week), r.wholeByChannel('gmv', r.prev)]);
  const { rows, best, worst } = rankChannels(now, before);
  const total = rows.reduce((s, x) => s + x.gmv, 0);
  const top = rows[0];
  const metrics: ReportMetric[] = [];
  const channelMetric = (zh: string, en: string, x: ChannelRow): ReportMetric => ({
    label: lbl(`${zh}：${zhName(x.ch)}`, `${en}: ${enName(x.ch)}`), unit: 'fen', value: x.gmv, previous: x.before, change: x.change, tone: toneOf(gmvDef.good, x.change),
  });
  if (top) metrics.push(channelMetric('GMV 第一', 'Top GMV', top));
  if (best && best.delta > 0) metrics.push(channelMetric('增长最多', 'Best mover', best));
  if (worst && worst.delta < 0) metrics.push(channelMetric('下降最多', 'Worst mover', worst));
  const mover = (x: ChannelRow, lang: Lang) => {
    const pct = x.change === null ? '' : lang === 'zh' ? `（${formatChange(x.change)}）` : ` (${formatChange(x.change)})`;
    return `${lang === 'zh' ? zhName(x.ch) : enName(x.ch)} ${formatSigned(x.delta, 'fen', lang)}${pct}`;
  };
  const share = top && total ? formatPercent(top.gmv / total) : '—';
  const zh = top
    ? `GMV 最高的渠道是${zhName(top.ch)}：${formatValue(top.gmv, 'fen', 'zh')}，占 ${share}。` +
      (best && best.delta > 0 ? `增长最多：${mover(best, 'zh')}。` : '') +
      (worst && worst.delta < 0 ? `下降最多：${mover(worst, 'zh')}。` : '')
    : '本周各渠道都没有成交。';
  const en = top
    ? `Top channel by GMV: ${enName(top.ch)}, ${formatValue(top.gmv, 'fen', 'en')} (${share} of the total).` +
      (best && best.delta > 0 ? ` Best mover: ${mover(best, 'en')}.` : '') +
      (worst && worst.delta < 0 ? ` Worst mover: ${mover(worst, 'en')}.` : '')
    : 'No channel had sales this week.';
  return {
    id: 'channels',
    title: lbl('渠道排名', 'Channel ranking'),
    finding: lbl(zh, en),
    metrics,
    table: {
      columns: [lbl('排名', 'Rank'), lbl('渠道', 'Channel'), lbl('成交额', 'GMV'), lbl('上周', 'Week before'), lbl('环比', 'WoW'), lbl('占比', 'Share')],
      units: ['count', 'text', 'fen', 'fen', 'percent', 'percent'],
      rows: rows.map((x, i) => [i + 1, zhName(x.ch), x.gmv, x.before, x.change, total ? x.gmv / total : null]),
    },
    chart: { kind: 'bar', unit: 'fen', label: lbl('各渠道成交额', 'GMV by channel'), categories: rows.map((x) => zhName(x.ch)), values: rows.map((x) => x.gmv) },
    link: r.link(['gmv'], { by: 'channel' }),
  };
}

export interface AlertStats {
  /** Transitions into firing during the week. */
  fired: number;
  /** Longest firing episode that started in the week: fired → resolved (or the week's end). */
  longest: { ruleId: string; ruleName: string; alertKey: string; scope: string; hours: number; ongoing: boolean } | null;
  /** Rules by firings, most first. */
  byRule: { ruleId: string; ruleName: string; fired: number; hours: number }[];
}

/**
 * Firing episodes from a week's alert events: each transition into `firing` (not a repeat
 * from `flapping`) lasts until the next `resolved` / `ok` of the same alert, or the week's end.
 */
export function alertStats(events: readonly AlertRow[], weekEnd: number): AlertStats {
  const sorted = [...events].sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
  const byRule = new Map<string, { ruleId: string; ruleName: string; fired: number; hours: number }>();
  let longest: AlertStats['longest'] = null;
  let fired = 0;
  for (const [i, e] of sorted.entries()) {
    if (e.state !== 'firing' || e.from === 'firing' || e.from === 'flapping') continue;
    fired++;
    const end = sorted.slice(i + 1).find((x) => x.alertKey === e.alertKey && (x.state === 'resolved' || x.state === 'ok'));
    const hours = ((end?.ts ?? weekEnd) - e.ts) / HOUR;
    const rule = byRule.get(e.ruleId) ?? { ruleId: e.ruleId, ruleName: e.ruleName, fired: 0, hours: 0 };
    rule.fired++;
    rule.hours += hours;
    byRule.set(e.ruleId, rule);
    if (!longest || hours > longest.hours) {
      const scope = e.splitDim ? `${e.splitDim}=${e.splitValue}` : '';
      longest = { ruleId: e.ruleId, ruleName: e.ruleName, alertKey: e.alertKey, scope, hours, ongoing: !end };
    }
  }
  return { fired, longest, byRule: [...byRule.values()].sort((a, b) => b.fired - a.fired || b.hours - a.hours || a.ruleId.localeCompare(b.ruleId)) };
}

const DIM_ZH: Record<string, string> = { channel: '渠道', community: '社群', campaign: '活动' };

async function alerts(r: Reader): Promise<ReportSection> {
  const [now, before] = await Promise.all([r.alertEvents(r.week), r.alertEvents(r.prev)]);
  const cur = alertStats(now, r.week.to);
  const prevStats = alertStats(before, r.prev.to);
  const countChange = relativeChange(cur.fired, prevStats.fired);
  const metrics: ReportMetric[] = [
    { label: lbl('告警触发次数', 'Alerts fired'), unit: 'count', value: cur.fired, previous: prevStats.fired, change: countChange, tone: toneOf('down', countChange) },
  ];
  const top = cur.byRule[0];
  const l = cur.longest;
  if (l) metrics.push({ label: lbl(`最长告警：${l.ruleName}`, `Longest alert: ${l.ruleName}`), unit: 'hours', value: l.hours, previous: null, change: null, tone: 'neutral' });
  if (top) metrics.push({ label: lbl(`触发最多：${top.ruleName}`, `Most frequent: ${top.ruleName}`), unit: 'count', value: top.fired, previous: null, change: null, tone: 'neutral' });
  const [dim = '', value = ''] = l?.scope ? [l.scope.slice(0, l.scope.indexOf('=')), l.scope.slice(l.scope.indexOf('=') + 1)] : [];
  const truncated = now.length >= ALERT_EVENT_LIMIT;
  const zh = cur.fired === 0
    ? `本周没有告警触发（上周 ${prevStats.fired} 次）。`
    : `本周告警触发 ${cur.fired} 次（上周 ${prevStats.fired} 次）。` +
      (l ? `持续最久：${l.ruleName}（${dim ? `${DIM_ZH[dim] ?? dim} ${value}` : '全部渠道'}）${formatValue(l.hours, 'hours', 'zh')}${l.ongoing ? '，到周末仍未恢复' : ''}。` : '') +
      (top ? `触发最多的规则：${top.ruleName}，${top.fired} 次。` : '') +
      (truncated ? `（告警事件超过 ${ALERT_EVENT_LIMIT} 条，只统计了最近的部分。）` : '');
  const en = cur.fired === 0
    ? `No alerts fired this week (${prevStats.fired} the week before).`
    : `${cur.fired} alerts fired this week (${prevStats.fired} the week before).` +
      (l ? ` Longest: ${l.ruleName}${dim ? ` (${dim} ${value})` : ''}, ${formatValue(l.hours, 'hours', 'en')}${l.ongoing ? ', still firing at the end of the week' : ''}.` : '') +
      (top ? ` Most frequent rule: ${top.ruleName}, ${top.fired} times.` : '') +
      (truncated ? ` (More than ${ALERT_EVENT_LIMIT} alert events: only the latest were counted.)` : '');
  return {
    id: 'alerts',
    title: lbl('本周告警', 'Alerts of the week'),
    finding: lbl(zh, en),
    metrics,
    ...(cur.byRule.length
      ? {
          table: {
            columns: [lbl('规则', 'Rule'), lbl('触发次数', 'Fired'), lbl('累计告警时长', 'Hours firing')],
            units: ['text', 'count', 'hours'],
            rows: cur.byRule.slice(0, 10).map((x) => [x.ruleName, x.fired, x.hours]),
          } satisfies ReportTable,
        }
      : {}),
    link: `${r.input.linkBase ?? ''}/alerts`,
  };
}

/**
 * The week's value compared with a KPI's target: ratios as Σ÷Σ, distinct-based KPIs as the
 * mean of daily values, and counts and money as the daily average, because their targets
 * are per day (what the wall's "today" tile compares against; see catalogue/targets.ts).
 */
async function targets(r: Reader): Promise<ReportSection | null> {
  const defs = r.catalogue().filter((d) => r.targetOf(d) !== undefined);
  if (!defs.length) return null;
  const metrics = await Promise.all(
    defs.map(async (def) => {
      const target = r.targetOf(def)!;
      const p = await r.pair(def);
      if (def.formula.kind === 'sum') {
        const perDay = (x: Value, w: Week) => (x === null ? null : x / Math.round((w.to - w.from) / (24 * HOUR)));
        return kpiMetric(def, { value: perDay(p.value, r.week), previous: perDay(p.previous, r.prev) }, { label: dailyLabel(def.label), target });
      }
      const label = weekLabelOf(def);
      return kpiMetric(def, p, { target, ...(label ? { label } : {}) });
    }),
  );
  const missed = metrics.filter((m) => m.attained === false);
  const met = metrics.filter((m) => m.attained === true).length;
  const noData = metrics.filter((m) => m.attained === undefined).length;
  const line = (m: ReportMetric, lang: Lang) => {
    const [value, target] = formatAgainst(m.value, m.target!, m.unit, lang);
    return `${m.label[lang]} ${value}${lang === 'zh' ? `（目标 ${target}）` : ` (target ${target})`}`;
  };
  const allMet = !missed.length && !noData;
  return {
    id: 'targets',
    title: lbl('目标达成', 'Target attainment'),
    finding: lbl(
      `${metrics.length} 项目标达成 ${met} 项${noData ? `，${noData} 项无数据` : ''}${allMet ? '，全部达成' : ''}。` + (missed.length ? `未达成：${missed.map((m) => line(m, 'zh')).join('；')}。` : ''),
      `${met} of ${metrics.length} targets met${noData ? `, ${noData} without data` : ''}.` + (missed.length ? ` Missed: ${missed.map((m) => line(m, 'en')).join('; ')}.` : ''),
    ),
    metrics,
    link: r.link(defs.map((d) => d.id)),
  };
}
