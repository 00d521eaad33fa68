/**
 * The simulator's traffic model as data: channels, communities, campaigns, the diurnal
 * curve, each flow's channel mix and funnel probabilities, and the derived plan (root
 * rates, expected GMV per channel for spend pacing, the design rates tests compare to).
 *
 * Shares and probabilities are tuned so that, over a day, push open rate ≈ 22%, paid
 * conversion (paid orders ÷ page views) ≈ 5.2% (the catalogue target), AOV ≈ ¥207 and
 * ROAS ≈ 4.
 */

export const CHANNELS = ['wecom', 'wechat_group', 'miniprogram', 'douyin', 'sms', 'app_push', 'store_qr'] as const;
export type Channel = (typeof CHANNELS)[number];

export const CHANNEL_LABELS: Readonly<Record<Channel, { zh: string; en: string }>> = {
  wecom: { zh: '企业微信', en: 'WeCom' },
  wechat_group: { zh: '微信社群', en: 'WeChat groups' },
  miniprogram: { zh: '小程序', en: 'Mini-program' },
  douyin: { zh: '抖音', en: 'Douyin' },
  sms: { zh: '短信', en: 'SMS' },
  app_push: { zh: 'App 推送', en: 'App push' },
  store_qr: { zh: '门店二维码', en: 'Store QR code' },
};

/** Communities with relative sizes: a member belongs to one home community. */
export const COMMUNITIES: readonly { name: string; weight: number }[] = [
  { name: '上海静安宝妈群', weight: 1.0 },
  { name: '杭州西湖会员1群', weight: 0.9 },
  { name: '杭州西湖会员2群', weight: 0.6 },
  { name: '北京朝阳潮玩群', weight: 0.85 },
  { name: '深圳南山福利群', weight: 0.8 },
  { name: '广州天河美妆群', weight: 0.75 },
  { name: '成都高新吃货群', weight: 0.7 },
  { name: '上海浦东白领群', weight: 0.7 },
  { name: '南京鼓楼会员群', weight: 0.55 },
  { name: '苏州园区宝妈群', weight: 0.55 },
  { name: '武汉光谷学生群', weight: 0.5 },
  { name: '北京海淀亲子群', weight: 0.5 },
  { name: '重庆渝北福利群', weight: 0.45 },
  { name: '西安曲江会员群', weight: 0.4 },
  { name: '长沙岳麓新品体验群', weight: 0.4 },
  { name: '天津和平宝妈群', weight: 0.35 },
  { name: '青岛市南会员群', weight: 0.35 },
  { name: '厦门思明VIP群', weight: 0.3 },
  { name: '宁波鄞州福利群', weight: 0.3 },
  { name: '合肥蜀山会员群', weight: 0.25 },
];

export const CAMPAIGNS: readonly { name: string; weight: number }[] = [
  { name: '双11预热', weight: 0.3 },
  { name: '会员日', weight: 0.25 },
  { name: '新品试用', weight: 0.2 },
  { name: '周末秒杀', weight: 0.15 },
  { name: '618返场', weight: 0.1 },
];

/**
 * Traffic level by local hour (1 = the daily peak), linearly interpolated: quiet 01–06,
 * morning ramp, lunch bump 12–13, evening peak 20–21, fall-off after 22. Every day has the
 * same expected shape, so "same time yesterday" baselines compare like with like.
 */
export const DIURNAL_POINTS: readonly (readonly [hour: number, level: number])[] = [
  [0, 0.3], [1, 0.13], [2, 0.07], [3, 0.045], [4, 0.04], [5, 0.05], [6, 0.09],
  [7, 0.25], [8, 0.42], [9, 0.55], [10, 0.6], [11, 0.62],
  [12, 0.76], [12.5, 0.8], [13, 0.72], [14, 0.56], [15, 0.54], [16, 0.55], [17, 0.58], [18, 0.64],
  [19, 0.8], [20, 1.0], [21, 0.97], [21.5, 0.9], [22, 0.72], [23, 0.48], [24, 0.3],
];

export function diurnalLevel(minuteOfDay: number): number {
  const h = (((minuteOfDay / 60) % 24) + 24) % 24;
  for (let i = 1; i < DIURNAL_POINTS.length; i++) {
    const [h1, l1] = DIURNAL_POINTS[i]!;
    if (h <= h1) {
      const [h0, l0] = DIURNAL_POINTS[i - 1]!;
      return l0 + ((l1 - l0) * (h - h0)) / (h1 - h0);
    }
  }
  return DIURNAL_POINTS[0]![1];
}

/** Flows start at a root event; each root kind has its own arrival process. */
export const ROOT_KINDS = ['message', 'interaction', 'push', 'visit', 'activity', 'service', 'join', 'leave'] as const;
export type RootKind = (typeof ROOT_KINDS)[number];

type ChannelWeights = Partial<Record<Channel, number>>;

/** `share`: fraction of all events (root plus follow-ups) at any moment; `channels`: where the flow happens. */
export const ROOTS: Readonly<Record<RootKind, { share: number; channels: ChannelWeights }>> = {
  message: { share: 0.33, channels: { wechat_group: 0.6, wecom: 0.35, douyin: 0.05 } },
  interaction: { share: 0.15, channels: { wechat_group: 0.45, wecom: 0.25, miniprogram: 0.15, douyin: 0.15 } },
  push: { share: 0.23, channels: { wecom: 0.35, app_push: 0.3, miniprogram: 0.2, sms: 0.15 } },
  visit: { share: 0.17, channels: { miniprogram: 0.45, douyin: 0.2, wechat_group: 0.12, wecom: 0.1, store_qr: 0.08, app_push: 0.05 } },
  activity: { share: 0.07, channels: { wechat_group: 0.4, wecom: 0.3, miniprogram: 0.2, app_push: 0.1 } },
  service: { share: 0.045, channels: { wecom: 0.5, miniprogram: 0.3, douyin: 0.1, app_push: 0.1 } },
  // Low churn: about one leave per ten joins.
  join: { share: 0.004, channels: { wecom: 0.35, wechat_group: 0.3, store_qr: 0.15, douyin: 0.12, miniprogram: 0.08 } },
  leave: { share: 0.0004, channels: { wechat_group: 0.45, wecom: 0.35, douyin: 0.12, miniprogram: 0.08 } },
};

/** Chance that an event on a channel names the member's home community (group channels). */
export const COMMUNITY_CHANCE: Readonly<Record<Channel, number>> = {
  wechat_group: 1, wecom: 0.5, miniprogram: 0.2, douyin: 0, sms: 0, app_push: 0, store_qr: 0,
};

/** Push funnel per push-capable channel: delivered | sent, opened | delivered, clicked | opened. */
export const PUSH: Readonly<Partial<Record<Channel, { deliver: number; open: number; click: number }>>> = {
  wecom: { deliver: 0.98, open: 0.3, click: 0.3 },
  app_push: { deliver: 0.92, open: 0.19, click: 0.3 },
  miniprogram: { deliver: 0.96, open: 0.23, click: 0.3 },
  sms: { deliver: 0.97, open: 0.12, click: 0.3 },
};

export const COMMERCE = {
  /** cart | view (page-view weighted mean), order | cart, paid | order: 0.15 × 0.45 × 0.77 ≈ 5.2%. */
  cart: 0.15,
  order: 0.45,
  paid: 0.77,
  /** Relative intent by channel, normalised so the page-view weighted mean stays `cart`. */
  cartByChannel: { wecom: 1.25, wechat_group: 1.0, miniprogram: 1.1, douyin: 0.6, sms: 0.9, app_push: 1.0, store_qr: 1.3 } as Record<Channel, number>,
  /** Order amount: lognormal, median ¥178, mean ≈ ¥207, rounded to 1 jiao, within [¥9.9, ¥3000]. */
  amountMedianFen: 17_800,
  amountSigma: 0.55,
  amountMinFen: 990,
  amountMaxFen: 300_000,
};

export const ACTIVITY = { join: 0.2 };
export const SERVICE = { resolve: 0.85, replyMedianMs: 40_000, replySigma: 0.9 };

/** Target ROAS per channel: spend is paced to expected GMV ÷ this. */
export const ROAS_TARGET: Readonly<Record<Channel, number>> = {
  wecom: 6, wechat_group: 5, miniprogram: 4, douyin: 2.2, sms: 3, app_push: 5, store_qr: 3.5,
};

/** Everything derived from the tables above for one peak rate. */
export interface TrafficPlan {
  /** Root arrivals per second at diurnal level 1. */
  rootRate: Record<RootKind, number>;
  /** cart | view per channel (after normalisation). */
  cartProb: Record<Channel, number>;
  /** Expected paid GMV (fen) per second per channel at level 1, for spend pacing. */
  gmvFenPerSecond: Record<Channel, number>;
  /** Design values (no swings), for tests and documentation. */
  expected: { openRate: number; clickRate: number; paidConversion: number; meanAmountFen: number; roas: number };
}

function normalised(w: ChannelWeights): [Channel, number][] {
  const entries = Object.entries(w) as [Channel, number][];
  const sum = entries.reduce((s, [, v]) => s + v, 0);
  return entries.map(([c, v]) => [c, v / sum]);
}

export function planTraffic(peakEventsPerSecond: number): TrafficPlan {
  const order = COMMERCE.order;
  const paid = COMMERCE.paid;
  const meanAmountFen = COMMERCE.amountMedianFen * Math.exp((COMMERCE.amountSigma * COMMERCE.amountSigma) / 2);
  const totalShare = Object.values(ROOTS).reduce((s, r) => s + r.share, 0);
  const push = normalised(ROOTS.push.channels);
  const visit = normalised(ROOTS.visit.channels);

  let cartProb = Object.fromEntries(CHANNELS.map((c) => [c, COMMERCE.cart * COMMERCE.cartByChannel[c]])) as Record<Channel, number>;
  let rootRate = {} as Record<RootKind, number>;
  let viewRate = {} as Record<Channel, number>;
  // Root rates depend on events per flow, which depend on the normalised cart chances,
  // which depend on the page-view mix: a few fixed-point rounds settle it.
  for (let round = 0; round < 4; round++) {
    const eventsPerView = (c: Channel) => 1 + cartProb[c] * (1 + order * (1 + paid));
    const perRoot: Record<RootKind, number> = {
      message: 1,
      interaction: 1,
      push: push.reduce((s, [c, w]) => {
        const p = PUSH[c]!;
        return s + w * (1 + p.deliver * (1 + p.open * (1 + p.click * eventsPerView(c))));
      }, 0),
      visit: visit.reduce((s, [c, w]) => s + w * eventsPerView(c), 0),
      activity: 1 + ACTIVITY.join,
      service: 2 + SERVICE.resolve,
      join: 1,
      leave: 1,
    };
    rootRate = Object.fromEntries(
      (Object.keys(ROOTS) as RootKind[]).map((k) => [k, (peakEventsPerSecond * ROOTS[k].share) / totalShare / perRoot[k]]),
    ) as Record<RootKind, number>;
    viewRate = Object.fromEntries(CHANNELS.map((c) => [c, 0])) as Record<Channel, number>;
    for (const [c, w] of visit) viewRate[c] += rootRate.visit * w;
    for (const [c, w] of push) {
      const p = PUSH[c]!;
      viewRate[c] += rootRate.push * w * p.deliver * p.open * p.click;
    }
    const views = CHANNELS.reduce((s, c) => s + viewRate[c], 0);
    const meanMult = CHANNELS.reduce((s, c) => s + viewRate[c] * COMMERCE.cartByChannel[c], 0) / views;
    cartProb = Object.fromEntries(CHANNELS.map((c) => [c, (COMMERCE.cart * COMMERCE.cartByChannel[c]) / meanMult])) as Record<Channel, number>;
  }

  const gmvFenPerSecond = Object.fromEntries(
    CHANNELS.map((c) => [c, viewRate[c] * cartProb[c] * order * paid * meanAmountFen]),
  ) as Record<Channel, number>;
  const delivered = push.reduce((s, [c, w]) => s + w * PUSH[c]!.deliver, 0);
  const opened = push.reduce((s, [c, w]) => s + w * PUSH[c]!.deliver * PUSH[c]!.open, 0);
  const clicked = push.reduce((s, [c, w]) => s + w * PUSH[c]!.deliver * PUSH[c]!.open * PUSH[c]!.click, 0);
  const views = CHANNELS.reduce((s, c) => s + viewRate[c], 0);
  const paidOrders = CHANNELS.reduce((s, c) => s + viewRate[c] * cartProb[c] * order * paid, 0);
  const gmv = CHANNELS.reduce((s, c) => s + gmvFenPerSecond[c], 0);
  const spend = CHANNELS.reduce((s, c) => s + gmvFenPerSecond[c] / ROAS_TARGET[c], 0);
  return {
    rootRate,
    cartProb,
    gmvFenPerSecond,
    expected: {
      openRate: opened / delivered,
      clickRate: clicked / delivered,
      paidConversion: paidOrders / views,
      meanAmountFen,
      roas: gmv / spend,
    },
  };
}
