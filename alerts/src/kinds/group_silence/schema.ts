/** The group_silence kind's schema: a normally active 社群 that has gone silent. */
import { z } from 'zod';
import { common, commonOf, type RuleCommon } from '../common/schema.js';
import { groupFields } from '../common/groups.js';

export interface GroupSilenceRule extends RuleCommon {
  kind: 'group_silence';
  /** Always `messages` split by community (the rule is about groups talking). */
  kpi: 'messages';
  by: 'community';
  /** The silence looked at: whole days ending now. */
  windowMs: number;
  /** Earlier days whose median daily messages say what "normally active" is. */
  periods: number;
  /** Messages the group would normally send in the window for a silence to count. */
  minExpected: number;
  everyMs: number;
}

export const groupSilenceRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('group_silence'),
  ...groupFields,
  periods: z.number().int().min(3).max(28).default(7),
  // e^-10 ≈ 0.005%: the chance a group that sends 10 in a window sends none by accident.
  min_expected: z.number().min(1).max(10_000).default(10),
});

export function normaliseGroupSilence(r: z.output<typeof groupSilenceRuleSchema>, file: string): GroupSilenceRule {
  return {
    kind: 'group_silence',
    ...commonOf(r, file, 1),
    kpi: 'messages',
    by: 'community',
    windowMs: r.window,
    periods: r.periods,
    minExpected: r.min_expected,
    everyMs: r.every,
  };
}
