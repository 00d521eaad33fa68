/**
 * The conversion funnel (page view → cart → order → paid) from one live window.
 *
 * The KPI catalogue has the three step rates (view_to_cart_rate, cart_to_order_rate,
 * order_to_paid_rate), paid_orders and paid_conversion, but no raw view / cart / order
 * counts. Those are DERIVED here, walking up from the exact paid-order count:
 *   orders = paid / order_to_paid_rate, carts = orders / cart_to_order_rate,
 *   views = carts / view_to_cart_rate.
 * Each rate is a ratio of integer sums, so the division gives the integer count back (it is
 * rounded to remove floating-point noise). A count cannot be derived when the rate below it
 * is 0 or undefined (e.g. no paid orders yet): it is then null and only the rates show.
 * Bar widths use the cumulative rates (share of page views), which exist even without counts.
 */
import type { KpiWindowValue } from '@siyu-pulse/contracts/live';
import type { Label } from '@siyu-pulse/contracts/catalogue';

export interface FunnelStep {
  id: 'view' | 'cart' | 'order' | 'paid';
  label: Label;
  /** Derived count (paid: exact), null when it cannot be derived. */
  count: number | null;
  /** Conversion from the previous step (null for the first step or when undefined). */
  rate: number | null;
  /** KPI id of `rate` (what the wall compares against the snapshot). */
  rateKpi: string | null;
  /** What `rate` is, shown with it ("加购率"): a step's conversion, not a drop. */
  rateLabel: Label | null;
  /** Share of page views reaching this step (1 for views), null when undefined. */
  share: number | null;
}

export interface Funnel {
  steps: FunnelStep[];
  /** paid orders ÷ page views. */
  overall: number | null;
  /** True when at least one count had to be left out. */
  partial: boolean;
}

/** The KPIs the funnel reads (also: what its freshness depends on). */
export const FUNNEL_KPIS = ['view_to_cart_rate', 'cart_to_order_rate', 'order_to_paid_rate', 'paid_orders', 'paid_conversion'] as const;

const LABELS: Record<FunnelStep['id'], Label> = {
  view: { zh: '浏览', en: 'Page views' },
  cart: { zh: '加购', en: 'Cart adds' },
  order: { zh: '下单', en: 'Orders' },
  paid: { zh: '支付', en: 'Paid' },
};

/** Each step's conversion from the step above, as the funnel labels it. */
export const RATE_LABELS: Record<'cart' | 'order' | 'paid', Label> = {
  cart: { zh: '加购率', en: 'Cart rate' },
  order: { zh: '下单率', en: 'Order rate' },
  paid: { zh: '支付率', en: 'Pay rate' },
};

const num = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

function up(count: number | null, rate: number | null): number | null {
  if (count === null || rate === null || rate <= 0) return null;
  return Math.round(count / rate);
}

export function computeFunnel(kpis: Record<string, KpiWindowValue> | undefined): Funnel {
  const v = (id: string) => num(kpis?.[id]?.value);
  const r1 = v('view_to_cart_rate');
  const r2 = v('cart_to_order_rate');
  const r3 = v('order_to_paid_rate');
  const paid = v('paid_orders');
  const overall = v('paid_conversion');

  const orders = up(paid, r3);
  const carts = up(orders, r2);
  let views = up(carts, r1);
  // paid_conversion = paid / views gives views directly when a step rate is 0 further down.
  if (views === null) views = up(paid, overall);

  const s1 = r1;
  const s2 = s1 !== null && r2 !== null ? s1 * r2 : null;
  const s3 = s2 !== null && r3 !== null ? s2 * r3 : overall;

  const steps: FunnelStep[] = [
    { id: 'view', label: LABELS.view, count: views, rate: null, rateKpi: null, rateLabel: null, share: views === 0 ? null : 1 },
    { id: 'cart', label: LABELS.cart, count: carts, rate: r1, rateKpi: 'view_to_cart_rate', rateLabel: RATE_LABELS.cart, share: s1 },
    { id: 'order', label: LABELS.order, count: orders, rate: r2, rateKpi: 'cart_to_order_rate', rateLabel: RATE_LABELS.order, share: s2 },
    { id: 'paid', label: LABELS.paid, count: paid, rate: r3, rateKpi: 'order_to_paid_rate', rateLabel: RATE_LABELS.paid, share: s3 },
  ];
  // No page views at all: nothing to draw but empty bars.
  if (r1 === null && views === null) for (const s of steps) s.share = null;
  return { steps, overall, partial: steps.some((s) => s.count === null) };
}

/**
 * Bar width (fraction of the panel) for a share of page views, on a log scale (three
 * decades: 100% → full width, 10% → ⅔, 1% → ⅓): a 5% paid conversion is still a visible
 * bar, and every step stays narrower than the one above. Never thinner than `min`.
 */
export function funnelWidth(share: number | null, min = 0.3): number {
  if (share === null || share <= 0) return min;
  return Math.max(min, Math.min(1, 1 + Math.log10(share) / 3));
}
