/**
 * Chinese wording shared by alert event summaries (engine) and messages (notify), so the
 * wall's ticker and the DingTalk text name things the same way.
 */
import type { Band, BaselineKind, Dimension } from './contract.js';

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
    case 'seasonal':
      return '较往期同一时段';
    default:
      return '较基线';
  }
}

/** `推送打开率（渠道 wecom）`, or the bare label for the total. */
export function subjectZh(label: string, split: { dim: Dimension; value: string } | null): string {
  return split ? `${label}（${DIM_ZH[split.dim]} ${split.value}）` : label;
}

/** Which periods a normal range was learnt from: 近4周同一时段 / 近5个工作日同一时段 … */
export function bandBasisZh(b: Pick<Band, 'periods' | 'period' | 'comparable' | 'otherDays'>): string {
  if (b.period === 'week') return `近${b.periods}周同一时段`;
  if (b.period === 'recent') return `前${b.periods}个窗口，历史不足`;
  const others = b.otherDays ?? 0;
  if (others > 0 && (b.comparable === 'workday' || b.comparable === 'restday')) {
    const [own, other] = b.comparable === 'workday' ? ['工作日', '休息日'] : ['休息日', '工作日'];
    return `近${b.periods - others}个${own}及${others}个${other}（按${own}水平折算）同一时段`;
  }
  switch (b.comparable) {
    case 'workday':
      return `近${b.periods}个工作日同一时段`;
    case 'restday':
      return `近${b.periods}个休息日同一时段`;
    case 'holiday':
      return `近${b.periods}个节假日及休息日同一时段`;
    case 'holiday_own':
      return `本次假期前${b.periods}天同一时段`;
    case 'campaign':
      return `本次活动前${b.periods}天同一时段`;
    default:
      return `近${b.periods}天同一时段`;
  }
}

/** 1,234 — thousands separators, at most 3 significant decimals for small values. */
function plain(v: number): string {
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 1 ? 2 : 4;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/**
 * The one line a manager reads: 当前 1,234 · 正常区间 1,050–1,180（近4周同一时段）· 高出 15%.
 * `fmt` formats a value in the KPI's unit (plain numbers by default).
 */
export function bandLineZh(value: number, band: Band, change: number | null, fmt: (v: number) => string = plain): string {
  const low = Math.max(0, band.low);
  const move =
    change === null
      ? value > band.high
        ? '高于正常区间'
        : '低于正常区间'
      : `${change > 0 ? '高出' : '低了'} ${Math.round(Math.abs(change) * 1000) / 10}%`;
  const range = `正常区间 ${fmt(low)}–${fmt(band.high)}（${bandBasisZh(band)}）`;
  const w = band.window;
  if (w && w.kind !== 'short') {
    // An accumulated window: the manager reads the move over the hours first (近6小时累计高出 22%).
    const what = w.kind === 'sum' ? '累计' : '平均';
    return `${spanZh(w.minutes)}${what}${move} · ${what} ${fmt(value)} · ${range}`;
  }
  return `${w ? `${spanZh(w.minutes)} ` : ''}当前 ${fmt(value)} · ${range}· ${move}`;
}

/** 近15分钟 / 近6小时 */
export function spanZh(minutes: number): string {
  return minutes % 60 === 0 ? `近${minutes / 60}小时` : `近${minutes}分钟`;
}
