/** Pure evaluation of a deadman rule: silence since the split value was last seen. */
import { undecided, type Evaluation } from '../common/evaluation.js';
import type { DeadmanRule } from './schema.js';

/**
 * Deadman: a split value that was sending and has been silent for `after`. `value` is the
 * silence in ms. Resolves as soon as the value sends again (no hysteresis to apply).
 */
export function evaluateDeadman(rule: DeadmanRule, lastSeenAt: number | undefined, now: number): Evaluation {
  if (lastSeenAt === undefined) return undecided({ reason: 'never seen' });
  const silentMs = Math.max(0, now - lastSeenAt);
  const silent = silentMs >= rule.afterMs;
  return {
    value: silentMs,
    baseline: null,
    change: null,
    notEnoughHistory: false,
    observation: { fire: silent ? 'down' : null, holdUp: false, holdDown: silent, severity: 'warning' },
  };
}

