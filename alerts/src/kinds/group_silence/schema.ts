/** The group_silence kind's schema: a normally active 社群 that has gone silent. */
import { z } from 'zod';
import { common } from '../common/schema.js';
import { groupFields, groupRuleOf } from '../common/groups.js';
import type { GroupSilenceRule } from '@siyu-pulse/contracts/rules';

// The normalised rule is what the rules API answers: its shape lives in the contracts package.
export type { GroupSilenceRule };

export const groupSilenceRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('group_silence'),
  ...groupFields,
  periods: z.number().int().min(3).max(28).default(7),
  // e^-10 ≈ 0.005%: the chance a group that sends 10 in a window sends none by accident.
  min_expected: z.number().min(1).max(10_000).default(10),
});

export function normaliseGroupSilence(r: z.output<typeof groupSilenceRuleSchema>, file: string): GroupSilenceRule {
  return { kind: 'group_silence', ...groupRuleOf(r, file), kpi: 'messages', periods: r.periods, minExpected: r.min_expected };
}
