/** The target kind: the KPI misses its target in every one of the last N windows. */
import { ownValue, type WindowResult } from '../../contract.js';
import type { Split } from '../types.js';
import type { RuleKind, Instance } from '../types.js';
import { evaluateTarget } from './evaluate.js';
import { checkTargetKpi, normaliseTarget, targetRuleSchema, type TargetRule } from './schema.js';
import { targetSummaryZh } from './summary.js';

export const targetKind: RuleKind<TargetRule> = {
  id: 'target',
  yamlKind: 'target',
  owns: (rule) => rule.kind === 'target',
  schema: targetRuleSchema,
  normalise: normaliseTarget,
  checkKpi: checkTargetKpi,
  async evaluate(host, rule, tNow, catalogue) {
    const kpi = catalogue.get(rule.kpi);
    if (!kpi) throw new Error(`KPI ${rule.kpi} is no longer in the catalogue`);
    const t = host.evaluationTime(tNow, kpi);
    // Newest first: [t − W, t), [t − 2W, t − W), …
    const spans = Array.from({ length: rule.count }, (_, k) => ({ from: t - (k + 1) * rule.windowMs, to: t - k * rule.windowMs }));
    const results = await Promise.all(spans.map((s) => host.source.window(kpi.id, s.from, s.to, rule.by)));
    const notEnoughHistory = results.some((r) => r === null);
    const targetFor = (value: string | null): number | undefined =>
      rule.target ?? (value !== null && rule.by === 'channel' ? (ownValue(kpi.channelTargets, value) ?? kpi.target) : kpi.target);
    // A window before history is passed as null so the evaluation says why.
    const pick = (r: WindowResult | null, value: string | null) => (r === null ? null : value === null ? r.total : r.splits[value]);

    const instances: Instance[] = [];
    if (rule.by) {
      const dim = rule.by;
      const values = new Set([...results.flatMap((r) => Object.keys(r?.splits ?? {})), ...host.openValues(rule.id, dim)]);
      for (const value of values) {
        const split: Split = { dim, value };
        instances.push({ split, evaluation: evaluateTarget(rule, kpi, results.map((r) => pick(r, value)), targetFor(value)) });
      }
    } else {
      instances.push({ split: null, evaluation: evaluateTarget(rule, kpi, results.map((r) => pick(r, null)), targetFor(null)) });
    }
    host.setRuleStatus(rule.id, { lastEvaluatedAt: t, notEnoughHistory });
    return host.advance(rule, kpi, instances, t);
  },
  summary: targetSummaryZh,
  baselineKind: () => 'target',
  spanMs: (rule) => rule.windowMs * rule.count,
  threshold: () => null,
};
