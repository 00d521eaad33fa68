/**
 * What every rule kind shares: the common YAML fields (zod), their normalised form, and the
 * small value parsers (durations, fractions). Each kind's own schema lives in its folder.
 */
import { z } from 'zod';
import type { Dimension } from '../../contract.js';
import { parseDuration } from '../../rules/duration.js';
import type { CalendarMode, Direction, RuleCommon, TimeOfDayWindow } from '@siyu-pulse/contracts/rules';

// The normalised rule is what the rules API answers: its shape lives in the contracts package.
export type { CalendarMode, Direction, RuleCommon, TimeOfDayWindow };

export const DIMENSIONS = ['channel', 'community', 'campaign'] as const satisfies readonly Dimension[];
// ---- YAML shape ----------------------------------------------------------------------

export const durationMs = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${JSON.stringify(v)} (write e.g. 30s, 15m, 1h, 1d)` });
    return z.NEVER;
  }
  return ms;
});
export const positiveDurationMs = durationMs.refine((ms) => ms > 0, 'must be longer than 0');

/** A fraction (0.15) or a percentage string ('15%'). */
export const fraction = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\s*\d+(\.\d+)?\s*%\s*$/.test(v) ? Number(v.trim().slice(0, -1).trim()) / 100 : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > 10) {
    ctx.addIssue({ code: 'custom', message: `must be a fraction > 0 (0.15) or a percentage ('15%'), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});

export const timeOfDay = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, "must be a time of day 'HH:MM' (quote it)");

export const common = {
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
  // What keeps a pending episode alive until pending_for has passed: every evaluation firing
  // (default), or the clear side holding (the hysteresis a firing alert already has).
  pending_while: z.enum(['fire', 'clear']).optional(),
  keep_firing_for: durationMs.default(0),
  cooldown: durationMs.default(30 * 60_000),
  values: z.array(z.string().min(1)).min(1).optional(),
  flapping: z
    .strictObject({ max_flips: z.number().int().min(1).max(100).default(4), within: positiveDurationMs.default(30 * 60_000) })
    .default({ max_flips: 4, within: 30 * 60_000 }),
};

/** A problem found in a rule, located by its path from the document root. */
export interface ShapeIssue {
  path: (string | number)[];
  message: string;
}

/** The fields every rule kind shares, normalised; `pendingFor` defaults per kind. */
export function commonOf(r: z.output<z.ZodObject<typeof common>>, file: string, defaultPendingFor: number): RuleCommon {
  const pendingMs = typeof r.pending_for === 'string' ? parseDuration(r.pending_for) : null;
  return {
    id: r.id,
    name: r.name,
    group: r.group ?? r.id,
    notify: r.notify,
    silenceWindows: r.silence_windows,
    pendingFor: typeof r.pending_for === 'number' ? r.pending_for : r.pending_for === undefined ? defaultPendingFor : 1,
    pendingForMs: pendingMs ?? 0,
    ...(r.pending_while === 'clear' ? { pendingWhile: 'clear' as const } : {}),
    keepFiringForMs: r.keep_firing_for,
    cooldownMs: r.cooldown,
    flapping: { maxFlips: r.flapping.max_flips, withinMs: r.flapping.within },
    ...(r.values ? { values: r.values } : {}),
    file,
  };
}


export type CommonFields = z.output<z.ZodObject<typeof common>>;
