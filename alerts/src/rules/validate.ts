/**
 * Rule checks against the KPI catalogue handed over by the KpiSource: the KPI exists, the
 * split is one it offers, significance only on proportions, and distinct-count KPIs only
 * over 1m / 1h / 1d windows (the store keeps their distinct counts per minute / hour / day).
 */
import type { KpiInfo } from '../contract.js';
import { kindOf } from '../kinds/registry.js';
import type { AnyRule } from '../kinds/types.js';
import type { ShapeIssue } from './schema.js';
import { needsMinuteWindows } from '../kinds/common/distinct.js';

// Whether a KPI is answered only over minute-aligned windows (kinds/common/distinct.ts).
export { needsMinuteWindows };

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
  // The windows the source can answer: a month-level KPI per day only, other distinct counts
  // per stored period. Refused here with the reason, not at every evaluation.
  const allowed = kpi.windows ?? (minuteAligned(kpi) ? DISTINCT_WINDOWS : undefined);
  if (allowed) {
    const list = allowed.map(fmtWindow).join(', ');
    const why = minuteAligned(kpi) ? `${kpi.id} counts distinct members and is answered only over ${list} (its stored periods)` : `${kpi.id} is answered only over ${list}`;
    if (!allowed.includes(rule.windowMs)) issues.push({ path: ['window'], message: `${why}: window ${fmtWindow(rule.windowMs)} is not one of them` });
    // A seasonal rule's extra windows are read from the same source.
    const extra = (rule as { extraWindows?: { shortMs?: number; accumulateMs?: number } }).extraWindows;
    for (const [field, ms] of [['short_window', extra?.shortMs], ['accumulate', extra?.accumulateMs]] as const) {
      if (ms !== undefined && !allowed.includes(ms)) issues.push({ path: [field], message: `${why}: ${field} ${fmtWindow(ms)} is not one of them` });
    }
  }
  return issues;
}

/** 1m / 1h / 1d / 90m, as rules write durations. */
function fmtWindow(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
