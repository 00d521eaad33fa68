/** The deadman kind's schema: a split value that was sending and has gone silent. */
import { z } from 'zod';
import { common, commonOf, DIMENSIONS, positiveDurationMs } from '../common/schema.js';
import type { DeadmanRule } from '@siyu-pulse/contracts/rules';

// The normalised rule is what the rules API answers: its shape lives in the contracts package.
export type { DeadmanRule };

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
