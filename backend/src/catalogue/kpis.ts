/**
 * The KPI catalogue: one list defines every KPI. Backend (series, snapshot), alerts,
 * the wall and the Grafana dashboards all derive from it. Adding a KPI is one entry.
 *
 * Ratios are ratios of sums (Σnum / Σden over the whole window), never means of ratios.
 */
import type { CounterName, Dimension, Granularity, HistogramId, MemberSetId } from './events.js';

export type KpiKind = 'sum' | 'ratio' | 'distinct' | 'quantile';
export type KpiUnit = 'count' | 'percent' | 'fen' | 'ms' | 'multiple' | 'per_member';
export type GoodDirection = 'up' | 'down' | 'neutral';
export type Label = { zh: string; en: string };

/** A signed counter term: Σ(sign × counter). */
export type Term = readonly [counter: CounterName, sign: 1 | -1];

/** One side of a ratio: Σ of counter terms, or the distinct count of a member set. */
export type RatioSide = readonly Term[] | { distinct: MemberSetId };

export type KpiFormula =
  | { kind: 'sum'; terms: readonly Term[] }
  | { kind: 'ratio'; num: RatioSide; den: RatioSide }
  | { kind: 'distinct'; set: MemberSetId }
  | { kind: 'quantile'; histogram: HistogramId; q: number };

export interface KpiDef {
  id: string;
  label: Label;
  description: Label;
  group: GroupId;
  unit: KpiUnit;
  good: GoodDirection;
  /** In the KPI's own unit: a fraction for percent (0.052 = 5.2%), fen for money. */
  target?: number;
  formula: KpiFormula;
  /**
   * KPIs with a distinct count: the stored periods at which the KPI means something
   * (default minute, hour and day). The series API, the live windows and the alert source
   * offer it only there.
   */
  granularities?: readonly Granularity[];
}

export const GROUPS = [
  { id: 'scale', label: { zh: '用户规模', en: 'Scale' } },
  { id: 'interaction', label: { zh: '互动深度', en: 'Interaction depth' } },
  { id: 'conversion', label: { zh: '转化效率', en: 'Conversion' } },
  { id: 'retention', label: { zh: '留存质量', en: 'Retention quality' } },
  { id: 'value', label: { zh: '价值贡献', en: 'Value' } },
  {
    id: 'channel',
    label: { zh: '渠道效果', en: 'Channel effect' },
    note: { zh: '每个指标均可按渠道拆分', en: 'Every KPI can be split by channel' },
  },
] as const;
export type GroupId = (typeof GROUPS)[number]['id'];

const c = (counter: CounterName): Term => [counter, 1];

export const KPIS: readonly KpiDef[] = [
  // 用户规模
  {
    id: 'new_members',
    label: { zh: '新增成员', en: 'New members' },
    description: { zh: '入群 / 加好友的成员数', en: 'Members who joined' },
    group: 'scale', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('member_join')] },
  },
  {
    id: 'lost_members',
    label: { zh: '流失成员', en: 'Lost members' },
    description: { zh: '退群 / 删好友的成员数', en: 'Members who left' },
    group: 'scale', unit: 'count', good: 'down',
    formula: { kind: 'sum', terms: [c('member_leave')] },
  },
  {
    id: 'net_growth',
    label: { zh: '净增长', en: 'Net growth' },
    description: { zh: '新增 − 流失', en: 'Joined minus left' },
    group: 'scale', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('member_join'), ['member_leave', -1]] },
  },
  {
    id: 'active_members',
    label: { zh: '活跃成员', en: 'Active members' },
    description: { zh: '有任一互动、浏览或下单行为的去重成员数（仅按分钟 / 小时 / 天）', en: 'Distinct members with any activity (minute / hour / day only)' },
    group: 'scale', unit: 'count', good: 'up',
    formula: { kind: 'distinct', set: 'active' },
  },
  // 互动深度
  {
    id: 'messages',
    label: { zh: '消息数', en: 'Messages' },
    description: { zh: '社群与私聊消息条数', en: 'Community and private messages' },
    group: 'interaction', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('message')] },
  },
  {
    id: 'interactions',
    label: { zh: '互动次数', en: 'Interactions' },
    description: { zh: '点赞、评论、接龙等互动次数', en: 'Likes, comments, sign-ups and other interactions' },
    group: 'interaction', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('interaction')] },
  },
  {
    id: 'interactions_per_active',
    label: { zh: '人均互动', en: 'Interactions per active member' },
    description: { zh: '互动次数 ÷ 活跃成员数（目标 0.4/天 ≈ 每人每月 12 次）', en: 'Interactions ÷ active members (target 0.4 a day ≈ 12 a month)' },
    // The seed's "12 interactions per member a month", applied per day (12 ÷ 30): distinct
    // members are stored per minute / hour / day, so a monthly per-member figure cannot be read.
    group: 'interaction', unit: 'per_member', good: 'up', target: 0.4,
    formula: { kind: 'ratio', num: [c('interaction')], den: { distinct: 'active' } },
  },
  // 转化效率
  {
    id: 'push_open_rate',
    label: { zh: '推送打开率', en: 'Push open rate' },
    description: { zh: '打开数 ÷ 送达数', en: 'Opens ÷ deliveries' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('push_open')], den: [c('push_delivered')] },
  },
  {
    id: 'push_click_rate',
    label: { zh: '推送点击率', en: 'Push click rate' },
    description: { zh: '点击数 ÷ 送达数', en: 'Clicks ÷ deliveries' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('push_click')], den: [c('push_delivered')] },
  },
  {
    id: 'view_to_cart_rate',
    label: { zh: '浏览→加购', en: 'View → cart' },
    description: { zh: '加购数 ÷ 浏览数', en: 'Cart adds ÷ page views' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('cart_add')], den: [c('page_view')] },
  },
  {
    id: 'cart_to_order_rate',
    label: { zh: '加购→下单', en: 'Cart → order' },
    description: { zh: '下单数 ÷ 加购数', en: 'Orders ÷ cart adds' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('order_create')], den: [c('cart_add')] },
  },
  {
    id: 'order_to_paid_rate',
    label: { zh: '下单→支付', en: 'Order → paid' },
    description: { zh: '支付订单数 ÷ 下单数', en: 'Paid orders ÷ orders' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('order_paid')], den: [c('order_create')] },
  },
  {
    id: 'paid_conversion',
    label: { zh: '支付转化率', en: 'Paid conversion' },
    description: { zh: '支付订单数 ÷ 浏览数', en: 'Paid orders ÷ page views' },
    group: 'conversion', unit: 'percent', good: 'up', target: 0.052,
    formula: { kind: 'ratio', num: [c('order_paid')], den: [c('page_view')] },
  },
  // 留存质量
  {
    id: 'churn_rate',
    label: { zh: '流失率', en: 'Churn rate' },
    description: { zh: '流失成员数 ÷ 活跃成员数（仅按分钟 / 小时 / 天）', en: 'Lost members ÷ active members (minute / hour / day only)' },
    // The seed's retention target (≥ 85%) as the churn it allows.
    group: 'retention', unit: 'percent', good: 'down', target: 0.15,
    formula: { kind: 'ratio', num: [c('member_leave')], den: { distinct: 'active' } },
  },
  {
    // 留存质量, not 互动深度: pushing a member more often than the cap is over-marketing,
    // which shows up later as unfollows and leaves; this is the leading indicator of that churn.
    id: 'push_over_cap_share',
    label: { zh: '超频触达占比', en: 'Over-cap push share' },
    description: {
      zh: '当天推送次数超过上限（PULSE_PUSH_CAP_PER_DAY，默认每天 3 次）的成员 ÷ 当天收到推送的成员。推送次数按成员跨渠道累计；超频成员计入使其越过上限的那次推送的渠道（仅按天）',
      en: 'Members pushed more often than the daily cap (PULSE_PUSH_CAP_PER_DAY, default 3) ÷ members pushed that day. Pushes count per member across channels; an over-cap member counts in the channel of the push that crossed the cap (day only)',
    },
    // Target: at most 5% of the day's pushed members over the cap (the shipped alert's threshold).
    group: 'retention', unit: 'percent', good: 'down', target: 0.05,
    formula: { kind: 'ratio', num: { distinct: 'push_over_cap' }, den: { distinct: 'push_reached' } },
    // A member crosses the cap once a day, so a minute's or an hour's share compares
    // crossings in that hour with members pushed in that hour: meaningless.
    granularities: ['day'],
  },
  {
    id: 'activity_participation_rate',
    label: { zh: '活动参与率', en: 'Activity participation' },
    description: { zh: '参与人次 ÷ 触达人次', en: 'Joins ÷ reaches' },
    group: 'retention', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('activity_join')], den: [c('activity_reach')] },
  },
  {
    id: 'service_frt_p50',
    label: { zh: '首次响应 P50', en: 'First response p50' },
    description: { zh: '客服首次响应时长中位数', en: 'Median first-response time' },
    group: 'retention', unit: 'ms', good: 'down',
    formula: { kind: 'quantile', histogram: 'frt', q: 0.5 },
  },
  {
    id: 'service_frt_p90',
    label: { zh: '首次响应 P90', en: 'First response p90' },
    description: { zh: '客服首次响应时长 90 分位', en: '90th percentile first-response time' },
    group: 'retention', unit: 'ms', good: 'down',
    formula: { kind: 'quantile', histogram: 'frt', q: 0.9 },
  },
  {
    id: 'service_resolution_rate',
    label: { zh: '客服解决率', en: 'Service resolution rate' },
    description: { zh: '已解决数 ÷ 咨询数', en: 'Resolved ÷ requests' },
    group: 'retention', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('service_resolve')], den: [c('service_request')] },
  },
  // 价值贡献
  {
    id: 'gmv',
    label: { zh: '成交额 GMV', en: 'GMV' },
    description: { zh: '已支付订单金额', en: 'Paid order amount' },
    group: 'value', unit: 'fen', good: 'up',
    formula: { kind: 'sum', terms: [c('order_paid_fen')] },
  },
  {
    id: 'paid_orders',
    label: { zh: '支付订单数', en: 'Paid orders' },
    description: { zh: '已支付订单数', en: 'Paid orders' },
    group: 'value', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('order_paid')] },
  },
  {
    id: 'aov',
    label: { zh: '客单价', en: 'Average order value' },
    description: { zh: '成交额 ÷ 支付订单数', en: 'GMV ÷ paid orders' },
    group: 'value', unit: 'fen', good: 'up',
    formula: { kind: 'ratio', num: [c('order_paid_fen')], den: [c('order_paid')] },
  },
  {
    id: 'spend',
    label: { zh: '投放花费', en: 'Spend' },
    description: { zh: '渠道投放花费', en: 'Channel spend' },
    group: 'value', unit: 'fen', good: 'neutral',
    formula: { kind: 'sum', terms: [c('spend_fen')] },
  },
  {
    id: 'roas',
    label: { zh: '投产比 ROAS', en: 'ROAS' },
    description: { zh: '成交额 ÷ 投放花费', en: 'GMV ÷ spend' },
    group: 'value', unit: 'multiple', good: 'up',
    formula: { kind: 'ratio', num: [c('order_paid_fen')], den: [c('spend_fen')] },
  },
];

export const KPI_BY_ID: ReadonlyMap<string, KpiDef> = new Map(KPIS.map((k) => [k.id, k]));

/**
 * A distinct count cannot be summed across time, so KPIs that use one exist only at the
 * stored periods (see distinctGranularities). Returns the KPI's first member set; a ratio
 * of two distinct counts has two: use distinctSets to read them.
 */
export function usesDistinct(def: KpiDef): MemberSetId | undefined {
  return distinctSets(def)[0];
}

/** Every member set whose distinct count the KPI needs (numerator first). */
export function distinctSets(def: KpiDef): MemberSetId[] {
  const f = def.formula;
  if (f.kind === 'distinct') return [f.set];
  if (f.kind !== 'ratio') return [];
  return [f.num, f.den].flatMap((side) => ('distinct' in side ? [side.distinct] : []));
}

/** The stored periods a distinct-based KPI is offered at ([] for other KPIs). */
export function distinctGranularities(def: KpiDef): readonly Granularity[] {
  if (!usesDistinct(def)) return [];
  return def.granularities ?? ['minute', 'hour', 'day'];
}

/** Distinct sets are kept per channel only (community / campaign splits would multiply memory). */
export function allowedSplits(def: KpiDef): Dimension[] {
  return usesDistinct(def) ? ['channel'] : ['channel', 'community', 'campaign'];
}
