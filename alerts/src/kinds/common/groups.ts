/**
 * What the 社群 rule kinds (group_silence, group_exodus) share: they watch every group of a
 * brand (20,000 and more) with a few split queries per evaluation — never one per group — at
 * their own pace (`every`, a ranking over 20,000 groups costs seconds), and they hand the
 * engine only the groups that fire or are still open, so a quiet group costs no alert memory.
 */
import type { z } from 'zod';
import type { Dimension } from '../../contract.js';
import type { KindHost, RuleRun } from '../types.js';
import { positiveDurationMs } from './schema.js';

export const DAY_MS = 86_400_000;
export const GROUP_DIM: Dimension = 'community';

/** `every`: how often the rule evaluates (default 10 minutes). */
export const every = positiveDurationMs.default(600_000);

/** A window of whole days ('1d', '2d'): group rules compare with whole earlier days. */
export const wholeDays = positiveDurationMs.refine((ms) => ms % DAY_MS === 0, 'must be whole days (1d, 2d, …)');

export const groupFields = { every, window: wholeDays.default(DAY_MS) };
export type GroupFields = z.output<z.ZodObject<typeof groupFields>>;

/** Last evaluation per engine (its host) and rule: two engines in one process keep their own pace. */
const lastRun = new WeakMap<KindHost, Map<string, number>>();

/** Whether the rule is due at t (its previous evaluation is `every` ago); records the run. */
export function due(host: KindHost, ruleId: string, everyMs: number, t: number): boolean {
  let runs = lastRun.get(host);
  if (!runs) lastRun.set(host, (runs = new Map()));
  const last = runs.get(ruleId);
  if (last !== undefined && t >= last && t - last < everyMs) return false;
  runs.set(ruleId, t);
  return true;
}

export const skipped = (): RuleRun => ({ events: [], notifications: [] });

export function median(xs: readonly number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const daysOf = (ms: number) => Math.round(ms / DAY_MS);
