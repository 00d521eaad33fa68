/**
 * The ECharts option for the trends chart, from the display model. Pure (no DOM), so the
 * component only hands it to its chart instance.
 *
 * Time axis: ECharts puts its "nice" ticks (whole hours, midnights) in the browser's zone.
 * Analysts abroad must still see Beijing time with ticks on Beijing midnights, so x values
 * are business wall-clock time encoded as UTC (ts + zone offset) and the chart runs with
 * `useUTC`; the real ts rides along in each data item for the tooltip.
 */
import type { ComposeOption } from 'echarts/core';
import type { LineSeriesOption } from 'echarts/charts';
import type {
  DataZoomComponentOption,
  GridComponentOption,
  LegendComponentOption,
  MarkAreaComponentOption,
  MarkLineComponentOption,
  MarkPointComponentOption,
  TooltipComponentOption,
} from 'echarts/components';
import type { KpiUnit } from '@siyu-pulse/contracts/catalogue';
import { formatCount, formatDuration, formatKpi, formatMoney, type Lang } from '@siyu-pulse/contracts/format';
import type { AlertMarker, TrendsModel } from './model';
import { formatDateTime, tzOffsetMs } from './time';
import { campaignSeries, visibleBands, type CampaignBand } from '../campaigns/bands';
import { channelLabel } from '../wall/channels';
import { tTrends } from './messages';

export type TrendsOption = ComposeOption<LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption | DataZoomComponentOption | MarkLineComponentOption | MarkPointComponentOption | MarkAreaComponentOption>;

type MarkPointData = NonNullable<MarkPointComponentOption['data']>[number];

export interface ChartTexts {
  lang: Lang;
  timezone: string;
  target: string;
  /** Legend / tooltip suffix of a comparison line, e.g. `上一周期`. */
  compareSuffix: string;
  alertStates: Record<AlertMarker['state'], string>;
  alertsSeries: string;
  rule: string;
  value: string;
  /** Tooltip of a point with too few denominator events, `{below}` the threshold: 分母不足 {below}，仅供参考. */
  thinPoint?: string;
  /** Tooltip of a point over 100% when the answer names no missing counter. */
  outrunPoint?: string;
}

const AXIS_TEXT = '#475569';
const GRID_LINE = '#e8edf4';
const TARGET = '#b45309';
/** Points over 100% (numerator outran denominator): a warning, not a business figure. */
export const OUTRUN_COLOUR = '#ea580c';
export const ALERT_COLOURS: Record<AlertMarker['state'], string> = { firing: '#dc2626', resolved: '#059669', flapping: '#7c3aed' };

/** Axis labels: short forms (12%, ¥1.2万, 3.4 秒). */
export function axisLabel(v: number, unit: KpiUnit, lang: Lang): string {
  switch (unit) {
    case 'percent': {
      const p = v * 100;
      return `${Math.abs(p - Math.round(p)) < 1e-9 ? p.toFixed(0) : p.toFixed(1)}%`;
    }
    case 'fen':
      return Math.abs(v) < 100_000 && Number.isInteger(v / 100) ? `¥${v / 100}` : formatMoney(v, lang);
    case 'count':
      return formatCount(v, lang);
    case 'ms':
      return formatDuration(v, lang);
    default:
      return formatKpi(v, unit, lang);
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Tick labels on the wall-clock-as-UTC axis: `14:00`, and the date at midnight or on long ranges. */
export function tickLabel(x: number, spanMs: number): string {
  const d = new Date(x);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const md = `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (spanMs > 3 * 86_400_000) return hm === '00:00' ? md : `${md} ${hm}`;
  return hm === '00:00' ? md : hm;
}

interface TooltipParam {
  seriesId?: string;
  seriesName?: string;
  marker?: string;
  value?: unknown;
}

export function buildOption(model: TrendsModel, t: ChartTexts, campaigns: readonly CampaignBand[] = []): TrendsOption {
  const tz = t.timezone;
  const x = (ts: number) => ts + tzOffsetMs(tz, ts);
  const unitOfSeries = new Map<string, KpiUnit>();
  const lastTs = Math.max(model.from, ...model.series.flatMap((s) => (s.points.length ? [s.points[s.points.length - 1]![0]] : [])));
  const span = lastTs - model.from;
  // Sub-minute steps need seconds in the tooltip, or neighbouring steps read the same.
  const seconds = model.series.some((s) => s.points.some(([ts]) => ts % 60_000 !== 0));

  // Per series, the tooltip warnings of flagged points by ts (outrun first: it is the louder one).
  const flagsOf = new Map<string, Map<number, string[]>>();
  const thinText = (below: number | null) => (t.thinPoint ?? tTrends('thinPoint')).replaceAll('{below}', String(below ?? ''));

  const series: LineSeriesOption[] = [];
  for (const s of model.series) {
    unitOfSeries.set(s.id, s.unit);
    const target = model.targets.find((g) => g.seriesId === s.id);
    const few = needsSymbols(s.points);
    const outruns = new Set(s.outrunTs);
    const thin = new Set(s.thinTs);
    const flags = new Map<number, string[]>();
    const outrunNote = `⚠ ${s.outrun?.note[t.lang] ?? t.outrunPoint ?? tTrends('outrunPoint')}`;
    for (const ts of outruns) flags.set(ts, [outrunNote]);
    for (const ts of thin) flags.set(ts, [...(flags.get(ts) ?? []), thinText(s.thinBelow)]);
    flagsOf.set(s.id, flags);
    // Flagged points keep their value on the line (the data is counted as it came) but are
    // drawn apart: a warning triangle for an outrun, a faded hollow dot for a thin point.
    // markPoint too, so they show even when the line hides its symbols (dense series).
    const marks = s.points.flatMap(([ts, v]): MarkPointData[] => {
      if (v === null || !flags.has(ts)) return [];
      const coord = [x(ts), v];
      return outruns.has(ts)
        ? [{ name: 'outrun', coord, value: ts, symbol: 'triangle', symbolSize: 12, itemStyle: { color: OUTRUN_COLOUR, borderColor: '#fff', borderWidth: 1 }, label: { show: true, position: 'top' as const, formatter: '⚠', color: OUTRUN_COLOUR, fontSize: 12 } }]
        : [{ name: 'thin', coord, value: ts, symbol: 'emptyCircle', symbolSize: 8, itemStyle: { color: s.color, borderColor: s.color, opacity: 0.5 }, label: { show: false } }];
    });
    series.push({
      type: 'line',
      id: s.id,
      name: s.name,
      yAxisIndex: s.axis,
      showSymbol: few,
      symbol: 'circle',
      symbolSize: 7,
      connectNulls: false,
      lineStyle: { width: 2, color: s.color },
      itemStyle: { color: s.color },
      emphasis: { focus: 'series' },
      data: s.points.map(([ts, v]) => {
        const value = [x(ts), v, ts];
        if (outruns.has(ts)) return { value, symbol: 'triangle', symbolSize: 10, itemStyle: { color: OUTRUN_COLOUR } };
        if (thin.has(ts)) return { value, symbol: 'emptyCircle', itemStyle: { opacity: 0.5 } };
        return value;
      }),
      ...(marks.length
        ? {
            markPoint: {
              data: marks,
              tooltip: {
                trigger: 'item' as const,
                formatter: (p: unknown) => {
                  const ts = (p as { value?: number }).value;
                  const point = s.points.find(([pt]) => pt === ts);
                  if (ts === undefined || !point) return '';
                  const lines = [`<b>${esc(formatDateTime(ts, tz, seconds))}</b>`, `${esc(s.name)}：<b>${esc(formatKpi(point[1], s.unit, t.lang))}</b>`];
                  for (const f of flags.get(ts) ?? []) lines.push(`<span style="color:${f.startsWith('⚠') ? OUTRUN_COLOUR : '#64748b'}">${esc(f)}</span>`);
                  return lines.join('<br>');
                },
              },
            },
          }
        : {}),
      ...(target
        ? {
            markLine: {
              silent: true,
              symbol: 'none',
              lineStyle: { color: TARGET, type: 'dashed', width: 1.5 },
              label: { show: true, position: 'insideEndTop', color: TARGET, fontSize: 12, formatter: `${t.target} ${formatKpi(target.value, s.unit, t.lang)}` },
              data: [{ yAxis: target.value }],
            },
          }
        : {}),
    });
    if (s.comparison) {
      const id = `${s.id}|cmp`;
      unitOfSeries.set(id, s.unit);
      series.push({
        type: 'line',
        id,
        // Same name as the current line: one legend entry toggles both (the dash tells them apart).
        name: s.name,
        yAxisIndex: s.axis,
        showSymbol: needsSymbols(s.comparison),
        symbol: 'emptyCircle',
        symbolSize: 7,
        connectNulls: false,
        lineStyle: { width: 1.5, color: s.color, type: 'dashed', opacity: 0.75 },
        itemStyle: { color: s.color, opacity: 0.75 },
        data: s.comparison.map(([ts, v, orig]) => [x(ts), v, orig]),
      });
    }
  }

  // Alert events as vertical lines (red fired, green resolved) on a data-less helper series,
  // with their own item tooltip: the rule, the split, the value that fired.
  if (model.alerts.length) {
    series.push({
      type: 'line',
      id: 'alerts',
      name: t.alertsSeries,
      data: [],
      yAxisIndex: 0,
      // The legend icon of this helper series: red, like a fired alert.
      lineStyle: { color: ALERT_COLOURS.firing },
      itemStyle: { color: ALERT_COLOURS.firing },
      markLine: {
        // The tooltip belongs on the marker: ECharts reads a marker's tooltip from the marker model.
        tooltip: {
          trigger: 'item',
          formatter: (p: unknown) => {
            const a = model.alerts[(p as { dataIndex: number }).dataIndex];
            if (!a) return '';
            const lines = [
              `<b style="color:${ALERT_COLOURS[a.state]}">${esc(t.alertStates[a.state])}</b> · ${esc(formatDateTime(a.ts, tz))}`,
              `${esc(t.rule)}：${esc(a.rule)}${a.split ? `（${esc(a.split)}）` : ''}`,
              `${esc(t.value)}：${esc(formatKpi(a.value, a.unit, t.lang))}`,
            ];
            if (a.summary) lines.push(`<span style="color:#64748b">${esc(a.summary)}</span>`);
            return lines.join('<br>');
          },
        },
        symbol: ['none', 'circle'],
        symbolSize: 10,
        label: { show: false },
        emphasis: { lineStyle: { width: 3 } },
        data: model.alerts.map((a) => ({ xAxis: x(a.ts), lineStyle: { color: ALERT_COLOURS[a.state], width: 1.5, type: 'solid', opacity: 0.8 }, itemStyle: { color: ALERT_COLOURS[a.state] } })),
      },
    });
  }

  // Campaigns (大促 / 活动) as shaded bands named on the chart, behind the lines.
  const bands = visibleBands(campaigns, model.from, lastTs);
  if (bands.length) {
    const name = (b: CampaignBand) => (b.channels?.length ? `${b.name}（${b.channels.map((c) => channelLabel(c)[t.lang]).join('、')}）` : b.name);
    series.unshift(campaignSeries(bands, x, { fill: 'rgba(245, 158, 11, 0.10)', text: '#92400e', fontSize: 12, labelBackground: 'rgba(255, 255, 255, 0.85)' }, name, { from: model.from, to: lastTs }));
  }

  return {
    animation: false,
    useUTC: true,
    color: model.series.map((s) => s.color),
    grid: { left: 16, right: model.units.length > 1 ? 16 : 28, top: 56, bottom: 72, containLabel: true },
    legend: { type: 'scroll', top: 4, left: 8, right: 8, itemGap: 18, data: [...model.series.map((s) => s.name), ...(model.alerts.length ? [t.alertsSeries] : [])], textStyle: { fontSize: 13, color: '#0f172a' } },
    tooltip: {
      trigger: 'axis',
      confine: true,
      axisPointer: { type: 'line' },
      textStyle: { fontSize: 13 },
      formatter: (raw: unknown) => {
        const params = (Array.isArray(raw) ? raw : [raw]) as TooltipParam[];
        const firstVal = params[0]?.value as [number, number | null, number] | undefined;
        if (!firstVal) return '';
        const lines = [`<b>${esc(formatDateTime(firstVal[2], tz, seconds))}</b>`];
        for (const p of params) {
          const v = p.value as [number, number | null, number];
          const unit = unitOfSeries.get(p.seriesId ?? '') ?? 'count';
          const isCmp = (p.seriesId ?? '').endsWith('|cmp');
          const when = isCmp ? ` <span style="color:#64748b">· ${esc(t.compareSuffix)} ${esc(formatDateTime(v[2], tz, seconds))}</span>` : '';
          lines.push(`${p.marker ?? ''}${esc(p.seriesName ?? '')}${when}：<b>${esc(formatKpi(v[1], unit, t.lang))}</b>`);
          for (const f of isCmp ? [] : (flagsOf.get(p.seriesId ?? '')?.get(v[2]) ?? [])) {
            lines.push(`<span style="color:${f.startsWith('⚠') ? OUTRUN_COLOUR : '#64748b'}">&nbsp;&nbsp;${esc(f)}</span>`);
          }
        }
        return lines.join('<br>');
      },
    },
    xAxis: {
      type: 'time',
      min: x(model.from),
      max: x(lastTs),
      axisLine: { lineStyle: { color: '#94a3b8' } },
      axisLabel: { color: AXIS_TEXT, fontSize: 12, hideOverlap: true, formatter: (v: number) => tickLabel(v, span) },
      splitLine: { show: false },
    },
    yAxis: model.units.map((unit, i) => ({
      type: 'value' as const,
      position: i === 0 ? ('left' as const) : ('right' as const),
      scale: false,
      ...(unit === 'count' ? { minInterval: 1 } : {}),
      axisLabel: { color: AXIS_TEXT, fontSize: 12, formatter: (v: number) => axisLabel(v, unit, t.lang) },
      splitLine: { show: i === 0, lineStyle: { color: GRID_LINE } },
    })),
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
      {
        type: 'slider',
        xAxisIndex: 0,
        filterMode: 'none',
        height: 26,
        bottom: 14,
        labelFormatter: (v: number) => new Date(v).toISOString().slice(5, 16).replace('T', ' '),
        textStyle: { color: AXIS_TEXT, fontSize: 12 },
      },
    ],
    series,
  };
}

/**
 * A line needs two neighbouring values: a handful of values, or values between gaps (a
 * ratio with nothing delivered in every other step), would not be drawn at all without dots.
 */
export function needsSymbols(points: readonly (readonly [number, number | null, ...unknown[]])[]): boolean {
  let values = 0;
  let isolated = 0;
  points.forEach(([, v], i) => {
    if (v === null) return;
    values++;
    if ((points[i - 1]?.[1] ?? null) === null && (points[i + 1]?.[1] ?? null) === null) isolated++;
  });
  return values < 30 || isolated * 4 > values;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
