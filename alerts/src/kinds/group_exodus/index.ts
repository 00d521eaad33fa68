/**
 * The group_exodus kind (退群潮): a 社群 losing more than `threshold` of its members in the
 * window. One evaluation reads net members (joins − leaves) split by community for the window
 * (one split query, whatever the number of groups) and the member counts from the source's
 * size snapshot, and hands the engine only the groups that fire or were alerting.
 */
import { defineGroupKind, firingOrOpen, GROUP_DIM } from '../common/groups.js';
import { evaluateGroupExodus } from './evaluate.js';
import { groupExodusRuleSchema, normaliseGroupExodus, type GroupExodusRule } from './schema.js';
import { exodusHeadline, groupExodusSummaryZh } from './summary.js';

export const groupExodusKind = defineGroupKind<GroupExodusRule, typeof groupExodusRuleSchema>({
  id: 'group_exodus',
  schema: groupExodusRuleSchema,
  normalise: normaliseGroupExodus,
  async judge(host, rule, kpi, t) {
    const sizes = host.source.sizes?.(GROUP_DIM) ?? {};
    const now = await host.source.window(kpi.id, t - rule.windowMs, t, GROUP_DIM);
    // Only groups that lost members (net) can fire; open ones are judged to resolve.
    const losing = Object.entries(now?.splits ?? {}).filter(([, v]) => (v.value ?? 0) < 0).map(([g]) => g);
    const open = new Set(host.openValues(rule.id, GROUP_DIM));
    const instances = firingOrOpen(losing, open, (g) => evaluateGroupExodus(rule, now?.splits[g]?.value ?? 0, sizes[g]));
    if (!Object.keys(sizes).length) host.warn({ rule: rule.id }, 'alerts: group_exodus has no member counts (PUT /api/v1/communities/sizes); no group can fire');
    return { instances, notEnoughHistory: now === null };
  },
  summary: groupExodusSummaryZh,
  notice: (rule, ev) => ({ headline: exodusHeadline(rule, ev.value, ev.baseline), weight: ev.value ?? 0 }),
  baselineKind: () => null,
  threshold: (rule) => rule.threshold,
});
