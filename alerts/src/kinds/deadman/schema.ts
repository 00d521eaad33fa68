/** The deadman kind's schema: a split value that was sending and has gone silent. */
import { z } from 'zod';
import type { Dimension } from '../../contract.js';
import { common, commonOf, DIMENSIONS, positiveDurationMs, type RuleCommon } from '../common/schema.js';

export interface DeadmanRule extends RuleCommon {
  kind: 'deadman';
  by: Dimension;
  /** Silence that fires the alert for a split value that was sending. */
  afterMs: number;
}


export const deadmanRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('deadman'),
  by: z.enum(DIMENSIONS),
  after: positiveDurationMs,
});


export function normaliseDeadman(r: z.output<typeof deadmanRuleSchema>, file: string): DeadmanRule {
  return {
    kind: 'deadman',
    // `after` is already the waiting time: fire on the first evaluation past it.
    ...commonOf(r, file, 1),
    by: r.by,
    afterMs: r.after,
  };
}
