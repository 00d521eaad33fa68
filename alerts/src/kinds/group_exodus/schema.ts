/** The group_exodus kind's schema: a 社群 losing more than a share of its members in a window (退群潮). */
import { z } from 'zod';
import { common, fraction } from '../common/schema.js';
import { groupFields, groupRuleOf } from '../common/groups.js';
import type { GroupExodusRule } from '@siyu-pulse/contracts/rules';

// The normalised rule is what the rules API answers: its shape lives in the contracts package.
export type { GroupExodusRule };

export const groupExodusRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('group_exodus'),
  ...groupFields,
  threshold: fraction,
  min_members: z.number().int().min(1).default(20),
  min_lost: z.number().int().min(1).default(5),
});

export function normaliseGroupExodus(r: z.output<typeof groupExodusRuleSchema>, file: string): GroupExodusRule {
  return { kind: 'group_exodus', ...groupRuleOf(r, file), kpi: 'net_growth', threshold: r.threshold, minMembers: r.min_members, minLost: r.min_lost };
}
