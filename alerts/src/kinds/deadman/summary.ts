/** The deadman kind's Chinese wording: `渠道 sms 已 12 分钟无数据（阈值 10 分钟）`. */
import { DIM_ZH } from '../../wording.js';
import type { SummaryInput } from '../types.js';
import type { DeadmanRule } from './schema.js';

export function deadmanSummaryZh(s: SummaryInput<DeadmanRule>): string {
  const { rule, state } = s;
  const who = s.split ? `${DIM_ZH[s.split.dim]} ${s.split.value}` : '数据';
  const minutes = Math.floor((s.value ?? 0) / 60_000);
  const after = Math.round(rule.afterMs / 60_000);
  if (state === 'firing' || state === 'pending') return `${who} 已 ${minutes} 分钟无数据（阈值 ${after} 分钟）`;
  if (state === 'flapping') return `${who} 数据时断时续，暂停通知`;
  return `${who} 已恢复上报`;
}
