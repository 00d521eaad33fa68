import type { KpiInfo } from '../../contract.js';

/**
 * Whether a KPI is a distinct count (members do not add up across periods or parts of a
 * window), so it is answered only over minute-aligned windows. KpiInfo does not always say
 * which KPIs use a distinct count; the backend offers those split by channel only (distinct
 * sets are kept per channel), so "cannot be split by community" identifies them. Aligning a
 * plain KPI to the minute by mistake only delays it by < 1 min, so the guess fails safe.
 */
export function needsMinuteWindows(kpi: KpiInfo): boolean {
  // A source that says what the KPI is wins: a plain sum that simply cannot be split by
  // community (a CSV series, a backtest KPI) is not a distinct count.
  if (kpi.distinct !== undefined) return kpi.distinct;
  return !kpi.splits.includes('community');
}
