/**
 * Plain-language views of alert data for the alert center (pure functions, unit-tested):
 * state and severity names, split labels, rule summaries and links to the trend page.
 */
import type { Label } from '@siyu-pulse/contracts/catalogue';
import type { Lang } from '@siyu-pulse/contracts/format';
import { channelLabel } from '../wall/channels';
import type { AlertState, Dimension, GroupRule, Rule, Severity } from './types';

const STATE: Record<AlertState, Label> = {
  ok: { zh: '正常', en: 'OK' },
  pending: { zh: '观察中', en: 'Pending' },
  firing: { zh: '告警中', en: 'Firing' },
  resolved: { zh: '已恢复', en: 'Resolved' },
  flapping: { zh: '波动频繁', en: 'Flapping' },
};
const SEVERITY: Record<Severity, Label> = { warning: { zh: '警告', en: 'Warning' }, critical: { zh: '严重', en: 'Critical' } };
const DIMENSION: Record<Dimension, Label> = {
  channel: { zh: '渠道', en: 'Channel' },
  community: { zh: '社群', en: 'Community' },
  campaign: { zh: '活动', en: 'Campaign' },
};
const BASELINE: Record<string, Label> = {
  previous_window: { zh: '环比（上一窗口）', en: 'previous window' },
  same_window_yesterday: { zh: '昨日同期', en: 'same window yesterday' },
  same_window_last_week: { zh: '上周同期', en: 'same window last week' },
  trailing_mean: { zh: '近期均值', en: 'trailing mean' },
  seasonal: { zh: '往期同一时段（噪声区间）', en: 'seasonal (noise band)' },
  deadman: { zh: '无数据检测', en: 'deadman' },
};

export const stateLabel = (s: string, lang: Lang): string => STATE[s as AlertState]?.[lang] ?? s;
export const severityLabel = (s: string | null, lang: Lang): string => (s ? (SEVERITY[s as Severity]?.[lang] ?? s) : '—');
export const dimensionLabel = (d: string, lang: Lang): string => DIMENSION[d as Dimension]?.[lang] ?? d;
export const baselineLabel = (kind: string | null | undefined, lang: Lang): string => (kind ? (BASELINE[kind]?.[lang] ?? kind) : '—');

/** "渠道 · 企业微信" for a split, "整体" for the total. */
export function splitLabel(split: { dim: string; value: string } | null | undefined, lang: Lang, totalText: string): string {
  if (!split || !split.dim) return totalText;
  const value = split.dim === 'channel' ? channelLabel(split.value)[lang] : split.value;
  return `${dimensionLabel(split.dim, lang)} · ${value}`;
}

/** Tone used for row colouring: the severity when firing, purple when flapping. */
export function stateTone(state: string, severity: string | null): 'critical' | 'warning' | 'flapping' | 'pending' | 'ok' | 'resolved' {
  if (state === 'flapping') return 'flapping';
  if (state === 'firing') return severity === 'critical' ? 'critical' : 'warning';
  if (state === 'pending') return 'pending';
  return state === 'resolved' ? 'resolved' : 'ok';
}

/** "15 分钟" / "2 小时" / "1 天" for a rule window. */
export function durationText(ms: number, lang: Lang): string {
  const units: [number, Label][] = [
    [86_400_000, { zh: '天', en: 'd' }],
    [3_600_000, { zh: '小时', en: 'h' }],
    [60_000, { zh: '分钟', en: 'min' }],
    [1000, { zh: '秒', en: 's' }],
  ];
  for (const [size, name] of units) if (ms >= size && ms % size === 0) return lang === 'zh' ? `${ms / size} ${name.zh}` : `${ms / size} ${name.en}`;
  return lang === 'zh' ? `${ms / 1000} 秒` : `${ms / 1000} s`;
}

export const pct = (f: number): string => `${+(f * 100).toFixed(2)}%`;

/**
 * The trend page for an alert: its KPI and split, from three windows before to one after
 * the moment (so the swing and what led to it are both on screen), capped at now.
 */
export function trendLink(kpi: string, split: { dim: string; value: string } | null | undefined, at: number, windowMs: number, now: number): string {
  const span = Math.max(windowMs, 60_000);
  const q = new URLSearchParams({ kpi, from: String(at - span * 4), to: String(Math.min(now, at + span)) });
  if (split && split.dim) q.set(split.dim, split.value);
  return `/trends?${q}`;
}

/** The window of a rule (deadman rules watch for `afterMs`). */
export const ruleWindowMs = (rule: Rule | GroupRule | undefined): number =>
  !rule ? 15 * 60_000 : rule.kind === 'target' ? rule.windowMs * rule.count : rule.kind === 'deadman' ? rule.afterMs : rule.windowMs;

/** Silence presets offered in the dialog, in minutes. */
export const SILENCE_MINUTES = [30, 60, 120, 240, 480, 1440] as const;

/** Parses a split key from the history rows (store keeps dim and value as strings; '' = total). */
export function rowSplit(row: { splitDim: string; splitValue: string }): { dim: string; value: string } | null {
  return row.splitDim ? { dim: row.splitDim, value: row.splitValue } : null;
}

/** "11-23 14:05:09" in the business time zone (the year is shown when it is not this year). */
export { formatStamp as dateTime } from '@siyu-pulse/contracts/format';
