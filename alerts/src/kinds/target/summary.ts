/** The target kind's Chinese wording: `连续 3 小时低于目标（差距 12.0%）`. */
import { subjectZh } from '../../wording.js';
import type { SummaryInput } from '../types.js';
import type { TargetRule } from './schema.js';

export function targetSummaryZh(s: SummaryInput<TargetRule>): string {
  const { rule, state } = s;
  const subject = subjectZh(s.kpiLabel, s.split);
  const hours = (rule.windowMs * rule.count) / 3_600_000;
  const span = Number.isInteger(hours) ? `${hours} 小时` : `${Math.round((rule.windowMs * rule.count) / 60_000)} 分钟`;
  const side = s.change !== null && s.change > 0 ? '高于' : '低于';
  if (state === 'firing' || state === 'pending') return `${subject}连续 ${span}${side}目标（差距 ${s.change === null ? '—' : `${Math.abs(s.change * 100).toFixed(1)}%`}）`;
  if (state === 'flapping') return `${subject}反复在目标上下，暂停通知`;
  return `${subject}已回到目标线`;
}
