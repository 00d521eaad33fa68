/** group_silence wording: `社群 g00123 已 1 天没有消息（平时每天约 35 条）`. */
import { formatCount } from '@siyu-pulse/contracts/format';
import type { SummaryInput } from '../types.js';
import type { GroupSilenceRule } from './schema.js';
import { daysOf } from '../common/groups.js';

/** What happened, without the group: the notification's headline and the event's text. */
export function silenceHeadline(rule: GroupSilenceRule, expected: number | null): string {
  const perDay = (expected ?? 0) / daysOf(rule.windowMs);
  return `已 ${daysOf(rule.windowMs)} 天没有消息（平时每天约 ${formatCount(Math.round(perDay))} 条）`;
}

/** The event's text (the engine's summary has no baseline: the notification's headline says the usual rate). */
export function groupSilenceSummaryZh(s: SummaryInput<GroupSilenceRule>): string {
  const who = s.split ? `社群 ${s.split.value}` : '社群';
  if (s.state === 'firing' || s.state === 'pending') return `${who} 已 ${daysOf(s.rule.windowMs)} 天没有消息`;
  if (s.state === 'flapping') return `${who} 时而沉默时而活跃，暂停通知`;
  return `${who} 恢复发言`;
}
