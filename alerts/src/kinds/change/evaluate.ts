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
import type { Band, KpiInfo, WindowValue } from '../../contract.js';
import { EPS, relativeChange, undecided, type BandInput, type Evaluation, type Move, type Observation } from '../common/evaluation.js';
import type { ChangeRule } from './schema.js';

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
      ? { low: baseline - half, high: baseline + half, periods: bandIn.periods, period: bandIn.period, ...(bandIn.comparable ? { comparable: bandIn.comparable } : {}), ...(bandIn.otherDays ? { otherDays: bandIn.otherDays } : {}) }
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
    // Baseline 0: no relative change exists (any move is beyond a percentage threshold), so
    // the absolute floor decides: a count rising from zero fires once it reaches
    // min_abs_change and, with a noise band, leaves the band. Without a floor the band alone is
    // the floor (its width is the KPI's own noise, in the KPI's unit: a generic rule knows no
    // unit); with neither nothing can fire.
    if (rule.minAbsChange <= 0 && half === null) return undecided({ value, baseline, reason: 'baseline is 0: relative change undefined (set min_abs_change, or a noise band, to fire on a rise from zero)' });
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

