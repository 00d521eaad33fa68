/**
 * Pure evaluation of one group for group_silence. The baseline is noise-aware: the group's
 * median daily messages over earlier days (one busy day does not make a group "normally
 * active"), scaled to the window; messages arrive roughly as a Poisson process, so a group
 * expected to send λ messages sends none by chance with probability e^-λ: a silence fires
 * only when λ ≥ min_expected (default 10: 0.005%), so quiet groups of the long tail never do.
 */
import { relativeChange, undecided, type Evaluation } from '../common/evaluation.js';
import { median } from '../common/groups.js';
import type { GroupSilenceRule } from './schema.js';

export function evaluateGroupSilence(rule: GroupSilenceRule, current: number, daily: readonly number[]): Evaluation {
  if (!daily.length) return undecided({ reason: 'no earlier days' });
  const expected = median(daily) * (rule.windowMs / 86_400_000);
  const silent = current === 0 && expected >= rule.minExpected;
  return {
    value: current,
    baseline: expected,
    change: relativeChange(current, expected),
    notEnoughHistory: false,
    observation: { fire: silent ? 'down' : null, holdUp: false, holdDown: silent, severity: 'warning' },
  };
}
