/**
 * The change kind's schema: current window vs a baseline (环比 / 同比 / trailing mean, or the
 * seasonal baseline whose options live in ../seasonal/schema.ts), fire / clear thresholds,
 * direction and guards.
 */
import { z } from 'zod';
import type { BaselineKind, KpiInfo } from '../../contract.js';
import { common, commonOf, DIMENSIONS, fraction, positiveDurationMs, type ShapeIssue } from '../common/schema.js';
import { normaliseSeasonal, seasonalBaselineFields, seasonalRuleFields } from '../seasonal/schema.js';
import type { ChangeRule } from '@siyu-pulse/contracts/rules';

// The normalised rule is what the rules API answers: its shape lives in the contracts package.
export type { ChangeRule };

export const BASELINE_KINDS = [
  'previous_window',
  'same_window_yesterday',
  'same_window_last_week',
  'trailing_mean',
  'seasonal',
] as const satisfies readonly BaselineKind[];

export const changeRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('change').optional(),
  kpi: z.string().min(1),
  by: z.enum(DIMENSIONS).optional(),
  window: positiveDurationMs,
  baseline: z
    .strictObject({
      type: z.enum(BASELINE_KINDS),
      windows: z.number().int().min(1).max(96).optional(),
      ...seasonalBaselineFields,
    })
    .default({ type: 'previous_window' }),
  ...seasonalRuleFields,
  thresholds: z
    .strictObject({ fire: fraction.optional(), clear: fraction.optional(), critical: fraction.optional() })
    .default({}),
  direction: z.enum(['up', 'down', 'both']).default('both'),
  min_sample: z.number().min(0).default(0),
  min_abs_change: z.number().min(0).default(0),
  significance: z.strictObject({ p: z.number().gt(0).lt(1).default(0.05) }).optional(),
});

const DEFAULT_FIRE = 0.15;
const fmtPct = (f: number): string => `${Math.round(f * 1000) / 10}%`;
const DEFAULT_CLEAR = 0.1;

/**
 * Normalise one parsed rule. Cross-field checks (clear < fire < critical, `windows` only
 * for trailing_mean) are reported as issues relative to the rule.
 */
export function normaliseChange(r: z.output<typeof changeRuleSchema>, file: string): { rule: ChangeRule; issues: ShapeIssue[] } {
  const issues: ShapeIssue[] = [];
  const fire = r.thresholds.fire ?? DEFAULT_FIRE;
  // Keep the default 3:2 fire/clear ratio when only `fire` is given (0.15 → 0.10).
  const clear = r.thresholds.clear ?? (r.thresholds.fire === undefined ? DEFAULT_CLEAR : fire * (2 / 3));
  if (!(clear < fire)) issues.push({ path: ['thresholds', 'clear'], message: `clear (${clear}) must be below fire (${fire}) — hysteresis` });
  const critical = r.thresholds.critical;
  if (critical !== undefined && !(critical > fire)) {
    issues.push({ path: ['thresholds', 'critical'], message: `critical (${critical}) must be above fire (${fire})` });
  }
  if (r.values && !r.by) issues.push({ path: ['values'], message: '`values` needs `by`' });
  if (r.baseline.windows !== undefined && r.baseline.type !== 'trailing_mean') {
    issues.push({ path: ['baseline', 'windows'], message: 'only trailing_mean takes `windows`' });
  }
  const { part: seasonalPart, issues: seasonalIssues } = normaliseSeasonal(r);
  issues.push(...seasonalIssues);
  // A threshold that can never fire is a silent rule: say so instead of accepting it.
  // Every KPI here is ≥ 0, so a drop is at most 100% of the baseline.
  const downOnly = r.direction === 'down';
  if (fire > 1 && downOnly) {
    issues.push({ path: ['thresholds', 'fire'], message: `a drop of more than 100% is impossible: fire ${fmtPct(fire)} can never fire with direction: down (use at most 100%)` });
  } else if (fire > 1 && r.direction === 'both') {
    issues.push({ path: ['thresholds', 'fire'], message: `fire ${fmtPct(fire)} can never fire on a drop (a drop is at most 100%): write direction: up, or a threshold ≤ 100%` });
  }
  if (critical !== undefined && critical > 1 && downOnly) {
    issues.push({ path: ['thresholds', 'critical'], message: `a drop of more than 100% is impossible: critical ${fmtPct(critical)} can never be reached with direction: down` });
  }
  const rule: ChangeRule = {
    kind: 'change',
    ...commonOf(r, file, 2),
    kpi: r.kpi,
    ...(r.by ? { by: r.by } : {}),
    windowMs: r.window,
    baseline: {
      type: r.baseline.type,
      windows: r.baseline.type === 'trailing_mean' ? (r.baseline.windows ?? 4) : 1,
      ...(seasonalPart.seasonal ? { seasonal: seasonalPart.seasonal } : {}),
    },
    ...(seasonalPart.band ? { band: seasonalPart.band } : {}),
    ...(seasonalPart.levelShift ? { levelShift: seasonalPart.levelShift } : {}),
    ...(seasonalPart.extraWindows ? { extraWindows: seasonalPart.extraWindows } : {}),
    calendar: seasonalPart.calendar,
    thresholds: { fire, clear, ...(critical !== undefined ? { critical } : {}) },
    direction: r.direction,
    minSample: r.min_sample,
    minAbsChange: r.min_abs_change,
    ...(r.significance ? { significance: { p: r.significance.p } } : {}),
  };
  return { rule, issues };
}


/** Checks against the KPI the rule names (beyond the ones every kind shares). */
export function checkChangeKpi(rule: ChangeRule, kpi: KpiInfo): ShapeIssue[] {
  if (rule.significance && !(kpi.ratio && kpi.unit === 'percent')) {
    return [{ path: ['significance'], message: `the two-proportion test needs a percent ratio KPI; ${kpi.id} is not one` }];
  }
  return [];
}
