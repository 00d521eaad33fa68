/** The change kind's Chinese wording: `环比下降 16.3%`, and the band line for noise-aware rules. */
import type { BaselineKind } from '../../contract.js';
import { bandLineZh, baselineZh as basisZh, subjectZh } from '../../wording.js';
import type { SummaryInput } from '../types.js';
import type { ChangeRule } from './schema.js';

/** `环比下降 16.3%` */
export function changeZh(kind: BaselineKind, windows: number, change: number | null): string {
  if (change === null) return `${basisZh(kind, windows)}无法比较`;
  const pct = Math.abs(change * 100).toFixed(1);
  if (Number(pct) === 0) return `${basisZh(kind, windows)}持平`;
  return `${basisZh(kind, windows)}${change > 0 ? '上升' : '下降'} ${pct}%`;
}

export function changeSummaryZh(s: SummaryInput<ChangeRule>): string {
  const { rule, state } = s;
  const subject = subjectZh(s.kpiLabel, s.split);
  const moved = changeZh(rule.baseline.type, rule.baseline.windows, s.change);
  switch (state) {
    case 'firing':
      // Noise-aware rules say the normal range: 当前 1,234 · 正常区间 1,050–1,180（近4周同一时段）· 高出 15%
      if (s.band && s.value !== null) return `${subject} ${bandLineZh(s.value, s.band, s.change)}`;
      return `${subject}${moved}`;
    case 'pending':
      return `${subject}${moved}（观察中）`;
    case 'resolved':
      return `${subject}已恢复（${moved}）`;
    case 'flapping': {
      const within = Math.round(rule.flapping.withinMs / 60_000);
      return `${subject}告警反复切换（${within} 分钟内 ${s.flips ?? rule.flapping.maxFlips + 1} 次），暂停通知`;
    }
    case 'ok':
      return s.from === 'pending' ? `${subject}波动未持续（${moved}）` : `${subject}正常（${moved}）`;
  }
}
