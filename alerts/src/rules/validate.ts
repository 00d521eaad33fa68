/**
 * Rule checks against the KPI catalogue handed over by the KpiSource: the KPI exists, the
 * split is one it offers, significance only on proportions, and distinct-count KPIs only
 * over 1m / 1h / 1d windows (the store keeps their distinct counts per minute / hour / day).
 */
import type { KpiInfo } from '../contract.js';
import { kindOf } from '../kinds/registry.js';
import type { AnyRule } from '../kinds/types.js';
import type { ShapeIssue } from './schema.js';

/**
 * Whether a KPI is answered only over minute-aligned windows. KpiInfo does not say which
 * KPIs use a distinct count; the backend offers those split by channel only (distinct sets
 * are kept per channel), so "cannot be split by community" identifies them. Aligning a
 * plain KPI to the minute by mistake only delays it by < 1 min, so the guess fails safe.
 */
export function needsMinuteWindows(kpi: KpiInfo): boolean {
  // A source that says what the KPI is wins: a plain sum that simply cannot be split by
  // community (a CSV series, a backtest KPI) is not a distinct count.
  if (kpi.distinct !== undefined) return kpi.distinct;
  return !kpi.splits.includes('community');
}

export type MinuteAligned = (kpi: KpiInfo) => boolean;

/**
 * Distinct counts are stored per minute, hour and day and cannot be combined, so the
 * backend answers a distinct-count KPI only over exactly one such period.
 */
export const DISTINCT_WINDOWS: readonly number[] = [60_000, 3_600_000, 86_400_000];

export function checkAgainstCatalogue(
  rule: AnyRule & { kpi: string; windowMs: number },
  catalogue: ReadonlyMap<string, KpiInfo>,
  minuteAligned: MinuteAligned = needsMinuteWindows,
): ShapeIssue[] {
  const kpi = catalogue.get(rule.kpi);
  if (!kpi) {
    const known = [...catalogue.keys()].join(', ');
    return [{ path: ['kpi'], message: `unknown KPI "${rule.kpi}" (known: ${known})` }];
  }
  const issues: ShapeIssue[] = [];
  if (rule.by && !kpi.splits.includes(rule.by)) {
    issues.push({ path: ['by'], message: `KPI ${kpi.id} cannot be split by ${rule.by} (allowed: ${kpi.splits.join(', ') || 'none'})` });
  }
  // What only this kind checks (target: a target exists; change: significance on proportions).
  const mod = kindOf(rule);
  if (mod.checkKpi) issues.push(...mod.checkKpi(rule, kpi));
  if (minuteAligned(kpi) && !DISTINCT_WINDOWS.includes(rule.windowMs)) {
    issues.push({ path: ['window'], message: `${kpi.id} counts distinct members: the window must be 1m, 1h or 1d (the stored periods)` });
  }
  return issues;
}
