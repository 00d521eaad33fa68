/**
 * The group_silence kind (沉默群): a normally active 社群 that sent no message in the window.
 * One evaluation reads messages split by community for the window and for each of `periods`
 * earlier days (periods + 1 split queries, whatever the number of groups), then hands the
 * engine the groups that are silent now or were alerting: one alert per group, fired once,
 * and the dispatcher sends the rule's firings of one evaluation as one message.
 */
import type { z } from 'zod';
import type { WindowResult } from '../../contract.js';
import { DAY_MS, due, GROUP_DIM, skipped } from '../common/groups.js';
import type { Instance, RuleKind } from '../types.js';
import { evaluateGroupSilence } from './evaluate.js';
import { groupSilenceRuleSchema, normaliseGroupSilence, type GroupSilenceRule } from './schema.js';
import { groupSilenceSummaryZh, silenceHeadline } from './summary.js';

const count = (r: WindowResult | null, g: string) => r?.splits[g]?.value ?? 0;

export const groupSilenceKind: RuleKind<GroupSilenceRule> = {
  id: 'group_silence',
  yamlKind: 'group_silence',
  owns: (rule) => rule.kind === 'group_silence',
  schema: groupSilenceRuleSchema,
  normalise: (data: z.output<typeof groupSilenceRuleSchema>, file: string) => ({ rule: normaliseGroupSilence(data, file), issues: [] }),
  async evaluate(host, rule, tNow, catalogue) {
    const kpi = catalogue.get(rule.kpi);
    if (!kpi) throw new Error(`KPI ${rule.kpi} is no longer in the catalogue`);
    const t = host.evaluationTime(tNow, kpi);
    if (!due(host, rule.id, rule.everyMs, t)) return skipped();
    const w = rule.windowMs;
    const days = Array.from({ length: rule.periods }, (_, k) => ({ from: t - w - (k + 1) * DAY_MS, to: t - w - k * DAY_MS }));
    const [now, ...before] = await Promise.all([host.source.window(kpi.id, t - w, t, GROUP_DIM), ...days.map((d) => host.source.window(kpi.id, d.from, d.to, GROUP_DIM))]);
    // Groups that talked on an earlier day are the candidates; a day before history counts as no data.
    const known = before.filter((r): r is WindowResult => r !== null);
    const candidates = new Set(known.flatMap((r) => Object.keys(r.splits)));
    const instances: Instance[] = [];
    const open = new Set(host.openValues(rule.id, GROUP_DIM));
    for (const g of new Set([...candidates, ...open])) {
      const ev = evaluateGroupSilence(rule, count(now, g), known.map((r) => count(r, g)));
      if (ev.observation?.fire || open.has(g)) instances.push({ split: { dim: GROUP_DIM, value: g }, evaluation: ev });
    }
    host.setRuleStatus(rule.id, { lastEvaluatedAt: t, notEnoughHistory: known.length < rule.periods });
    return host.advance(rule, kpi, instances, t);
  },
  summary: groupSilenceSummaryZh,
  notice: (rule, ev) => ({ headline: silenceHeadline(rule, ev.baseline), weight: ev.baseline ?? 0 }),
  baselineKind: () => 'trailing_mean',
  spanMs: (rule) => rule.windowMs,
  threshold: () => null,
};
