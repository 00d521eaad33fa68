/**
 * The ingest vocabulary (README, "Sending events": ingest contract v1) and the counters each event
 * type feeds. Counters are what the store holds; every KPI is computed from them at read
 * time, so adding a KPI never changes what is stored unless it needs a new counter.
 */

export const EVENT_TYPES = [
  'member.join',
  'member.leave',
  'message',
  'interaction',
  'push.sent',
  'push.delivered',
  'push.open',
  'push.click',
  'page.view',
  'cart.add',
  'order.create',
  'order.paid',
  'activity.reach',
  'activity.join',
  'service.request',
  'service.reply',
  'service.resolve',
  'spend',
  // WeCom 客户联系 (connectors/wecom): the customer deleted the staff member (del_follow_user,
  // also counted as member.leave), and customer groups created / dismissed.
  'contact.deleted_by_customer',
  'group.create',
  'group.dismiss',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The store's tag dimensions. `''` means "not given" (the tag is omitted in InfluxDB). */
export const DIMENSIONS = ['channel', 'community', 'campaign'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export type Tags = Record<Dimension, string>;

/** `member.join` → `member_join`: one count counter per event type. */
export function countCounterOf(type: EventType): CountCounter {
  return type.replace('.', '_') as CountCounter;
}

type Underscored<S extends string> = S extends `${infer A}.${infer B}` ? `${A}_${B}` : S;
export type CountCounter = Underscored<EventType>;

/** Money sums, integer fen (分). Only these event types carry an `amount`. */
export const AMOUNT_COUNTERS = {
  'order.create': 'order_create_fen',
  'order.paid': 'order_paid_fen',
  spend: 'spend_fen',
} as const satisfies Partial<Record<EventType, string>>;
export type AmountCounter = (typeof AMOUNT_COUNTERS)[keyof typeof AMOUNT_COUNTERS];
export const AMOUNT_EVENT_TYPES = Object.keys(AMOUNT_COUNTERS) as (keyof typeof AMOUNT_COUNTERS)[];

/**
 * Latency histograms: fixed upper bounds (ms) so bucket counts add up across time and
 * instances and quantiles are computed from summed buckets (never averaged percentiles).
 * The last bucket is +Inf.
 */
export const HISTOGRAMS = {
  /** First-response time of customer service: `service.reply` with `duration_ms`. */
  frt: {
    eventType: 'service.reply' as EventType,
    boundsMs: [5_000, 10_000, 20_000, 30_000, 45_000, 60_000, 90_000, 120_000, 180_000, 300_000, 600_000, 1_800_000, 3_600_000],
  },
} as const;
export type HistogramId = keyof typeof HISTOGRAMS;
/** Field name of histogram bucket `i` (bucket `bounds.length` is +Inf). */
export function histogramCounter(id: HistogramId, i: number): string {
  return `${id}_b${String(i).padStart(2, '0')}`;
}
export function histogramCounters(id: HistogramId): string[] {
  return Array.from({ length: HISTOGRAMS[id].boundsMs.length + 1 }, (_, i) => histogramCounter(id, i));
}

/**
 * Day totals pulled from WeCom's statistics APIs (connectors/wecom/dailyStats.ts), written
 * once per local day at the day's start, channel `wecom`; no event type feeds them.
 * Percentages and averages are kept as weighted numerator / denominator pairs (integers),
 * so the KPIs stay ratios of sums over any range.
 */
export const WECOM_STAT_COUNTERS = [
  // externalcontact/get_user_behavior_data (联系客户统计)
  'wecom_chat_cnt',
  'wecom_message_cnt',
  'wecom_reply_num',
  'wecom_reply_den',
  'wecom_reply_time_num_ms',
  'wecom_reply_time_den',
  'wecom_negative_feedback_cnt',
  'wecom_new_apply_cnt',
  'wecom_new_contact_cnt',
  // externalcontact/groupchat/statistic (群聊数据统计)
  'wecom_group_new_chat_cnt',
  'wecom_group_chat_total',
  'wecom_group_chat_has_msg',
  'wecom_group_new_member_cnt',
  'wecom_group_member_total',
  'wecom_group_member_has_msg',
  'wecom_group_msg_total',
] as const;
export type WeComStatCounter = (typeof WECOM_STAT_COUNTERS)[number];

/** Every counter field, in a stable order: the store's schema. */
export const COUNTERS: readonly string[] = [
  ...EVENT_TYPES.map(countCounterOf),
  ...Object.values(AMOUNT_COUNTERS),
  ...(Object.keys(HISTOGRAMS) as HistogramId[]).flatMap(histogramCounters),
  ...WECOM_STAT_COUNTERS,
];
export type CounterName = string;
export type CounterSums = Record<CounterName, number>;

/**
 * Distinct member sets (hashed ids, in memory). A member is in `active` when any event
 * of these types names them. Distinct counts are written per minute, hour and day only.
 */
export const MEMBER_SETS = {
  active: [
    'member.join',
    'message',
    'interaction',
    'push.open',
    'push.click',
    'page.view',
    'cart.add',
    'order.create',
    'order.paid',
    'activity.join',
    'service.request',
  ] as EventType[],
  /** Members sent at least one push (`push.sent`): the reach behind push fatigue. */
  push_reached: ['push.sent'] as EventType[],
  /**
   * Members pushed more often than PULSE_PUSH_CAP_PER_DAY in one day (触达频率上限). No event
   * type adds them directly: the collector counts each member's pushes per day and adds the
   * member on the push that crosses the cap, in that push's period and channel.
   */
  push_over_cap: [] as EventType[],
  /**
   * Members who paid an order (`order.paid`): the buyers behind 复购率 (buyers of a period who
   * also bought in the 30 days before, from day sketches; query/span.ts).
   */
  buyers: ['order.paid'] as EventType[],
} as const;
export type MemberSetId = keyof typeof MEMBER_SETS;
export const MEMBER_SET_IDS = Object.keys(MEMBER_SETS) as MemberSetId[];

export const GRANULARITIES = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type Granularity = keyof typeof GRANULARITIES;
