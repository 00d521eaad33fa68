/** Short Chinese texts for alert events (the dispatcher formats notifications itself). */
import type { AlertState, Band, BaselineKind, Dimension } from '../contract.js';
import type { Rule } from '../rules/schema.js';
import { DIM_ZH, bandLineZh, baselineZh as basisZh, subjectZh } from '../wording.js';

export { DIM_ZH, subjectZh };

/** `环比下降 16.3%` */
export function changeZh(kind: BaselineKind, windows: number, change: number | null): string {
  if (change === null) return `${basisZh(kind, windows)}无法比较`;
  const pct = Math.abs(change * 100).toFixed(1);
  if (Number(pct) === 0) return `${basisZh(kind, windows)}持平`;
  return `${basisZh(kind, windows)}${change > 0 ? '上升' : '下降'} ${pct}%`;
}

export interface SummaryInput {
  rule: Rule;
  kpiLabel: string;
  split: { dim: Dimension; value: string } | null;
  from: AlertState;
  state: AlertState;
  value: number | null;
  change: number | null;
  flips?: number;
  band?: Band;
}

export function summaryZh(s: SummaryInput): string {
  const { rule, state } = s;
  if (rule.kind === 'deadman') {
    const who = s.split ? `${DIM_ZH[s.split.dim]} ${s.split.value}` : '数据';
    const minutes = Math.floor((s.value ?? 0) / 60_000);
    const after = Math.round(rule.afterMs / 60_000);
    if (state === 'firing' || state === 'pending') return `${who} 已 ${minutes} 分钟无数据（阈值 ${after} 分钟）`;
    if (state === 'flapping') return `${who} 数据时断时续，暂停通知`;
    return `${who} 已恢复上报`;
  }
  const subject = subjectZh(s.kpiLabel, s.split);
  if (rule.kind === 'target') {
    const hours = (rule.windowMs * rule.count) / 3_600_000;
    const span = Number.isInteger(hours) ? `${hours} 小时` : `${Math.round((rule.windowMs * rule.count) / 60_000)} 分钟`;
    const side = s.change !== null && s.change > 0 ? '高于' : '低于';
    if (state === 'firing' || state === 'pending') return `${subject}连续 ${span}${side}目标（差距 ${s.change === null ? '—' : `${Math.abs(s.change * 100).toFixed(1)}%`}）`;
    if (state === 'flapping') return `${subject}反复在目标上下，暂停通知`;
    return `${subject}已回到目标线`;
  }
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
