/**
 * The rule file format (YAML, snake_case) and the normalised `Rule` the engine runs
 * (camelCase, durations in ms, every default applied). The zod schemas check shape only;
 * catalogue checks (does the KPI exist, can it be split that way) live in validate.ts.
 */
import { z } from 'zod';
import type { BaselineKind, Dimension } from '../contract.js';
import { parseDuration } from './duration.js';

export const DIMENSIONS = ['channel', 'community', 'campaign'] as const satisfies readonly Dimension[];
export const BASELINE_KINDS = [
  'previous_window',
  'same_window_yesterday',
  'same_window_last_week',
  'trailing_mean',
] as const satisfies readonly BaselineKind[];

export type Direction = 'up' | 'down' | 'both';

/** `{ from: '00:00', to: '07:00' }` in the engine's time zone; from > to wraps midnight. */
export interface TimeOfDayWindow {
  from: string;
  to: string;
}

interface RuleCommon {
  id: string;
  /** Chinese display name. */
  name: string;
  /** Digest group for the dispatcher (default: the rule id). */
  group: string;
  /** Notifier ids (default `['dingtalk']`). */
  notify: string[];
  silenceWindows: TimeOfDayWindow[];
  /** Consecutive evaluations the condition must hold before firing. */
  pendingFor: number;
  /** How long a cleared condition must stay cleared before the alert resolves. */
  keepFiringForMs: number;
  /** Minimum time between two firing notifications of one alert. */
  cooldownMs: number;
  flapping: { maxFlips: number; withinMs: number };
  /** Only these values of `by` (e.g. one deadman rule per channel); all when absent. */
  values?: string[];
  /** The file the rule came from (for status and errors); '' when built in code. */
  file: string;
}

export interface ChangeRule extends RuleCommon {
  kind: 'change';
  kpi: string;
  by?: Dimension;
  windowMs: number;
  /** `windows` is the number of pooled windows for trailing_mean (1 for the others). */
  baseline: { type: BaselineKind; windows: number };
  /** Fractions of the baseline: fire at |change| ≥ fire, clear below `clear`. */
  thresholds: { fire: number; clear: number; critical?: number };
  direction: Direction;
  /**
   * Ratio KPIs: both windows' denominators must reach it. Sums / counts: the larger of the
   * two windows must reach it, so a collapse to zero still fires (see evaluate.ts).
   */
  minSample: number;
  /** |value − baseline| in the KPI's unit (a fraction for percent KPIs). */
  minAbsChange: number;
  /** Two-proportion z-test for percent ratio KPIs: fire only when p-value < p. */
  significance?: { p: number };
}

export interface DeadmanRule extends RuleCommon {
  kind: 'deadman';
  by: Dimension;
  /** Silence that fires the alert for a split value that was sending. */
  afterMs: number;
}

/**
 * "Below target for N hours": the KPI misses its target (below it when more is better,
 * above it when less is better) in every one of the last `count` windows.
 */
export interface TargetRule extends RuleCommon {
  kind: 'target';
  kpi: string;
  by?: Dimension;
  windowMs: number;
  /** Consecutive windows that must all miss (for / window). */
  count: number;
  /** null: the KPI's configured target (per channel when set). */
  target: number | null;
  /** Which side of the target is a miss; from the KPI's good direction when absent. */
  direction?: 'below' | 'above';
  /** Each window's sample (denominator / count) must reach it for the window to count. */
  minSample: number;
}

export type Rule = ChangeRule | DeadmanRule | TargetRule;

// ---- YAML shape ----------------------------------------------------------------------

const durationMs = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${JSON.stringify(v)} (write e.g. 30s, 15m, 1h, 1d)` });
    return z.NEVER;
  }
  return ms;
});
const positiveDurationMs = durationMs.refine((ms) => ms > 0, 'must be longer than 0');

/** A fraction (0.15) or a percentage string ('15%'). */
const fraction = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\s*\d+(\.\d+)?\s*%\s*$/.test(v) ? Number(v.trim().slice(0, -1).trim()) / 100 : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > 10) {
    ctx.addIssue({ code: 'custom', message: `must be a fraction > 0 (0.15) or a percentage ('15%'), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});

const timeOfDay = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, "must be a time of day 'HH:MM' (quote it)");

const common = {
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/, 'must be 1–80 letters, digits, _ . - (no spaces)'),
  name: z.string().trim().min(1, 'must not be empty'),
  group: z.string().trim().min(1).optional(),
  notify: z.array(z.string().min(1)).min(1, 'needs at least one notifier').default(['dingtalk']),
  silence_windows: z
    .array(z.strictObject({ from: timeOfDay, to: timeOfDay }).refine((w) => w.from !== w.to, 'from and to must differ'))
    .default([]),
  pending_for: z.number().int().min(1).max(1000).optional(),
  keep_firing_for: durationMs.default(0),
  cooldown: durationMs.default(30 * 60_000),
  values: z.array(z.string().min(1)).min(1).optional(),
  flapping: z
    .strictObject({ max_flips: z.number().int().min(1).max(100).default(4), within: positiveDurationMs.default(30 * 60_000) })
    .default({ max_flips: 4, within: 30 * 60_000 }),
};

export const changeRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('change').optional(),
  kpi: z.string().min(1),
  by: z.enum(DIMENSIONS).optional(),
  window: positiveDurationMs,
  baseline: z
    .strictObject({ type: z.enum(BASELINE_KINDS), windows: z.number().int().min(1).max(96).optional() })
    .default({ type: 'previous_window' }),
  thresholds: z
    .strictObject({ fire: fraction.optional(), clear: fraction.optional(), critical: fraction.optional() })
    .default({}),
  direction: z.enum(['up', 'down', 'both']).default('both'),
  min_sample: z.number().min(0).default(0),
  min_abs_change: z.number().min(0).default(0),
  significance: z.strictObject({ p: z.number().gt(0).lt(1).default(0.05) }).optional(),
});

export const deadmanRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('deadman'),
  by: z.enum(DIMENSIONS),
  after: positiveDurationMs,
});

export const targetRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('target'),
  kpi: z.string().min(1),
  by: z.enum(DIMENSIONS).optional(),
  window: positiveDurationMs.default(3_600_000),
  for: positiveDurationMs,
  target: z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : /^\s*-?\d+(\.\d+)?\s*%\s*$/.test(v) ? Number(v.trim().slice(0, -1).trim()) / 100 : NaN;
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: `must be a number in the KPI's unit or a percentage ('5.2%'), got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  }).optional(),
  direction: z.enum(['below', 'above']).optional(),
  min_sample: z.number().min(0).default(0),
});

export const ruleFileSchema = z.strictObject({ rules: z.array(z.unknown()) });

/** A problem found in a rule, located by its path from the document root. */
export interface ShapeIssue {
  path: (string | number)[];
  message: string;
}

/** The fields every rule kind shares, normalised; `pendingFor` defaults per kind. */
function commonOf(r: z.output<z.ZodObject<typeof common>>, file: string, defaultPendingFor: number): RuleCommon {
  return {
    id: r.id,
    name: r.name,
    group: r.group ?? r.id,
    notify: r.notify,
    silenceWindows: r.silence_windows,
    pendingFor: r.pending_for ?? defaultPendingFor,
    keepFiringForMs: r.keep_firing_for,
    cooldownMs: r.cooldown,
    flapping: { maxFlips: r.flapping.max_flips, withinMs: r.flapping.within },
    ...(r.values ? { values: r.values } : {}),
    file,
  };
}

const DEFAULT_FIRE = 0.15;
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
  const rule: ChangeRule = {
    kind: 'change',
    ...commonOf(r, file, 2),
    kpi: r.kpi,
    ...(r.by ? { by: r.by } : {}),
    windowMs: r.window,
    baseline: { type: r.baseline.type, windows: r.baseline.type === 'trailing_mean' ? (r.baseline.windows ?? 4) : 1 },
    thresholds: { fire, clear, ...(critical !== undefined ? { critical } : {}) },
    direction: r.direction,
    minSample: r.min_sample,
    minAbsChange: r.min_abs_change,
    ...(r.significance ? { significance: { p: r.significance.p } } : {}),
  };
  return { rule, issues };
}

export function normaliseTarget(r: z.output<typeof targetRuleSchema>, file: string): { rule: TargetRule; issues: ShapeIssue[] } {
  const issues: ShapeIssue[] = [];
  const count = r.for / r.window;
  if (!Number.isInteger(count) || count < 1) issues.push({ path: ['for'], message: `for (${r.for / 60_000} min) must be a whole number of windows (window ${r.window / 60_000} min)` });
  else if (count > 48) issues.push({ path: ['for'], message: `for covers ${count} windows; at most 48 (use a longer window)` });
  if (r.values && !r.by) issues.push({ path: ['values'], message: '`values` needs `by`' });
  const rule: TargetRule = {
    kind: 'target',
    // `for` already demands the miss to persist: fire on the first evaluation that sees it.
    ...commonOf(r, file, 1),
    kpi: r.kpi,
    ...(r.by ? { by: r.by } : {}),
    windowMs: r.window,
    count: Number.isInteger(count) ? count : 1,
    target: r.target ?? null,
    ...(r.direction ? { direction: r.direction } : {}),
    minSample: r.min_sample,
  };
  return { rule, issues };
}

export function normaliseDeadman(r: z.output<typeof deadmanRuleSchema>, file: string): DeadmanRule {
  return {
    kind: 'deadman',
    // `after` is already the waiting time: fire on the first evaluation past it.
    ...commonOf(r, file, 1),
    by: r.by,
    afterMs: r.after,
  };
}
