/**
 * The weekly report (数据周报) as the API returns it and the report page renders it. The
 * generator (reports/weekly.ts) fills it from the store through the same series logic as
 * `/api/v1/series`, so every number can be checked against the history API.
 *
 * Values are in the KPI's own unit (fractions for percent, fen for money), like the rest
 * of the API; formatting is the page's and the DingTalk formatter's job.
 */
import type { KpiUnit, Label } from './catalogue/kpis.js';
import type { Outrun } from './catalogue/outrun.js';

export type ReportSectionId = 'scale' | 'interaction' | 'reach' | 'funnel' | 'value' | 'retention' | 'channels' | 'communities' | 'alerts' | 'targets';

export interface ReportMetric {
  /** KPI id from the catalogue, when the metric is one. */
  kpi?: string;
  label: Label;
  unit: KpiUnit | 'hours';
  value: number | null;
  /** The same metric over the week before. */
  previous: number | null;
  /** (value − previous) / |previous|; null when either is null or previous is 0. */
  change: number | null;
  /** 'good' / 'bad' from the KPI's good direction; 'neutral' otherwise. */
  tone: 'good' | 'bad' | 'neutral';
  /** Target in the KPI's unit, and whether the week met it. */
  target?: number;
  attained?: boolean;
  /** A share over 100% (numerator outran its denominator): no attainment, the missing counter instead. */
  outrun?: Outrun;
}

export interface ReportTable {
  columns: Label[];
  /** Cells: numbers in the column's unit, strings as shown, null for "—". */
  rows: (string | number | null)[][];
  /** Units per column (for formatting numbers); 'text' for strings. */
  units: (KpiUnit | 'hours' | 'text')[];
  /** Columns a phone-width page leaves out to keep the rest readable (the wider page, the PDF and the DingTalk text keep them). */
  wideOnly?: boolean[];
  /** Stable column ids, per column, for readers that pick a column by meaning (the DingTalk text) rather than by its label or position. */
  keys?: string[];
}

/** A chart the page draws (ECharts) from plain data. */
export type ReportChart =
  | { kind: 'daily'; unit: KpiUnit; label: Label; days: string[]; series: { name: Label; values: (number | null)[] }[] }
  | { kind: 'bar'; unit: KpiUnit; label: Label; categories: string[]; values: (number | null)[] }
  | { kind: 'funnel'; steps: { label: Label; rate: number | null }[] };

export interface ReportSection {
  id: ReportSectionId;
  title: Label;
  /** One or two plain sentences a manager can act on, built from the numbers below. */
  finding: Label;
  metrics: ReportMetric[];
  table?: ReportTable;
  chart?: ReportChart;
  /** Trends page deep link for the week (relative: `/trends?…`). */
  link?: string;
}

export interface WeeklyReport {
  /** ISO week in the business time zone, e.g. `2026-W47`. */
  id: string;
  kind: 'weekly';
  timezone: string;
  /** Monday 00:00 to the next Monday 00:00 (business time zone), epoch ms. */
  week: { from: number; to: number; label: string };
  previousWeek: { from: number; to: number; label: string };
  generatedAt: number;
  trigger: 'schedule' | 'manual';
  /** True when the store holds no data for part of the week (said at the top). */
  partial: boolean;
  sections: ReportSection[];
  /** Delivery to notifiers (DingTalk…), filled after sending. */
  delivery: { notifier: string; ok: boolean; code?: string; message?: string; at: number }[];
}

/** The list endpoint's entries. */
export interface ReportSummary {
  id: string;
  week: WeeklyReport['week'];
  generatedAt: number;
  trigger: WeeklyReport['trigger'];
  partial: boolean;
}
