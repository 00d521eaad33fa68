/** The group_exodus kind's schema: a 社群 losing more than a share of its members in a window (退群潮). */
import { z } from 'zod';
import { common, commonOf, fraction, type RuleCommon } from '../common/schema.js';
import { groupFields } from '../common/groups.js';

export interface GroupExodusRule extends RuleCommon {
  kind: 'group_exodus';
  /** Always `net_growth` split by community: joins − leaves per group. */
  kpi: 'net_growth';
  by: 'community';
  windowMs: number;
  /** Net loss ÷ members at the window's start that fires (0.1 = 10%). */
  threshold: number;
  /** Groups smaller than this are not judged (3 of 10 leaving is not a trend). */
  minMembers: number;
  /** At least this many members lost (net) in the window. */
  minLost: number;
  everyMs: number;
}

export const groupExodusRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('group_exodus'),
  ...groupFields,
  threshold: fraction,
  min_members: z.number().int().min(1).default(20),
  min_lost: z.number().int().min(1).default(5),
});

export function normaliseGroupExodus(r: z.output<typeof groupExodusRuleSchema>, file: string): GroupExodusRule {
  return {
    kind: 'group_exodus',
    ...commonOf(r, file, 1),
    kpi: 'net_growth',
    by: 'community',
    windowMs: r.window,
    threshold: r.threshold,
    minMembers: r.min_members,
    minLost: r.min_lost,
    everyMs: r.every,
  };
}
