/** The deadman kind: a split value that was sending has been silent for `after`. */
import type { z } from 'zod';
import type { RuleKind } from '../types.js';
import { evaluateDeadman } from './evaluate.js';
import { deadmanRuleSchema, normaliseDeadman, type DeadmanRule } from './schema.js';
import { deadmanSummaryZh } from './summary.js';

export const deadmanKind: RuleKind<DeadmanRule> = {
  id: 'deadman',
  yamlKind: 'deadman',
  owns: (rule) => rule.kind === 'deadman',
  schema: deadmanRuleSchema,
  normalise: (data: z.output<typeof deadmanRuleSchema>, file: string) => ({ rule: normaliseDeadman(data, file), issues: [] }),
  async evaluate(host, rule, t) {
    const seen = host.source.lastSeen(rule.by);
    const values = new Set(Object.keys(seen).filter((v) => t - (seen[v] ?? 0) <= host.deadmanLookbackMs));
    // A value still alerting stays watched even past the lookback: it is still silent.
    for (const v of host.openValues(rule.id, rule.by)) values.add(v);
    const instances = [...values].map((value) => ({
      split: { dim: rule.by, value },
      evaluation: evaluateDeadman(rule, seen[value], t),
    }));
    host.setRuleStatus(rule.id, { lastEvaluatedAt: t, notEnoughHistory: false });
    return host.advance(rule, undefined, instances, t);
  },
  summary: deadmanSummaryZh,
  baselineKind: () => 'deadman',
  spanMs: (rule) => rule.afterMs,
  threshold: () => null,
};
