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
  'seasonal',
] as const satisfies readonly BaselineKind[];

/** How a rule treats holidays and campaigns (the business calendar). */
export type CalendarMode = 'normal' | 'mute' | 'comparable';

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
  /** Consecutive evaluations the condition must hold before firing (`pending_for: 3`). */
  pendingFor: number;
  /** How long the condition must hold before firing (`pending_for: 10m`); 0 = count only. */
  pendingForMs: number;
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
  baseline: { type: BaselineKind; windows: number; seasonal?: SeasonalBaseline };
  /** Noise band (seasonal baselines): an alert also needs a move outside normal noise. */
  band?: NoiseBand;
  /** A move persisting this long becomes the new baseline (新常态) instead of firing on. */
  levelShift?: { adoptAfterMs: number };
  /** Holidays and campaigns: ordinary days (normal), no decision (mute), or like with like (comparable). */
  calendar: { holidays: CalendarMode; campaigns: CalendarMode };
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

/**
 * The expected value: the robust median of the same window in the last `periods` comparable
 * periods (same hour of day, or same weekday and hour), leaving out windows that were firing
 * or fell on holidays / campaigns. `days: comparable` (period 1d) uses only days of the same
 * type (workdays incl. 调休 vs weekends / holidays).
 */
export interface SeasonalBaseline {
  periodMs: number;
  periods: number;
  minPeriods: number;
  days: 'comparable' | 'all';
}

/**
 * The band: |value − expected| must exceed k × the `quantile` of the KPI's own recent
 * deviations |value − expected| (measured at each evaluation outside alerts over `spanMs`).
 * Until `minHistoryMs` of deviations are known the rule takes no decision.
 */
export interface NoiseBand {
  quantile: number;
  k: number;
  spanMs: number;
  minHistoryMs: number;
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
  // A count of evaluations (legacy) or a duration ('10m').
  pending_for: z
    .union([
      z.number().int().min(1).max(1000),
      z.string().refine((v) => (parseDuration(v) ?? 0) > 0, 'must be a count of evaluations (3) or a duration (10m)'),
    ])
    .optional(),
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
    .strictObject({
      type: z.enum(BASELINE_KINDS),
      windows: z.number().int().min(1).max(96).optional(),
      period: positiveDurationMs.optional(),
      periods: z.number().int().min(1).max(12).optional(),
      min_periods: z.number().int().min(1).max(12).optional(),
      days: z.enum(['comparable', 'all']).optional(),
    })
    .default({ type: 'previous_window' }),
  band: z
    .strictObject({
      quantile: z.number().gt(0).max(1).default(0.99),
      k: z.number().gt(0).max(20).default(1.5),
      span: positiveDurationMs.default(7 * 86_400_000),
      min_history: durationMs.default(86_400_000),
    })
    .optional(),
  level_shift: z.strictObject({ adopt_after: positiveDurationMs }).optional(),
  calendar: z
    .strictObject({
      holidays: z.enum(['normal', 'mute', 'comparable']).default('normal'),
      campaigns: z.enum(['normal', 'mute', 'comparable']).default('normal'),
    })
    .default({ holidays: 'normal', campaigns: 'normal' }),
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

/** `rules:` and, in a file such as generic.yaml, `templates:` that rules name with `extends:`. */
export const ruleFileSchema = z.preprocess(
  // A file of templates only (generic.yaml) needs no `rules:`.
  (doc) => (typeof doc === 'object' && doc !== null && 'templates' in doc && !('rules' in doc) ? { ...doc, rules: [] } : doc),
  z.strictObject({ rules: z.array(z.unknown()), templates: z.array(z.unknown()).optional() }),
);

/** A problem found in a rule, located by its path from the document root. */
export interface ShapeIssue {
  path: (string | number)[];
  message: string;
}

/** The fields every rule kind shares, normalised; `pendingFor` defaults per kind. */
function commonOf(r: z.output<z.ZodObject<typeof common>>, file: string, defaultPendingFor: number): RuleCommon {
  const pendingMs = typeof r.pending_for === 'string' ? parseDuration(r.pending_for) : null;
  return {
    id: r.id,
    name: r.name,
    group: r.group ?? r.id,
    notify: r.notify,
    silenceWindows: r.silence_windows,
    pendingFor: typeof r.pending_for === 'number' ? r.pending_for : r.pending_for === undefined ? defaultPendingFor : 1,
    pendingForMs: pendingMs ?? 0,
    keepFiringForMs: r.keep_firing_for,
    cooldownMs: r.cooldown,
    flapping: { maxFlips: r.flapping.max_flips, withinMs: r.flapping.within },
    ...(r.values ? { values: r.values } : {}),
    file,
  };
}

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
  const seasonal = r.baseline.type === 'seasonal';
  for (const f of ['period', 'periods', 'min_periods', 'days'] as const) {
    if (r.baseline[f] !== undefined && !seasonal) issues.push({ path: ['baseline', f], message: `only the seasonal baseline takes \`${f}\`` });
  }
  const periodMs = r.baseline.period ?? 7 * 86_400_000;
  if (seasonal && periodMs !== 86_400_000 && periodMs !== 7 * 86_400_000) {
    issues.push({ path: ['baseline', 'period'], message: 'period must be 1d (same hour of day) or 1w (same weekday and hour)' });
  }
  if (seasonal && r.window > periodMs) issues.push({ path: ['window'], message: 'the window must not be longer than the seasonal period' });
  const periods = r.baseline.periods ?? 4;
  const minPeriods = r.baseline.min_periods ?? Math.min(periods, 2);
  if (minPeriods > periods) issues.push({ path: ['baseline', 'min_periods'], message: `min_periods (${minPeriods}) must not exceed periods (${periods})` });
  if (r.band && !seasonal) issues.push({ path: ['band'], message: 'a noise band needs the seasonal baseline (baseline: { type: seasonal })' });
  if (r.band && r.band.min_history > r.band.span) issues.push({ path: ['band', 'min_history'], message: 'min_history must not exceed span' });
  if (r.level_shift && !seasonal) issues.push({ path: ['level_shift'], message: 'level_shift needs the seasonal baseline' });
  if ((r.calendar.holidays === 'comparable' || r.calendar.campaigns === 'comparable') && !seasonal) {
    issues.push({ path: ['calendar'], message: 'comparable-day baselines need the seasonal baseline' });
  }
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
      ...(seasonal ? { seasonal: { periodMs, periods, minPeriods, days: r.baseline.days ?? (periodMs === 86_400_000 ? 'comparable' : 'all') } } : {}),
    },
    ...(r.band ? { band: { quantile: r.band.quantile, k: r.band.k, spanMs: r.band.span, minHistoryMs: r.band.min_history } } : {}),
    ...(r.level_shift ? { levelShift: { adoptAfterMs: r.level_shift.adopt_after } } : {}),
    calendar: { holidays: r.calendar.holidays, campaigns: r.calendar.campaigns },
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
