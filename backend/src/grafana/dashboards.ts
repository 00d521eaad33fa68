/**
 * Grafana dashboards generated from the KPI catalogue, so they cannot drift from it:
 * - 私域脉搏 · 总览 (overview): one row per KPI group, one panel per KPI, all channels;
 * - 私域脉搏 · 渠道 (channels): the same KPIs split by channel, filtered by `$channel`.
 * Alert state changes (pulse_alerts) are annotations on both. The committed JSON under
 * grafana/dashboards/ is this module's output (`npm run grafana:dashboards -w backend`).
 */
import { GROUPS, KPIS, type KpiDef, type KpiUnit } from '@siyu-pulse/contracts/catalogue';
import type { HistogramId } from '@siyu-pulse/contracts/catalogue';
import {
  ALERT_ANNOTATION_COLUMNS,
  CHANNEL_VALUES_QUERY,
  CHANNEL_VARIABLE,
  DASHBOARD_TIMEZONE,
  alertAnnotationQuery,
  kpiQuery,
  type PanelQuery,
  type Scope,
} from './queries.js';

export const DATASOURCE_UID = 'siyu-pulse-influx';
export const OVERVIEW_UID = 'siyu-pulse-overview';
export const CHANNELS_UID = 'siyu-pulse-channels';
/** Panel descriptions end with this marker and the KPI ids the panel shows (tests, analysts). */
export const KPI_ID_MARKER = '指标 ID：';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const DATASOURCE: Obj = { type: 'influxdb', uid: DATASOURCE_UID };
const EXPRESSION_DS: Obj = { type: '__expr__', uid: '__expr__', name: 'Expression' };

/** Grafana unit ids; money is converted to yuan in the query. */
const UNITS: Record<KpiUnit, string> = {
  count: 'short',
  percent: 'percentunit',
  fen: 'currencyCNY',
  ms: 'ms',
  multiple: 'suffix:×',
  per_member: 'suffix: 次/人',
};

const PANEL_W = 8;
const PANEL_H = 8;

function ids(kpis: readonly KpiDef[]): string {
  return `${KPI_ID_MARKER}${kpis.map((k) => k.id).join(', ')}`;
}

/** Why the panel shows what it shows, in the words an analyst needs. */
function method(def: KpiDef, q: PanelQuery): string {
  const f = def.formula;
  const parts: string[] = [];
  if (q.shape === 'histogram') {
    parts.push(
      'P50 / P90 要在累计分桶内插值计算（与大屏和 /api/v1/series 同一算法）；InfluxQL 无法由求和后的分桶算分位数，各时段分位数取平均又是错的。' +
        '因此这里显示分桶计数热力图：每格为该时段内首次响应时长落在该区间（上界，毫秒）的回复数。精确的 P50 / P90 请看大屏或 /api/v1/series。',
    );
  } else if (f.kind === 'span') {
    parts.push(
      `${f.days} 天的去重人数是 ${f.days} 个日草图（HyperLogLog）的并集，InfluxQL 无法合并草图：服务端按天计算（与 /api/v1/series 同一算法）并写入 pulse_month，` +
        `每天一个点（北京时间 00:00 起），不随 Grafana 时间粒度变化；pulse_month 的 bound 字段是该点的最坏误差（±）。默认 24 小时视图只有一两个点，请选 30 天或更长。`,
    );
  } else if (f.kind === 'distinct') {
    parts.push(
      `去重人数不能跨时间相加，因此固定读取按小时写入的去重数（每小时一个点，不随 Grafana 时间粒度变化）：分钟粒度在 24 小时视图里点太密，天粒度只有一两个点。`,
    );
  } else if (q.shape === 'distinctRatio' && f.kind === 'ratio' && 'distinct' in f.num) {
    parts.push(
      `分子、分母都是去重人数，只在按天（北京时间 00:00 起）写入的去重数上有意义（成员一天只会越过上限一次，按小时的占比没有意义）：` +
        `每天一个点，不随 Grafana 时间粒度变化，由 Grafana 表达式相除（InfluxQL 不能跨序列计算）。当天没有推送的渠道不显示。`,
    );
  } else if (q.shape === 'distinctRatio') {
    parts.push(
      `分母是去重活跃成员数，只能按小时读取；分子按小时求和，两者由 Grafana 表达式相除（InfluxQL 不能跨 measurement 计算）。没有活跃成员的小时不显示。`,
    );
  } else if (f.kind === 'ratio') {
    parts.push('比率 = 同一时间桶内 Σ分子 ÷ Σ分母（先求和再相除，不是各 10 秒比率的平均）；分母为 0 的时间桶不显示。');
  } else {
    parts.push('按 Grafana 时间粒度求和；没有事件的时间桶为 0。');
  }
  const storedPeriods = f.kind === 'distinct' || f.kind === 'span' || (f.kind === 'ratio' && 'distinct' in f.num);
  if (q.shape !== 'histogram' && !storedPeriods) parts.push('时间桶按北京时间对齐（GROUP BY time 带时区偏移）。');
  if (def.unit === 'fen') parts.push('金额以分存储，查询中 ÷100 显示为元。');
  if (def.target !== undefined) parts.push(`虚线为目标值。`);
  return parts.join('');
}

function thresholds(def: KpiDef): { steps: Obj; style: string } {
  if (def.target === undefined) return { steps: { mode: 'absolute', steps: [{ color: 'green', value: null }] }, style: 'off' };
  const t = def.unit === 'fen' ? def.target / 100 : def.target;
  const [below, above] = def.good === 'down' ? ['green', 'red'] : def.good === 'up' ? ['red', 'green'] : ['text', 'blue'];
  return { steps: { mode: 'absolute', steps: [{ color: below, value: null }, { color: above, value: t }] }, style: 'dashed' };
}

function influxTarget(refId: string, query: string, extra: Obj = {}): Obj {
  return { refId, datasource: DATASOURCE, rawQuery: true, resultFormat: 'time_series', query, ...extra };
}

interface Layout {
  nextId: number;
  y: number;
  x: number;
}

function place(layout: Layout): Obj {
  if (layout.x + PANEL_W > 24) {
    layout.x = 0;
    layout.y += PANEL_H;
  }
  const pos = { h: PANEL_H, w: PANEL_W, x: layout.x, y: layout.y };
  layout.x += PANEL_W;
  return pos;
}

/** A full-width slot on a new line. */
function placeFull(layout: Layout, h: number): Obj {
  if (layout.x > 0) layout.y += PANEL_H;
  layout.x = 0;
  const pos = { h, w: 24, x: 0, y: layout.y };
  layout.y += h;
  return pos;
}

function row(layout: Layout, title: string): Obj {
  const gridPos = placeFull(layout, 1);
  return { id: layout.nextId++, type: 'row', title, collapsed: false, gridPos, panels: [] };
}

function timeseriesPanel(layout: Layout, def: KpiDef, scope: Scope): Obj {
  const q = kpiQuery(def, scope);
  const title = scope === 'byChannel' ? `${def.label.zh} · 按渠道` : def.label.zh;
  const alias = scope === 'byChannel' ? '$tag_channel' : def.label.zh;
  const th = thresholds(def);
  let targets: Json[];
  const defaults: Obj = {
    unit: UNITS[def.unit],
    color: { mode: 'palette-classic' },
    thresholds: th.steps,
    custom: { drawStyle: 'line', lineWidth: 2, fillOpacity: 10, showPoints: 'auto', spanNulls: false, thresholdsStyle: { mode: th.style } },
  };
  switch (q.shape) {
    case 'single':
      targets = [influxTarget('A', q.query, { alias })];
      break;
    case 'distinctRatio':
      targets = [
        influxTarget('A', q.num, { hide: true }),
        influxTarget('B', q.den, { hide: true }),
        { refId: 'C', datasource: EXPRESSION_DS, type: 'math', expression: q.expression, hide: false },
      ];
      defaults.displayName = scope === 'byChannel' ? `\${__field.labels.${CHANNEL_VARIABLE}}` : def.label.zh;
      break;
    case 'histogram':
      throw new Error(`${def.id}: histograms are drawn by histogramPanel`);
  }
  return {
    id: layout.nextId++,
    type: 'timeseries',
    title,
    description: `${def.description.zh}。${method(def, q)}${ids([def])}`,
    datasource: DATASOURCE,
    gridPos: place(layout),
    fieldConfig: { defaults, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets,
  };
}

/**
 * Quantile KPIs get one heatmap per histogram instead of a line per quantile: InfluxQL has
 * no way to interpolate a quantile from summed fixed-bound buckets (percentile() needs raw
 * values, and a mean of per-interval quantiles is wrong). A proxy such as "share answered
 * within 60 s" would be a KPI the catalogue does not define. The bucket counts are exactly
 * what the wall's P50 / P90 are computed from (the test recomputes them from this panel).
 */
function histogramPanel(layout: Layout, defs: KpiDef[], scope: Scope): Obj {
  const first = defs[0]!;
  const q = kpiQuery(first, scope);
  if (q.shape !== 'histogram') throw new Error(`${first.id} is not a histogram KPI`);
  const title = `首次响应时长分布（${defs.map((d) => d.label.zh.replace('首次响应 ', '')).join(' / ')}）${scope === 'byChannel' ? ' · 所选渠道' : ''}`;
  return {
    id: layout.nextId++,
    type: 'heatmap',
    title,
    description: `${defs.map((d) => d.description.zh).join('；')}。${method(first, q)}${ids(defs)}`,
    datasource: DATASOURCE,
    gridPos: place(layout),
    fieldConfig: { defaults: { custom: { scaleDistribution: { type: 'linear' } } }, overrides: [] },
    options: {
      calculate: false,
      rowsFrame: { layout: 'le' },
      yAxis: { axisPlacement: 'left', unit: 'ms' },
      cellValues: { unit: 'short' },
      color: { mode: 'scheme', scheme: 'Oranges', fill: 'dark-orange', scale: 'exponential', exponent: 0.5, steps: 64, reverse: false },
      filterValues: { le: 1e-9 },
      legend: { show: true },
      tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
      showValue: 'never',
      cellGap: 1,
      exemplars: { color: 'rgba(255,0,255,0.7)' },
    },
    // $col names each field by its bucket bound, which the `le` layout reads.
    targets: [influxTarget('A', q.query, { alias: '$col' })],
  };
}

/** KPI panels of one group, in catalogue order; a histogram's quantile KPIs share one panel. */
function groupPanels(layout: Layout, kpis: KpiDef[], scope: Scope): Obj[] {
  const items: (KpiDef | KpiDef[])[] = [];
  const histograms = new Map<HistogramId, KpiDef[]>();
  for (const def of kpis) {
    if (def.formula.kind !== 'quantile') {
      items.push(def);
      continue;
    }
    const list = histograms.get(def.formula.histogram);
    if (list) list.push(def);
    else {
      const fresh = [def];
      histograms.set(def.formula.histogram, fresh);
      items.push(fresh);
    }
  }
  return items.map((item) => (Array.isArray(item) ? histogramPanel(layout, item, scope) : timeseriesPanel(layout, item, scope)));
}

function annotations(scope: Scope): Obj {
  const { title, text, tags } = ALERT_ANNOTATION_COLUMNS;
  const alert = (name: string, state: 'firing' | 'resolved', color: string): Obj => ({
    name,
    datasource: DATASOURCE,
    enable: true,
    hide: false,
    iconColor: color,
    target: {
      refId: 'Anno',
      rawQuery: true,
      fromAnnotations: true,
      query: alertAnnotationQuery(state, scope),
      titleColumn: title,
      textColumn: text,
      // Grafana splits this list on commas (no spaces).
      tagsColumn: tags.join(','),
    },
  });
  return {
    list: [
      {
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      },
      alert('告警触发', 'firing', 'red'),
      alert('告警恢复', 'resolved', 'green'),
    ],
  };
}

function dashboard(fields: { uid: string; title: string; description: string; panels: Obj[]; templating: Json[]; scope: Scope; link: { uid: string; title: string } }): Obj {
  return {
    id: null,
    uid: fields.uid,
    title: fields.title,
    description: fields.description,
    tags: ['siyu-pulse', '私域脉搏'],
    timezone: DASHBOARD_TIMEZONE,
    weekStart: 'monday',
    refresh: '30s',
    time: { from: 'now-24h', to: 'now' },
    timepicker: {},
    editable: false,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    schemaVersion: 39,
    version: 1,
    annotations: annotations(fields.scope),
    templating: { list: fields.templating },
    links: [
      { title: fields.link.title, type: 'link', url: `/d/${fields.link.uid}`, icon: 'dashboard', keepTime: true, includeVars: false, asDropdown: false, targetBlank: false, tags: [], tooltip: '' },
    ],
    panels: fields.panels,
  };
}

const GENERATED = '由 backend/src/grafana/dashboards.ts 依据 KPI 目录生成，请勿在 Grafana 中修改（npm run grafana:dashboards -w backend）。';

export function overviewDashboard(): Obj {
  const layout: Layout = { nextId: 1, y: 0, x: 0 };
  const panels: Obj[] = [];
  for (const g of GROUPS) {
    panels.push(row(layout, g.label.zh));
    const kpis = KPIS.filter((k) => k.group === g.id);
    panels.push(...groupPanels(layout, kpis, 'total'));
    if ('note' in g) {
      // 渠道效果 is every KPI split by channel: that is the channel dashboard.
      panels.push({
        id: layout.nextId++,
        type: 'text',
        title: g.label.zh,
        gridPos: placeFull(layout, 3),
        options: { mode: 'markdown', content: `${g.note.zh}：见 [私域脉搏 · 渠道](/d/${CHANNELS_UID})（按渠道拆分与筛选全部指标）。` },
      });
    }
  }
  return dashboard({
    uid: OVERVIEW_UID,
    title: '私域脉搏 · 总览',
    description: `全部渠道合计的 KPI 趋势。${GENERATED}`,
    panels,
    templating: [],
    scope: 'total',
    link: { uid: CHANNELS_UID, title: '私域脉搏 · 渠道' },
  });
}

export function channelsDashboard(): Obj {
  const layout: Layout = { nextId: 1, y: 0, x: 0 };
  const panels: Obj[] = [];
  for (const g of GROUPS) {
    const kpis = KPIS.filter((k) => k.group === g.id);
    if (kpis.length === 0) continue;
    panels.push(row(layout, g.label.zh));
    panels.push(...groupPanels(layout, kpis, 'byChannel'));
  }
  const variable: Obj = {
    name: CHANNEL_VARIABLE,
    label: '渠道',
    type: 'query',
    datasource: DATASOURCE,
    query: CHANNEL_VALUES_QUERY,
    definition: CHANNEL_VALUES_QUERY,
    multi: true,
    includeAll: true,
    // No custom all value: All is the explicit list, so rows without a channel never match.
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    refresh: 1,
    regex: '',
    sort: 1,
    hide: 0,
  };
  return dashboard({
    uid: CHANNELS_UID,
    title: '私域脉搏 · 渠道',
    description: `每个 KPI 按渠道拆分（渠道效果）。${GENERATED}`,
    panels,
    templating: [variable],
    scope: 'byChannel',
    link: { uid: OVERVIEW_UID, title: '私域脉搏 · 总览' },
  });
}

/**
 * KPIs deliberately left out of the dashboards, with the reason. Empty: the quantile KPIs
 * are covered by their histogram's heatmap (see method()).
 */
export const EXCLUDED_KPIS: Readonly<Record<string, string>> = {};

/** Objects with their keys sorted, so the serialised file is stable whatever built it. */
function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Obj = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]!);
    return out;
  }
  return v;
}

/** File name → content of every generated dashboard (pretty-printed, sorted keys). */
export function dashboardFiles(): Record<string, string> {
  const render = (d: Obj) => `${JSON.stringify(sortKeys(d), null, 2)}\n`;
  return { 'overview.json': render(overviewDashboard()), 'channels.json': render(channelsDashboard()) };
}
