/**
 * Pure evaluation of one alert instance: current window vs baseline → the numbers and an
 * Observation for the state machine. No I/O, no clock.
 *
 * Fire condition: the move is in the rule's direction, |change| ≥ fire, the sample guard
 * holds, |value − baseline| ≥ min_abs_change and (when configured) the two-proportion
 * test is significant.
 *
 * Clear condition: by value only — a firing alert stays firing while the change is still
 * beyond `clear` in the direction it fired. The guards decide whether a swing is worth
 * raising, not whether a raised one is over: a dip in traffic (sample) or a wider
 * confidence interval would otherwise resolve and re-fire the same swing, i.e. flap.
 */
import type { Band, KpiInfo, Severity, WindowValue } from '../contract.js';
import type { ChangeRule, DeadmanRule, TargetRule } from '../rules/schema.js';

export type Move = 'up' | 'down';

/** What the state machine needs from one evaluation. */
export interface Observation {
  /** The fire condition holds, in this direction; null when it does not. */
  fire: Move | null;
  /** The value is still beyond the clear threshold upwards / downwards (hysteresis). */
  holdUp: boolean;
  holdDown: boolean;
  severity: Severity;
}

export interface Evaluation {
  value: number | null;
  baseline: number | null;
  change: number | null;
  notEnoughHistory: boolean;
  /** null when the data cannot decide (no history, no current value, zero baseline). */
  observation: Observation | null;
  /** Why no decision could be taken, or which guard held a crossed threshold back. */
  reason?: string;
  significance?: { z: number; p: number };
  /** The normal range (noise-aware rules). */
  band?: Band;
  /** Seasonal rules: the recent windows stood in for missing comparable periods. */
  basis?: 'recent';
}

/** A noise band for one evaluation: its half-width around the baseline (null while still learning). */
export interface BandInput {
  halfWidth: number | null;
  periods: number;
  period: Band['period'];
  comparable?: Band['comparable'];
}

/** Floating point: a change of exactly 15% must fire at 0.15 ((0.255 − 0.3) / 0.3 ≠ −0.15 in binary). */
const EPS = 1e-9;

/** (current − baseline) / |baseline|; null when undefined. */
export function relativeChange(current: number | null, baseline: number | null): number | null {
  if (current === null || baseline === null || baseline === 0) return null;
  return (current - baseline) / Math.abs(baseline);
}

/**
 * Complementary error function (Numerical Recipes' Chebyshev fit, |relative error| < 1.2e-7
 * everywhere): ample for comparing a p-value with 0.05 or 0.01.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal cumulative distribution. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/**
 * Two-proportion z-test with the pooled proportion: x1/n1 (current) against x2/n2
 * (baseline); p is two-sided. Null when a side has no trials.
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): { z: number; p: number } | null {
  if (!(n1 > 0 && n2 > 0) || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2) return null;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, p: 1 };
  const z = (x1 / n1 - x2 / n2) / se;
  return { z, p: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))) };
}

function sampleGuard(rule: ChangeRule, kpi: KpiInfo, cur: WindowValue, base: WindowValue): boolean {
  // Ratios: noise depends on both denominators. Sums: the larger side makes the move
  // meaningful (3 → 1 members is noise, 1000 → 0 is an outage that must still fire).
  return kpi.ratio
    ? cur.sample >= rule.minSample && base.sample >= rule.minSample
    : Math.max(cur.sample, base.sample) >= rule.minSample;
}

const undecided = (v: Partial<Evaluation> & { reason: string }): Evaluation => ({
  value: null,
  baseline: null,
  change: null,
  notEnoughHistory: false,
  observation: null,
  ...v,
});

/**
 * `cur` undefined: the split sent nothing in the current window (0 for sums, undefined
 * for ratios). `base` undefined: not enough history for this split.
 */
export function evaluateChange(
  rule: ChangeRule,
  kpi: KpiInfo,
  cur: WindowValue | undefined,
  base: WindowValue | undefined,
  bandIn?: BandInput,
): Evaluation {
  const current: WindowValue | undefined = cur ?? (kpi.ratio ? undefined : { value: 0, sample: 0 });
  const value = current?.value ?? null;
  if (!base) return undecided({ value, notEnoughHistory: true, reason: 'not enough history for the baseline' });
  const baseline = base.value;
  if (baseline === null) return undecided({ value, notEnoughHistory: true, reason: 'no data in the baseline window' });
  if (value === null || !current) return undecided({ baseline, reason: 'no data in the current window' });
  if (bandIn && bandIn.halfWidth === null) return undecided({ value, baseline, change: relativeChange(value, baseline), reason: 'learning the KPI\'s normal noise (band not ready)' });
  const half = bandIn?.halfWidth ?? null;
  const band: Band | undefined =
    bandIn && half !== null
      ? { low: baseline - half, high: baseline + half, periods: bandIn.periods, period: bandIn.period, ...(bandIn.comparable ? { comparable: bandIn.comparable } : {}) }
      : undefined;
  const change = relativeChange(value, baseline);
  const { fire, clear, critical } = rule.thresholds;
  const up = rule.direction !== 'down';
  const down = rule.direction !== 'up';
  const delta = value - baseline;
  // Outside the normal noise (always true without a band); the clear side keeps half the band.
  const outside = half === null || Math.abs(delta) > half;
  const outsideHold = half === null || Math.abs(delta) > half / 2;

  if (change === null) {
    // Baseline 0: no relative change exists, so the absolute floor decides (a count rising
    // from zero fires once it reaches min_abs_change; without a floor nothing can fire).
    if (rule.minAbsChange <= 0) return undecided({ value, baseline, ...(band ? { band } : {}), reason: 'baseline is 0: relative change undefined (set min_abs_change to fire on a rise from zero)' });
    const size = Math.abs(delta);
    const clearAbs = rule.minAbsChange * (clear / fire);
    const observation: Observation = {
      fire: null,
      holdUp: up && delta >= clearAbs - EPS && outsideHold,
      holdDown: down && delta <= -clearAbs + EPS && outsideHold,
      severity: 'warning',
    };
    const result: Evaluation = { value, baseline, change: null, notEnoughHistory: false, observation, ...(band ? { band } : {}) };
    const move: Move = delta > 0 ? 'up' : 'down';
    if (delta === 0 || (move === 'up' ? !up : !down) || size < rule.minAbsChange - EPS || !outside) return result;
    if (!sampleGuard(rule, kpi, current, base)) return { ...result, reason: `sample below min_sample ${rule.minSample}` };
    return { ...result, observation: { ...observation, fire: move } };
  }

  const size = Math.abs(change);
  const observation: Observation = {
    fire: null,
    holdUp: up && change >= clear - EPS && outsideHold,
    holdDown: down && change <= -clear + EPS && outsideHold,
    severity: critical !== undefined && size >= critical - EPS ? 'critical' : 'warning',
  };
  const result: Evaluation = { value, baseline, change, notEnoughHistory: false, observation, ...(band ? { band } : {}) };

  const move: Move = change > 0 ? 'up' : 'down';
  if (change === 0 || (move === 'up' ? !up : !down) || size < fire - EPS) return result;
  if (!outside) return { ...result, reason: 'within the normal range (noise band)' };
  if (!sampleGuard(rule, kpi, current, base)) {
    return { ...result, reason: `sample below min_sample ${rule.minSample} (current ${current.sample}, baseline ${base.sample})` };
  }
  if (Math.abs(value - baseline) < rule.minAbsChange - EPS) {
    return { ...result, reason: `absolute change below min_abs_change ${rule.minAbsChange}` };
  }
  if (rule.significance) {
    const test =
      current.num !== undefined && current.den != null && base.num !== undefined && base.den != null
        ? twoProportionZTest(current.num, current.den, base.num, base.den)
        : null;
    if (!test) return { ...result, reason: 'significance: no proportions to test' };
    if (!(test.p < rule.significance.p)) {
      return { ...result, significance: test, reason: `not significant (p = ${test.p.toPrecision(3)} ≥ ${rule.significance.p})` };
    }
    return { ...result, significance: test, observation: { ...observation, fire: move } };
  }
  return { ...result, observation: { ...observation, fire: move } };
}

/**
 * Deadman: a split value that was sending and has been silent for `after`. `value` is the
 * silence in ms. Resolves as soon as the value sends again (no hysteresis to apply).
 */
export function evaluateDeadman(rule: DeadmanRule, lastSeenAt: number | undefined, now: number): Evaluation {
  if (lastSeenAt === undefined) return undecided({ reason: 'never seen' });
  const silentMs = Math.max(0, now - lastSeenAt);
  const silent = silentMs >= rule.afterMs;
  return {
    value: silentMs,
    baseline: null,
    change: null,
    notEnoughHistory: false,
    observation: { fire: silent ? 'down' : null, holdUp: false, holdDown: silent, severity: 'warning' },
  };
}

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
