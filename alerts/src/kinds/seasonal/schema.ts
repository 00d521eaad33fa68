/**
 * The seasonal kind's schema: a change rule whose baseline is `type: seasonal`. Its YAML
 * options (period, periods, min_periods, days, band, level_shift, calendar modes) ride on the
 * change rule's shape (same `kind: change` in YAML, so existing files keep working); their
 * normalised form and their checks live here.
 */
import { z } from 'zod';
import { durationMs, positiveDurationMs, type ShapeIssue } from '../common/schema.js';
import type { CalendarMode, ExtraWindows, NoiseBand, SeasonalBaseline } from '@siyu-pulse/contracts/rules';

// The normalised rule is what the rules API answers: its shape lives in the contracts package.
export type { CalendarMode, ExtraWindows, NoiseBand, SeasonalBaseline };

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
      time_of_day: positiveDurationMs.optional(),
      pending: z.enum(['learn', 'hold']).default('learn'),
      scale: z.enum(['none', 'level', 'uplift']).default('none'),
    })
    .optional(),
  level_shift: z.strictObject({ adopt_after: positiveDurationMs }).optional(),
  // `false`: off (a rule that extends a template with them, on a KPI they do not fit).
  short_window: z.union([positiveDurationMs, z.literal(false)]).optional().transform((v) => (v === false ? undefined : v)),
  accumulate: z.union([positiveDurationMs, z.literal(false)]).optional().transform((v) => (v === false ? undefined : v)),
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
  band?: { quantile: number; k: number; span: number; min_history: number; clip?: number | undefined; learn_on_calendar_days: boolean; time_of_day?: number | undefined; pending: 'learn' | 'hold'; scale: 'none' | 'level' | 'uplift' } | undefined;
  level_shift?: { adopt_after: number } | undefined;
  short_window?: number | undefined;
  accumulate?: number | undefined;
  calendar: { holidays: CalendarMode; campaigns: CalendarMode };
};

export interface SeasonalPart {
  seasonal?: SeasonalBaseline;
  band?: NoiseBand;
  levelShift?: { adoptAfterMs: number };
  extraWindows?: ExtraWindows;
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
  if (r.band?.time_of_day !== undefined && r.band.time_of_day > 12 * 3_600_000) issues.push({ path: ['band', 'time_of_day'], message: 'time_of_day is ± around the current time of day: at most 12h (12h = the whole day)' });
  for (const f of ['short_window', 'accumulate'] as const) {
    if (r[f] !== undefined && !(seasonal && r.band)) issues.push({ path: [f], message: `${f} needs the seasonal baseline and a band (it is judged against its own noise)` });
  }
  if (r.short_window !== undefined && !(r.short_window < r.window)) issues.push({ path: ['short_window'], message: `short_window (${r.short_window / 60_000} min) must be shorter than window (${r.window / 60_000} min)` });
  if (r.accumulate !== undefined && !(r.accumulate > r.window)) issues.push({ path: ['accumulate'], message: `accumulate (${r.accumulate / 60_000} min) must be longer than window (${r.window / 60_000} min)` });
  if (r.accumulate !== undefined && seasonal && r.accumulate > periodMs) issues.push({ path: ['accumulate'], message: 'accumulate must not be longer than the seasonal period' });
  if ((r.calendar.holidays === 'comparable' || r.calendar.campaigns === 'comparable') && !seasonal) {
    issues.push({ path: ['calendar'], message: 'comparable-day baselines need the seasonal baseline' });
  }
  const part: SeasonalPart = {
    ...(seasonal ? { seasonal: { periodMs, periods, minPeriods, days: r.baseline.days ?? (periodMs === 86_400_000 ? 'comparable' : 'all') } } : {}),
    ...(r.band
      ? {
          band: {
            quantile: r.band.quantile,
            k: r.band.k,
            spanMs: r.band.span,
            minHistoryMs: r.band.min_history,
            ...(r.band.clip !== undefined ? { clip: r.band.clip } : {}),
            learnOnCalendarDays: r.band.learn_on_calendar_days,
            ...(r.band.time_of_day !== undefined ? { timeOfDayMs: r.band.time_of_day } : {}),
            pending: r.band.pending,
            ...(r.band.scale !== 'none' ? { scale: r.band.scale } : {}),
          },
        }
      : {}),
    ...(r.level_shift ? { levelShift: { adoptAfterMs: r.level_shift.adopt_after } } : {}),
    ...(r.short_window !== undefined || r.accumulate !== undefined
      ? { extraWindows: { ...(r.short_window !== undefined ? { shortMs: r.short_window } : {}), ...(r.accumulate !== undefined ? { accumulateMs: r.accumulate } : {}) } }
      : {}),
    calendar: { holidays: r.calendar.holidays, campaigns: r.calendar.campaigns },
  };
  return { part, issues };
}
