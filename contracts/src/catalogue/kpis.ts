/**
 * The KPI catalogue: one list defines every KPI. Backend (series, snapshot), alerts,
 * the wall and the Grafana dashboards all derive from it. Adding a KPI is one entry.
 *
 * Ratios are ratios of sums (Σnum / Σden over the whole window), never means of ratios.
 */
import type { CounterName, Dimension, Granularity, HistogramId, MemberSetId } from './events.js';

export type KpiKind = 'sum' | 'ratio' | 'distinct' | 'quantile' | 'span';
export type KpiUnit = 'count' | 'percent' | 'fen' | 'ms' | 'multiple' | 'per_member';
export type GoodDirection = 'up' | 'down' | 'neutral';
export type Label = { zh: string; en: string };

/** A signed counter term: Σ(sign × counter). */
export type Term = readonly [counter: CounterName, sign: 1 | -1];

/** One side of a ratio: Σ of counter terms, or the distinct count of a member set. */
export type RatioSide = readonly Term[] | { distinct: MemberSetId };

export type KpiFormula =
  | { kind: 'sum'; terms: readonly Term[] }
  /**
   * `share`: the numerator counts a part of what the denominator counts (an open needs a
   * delivery), so a value over 100% means the producer lost denominator events; it is
   * shown flagged (catalogue/outrun.ts), never as a business figure.
   */
  | { kind: 'ratio'; num: RatioSide; den: RatioSide; share?: boolean }
  | { kind: 'distinct'; set: MemberSetId }
  | { kind: 'quantile'; histogram: HistogramId; q: number }
  /**
   * Month-level KPIs over the `days` local days ending with the point's day, from the stored
   * day sketches of `set` (query/span.ts): a union of day sketches (no distinct count adds up
   * across days, but sketches merge). Only per day (step 1d).
   * - `distinct`: |U| over the days (月活);
   * - `per_member`: Σterms over the days ÷ |U| (人均互动频次（月）);
   * - `retention`: |prev ∩ cur| ÷ |prev|, prev = the `days` days before (留存率);
   * - `repeat`: |prev ∩ cur| ÷ |cur| (复购率).
   * |prev ∩ cur| = |prev| + |cur| − |prev ∪ cur| (inclusion–exclusion on merged sketches).
   */
  | { kind: 'span'; measure: SpanMeasure; set: MemberSetId; days: number; terms?: readonly Term[] };

export type SpanMeasure = 'distinct' | 'per_member' | 'retention' | 'repeat';

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
  {
    id: 'active_members_30d',
    label: { zh: '月活跃成员', en: '30-day active members' },
    description: {
      zh: '截至当天的 30 个自然日内有任一活跃行为的去重成员数：30 个日草图（HyperLogLog）的并集（仅按天）。误差：并集 ≤ 1,500 人时为稀疏模式，基本精确；更大时相对标准误差 1.04/√65536 = 0.41%，相对误差 ≤ 1%',
      en: 'Distinct members active in the 30 local days ending with the day: the union of the 30 day sketches (HyperLogLog; day only). Error: exact in practice up to 1,500 members (sparse mode); above, 0.41 % relative standard error (1.04/√65536), within ±1 %',
    },
    group: 'scale', unit: 'count', good: 'up',
    formula: { kind: 'span', measure: 'distinct', set: 'active', days: 30 },
    granularities: ['day'],
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
    label: { zh: '人均互动（日）', en: 'Interactions per active member (day)' },
    description: { zh: '互动次数 ÷ 同一时段活跃成员数（按分钟 / 小时 / 天）；每月目标见人均互动频次（月）', en: 'Interactions ÷ active members of the same period (minute / hour / day); the monthly target is on interactions per member (month)' },
    // No target: the seed's 12 a month is a monthly figure (interactions_per_member_month).
    group: 'interaction', unit: 'per_member', good: 'up',
    formula: { kind: 'ratio', num: [c('interaction')], den: { distinct: 'active' } },
  },
  {
    id: 'interactions_per_member_month',
    // 人均互动频次（月） in the seed's words; shorter so it fits a wall tile.
    label: { zh: '人均互动（月）', en: 'Interactions per member (month)' },
    description: {
      zh: '截至当天 30 天的互动次数 ÷ 同 30 天的月活（仅按天）。互动次数是精确计数，误差只来自月活：相对误差 ≤ 1%（并集 ≤ 1,500 人时基本精确）',
      en: 'Interactions in the 30 days ending with the day ÷ 30-day active members (day only). The count is exact, so the error is that of the 30-day active members: within ±1 % relative (exact in practice up to 1,500 members)',
    },
    // The seed's 人均互动频次 ≥ 12 次/月.
    group: 'interaction', unit: 'per_member', good: 'up', target: 12,
    formula: { kind: 'span', measure: 'per_member', set: 'active', days: 30, terms: [c('interaction')] },
    granularities: ['day'],
  },
  // 转化效率
  {
    id: 'push_open_rate',
    label: { zh: '推送打开率', en: 'Push open rate' },
    description: { zh: '打开数 ÷ 送达数', en: 'Opens ÷ deliveries' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('push_open')], den: [c('push_delivered')], share: true },
  },
  {
    id: 'push_click_rate',
    label: { zh: '推送点击率', en: 'Push click rate' },
    description: { zh: '点击数 ÷ 送达数', en: 'Clicks ÷ deliveries' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('push_click')], den: [c('push_delivered')], share: true },
  },
  {
    id: 'view_to_cart_rate',
    label: { zh: '浏览→加购', en: 'View → cart' },
    description: { zh: '加购数 ÷ 浏览数', en: 'Cart adds ÷ page views' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('cart_add')], den: [c('page_view')], share: true },
  },
  {
    id: 'cart_to_order_rate',
    label: { zh: '加购→下单', en: 'Cart → order' },
    description: { zh: '下单数 ÷ 加购数', en: 'Orders ÷ cart adds' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('order_create')], den: [c('cart_add')], share: true },
  },
  {
    id: 'order_to_paid_rate',
    label: { zh: '下单→支付', en: 'Order → paid' },
    description: { zh: '支付订单数 ÷ 下单数', en: 'Paid orders ÷ orders' },
    group: 'conversion', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('order_paid')], den: [c('order_create')], share: true },
  },
  {
    id: 'paid_conversion',
    label: { zh: '支付转化率', en: 'Paid conversion' },
    description: { zh: '支付订单数 ÷ 浏览数', en: 'Paid orders ÷ page views' },
    group: 'conversion', unit: 'percent', good: 'up', target: 0.052,
    formula: { kind: 'ratio', num: [c('order_paid')], den: [c('page_view')], share: true },
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
    id: 'retention_7d',
    label: { zh: '7 日留存率', en: '7-day retention' },
    description: {
      zh: '前 7 天（A）活跃且截至当天的 7 天（B）仍活跃的成员 ÷ A（仅按天）。|A∩B| = |A| + |B| − |A∪B|，由合并的日草图（HyperLogLog）按容斥原理求得。误差：三个草图都是稀疏模式（A∪B ≤ 1,500 人）时基本精确；否则每个估计相对误差 ≤ 1%，留存率的绝对误差最坏 ≤ 1% ×（|A|+|B|+|A∪B|）÷|A| + 1% × 留存率，两期人数相当、留存 85% 时约 ±4 个百分点（典型约 ±1 个百分点）；交集相对并集越小，误差越大',
      en: 'Members active in the 7 days before (A) who are also active in the 7 days ending with the day (B), ÷ A (day only). |A∩B| = |A| + |B| − |A∪B| by inclusion–exclusion on merged day sketches (HyperLogLog). Error: exact in practice while all three sketches are sparse (A∪B ≤ 1,500 members); otherwise each estimate is within ±1 % relative, so the absolute error on the rate is at most 1 % × (|A|+|B|+|A∪B|) ÷ |A| + 1 % × rate: about ±4 points for equal periods at 85 % (typically about ±1 point); it grows as the intersection shrinks relative to the union',
    },
    // The seed's 留存率 ≥ 85%.
    group: 'retention', unit: 'percent', good: 'up', target: 0.85,
    formula: { kind: 'span', measure: 'retention', set: 'active', days: 7 },
    granularities: ['day'],
  },
  {
    id: 'retention_30d',
    label: { zh: '30 日留存率', en: '30-day retention' },
    description: {
      zh: '前 30 天（A）活跃且截至当天的 30 天（B）仍活跃的成员 ÷ A（仅按天）。|A∩B| = |A| + |B| − |A∪B|，由合并的日草图（HyperLogLog）按容斥原理求得。误差：三个草图都是稀疏模式（A∪B ≤ 1,500 人）时基本精确；否则每个估计相对误差 ≤ 1%，留存率的绝对误差最坏 ≤ 1% ×（|A|+|B|+|A∪B|）÷|A| + 1% × 留存率，两期人数相当、留存 85% 时约 ±4 个百分点（典型约 ±1 个百分点）；交集相对并集越小，误差越大',
      en: 'Members active in the 30 days before (A) who are also active in the 30 days ending with the day (B), ÷ A (day only). |A∩B| = |A| + |B| − |A∪B| by inclusion–exclusion on merged day sketches (HyperLogLog). Error: exact in practice while all three sketches are sparse (A∪B ≤ 1,500 members); otherwise each estimate is within ±1 % relative, so the absolute error on the rate is at most 1 % × (|A|+|B|+|A∪B|) ÷ |A| + 1 % × rate: about ±4 points for equal periods at 85 % (typically about ±1 point); it grows as the intersection shrinks relative to the union',
    },
    // The seed's 留存率 ≥ 85%.
    group: 'retention', unit: 'percent', good: 'up', target: 0.85,
    formula: { kind: 'span', measure: 'retention', set: 'active', days: 30 },
    granularities: ['day'],
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
    formula: { kind: 'ratio', num: { distinct: 'push_over_cap' }, den: { distinct: 'push_reached' }, share: true },
    // A member crosses the cap once a day, so a minute's or an hour's share compares
    // crossings in that hour with members pushed in that hour: meaningless.
    granularities: ['day'],
  },
  {
    id: 'activity_participation_rate',
    label: { zh: '活动参与率', en: 'Activity participation' },
    description: { zh: '参与人次 ÷ 触达人次', en: 'Joins ÷ reaches' },
    group: 'retention', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('activity_join')], den: [c('activity_reach')], share: true },
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
    formula: { kind: 'ratio', num: [c('service_resolve')], den: [c('service_request')], share: true },
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
    id: 'repeat_purchase_rate',
    label: { zh: '复购率', en: 'Repeat purchase rate' },
    description: {
      zh: '截至当天 30 天内（B）付款、且在之前 30 天（A）也付过款的成员 ÷ B（仅按天）。|A∩B| = |A| + |B| − |A∪B|，由付款成员（buyers）的日草图按容斥原理求得。误差：A∪B ≤ 1,500 人时基本精确；否则绝对误差最坏 ≤ 1% ×（|A|+|B|+|A∪B|）÷|B| + 1% × 复购率（两期人数相当、复购率 20% 时约 ±4 个百分点）',
      en: 'Members who paid in the 30 days ending with the day (B) and also paid in the 30 days before (A), ÷ B (day only). |A∩B| = |A| + |B| − |A∪B| by inclusion–exclusion on the buyers\' day sketches. Error: exact in practice while A∪B ≤ 1,500 members; otherwise the absolute error is at most 1 % × (|A|+|B|+|A∪B|) ÷ |B| + 1 % × rate (about ±4 points for equal periods at 20 %)',
    },
    group: 'value', unit: 'percent', good: 'up',
    formula: { kind: 'span', measure: 'repeat', set: 'buyers', days: 30 },
    granularities: ['day'],
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
  // 企业微信 客户联系 (connectors/wecom). Callbacks, live:
  {
    id: 'deleted_by_customer',
    label: { zh: '被客户删除', en: 'Deleted by customers' },
    description: { zh: '客户删除了员工（企业微信 del_follow_user），私域最直接的流失信号；同时计入流失成员', en: 'Customers who deleted the staff member (WeCom del_follow_user), the sharpest churn signal; also counted in lost members' },
    group: 'retention', unit: 'count', good: 'down',
    formula: { kind: 'sum', terms: [c('contact_deleted_by_customer')] },
  },
  {
    id: 'groups_created',
    label: { zh: '新建客户群', en: 'Customer groups created' },
    description: { zh: '新建的企业微信客户群数', en: 'WeCom customer groups created' },
    group: 'scale', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('group_create')] },
  },
  {
    id: 'groups_dismissed',
    label: { zh: '解散客户群', en: 'Customer groups dismissed' },
    description: { zh: '解散的企业微信客户群数', en: 'WeCom customer groups dismissed' },
    group: 'scale', unit: 'count', good: 'down',
    formula: { kind: 'sum', terms: [c('group_dismiss')] },
  },
  // Daily pull of WeCom's statistics (one value per local day, at the day's start; read per day):
  {
    id: 'wecom_new_contacts',
    label: { zh: '新增客户（企微统计）', en: 'New contacts (WeCom stats)' },
    description: { zh: '企业微信联系客户统计：新增客户数（每日拉取，按天）', en: 'WeCom contact statistics: new contacts (daily pull, per day)' },
    group: 'scale', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('wecom_new_contact_cnt')] },
  },
  {
    id: 'wecom_new_applies',
    label: { zh: '发起好友申请（企微统计）', en: 'Friend requests sent (WeCom stats)' },
    description: { zh: '员工主动发起的添加客户申请数（每日拉取，按天）', en: 'Friend requests sent by staff (daily pull, per day)' },
    group: 'scale', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('wecom_new_apply_cnt')] },
  },
  {
    id: 'wecom_chats',
    label: { zh: '单聊会话数', en: 'One-to-one chats' },
    description: { zh: '员工有发送消息的单聊数（每日拉取，按天）', en: 'One-to-one chats in which staff sent a message (daily pull, per day)' },
    group: 'interaction', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('wecom_chat_cnt')] },
  },
  {
    id: 'wecom_staff_messages',
    label: { zh: '员工发消息数', en: 'Staff messages' },
    description: { zh: '员工在单聊中发送的消息数（每日拉取，按天）', en: 'Messages staff sent in one-to-one chats (daily pull, per day)' },
    group: 'interaction', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('wecom_message_cnt')] },
  },
  {
    id: 'wecom_reply_rate',
    label: { zh: '客户消息回复率', en: 'Reply rate' },
    description: { zh: '客户主动发起的单聊中当天得到员工回复的占比（企微 reply_percentage，按会话数加权，每日拉取）', en: 'Share of customer-started chats the staff replied to the same day (WeCom reply_percentage, chat-weighted, daily pull)' },
    group: 'retention', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('wecom_reply_num')], den: [c('wecom_reply_den')] },
  },
  {
    id: 'wecom_avg_reply_time',
    label: { zh: '平均首次回复时长', en: 'Average first reply time' },
    description: { zh: '客户发起单聊后员工首次回复的平均时长（企微 avg_reply_time，按会话数加权，每日拉取）', en: 'Average time to the first staff reply in customer-started chats (WeCom avg_reply_time, chat-weighted, daily pull)' },
    group: 'retention', unit: 'ms', good: 'down',
    formula: { kind: 'ratio', num: [c('wecom_reply_time_num_ms')], den: [c('wecom_reply_time_den')] },
  },
  {
    id: 'wecom_negative_feedback',
    label: { zh: '删除/拉黑员工的客户', en: 'Customers who deleted / blocked staff' },
    description: { zh: '删除或拉黑员工的客户数（企微 negative_feedback_cnt，每日拉取，按天）', en: 'Customers who deleted or blocked a staff member (WeCom negative_feedback_cnt, daily pull, per day)' },
    group: 'retention', unit: 'count', good: 'down',
    formula: { kind: 'sum', terms: [c('wecom_negative_feedback_cnt')] },
  },
  {
    id: 'group_new_members',
    label: { zh: '客户群新增成员（企微统计）', en: 'New group members (WeCom stats)' },
    description: { zh: '客户群新增群成员数（企微群聊统计 new_member_cnt，每日拉取，按天）', en: 'New customer-group members (WeCom group statistics new_member_cnt, daily pull, per day)' },
    group: 'scale', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('wecom_group_new_member_cnt')] },
  },
  {
    id: 'group_messages',
    label: { zh: '客户群消息数', en: 'Customer-group messages' },
    description: { zh: '客户群消息总数（企微群聊统计 msg_total，每日拉取，按天）', en: 'Messages in customer groups (WeCom group statistics msg_total, daily pull, per day)' },
    group: 'interaction', unit: 'count', good: 'up',
    formula: { kind: 'sum', terms: [c('wecom_group_msg_total')] },
  },
  {
    id: 'group_speaker_share',
    label: { zh: '群发言成员占比', en: 'Group members who spoke' },
    description: { zh: '发过消息的群成员 ÷ 群成员总数（企微群聊统计，每日拉取）', en: 'Group members who sent a message ÷ all group members (WeCom group statistics, daily pull)' },
    group: 'interaction', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('wecom_group_member_has_msg')], den: [c('wecom_group_member_total')] },
  },
  {
    id: 'group_active_share',
    label: { zh: '活跃客户群占比', en: 'Groups with messages' },
    description: { zh: '有消息的客户群 ÷ 客户群总数（企微群聊统计，每日拉取）', en: 'Customer groups with messages ÷ all customer groups (WeCom group statistics, daily pull)' },
    group: 'interaction', unit: 'percent', good: 'up',
    formula: { kind: 'ratio', num: [c('wecom_group_chat_has_msg')], den: [c('wecom_group_chat_total')] },
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
  if (f.kind === 'distinct' || f.kind === 'span') return [f.set];
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

/** Month-level KPIs (unions of day sketches over several days, query/span.ts). */
export function isSpan(def: KpiDef): def is KpiDef & { formula: Extract<KpiFormula, { kind: 'span' }> } {
  return def.formula.kind === 'span';
}
