/**
 * The backend's KPI catalogue as the KpiSource reports it (ids, labels, units, good
 * direction, ratio, splits, the seed's default targets), copied from contracts/src/catalogue/kpis.ts — alerts must not
 * import backend code. Distinct-count KPIs (active_members and the ratios over actives)
 * split by channel only, as the backend's allowedSplits() says.
 */
import type { Dimension, KpiInfo } from '../../src/contract.js';

const ALL: Dimension[] = ['channel', 'community', 'campaign'];
const CHANNEL: Dimension[] = ['channel'];

const k = (id: string, zh: string, en: string, unit: KpiInfo['unit'], good: KpiInfo['good'], ratio: boolean, splits = ALL): KpiInfo => ({
  id,
  label: { zh, en },
  unit,
  good,
  ratio,
  splits,
});

export const CATALOGUE: KpiInfo[] = [
  k('new_members', '新增成员', 'New members', 'count', 'up', false),
  k('lost_members', '流失成员', 'Lost members', 'count', 'down', false),
  k('net_growth', '净增长', 'Net growth', 'count', 'up', false),
  k('active_members', '活跃成员', 'Active members', 'count', 'up', false, CHANNEL),
  k('messages', '消息数', 'Messages', 'count', 'up', false),
  k('interactions', '互动次数', 'Interactions', 'count', 'up', false),
  { ...k('interactions_per_active', '人均互动', 'Interactions per active member', 'per_member', 'up', true, CHANNEL), target: 0.4 },
  k('push_open_rate', '推送打开率', 'Push open rate', 'percent', 'up', true),
  k('push_click_rate', '推送点击率', 'Push click rate', 'percent', 'up', true),
  k('view_to_cart_rate', '浏览→加购', 'View → cart', 'percent', 'up', true),
  k('cart_to_order_rate', '加购→下单', 'Cart → order', 'percent', 'up', true),
  k('order_to_paid_rate', '下单→支付', 'Order → paid', 'percent', 'up', true),
  { ...k('paid_conversion', '支付转化率', 'Paid conversion', 'percent', 'up', true), target: 0.052 },
  { ...k('churn_rate', '流失率', 'Churn rate', 'percent', 'down', true, CHANNEL), target: 0.15 },
  { ...k('push_over_cap_share', '超频触达占比', 'Over-cap push share', 'percent', 'down', true, CHANNEL), target: 0.05 },
  k('activity_participation_rate', '活动参与率', 'Activity participation', 'percent', 'up', true),
  k('service_frt_p50', '首次响应 P50', 'First response p50', 'ms', 'down', false),
  k('service_frt_p90', '首次响应 P90', 'First response p90', 'ms', 'down', false),
  k('service_resolution_rate', '客服解决率', 'Service resolution rate', 'percent', 'up', true),
  k('gmv', '成交额 GMV', 'GMV', 'fen', 'up', false),
  k('paid_orders', '支付订单数', 'Paid orders', 'count', 'up', false),
  k('aov', '客单价', 'Average order value', 'fen', 'up', true),
  k('spend', '投放花费', 'Spend', 'fen', 'neutral', false),
  k('roas', '投产比 ROAS', 'ROAS', 'multiple', 'up', true),
  k('deleted_by_customer', '被客户删除', 'Deleted by customers', 'count', 'down', false),
];

export const CATALOGUE_MAP: ReadonlyMap<string, KpiInfo> = new Map(CATALOGUE.map((x) => [x.id, x]));
