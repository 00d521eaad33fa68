/**
 * The rule preview's chart option (pure): the KPI's total over the replayed range and each
 * firing the backtest found as a vertical line (red; darker when critical), with the
 * firing's split, value, baseline and normal band in its tooltip. Beijing wall-clock time
 * on the axis, as on the trends page.
 */
import type { LineSeriesOption } from 'echarts/charts';
import type { KpiUnit } from '@siyu-pulse/contracts/catalogue';
import { formatKpi, type Lang } from '@siyu-pulse/contracts/format';
import { axisLabel, tickLabel } from '../trends/chartOption';
import { formatDateTime, tzOffsetMs } from '../trends/time';

export interface PreviewFiring {
  ts: number;
  alertKey: string;
  split: { dim: string; value: string } | null;
  value: number | null;
  baseline: number | null;
  change: number | null;
  band: { low: number; high: number } | null;
  severity: 'warning' | 'critical' | null;
  summary: string;
}

export interface PreviewTexts {
  lang: Lang;
  timezone: string;
  kpiName: string;
  firing: string;
  value: string;
  baseline: string;
  band: string;
  splitText: (f: PreviewFiring) => string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function previewOption(points: readonly [number, number | null][], firings: readonly PreviewFiring[], unit: KpiUnit, range: { from: number; to: number }, t: PreviewTexts) {
  const x = (ts: number) => ts + tzOffsetMs(t.timezone, ts);
  const span = range.to - range.from;
  const fmt = (v: number | null) => formatKpi(v, unit, t.lang);
  const line: LineSeriesOption = {
    type: 'line',
    id: 'kpi',
    name: t.kpiName,
    showSymbol: points.length < 40,
    connectNulls: false,
    lineStyle: { width: 1.5, color: '#2563eb' },
    itemStyle: { color: '#2563eb' },
    data: points.map(([ts, v]) => [x(ts), v, ts]),
    markLine: {
      symbol: ['none', 'circle'],
      symbolSize: 8,
      label: { show: false },
      tooltip: {
        trigger: 'item',
        formatter: (p: unknown) => {
          const f = firings[(p as { dataIndex: number }).dataIndex];
          if (!f) return '';
          const lines = [`<b style="color:#dc2626">${esc(t.firing)}</b> · ${esc(formatDateTime(f.ts, t.timezone))}`, esc(t.splitText(f)), `${esc(t.value)}：${esc(fmt(f.value))} · ${esc(t.baseline)}：${esc(fmt(f.baseline))}`];
          if (f.band) lines.push(`${esc(t.band)}：${esc(fmt(f.band.low))}–${esc(fmt(f.band.high))}`);
          if (f.summary) lines.push(`<span style="color:#64748b">${esc(f.summary)}</span>`);
          return lines.join('<br>');
        },
      },
      data: firings.map((f) => ({ xAxis: x(f.ts), lineStyle: { color: f.severity === 'critical' ? '#991b1b' : '#dc2626', width: 1.5, type: 'solid' as const, opacity: 0.85 }, itemStyle: { color: f.severity === 'critical' ? '#991b1b' : '#dc2626' } })),
    },
  };
  return {
    animation: false,
    useUTC: true,
    grid: { left: 12, right: 24, top: 20, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis' as const,
      confine: true,
      formatter: (raw: unknown) => {
        const p = (Array.isArray(raw) ? raw[0] : raw) as { value?: [number, number | null, number] } | undefined;
        return p?.value ? `${esc(formatDateTime(p.value[2], t.timezone))}<br>${esc(t.kpiName)}：<b>${esc(fmt(p.value[1]))}</b>` : '';
      },
    },
    xAxis: { type: 'time' as const, min: x(range.from), max: x(range.to), axisLabel: { color: '#475569', fontSize: 12, hideOverlap: true, formatter: (v: number) => tickLabel(v, span) }, splitLine: { show: false } },
    yAxis: { type: 'value' as const, axisLabel: { color: '#475569', fontSize: 12, formatter: (v: number) => axisLabel(v, unit, t.lang) }, splitLine: { lineStyle: { color: '#e8edf4' } } },
    series: [line],
  };
}
