/** The test kind's module: schema, evaluation (no baseline: a fixed ceiling) and wording. */
import type { RuleKind } from '../../../src/kinds/types.js';
import { ceilingRuleSchema, normaliseCeiling, type CeilingRule } from './schema.js';

export const ceilingKind: RuleKind<CeilingRule> = {
  id: 'ceiling',
  yamlKind: 'ceiling',
  owns: (rule) => rule.kind === 'ceiling',
  schema: ceilingRuleSchema,
  normalise: normaliseCeiling,
  async evaluate(host, rule, tNow, catalogue) {
    const kpi = catalogue.get(rule.kpi);
    if (!kpi) throw new Error(`KPI ${rule.kpi} is no longer in the catalogue`);
    const t = host.evaluationTime(tNow, kpi);
    const w = await host.source.window(kpi.id, t - rule.windowMs, t, undefined);
    const value = w?.total.value ?? null;
    const over = value !== null && value > rule.limit;
    host.setRuleStatus(rule.id, { lastEvaluatedAt: t, notEnoughHistory: w === null });
    return host.advance(rule, kpi, [
      {
        split: null,
        evaluation: {
          value,
          baseline: rule.limit,
          change: value === null ? null : (value - rule.limit) / rule.limit,
          notEnoughHistory: w === null,
          observation: value === null ? null : { fire: over ? 'up' : null, holdUp: over, holdDown: false, severity: 'warning' },
        },
      },
    ], t);
  },
  summary: (s) => (s.state === 'firing' ? `${s.kpiLabel} 超过上限 ${s.rule.limit}（当前 ${s.value}）` : `${s.kpiLabel} 回到上限以内`),
  baselineKind: () => 'target',
  spanMs: (rule) => rule.windowMs,
  threshold: () => null,
};
