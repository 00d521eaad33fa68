/**
 * The group_silence kind (沉默群): a normally active 社群 that sent no message in the window.
 * One evaluation reads messages split by community for the window and for each of `periods`
 * earlier days (periods + 1 split queries, whatever the number of groups), then hands the
 * engine the groups that are silent now or were alerting: one alert per group, fired once,
 * and the dispatcher sends the rule's firings of one evaluation as one message.
 */
import type { WindowResult } from '../../contract.js';
import { DAY_MS, defineGroupKind, firingOrOpen, GROUP_DIM } from '../common/groups.js';
import { evaluateGroupSilence } from './evaluate.js';
import { groupSilenceRuleSchema, normaliseGroupSilence, type GroupSilenceRule } from './schema.js';
import { groupSilenceSummaryZh, silenceHeadline } from './summary.js';

const count = (r: WindowResult | null, g: string) => r?.splits[g]?.value ?? 0;

export const groupSilenceKind = defineGroupKind<GroupSilenceRule, typeof groupSilenceRuleSchema>({
  id: 'group_silence',
  schema: groupSilenceRuleSchema,
  normalise: normaliseGroupSilence,
  async judge(host, rule, kpi, t) {
    const w = rule.windowMs;
    const days = Array.from({ length: rule.periods }, (_, k) => ({ from: t - w - (k + 1) * DAY_MS, to: t - w - k * DAY_MS }));
    const [now, ...before] = await Promise.all([host.source.window(kpi.id, t - w, t, GROUP_DIM), ...days.map((d) => host.source.window(kpi.id, d.from, d.to, GROUP_DIM))]);
    // Groups that talked on an earlier day are the candidates; a day before history counts as no data.
    const known = before.filter((r): r is WindowResult => r !== null);
    const candidates = known.flatMap((r) => Object.keys(r.splits));
    const open = new Set(host.openValues(rule.id, GROUP_DIM));
    const instances = firingOrOpen(candidates, open, (g) => evaluateGroupSilence(rule, count(now, g), known.map((r) => count(r, g))));
    return { instances, notEnoughHistory: known.length < rule.periods };
  },
  summary: groupSilenceSummaryZh,
  notice: (rule, ev) => ({ headline: silenceHeadline(rule, ev.baseline), weight: ev.baseline ?? 0 }),
  baselineKind: () => 'trailing_mean',
  threshold: () => null,
});
