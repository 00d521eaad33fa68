/**
 * The seasonal kind's schema: a change rule whose baseline is `type: seasonal`. Its YAML
 * options (period, periods, min_periods, days, band, level_shift, calendar modes) ride on the
 * change rule's shape (same `kind: change` in YAML, so existing files keep working); their
 * normalised form and their checks live here.
 */
import { z } from 'zod';
import { durationMs, positiveDurationMs, type ShapeIssue } from '../common/schema.js';

/** How a rule treats holidays and campaigns (the business calendar). */
export type CalendarMode = 'normal' | 'mute' | 'comparable';

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
  /**
   * A deviation is learnt as at most `clip` × the current band's half-width (Huber-style):
   * an incident the rule did not catch, or a one-off, cannot blow the band up for a whole
   * `span` and hide the next incident; a lasting change of noise still widens it, by up to
   * `clip` each turn. Absent: learnt as seen.
   */
  clip?: number;
  /** Learn noise on holidays and campaign days too (default). false: those days never widen the ordinary band. */
  learnOnCalendarDays: boolean;
}

/** The seasonal fields of the `baseline:` object. */
export const seasonalBaselineFields = {
  period: positiveDurationMs.optional(),
  periods: z.number().int().min(1).max(12).optional(),
  min_periods: z.number().int().min(1).max(12).optional(),
  days: z.enum(['comparable', 'all']).optional(),
};

/** The seasonal fields of the rule itself. */
export const seasonalRuleFields = {
  band: z
    .strictObject({
      quantile: z.number().gt(0).max(1).default(0.99),
      k: z.number().gt(0).max(20).default(1.5),
      span: positiveDurationMs.default(7 * 86_400_000),
      min_history: durationMs.default(86_400_000),
      clip: z.number().gt(1).max(100).optional(),
      learn_on_calendar_days: z.boolean().default(true),
    })
    .optional(),
  level_shift: z.strictObject({ adopt_after: positiveDurationMs }).optional(),
  calendar: z
    .strictObject({
      holidays: z.enum(['normal', 'mute', 'comparable']).default('normal'),
      campaigns: z.enum(['normal', 'mute', 'comparable']).default('normal'),
    })
    .default({ holidays: 'normal', campaigns: 'normal' }),
};

type SeasonalInput = {
  window: number;
  baseline: { type: string; period?: number | undefined; periods?: number | undefined; min_periods?: number | undefined; days?: 'comparable' | 'all' | undefined };
  band?: { quantile: number; k: number; span: number; min_history: number; clip?: number | undefined; learn_on_calendar_days: boolean } | undefined;
  level_shift?: { adopt_after: number } | undefined;
  calendar: { holidays: CalendarMode; campaigns: CalendarMode };
};

export interface SeasonalPart {
  seasonal?: SeasonalBaseline;
  band?: NoiseBand;
  levelShift?: { adoptAfterMs: number };
  calendar: { holidays: CalendarMode; campaigns: CalendarMode };
}

/** Normalise the seasonal options of a change rule; options given to another baseline are issues. */
export function normaliseSeasonal(r: SeasonalInput): { part: SeasonalPart; issues: ShapeIssue[] } {
  const issues: ShapeIssue[] = [];
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
  const part: SeasonalPart = {
    ...(seasonal ? { seasonal: { periodMs, periods, minPeriods, days: r.baseline.days ?? (periodMs === 86_400_000 ? 'comparable' : 'all') } } : {}),
    ...(r.band
      ? { band: { quantile: r.band.quantile, k: r.band.k, spanMs: r.band.span, minHistoryMs: r.band.min_history, ...(r.band.clip !== undefined ? { clip: r.band.clip } : {}), learnOnCalendarDays: r.band.learn_on_calendar_days } }
      : {}),
    ...(r.level_shift ? { levelShift: { adoptAfterMs: r.level_shift.adopt_after } } : {}),
    calendar: { holidays: r.calendar.holidays, campaigns: r.calendar.campaigns },
  };
  return { part, issues };
}
