/** Pure evaluation of a target rule's windows. */
import type { KpiInfo, WindowValue } from '../../contract.js';
import { EPS, relativeChange, undecided, type Evaluation, type Observation } from '../common/evaluation.js';
import type { TargetRule } from './schema.js';

/** Which side of the target is a miss: below when more is better, above when less is. */
export function missSide(rule: TargetRule, kpi: KpiInfo): 'below' | 'above' {
  return rule.direction ?? (kpi.good === 'down' ? 'above' : 'below');
}

/**
 * Target: `windows` are the last `count` windows, newest first. Fires when every one of
 * them has a value on the wrong side of the target (and its sample reaches min_sample);
 * stays firing while the newest window still misses, so one good hour clears it.
 * `value` is the newest window's, `baseline` the target, `change` the distance to it.
 */
export function evaluateTarget(
  rule: TargetRule,
  kpi: KpiInfo,
  /** Newest first; null: the window starts before history; undefined: no data for this split. */
  windows: readonly (WindowValue | undefined | null)[],
  target: number | undefined,
): Evaluation {
  if (target === undefined) return undecided({ reason: 'no target for this KPI / split' });
  const newest = windows[0] ?? (kpi.ratio ? undefined : { value: 0, sample: 0 });
  const value = newest?.value ?? null;
  const side = missSide(rule, kpi);
  const misses = (w: WindowValue | undefined | null): boolean => {
    const v = w ? w.value : kpi.ratio ? null : 0;
    if (v === null) return false;
    return side === 'below' ? v < target - EPS : v > target + EPS;
  };
  const change = relativeChange(value, target);
  const missingHistory = windows.length < rule.count || windows.some((w) => w === null);
  if (missingHistory) return { ...undecided({ value, reason: 'not enough history for every window' }), baseline: target, change, notEnoughHistory: true };
  const thin = windows.findIndex((w) => (w?.sample ?? 0) < rule.minSample);
  const allMiss = windows.every(misses);
  const holding = misses(windows[0]);
  const observation: Observation = {
    fire: allMiss && thin === -1 ? (side === 'below' ? 'down' : 'up') : null,
    holdUp: side === 'above' && holding,
    holdDown: side === 'below' && holding,
    severity: 'warning',
  };
  const result: Evaluation = { value, baseline: target, change, notEnoughHistory: false, observation };
  if (allMiss && thin !== -1) return { ...result, reason: `sample below min_sample ${rule.minSample} in window ${thin + 1} of ${rule.count}` };
  return result;
}
