/** group_exodus wording: `社群 g00500 1 天净流失 60 人，占群成员 12.0%（原有 500 人）`. */
import { formatCount, formatPercent } from '@siyu-pulse/contracts/format';
import { daysOf } from '../common/groups.js';
import type { SummaryInput } from '../types.js';
import type { GroupExodusRule } from './schema.js';

export function exodusHeadline(rule: GroupExodusRule, lost: number | null, before: number | null): string {
  const share = before ? (lost ?? 0) / before : null;
  return `${daysOf(rule.windowMs)} 天净流失 ${formatCount(lost ?? 0)} 人，占群成员 ${formatPercent(share)}（原有 ${formatCount(before ?? 0)} 人）`;
}

export function groupExodusSummaryZh(s: SummaryInput<GroupExodusRule>): string {
  const who = s.split ? `社群 ${s.split.value}` : '社群';
  if (s.state === 'firing' || s.state === 'pending') return `${who} ${daysOf(s.rule.windowMs)} 天净流失 ${formatCount(s.value ?? 0)} 人（${formatPercent(s.change === null ? null : -s.change)}）`;
  if (s.state === 'flapping') return `${who} 退群反复，暂停通知`;
  return `${who} 退群已回落`;
}
