/**
 * Pure evaluation of one group for group_exodus. The group's size comes from the source's
 * member-count snapshot (the latest, so the members at the window's start are that count plus
 * the net loss since). Fires when the net loss reaches both `min_lost` and `threshold` of the
 * members at the start, in groups of at least `min_members`; resolves when the loss over the
 * window falls back under the threshold.
 */
import { undecided, type Evaluation } from '../common/evaluation.js';
import type { GroupExodusRule } from './schema.js';

export function evaluateGroupExodus(rule: GroupExodusRule, net: number, size: number | undefined): Evaluation {
  if (size === undefined) return undecided({ reason: 'no member count for this group' });
  const lost = Math.max(0, -net);
  const before = size + lost;
  if (before < rule.minMembers) return { value: lost, baseline: before, change: before ? -lost / before : null, notEnoughHistory: false, observation: null, reason: `fewer than ${rule.minMembers} members` };
  const share = lost / before;
  const fire = lost >= rule.minLost && share >= rule.threshold - 1e-9;
  return {
    value: lost,
    baseline: before,
    change: -share,
    notEnoughHistory: false,
    observation: { fire: fire ? 'down' : null, holdUp: false, holdDown: fire, severity: share >= 2 * rule.threshold ? 'critical' : 'warning' },
  };
}
