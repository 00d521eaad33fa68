/**
 * Chinese markdown for managers' robot groups, from `AlertNotification`s. Only the subset both
 * DingTalk and WeCom render: headings, lists, links. Numbers, money (¥ with 万 / 亿), percent
 * values (fractions), the minus sign and times (Asia/Shanghai) come from the one formatting
 * module the wall and the weekly report use (@siyu-pulse/contracts/format), so a figure in a
 * DingTalk message reads as it does on the wall.
 */
import { MINUS, formatChangeMagnitude as formatChange, formatDateTime, formatKpi, round } from '@siyu-pulse/contracts/format';
import { DIM_ZH, bandLineZh, baselineZh, subjectZh } from '../wording.js';
import { isPlainMessage, type AlertNotification, type Dimension, type KpiInfo, type Notification, type PlainMessage, type Severity } from '../contract.js';
import type { FormattedMessage } from './types.js';

export const TIME_ZONE = 'Asia/Shanghai';

const isMissing = (v: number | null | undefined): v is null | undefined => v === null || v === undefined || !Number.isFinite(v);

/** A value in the KPI's unit, as the wall shows it (messages are Chinese). */
export function formatValue(v: number | null | undefined, unit: KpiInfo['unit']): string {
  return formatKpi(v, unit, 'zh');
}

/**
 * 0.15 → ±15% when the rule watches both directions; a one-sided rule says its side:
 * −15%（下降超过即告警） / +15%（上升超过即告警）.
 */
export function formatThreshold(t: number, direction: AlertNotification['direction'] = 'both'): string {
  const pct = round(t * 100, 1);
  if (direction === 'down') return `${MINUS}${pct}%（下降超过即告警）`;
  if (direction === 'up') return `+${pct}%（上升超过即告警）`;
  return `±${pct}%`;
}

/** Epoch ms → `2026-11-23 20:15` in Asia/Shanghai. */
export function formatTime(ts: number): string {
  return formatDateTime(ts, TIME_ZONE);
}

// ── words ──────────────────────────────────────────────────────────────────────────────

const DIMENSION = DIM_ZH;
const REASON: Record<NonNullable<AlertNotification['reason']>, string> = { rule_deleted: '规则已删除', rule_changed: '规则已修改' };
const SEVERITY: Record<Severity, string> = { critical: '严重', warning: '警告' };

export function scopeText(n: Pick<AlertNotification, 'split'>): string {
  return n.split ? `${DIMENSION[n.split.dim]} ${n.split.value}` : '全部渠道';
}

/** 推送打开率 or 推送打开率（渠道 wecom）. */
function subject(n: AlertNotification): string {
  return subjectZh(n.kpi.label.zh, n.split);
}

function changeOf(n: Pick<AlertNotification, 'change' | 'value' | 'baseline'>): number | null {
  if (n.change !== null && Number.isFinite(n.change)) return n.change;
  if (isMissing(n.value) || isMissing(n.baseline) || n.baseline === 0) return null;
  return (n.value - n.baseline) / Math.abs(n.baseline);
}

/** How the baseline is named in a movement: 环比下降 / 较昨日同期上升 … */
function comparison(n: AlertNotification): string {
  // The contract does not carry the number of periods a trailing mean averages.
  return baselineZh(n.baselineKind);
}

/** Which baseline, in words, for the 基线 line: 上一个 60 分钟，环比. */
function baselineName(n: AlertNotification): string {
  switch (n.baselineKind) {
    case 'previous_window':
      return `上一个 ${n.windowMinutes} 分钟，环比`;
    case 'same_window_yesterday':
      return '昨日同期，同比';
    case 'same_window_last_week':
      return '上周同期，同比';
    case 'trailing_mean':
      return '近期均值';
    case 'seasonal':
      return '往期同一时段中位数';
    case 'target':
      return '目标';
    default:
      return '';
  }
}

/** 连续 3 小时低于目标 (target rules: the window covers every missed period). */
function targetMiss(n: AlertNotification): string {
  const hours = n.windowMinutes / 60;
  const span = Number.isInteger(hours) ? `${hours} 小时` : `${n.windowMinutes} 分钟`;
  const c = changeOf(n);
  return `连续 ${span}${c !== null && c > 0 ? '高于' : '低于'}目标`;
}

function direction(change: number): string {
  return change > 0 ? '上升' : change < 0 ? '下降' : '持平';
}

/** 环比下降 16.3% */
function movement(n: AlertNotification): string | null {
  const c = changeOf(n);
  if (c === null) return null;
  return c === 0 ? `${comparison(n)}持平` : `${comparison(n)}${direction(c)} ${formatChange(c)}`;
}

/** Whether the move is good for the business, from the KPI's `good`. */
function verdict(good: AlertNotification['kpi']['good'], change: number): string {
  if (good === 'neutral' || change === 0) return '';
  return (change > 0) === (good === 'up') ? '（有利）' : '（不利）';
}

const isDeadman = (n: AlertNotification) => n.baselineKind === 'deadman';

/** One line for a notification, without tag: 推送打开率（渠道 wecom）环比下降 16.3% */
export function describe(n: AlertNotification): string {
  // A kind's own words (group rules) name the group, then what happened to it.
  if (n.headline && n.kind === 'firing') return `${scopeText(n)} ${n.headline}`;
  const s = subject(n);
  const sep = n.split ? '' : ' ';
  switch (n.kind) {
    case 'firing': {
      if (isDeadman(n)) return `${s}${sep}数据中断`;
      if (n.baselineKind === 'target') return `${s}${sep}${targetMiss(n)}`;
      const m = movement(n);
      return m ? `${s}${sep}${m}` : `${s}${sep}异常`;
    }
    case 'resolved':
      if (n.reason) return `${s}${sep}${REASON[n.reason]}，告警结束`;
      return `${s}${sep}已恢复正常`;
    case 'flapping':
      return `${s}${sep}波动频繁，已暂停通知`;
  }
}

function tag(n: AlertNotification): string {
  switch (n.kind) {
    case 'firing':
      return n.severity === 'info' ? '提示' : SEVERITY[n.severity];
    case 'resolved':
      return '已恢复';
    case 'flapping':
      return '波动频繁';
  }
}

export function titleOf(n: AlertNotification): string {
  switch (n.kind) {
    case 'firing':
      return `【告警】${describe(n)}`;
    case 'resolved':
      return n.reason ? `【${REASON[n.reason]}】${subject(n)}` : `【已恢复】${subject(n)}`;
    case 'flapping':
      return `【波动频繁】${subject(n)}`;
  }
}

// ── messages ───────────────────────────────────────────────────────────────────────────

const line = (label: string, value: string) => `- ${label}：${value}`;

/** 29.4%（基线 30.1%，环比下降 2.3%） */
function valueVsBaseline(n: AlertNotification): string {
  const v = formatValue(n.value, n.kpi.unit);
  if (isMissing(n.baseline)) return v;
  const m = movement(n);
  const what = n.baselineKind === 'target' ? '目标' : '基线';
  return `${v}（${what} ${formatValue(n.baseline, n.kpi.unit)}${m ? `，${m}` : ''}）`;
}

function firingLines(n: AlertNotification): string[] {
  const lines = [line('级别', tag(n)), line('KPI', n.kpi.label.zh), line('范围', scopeText(n))];
  if (isDeadman(n)) {
    lines.push(line('说明', `超过 ${n.windowMinutes} 分钟没有收到数据，请检查数据上报`));
  } else {
    lines.push(line('当前值', formatValue(n.value, n.kpi.unit)));
    const c = changeOf(n);
    if (n.baselineKind === 'target') {
      // A target is not a baseline: say the gap and how long it has lasted.
      if (!isMissing(n.baseline)) lines.push(line('目标', formatValue(n.baseline, n.kpi.unit)));
      if (c !== null) lines.push(line('差距', `${c > 0 ? '高于' : '低于'}目标 ${formatChange(Math.abs(c))}（${targetMiss(n)}）`));
    } else {
      if (!isMissing(n.baseline)) {
        const name = baselineName(n);
        lines.push(line('基线', `${formatValue(n.baseline, n.kpi.unit)}${name ? `（${name}）` : ''}`));
      }
      if (c !== null) lines.push(line('变化', `${direction(c)}${c === 0 ? '' : ` ${formatChange(c)}`}${verdict(n.kpi.good, c)}`));
      // Noise-aware rules (issue 13): the normal range in one line a manager reads on a phone.
      if (n.band && !isMissing(n.value)) lines.push(line('正常区间', bandLineZh(n.value, n.band, c, (v) => formatValue(v, n.kpi.unit))));
    }
    if (n.threshold !== null) lines.push(line('阈值', formatThreshold(n.threshold, n.direction)));
  }
  lines.push(line('时间', formatTime(n.ts)), line('窗口', `${n.windowMinutes} 分钟`), line('规则', n.ruleName));
  return lines;
}

function contributorLines(n: AlertNotification): string[] {
  if (!n.contributors?.length) return [];
  const rows = n.contributors.map((c, i) => {
    const parts = [`当前 ${formatValue(c.current, n.kpi.unit)}`];
    if (!isMissing(c.baseline)) parts.push(`基线 ${formatValue(c.baseline, n.kpi.unit)}`);
    if (c.change !== null && Number.isFinite(c.change)) parts.push(`${direction(c.change)} ${formatChange(c.change)}`);
    return `${i + 1}. ${DIMENSION[c.dim]} ${c.value}：${parts.join('，')}`;
  });
  return ['', '主要贡献：', ...rows];
}

function bodyLines(n: AlertNotification): string[] {
  switch (n.kind) {
    case 'firing':
      return [...firingLines(n), ...contributorLines(n)];
    case 'resolved':
      if (n.reason) {
        const why = n.reason === 'rule_deleted' ? '告警规则已被删除，该告警不再评估，视为结束。' : '告警规则已被修改，该告警按旧规则结束；新规则从现在起重新评估，如仍异常会再次告警。';
        return [why, '', line('KPI', n.kpi.label.zh), line('范围', scopeText(n)), line('当前值', valueVsBaseline(n)), line('时间', formatTime(n.ts)), line('规则', n.ruleName)];
      }
      return [
        line('KPI', n.kpi.label.zh),
        line('范围', scopeText(n)),
        line('当前值', valueVsBaseline(n)),
        line('恢复时间', formatTime(n.ts)),
        line('窗口', `${n.windowMinutes} 分钟`),
        line('规则', n.ruleName),
      ];
    case 'flapping':
      return [
        '该告警短时间内反复触发和恢复，已暂停通知；状态稳定后自动恢复推送。',
        '',
        line('KPI', n.kpi.label.zh),
        line('范围', scopeText(n)),
        line('当前值', valueVsBaseline(n)),
        line('时间', formatTime(n.ts)),
        line('规则', n.ruleName),
      ];
  }
}

/** How messages name things and what they must say of themselves (the dispatcher's settings). */
export interface MessageStyle {
  /** Display name of a split value, as on the wall (企业微信 for `wecom`); raw id when absent. */
  splitName?: (dim: Dimension, value: string) => string;
  /** Demo mode: every message says its numbers are simulated (演示数据). */
  demo?: boolean;
}

const DEMO_NOTE = '> 演示数据：由内置模拟器生成，不是真实业务数据';

/** The notification with split values (and contributors) under their display names. */
function named(n: AlertNotification, style: MessageStyle): AlertNotification {
  const name = style.splitName;
  if (!name) return n;
  return {
    ...n,
    split: n.split ? { dim: n.split.dim, value: name(n.split.dim, n.split.value) } : null,
    ...(n.contributors ? { contributors: n.contributors.map((c) => ({ ...c, value: name(c.dim, c.value) })) } : {}),
  };
}

/** Demo: 【演示数据】 in the title and heading, and a line saying so under the heading. */
function marked(m: FormattedMessage, style: MessageStyle): FormattedMessage {
  if (!style.demo) return m;
  const title = `【演示数据】${m.title}`;
  const heading = /^(#{1,6} )(.*)$/m.exec(m.text.split('\n', 1)[0] ?? '');
  const text = heading
    ? [`${heading[1]}【演示数据】${heading[2]}`, DEMO_NOTE, ...m.text.split('\n').slice(1)].join('\n')
    : [`【演示数据】`, DEMO_NOTE, '', m.text].join('\n');
  return { title, text };
}

export function formatNotification(n: Notification, style: MessageStyle = {}): FormattedMessage {
  if (isPlainMessage(n)) return marked(plainText(n), style);
  return marked(formatOne(named(n, style)), style);
}

/** A plain message arrives rendered (and fitted to its notifier's limit): passed through as is. */
function plainText(n: PlainMessage): FormattedMessage {
  // Outbox entries written before plain messages existed carried the report in `markdown`.
  const legacy = (n as Partial<PlainMessage> & { markdown?: FormattedMessage }).markdown;
  return { title: n.title ?? legacy?.title ?? '', text: n.text ?? legacy?.text ?? '' };
}

function formatOne(n: AlertNotification): FormattedMessage {
  const title = titleOf(n);
  const link = n.landing ? ['', `[查看详情](${n.landing}) · [查看趋势](${n.link})`] : n.link ? ['', `[查看趋势](${n.link})`] : [];
  const text = [`### ${title}`, ...bodyLines(n), ...link].join('\n');
  return { title, text };
}

const ORDER = (n: AlertNotification) =>
  n.kind === 'firing' ? (n.severity === 'critical' ? 0 : 1) : n.kind === 'flapping' ? 2 : n.kind === 'resolved' ? 3 : 4;

function timeRange(ns: AlertNotification[]): string {
  const tss = ns.map((n) => n.ts);
  const from = formatTime(Math.min(...tss));
  const to = formatTime(Math.max(...tss));
  if (from === to) return from;
  return from.slice(0, 10) === to.slice(0, 10) ? `${from} 至 ${to.slice(11)}` : `${from} 至 ${to}`;
}

function counts(ns: AlertNotification[]): string {
  const c = (p: (n: AlertNotification) => boolean) => ns.filter(p).length;
  const parts: [string, number][] = [
    ['严重', c((n) => n.kind === 'firing' && n.severity === 'critical')],
    ['警告', c((n) => n.kind === 'firing' && n.severity !== 'critical')],
    ['波动频繁', c((n) => n.kind === 'flapping')],
    ['已恢复', c((n) => n.kind === 'resolved')],
  ];
  return parts.filter(([, k]) => k > 0).map(([w, k]) => `${w} ${k} 条`).join('，');
}

function digestLine(n: AlertNotification, i: number): string {
  const details: string[] = [];
  if (!isDeadman(n) && !(n.headline && n.kind === 'firing')) {
    details.push(`当前 ${formatValue(n.value, n.kpi.unit)}`);
    if (!isMissing(n.baseline)) details.push(`基线 ${formatValue(n.baseline, n.kpi.unit)}`);
  }
  const link = n.landing ? ` [详情](${n.landing})` : n.link ? ` [趋势](${n.link})` : '';
  return `${i + 1}. 【${tag(n)}】${describe(n)}${details.length ? `：${details.join('，')}` : ''}${link}`;
}

/** A group rule's digest lists this many groups and counts the rest ("另有 N 个社群"): a phone screen, not a log. */
export const DIGEST_LIST = 10;

/** One message for several notifications (a storm, or what piled up during a throttle). */
export function formatDigest(all: Notification[], style: MessageStyle = {}): FormattedMessage {
  if (all.length === 1) return formatNotification(all[0]!, style);
  // A plain message is its own digest group, so it never reaches a digest of several.
  if (all.some(isPlainMessage)) throw new Error('formatDigest: a plain message cannot be digested');
  const ns = (all as AlertNotification[]).map((n) => named(n, style));
  const [only] = ns;
  if (!only) throw new Error('formatDigest: no notifications');
  const groups = [...new Set(ns.map((n) => n.group))].join('、');
  // One group rule's firings (沉默群, 退群潮 over thousands of 社群) read as that rule and its groups.
  const oneGroupRule = ns.every((n) => n.ruleId === only.ruleId && n.kind === 'firing' && n.split?.dim === 'community');
  const title = oneGroupRule ? `【告警】${only.ruleName}：${ns.length} 个社群` : `【告警汇总】${ns.length} 条告警（规则组 ${groups}）`;
  // The heaviest first (a kind's weight: members lost, expected messages), then by time.
  const sorted = [...ns].sort((a, b) => ORDER(a) - ORDER(b) || (b.weight ?? 0) - (a.weight ?? 0) || a.ts - b.ts || (a.split?.value ?? '').localeCompare(b.split?.value ?? ''));
  // A group rule over thousands of 社群 lists its heaviest ten and counts the rest (a storm of
  // other rules keeps every line: each is a different KPI or channel someone must see).
  const listed = oneGroupRule && sorted.length > DIGEST_LIST ? sorted.slice(0, DIGEST_LIST) : sorted;
  const rest = sorted.length - listed.length;
  const more = rest ? ['', `另有 ${rest} 个社群（见告警中心）`] : [];
  const text = [`### ${title}`, line('概况', counts(ns)), line('时间', timeRange(ns)), '', ...listed.map(digestLine), ...more].join('\n');
  return marked({ title, text }, style);
}
