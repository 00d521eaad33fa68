/**
 * ECharts options for a report section's chart, from the contract's plain data. Pure (no
 * DOM), so the component only hands the option to its instance and tests can read it.
 *
 * - `daily`: one value per day of the week; counts and money as grouped bars (they add up
 *   over the days), rates and other units as lines (they do not).
 * - `bar`: a ranking, horizontal, in the order the report gives (best first, at the top).
 * - `funnel`: horizontal bars of each step's rate with the rate written on the bar; the
 *   weakest step is drawn in amber, since that is where the week lost the most people.
 *
 * No animation: the page is read and printed, not watched, and a chart caught mid-tween
 * would print half-drawn.
 */
import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption } from 'echarts/components';
import type { KpiUnit } from '@siyu-pulse/contracts/catalogue';
import { MISSING, formatKpi, type Lang } from '@siyu-pulse/contracts/format';
import { axisLabel } from '../trends/chartOption';
import { dayLabel } from './present';
import type { ReportChart } from './types';

export type ReportChartOption = ComposeOption<BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption>;

export const PALETTE = ['#2563eb', '#f59e0b', '#059669', '#7c3aed', '#dc2626', '#0891b2', '#db2777', '#65a30d'];
const AXIS_TEXT = '#475569';
const GRID_LINE = '#e8edf4';
const BAR = '#2563eb';
const WEAK = '#d97706';
/** The page's own font stack, so chart text matches the tables (and CJK glyphs are found). */
const FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'Source Han Sans CN', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'WenQuanYi Micro Hei', 'Helvetica Neue', Arial, sans-serif";

/**
 * Height in CSS px for a chart: rankings and funnels grow with their rows. On paper
 * (`print`) charts are flatter, so two sections fit on an A4 page more often.
 */
export function chartHeight(chart: ReportChart, print = false): number {
  switch (chart.kind) {
    case 'daily':
      return print ? 150 : 260;
    case 'bar':
      return print ? Math.max(100, 40 + chart.categories.length * 22) : Math.max(140, 56 + chart.categories.length * 30);
    case 'funnel':
      return print ? Math.max(100, 26 + chart.steps.length * 28) : Math.max(140, 40 + chart.steps.length * 40);
  }
}

const known = (v: number | null): boolean => v !== null && Number.isFinite(v);

/** Whether a chart has nothing to draw (a week without data): the page says so instead of drawing empty axes. */
export function chartIsEmpty(chart: ReportChart): boolean {
  switch (chart.kind) {
    case 'daily':
      return !chart.series.some((s) => s.values.some(known));
    case 'bar':
      return !chart.values.some(known);
    case 'funnel':
      return !chart.steps.some((s) => known(s.rate));
  }
}

/** A data item for a value that may be missing: ECharts' '-' leaves a gap, not a zero. */
const item = (v: number | null): number | '-' => (v === null || !Number.isFinite(v) ? '-' : v);

interface TooltipParam {
  seriesName?: string;
  name?: string;
  marker?: string;
  value?: unknown;
  dataIndex?: number;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const base = {
  animation: false,
  textStyle: { fontFamily: FONT, color: AXIS_TEXT },
  tooltip: { confine: true, textStyle: { fontFamily: FONT } },
} satisfies ReportChartOption;

export function buildReportChartOption(chart: ReportChart, lang: Lang): ReportChartOption {
  switch (chart.kind) {
    case 'daily':
      return dailyOption(chart, lang);
    case 'bar':
      return rankingOption(chart, lang);
    case 'funnel':
      return funnelOption(chart, lang);
  }
}

const wholeYuan = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * Axis ticks: the trends page's short forms, except money below ¥1万, where ticks are
 * whole yuan ("¥3,000", not "¥3,000.00": the cents crowd a narrow printed axis).
 */
export function axisText(v: number, unit: KpiUnit, lang: Lang): string {
  if (unit === 'fen' && Math.abs(v) < 1_000_000 && Number.isInteger(v / 100)) return `${v < 0 ? '−' : ''}¥${wholeYuan.format(Math.abs(v) / 100)}`;
  return axisLabel(v, unit, lang);
}

function valueAxis(unit: KpiUnit, lang: Lang) {
  return {
    type: 'value' as const,
    // Counts and money in fen come in whole units: no 0.3-member ticks on a quiet week.
    ...(unit === 'count' || unit === 'fen' ? { minInterval: 1 } : {}),
    axisLabel: { color: AXIS_TEXT, formatter: (v: number) => axisText(v, unit, lang) },
    splitLine: { lineStyle: { color: GRID_LINE } },
  };
}

function dailyOption(chart: Extract<ReportChart, { kind: 'daily' }>, lang: Lang): ReportChartOption {
  const bars = chart.unit === 'count' || chart.unit === 'fen';
  const many = chart.series.length > 1;
  const series: (BarSeriesOption | LineSeriesOption)[] = chart.series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const common = { name: s.name[lang], data: s.values.map(item), itemStyle: { color } };
    return bars
      ? { ...common, type: 'bar' as const, barMaxWidth: 28 }
      : { ...common, type: 'line' as const, symbol: 'circle', symbolSize: 7, showSymbol: true, connectNulls: false, lineStyle: { width: 2, color } };
  });
  return {
    ...base,
    grid: { left: 12, right: 20, top: many ? 40 : 20, bottom: 8, containLabel: true },
    ...(many ? { legend: { top: 4, left: 'center', textStyle: { color: AXIS_TEXT, fontFamily: FONT } } } : {}),
    tooltip: {
      ...base.tooltip,
      trigger: 'axis',
      formatter: (raw: unknown) => {
        const params = (Array.isArray(raw) ? raw : [raw]) as TooltipParam[];
        const day = params[0]?.name ?? '';
        const lines = params.map((p) => `${p.marker ?? ''}${esc(p.seriesName ?? '')}：${tip(p.value, chart.unit, lang)}`);
        return [esc(day), ...lines].join('<br/>');
      },
    },
    xAxis: {
      type: 'category',
      data: chart.days.map((d, i) => dayLabel(d, i, lang)),
      axisLabel: { color: AXIS_TEXT, interval: 0, hideOverlap: true },
      axisTick: { alignWithLabel: true },
      axisLine: { lineStyle: { color: '#c7d0dd' } },
    },
    // Few ticks: the printed chart is only ~4 cm tall.
    yAxis: { ...valueAxis(chart.unit, lang), splitNumber: 3 },
    series,
  };
}

function tip(v: unknown, unit: KpiUnit, lang: Lang): string {
  return typeof v === 'number' ? formatKpi(v, unit, lang) : MISSING;
}

/** Shared by rankings and funnels: categories down the left, first at the top, values written at the bar end. */
function horizontal(
  categories: string[],
  values: (number | null)[],
  unit: KpiUnit,
  lang: Lang,
  colourOf: (i: number) => string,
  name: string,
  maxOne: boolean,
): ReportChartOption {
  const data = values.map((v, i) =>
    v === null || !Number.isFinite(v)
      ? // A zero-length bar that still carries its label: the row says "—" instead of vanishing.
        { value: 0, itemStyle: { color: 'transparent' }, label: { show: true, formatter: MISSING } }
      : { value: v, itemStyle: { color: colourOf(i) } },
  );
  const positive = values.every((v) => v === null || v >= 0);
  return {
    ...base,
    grid: { left: 12, right: 72, top: 8, bottom: 8, containLabel: true },
    tooltip: {
      ...base.tooltip,
      trigger: 'item',
      formatter: (raw: unknown) => {
        const p = raw as TooltipParam;
        const v = p.dataIndex === undefined ? null : (values[p.dataIndex] ?? null);
        return `${esc(p.name ?? '')}：${v === null ? MISSING : formatKpi(v, unit, lang)}`;
      },
    },
    xAxis: { ...valueAxis(unit, lang), ...(maxOne && positive && values.every((v) => v === null || v <= 1) ? { max: 1 } : {}) },
    yAxis: {
      type: 'category',
      inverse: true,
      data: categories,
      axisLabel: { color: '#0f172a', fontSize: 13 },
      axisTick: { show: false },
      axisLine: { lineStyle: { color: '#c7d0dd' } },
    },
    series: [
      {
        type: 'bar',
        name,
        data,
        barMaxWidth: 22,
        label: {
          show: true,
          position: 'right',
          color: '#0f172a',
          fontSize: 12,
          formatter: (p: { value?: unknown }) => (typeof p.value === 'number' ? formatKpi(p.value, unit, lang) : MISSING),
        },
      },
    ],
  };
}

function rankingOption(chart: Extract<ReportChart, { kind: 'bar' }>, lang: Lang): ReportChartOption {
  const neg = '#dc2626';
  return horizontal(chart.categories, chart.values, chart.unit, lang, (i) => ((chart.values[i] ?? 0) < 0 ? neg : BAR), chart.label[lang], false);
}

/** Index of the step with the lowest rate (the biggest drop-off), or -1 when fewer than two rates are known. */
export function weakestStep(steps: { rate: number | null }[]): number {
  let at = -1;
  let known = 0;
  steps.forEach((s, i) => {
    if (s.rate === null || !Number.isFinite(s.rate)) return;
    known++;
    if (at < 0 || s.rate < steps[at]!.rate!) at = i;
  });
  return known >= 2 ? at : -1;
}

function funnelOption(chart: Extract<ReportChart, { kind: 'funnel' }>, lang: Lang): ReportChartOption {
  const weak = weakestStep(chart.steps);
  return horizontal(
    chart.steps.map((s) => s.label[lang]),
    chart.steps.map((s) => s.rate),
    'percent',
    lang,
    (i) => (i === weak ? WEAK : BAR),
    lang === 'zh' ? '转化率' : 'Rate',
    true,
  );
}
