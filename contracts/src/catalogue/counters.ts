/**
 * What people call the counters and member sets that KPIs are built from: the alert
 * center's "最小样本 200 送达数", and the warning on a ratio whose numerator outruns its
 * denominator ("打开数多于送达数：缺少送达事件？").
 */
import type { Label, RatioSide } from './kpis.js';
import type { MemberSetId } from './events.js';

/** Count counters (one per event type) and money counters, by counter name. */
export const COUNTER_LABELS: Readonly<Record<string, Label>> = {
  member_join: { zh: '入群数', en: 'joins' },
  member_leave: { zh: '退群数', en: 'leaves' },
  message: { zh: '消息数', en: 'messages' },
  interaction: { zh: '互动数', en: 'interactions' },
  push_sent: { zh: '推送数', en: 'pushes sent' },
  push_delivered: { zh: '送达数', en: 'deliveries' },
  push_open: { zh: '打开数', en: 'opens' },
  push_click: { zh: '点击数', en: 'clicks' },
  page_view: { zh: '浏览数', en: 'page views' },
  cart_add: { zh: '加购数', en: 'cart adds' },
  order_create: { zh: '下单数', en: 'orders' },
  order_paid: { zh: '支付数', en: 'paid orders' },
  activity_reach: { zh: '触达数', en: 'reaches' },
  activity_join: { zh: '参与数', en: 'sign-ups' },
  service_request: { zh: '咨询数', en: 'requests' },
  service_reply: { zh: '回复数', en: 'replies' },
  service_resolve: { zh: '解决数', en: 'resolutions' },
  spend: { zh: '投放笔数', en: 'spend entries' },
  order_create_fen: { zh: '下单金额', en: 'order value' },
  order_paid_fen: { zh: '成交额', en: 'GMV' },
  spend_fen: { zh: '投放花费', en: 'spend' },
};

const SET_LABELS: Readonly<Record<MemberSetId, Label>> = {
  active: { zh: '活跃成员', en: 'active members' },
  push_reached: { zh: '触达成员', en: 'members reached' },
  push_over_cap: { zh: '超频成员', en: 'members over the cap' },
  buyers: { zh: '付款成员', en: 'buyers' },
};

/** The ingest event type a count counter comes from (`push_delivered` → `push.delivered`). */
export function eventTypeOf(counter: string): string | null {
  return COUNTER_LABELS[counter] && !counter.endsWith('_fen') ? counter.replace('_', '.') : null;
}

/** A ratio side as people say it: "送达数", "活跃成员", or terms joined with +/−. */
export function sideLabel(side: RatioSide): Label {
  if ('distinct' in side) return SET_LABELS[side.distinct];
  const parts = side.map(([counter, sign], i) => {
    const l = COUNTER_LABELS[counter] ?? { zh: counter, en: counter };
    const op = i === 0 ? (sign < 0 ? '−' : '') : sign < 0 ? ' − ' : ' + ';
    return { zh: op + l.zh, en: op + l.en };
  });
  return { zh: parts.map((p) => p.zh).join(''), en: parts.map((p) => p.en).join('') };
}

/** True when a side counts money (fen), so a sample of it reads as ¥. */
export function sideIsMoney(side: RatioSide): boolean {
  return !('distinct' in side) && side.length > 0 && side.every(([counter]) => counter.endsWith('_fen'));
}
