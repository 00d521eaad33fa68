/** A kind that exists only in tests: "the window's value above a fixed ceiling". */
import { z } from 'zod';
import { common, commonOf, positiveDurationMs, type RuleCommon } from '../../../src/kinds/common/schema.js';

export interface CeilingRule extends RuleCommon {
  kind: 'ceiling';
  kpi: string;
  windowMs: number;
  limit: number;
}

export const ceilingRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('ceiling'),
  kpi: z.string().min(1),
  window: positiveDurationMs,
  limit: z.number(),
});

export function normaliseCeiling(r: z.output<typeof ceilingRuleSchema>, file: string): { rule: CeilingRule; issues: { path: (string | number)[]; message: string }[] } {
  return { rule: { kind: 'ceiling', ...commonOf(r, file, 1), kpi: r.kpi, windowMs: r.window, limit: r.limit }, issues: r.limit < 0 ? [{ path: ['limit'], message: 'limit must be ≥ 0' }] : [] };
}
