/**
 * Chinese wording shared by alert event summaries (engine) and messages (notify), so the
 * wall's ticker and the DingTalk text name things the same way.
 */
import type { BaselineKind, Dimension } from './contract.js';

export const DIM_ZH: Record<Dimension, string> = { channel: '渠道', community: '社群', campaign: '活动' };

/** How a baseline is named before a movement: 环比 / 较昨日同期 / 较上周同期 / 较前 N 个窗口均值. */
export function baselineZh(kind: BaselineKind | 'deadman' | 'target' | null, windows?: number): string {
  switch (kind) {
    case 'target':
      return '较目标';
    case 'previous_window':
      return '环比';
    case 'same_window_yesterday':
      return '较昨日同期';
    case 'same_window_last_week':
      return '较上周同期';
    case 'trailing_mean':
      return windows === undefined ? '较近期均值' : `较前 ${windows} 个窗口均值`;
    default:
      return '较基线';
  }
}

/** `推送打开率（渠道 wecom）`, or the bare label for the total. */
export function subjectZh(label: string, split: { dim: Dimension; value: string } | null): string {
  return split ? `${label}（${DIM_ZH[split.dim]} ${split.value}）` : label;
}
