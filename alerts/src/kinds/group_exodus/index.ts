/**
 * The group_exodus kind (退群潮): a 社群 losing more than `threshold` of its members in the
 * window. One evaluation reads net members (joins − leaves) split by community for the window
 * (one split query, whatever the number of groups) and the member counts from the source's
 * size snapshot, and hands the engine only the groups that fire or were alerting.
 */
import type { z } from 'zod';
import { due, GROUP_DIM, skipped } from '../common/groups.js';
import type { Instance, RuleKind } from '../types.js';
import { evaluateGroupExodus } from './evaluate.js';
import { groupExodusRuleSchema, normaliseGroupExodus, type GroupExodusRule } from './schema.js';
import { exodusHeadline, groupExodusSummaryZh } from './summary.js';

export const groupExodusKind: RuleKind<GroupExodusRule> = {
  id: 'group_exodus',
  yamlKind: 'group_exodus',
  owns: (rule) => rule.kind === 'group_exodus',
  schema: groupExodusRuleSchema,
  normalise: (data: z.output<typeof groupExodusRuleSchema>, file: string) => ({ rule: normaliseGroupExodus(data, file), issues: [] }),
  async evaluate(host, rule, tNow, catalogue) {
    const kpi = catalogue.get(rule.kpi);
    if (!kpi) throw new Error(`KPI ${rule.kpi} is no longer in the catalogue`);
    const t = host.evaluationTime(tNow, kpi);
    if (!due(host, rule.id, rule.everyMs, t)) return skipped();
    const sizes = host.source.sizes?.(GROUP_DIM) ?? {};
    const now = await host.source.window(kpi.id, t - rule.windowMs, t, GROUP_DIM);
    const open = new Set(host.openValues(rule.id, GROUP_DIM));
    const instances: Instance[] = [];
    // Only groups that lost members (net) can fire; open ones are judged to resolve.
    const losing = Object.entries(now?.splits ?? {}).filter(([, v]) => (v.value ?? 0) < 0).map(([g]) => g);
    for (const g of new Set([...losing, ...open])) {
      const ev = evaluateGroupExodus(rule, now?.splits[g]?.value ?? 0, sizes[g]);
      if (ev.observation?.fire || open.has(g)) instances.push({ split: { dim: GROUP_DIM, value: g }, evaluation: ev });
    }
    if (!Object.keys(sizes).length) host.warn({ rule: rule.id }, 'alerts: group_exodus has no member counts (PUT /api/v1/communities/sizes); no group can fire');
    host.setRuleStatus(rule.id, { lastEvaluatedAt: t, notEnoughHistory: now === null });
    return host.advance(rule, kpi, instances, t);
  },
  summary: groupExodusSummaryZh,
  notice: (rule, ev) => ({ headline: exodusHeadline(rule, ev.value, ev.baseline), weight: ev.value ?? 0 }),
  baselineKind: () => null,
  spanMs: (rule) => rule.windowMs,
  threshold: (rule) => rule.threshold,
};
