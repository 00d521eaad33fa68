/**
 * Wall pages as data: which KPI tiles (and in which live window) a page shows, and its
 * trend chart. The first page is the overview; more pages (rotation, channel split,
 * alerts) are added here. Labels, units, good direction and targets come from the KPI
 * catalogue; a tile only overrides the title when the wall needs a different wording.
 */
import type { WindowId } from '../../../backend/src/live/contract';
import type { Label } from '../../../backend/src/catalogue/kpis';

export interface TileSpec {
  kpi: string;
  window: WindowId;
  /** Overrides the catalogue label. */
  title?: Label;
  /** `hero` spans two columns with a larger value. */
  size?: 'hero' | 'normal';
  /** Secondary KPIs (same window) shown small beside a hero value. */
  extras?: { kpi: string; title?: Label }[];
}

export interface TrendSpec {
  kpi: string;
  title: Label;
}

export interface WallPage {
  id: string;
  title: Label;
  tiles: TileSpec[];
  trend: TrendSpec;
}

export const OVERVIEW_PAGE: WallPage = {
  id: 'overview',
  title: { zh: '今日概览', en: 'Today at a glance' },
  tiles: [
    { kpi: 'gmv', window: 'today', size: 'hero', title: { zh: '今日 GMV', en: "Today's GMV" }, extras: [{ kpi: 'paid_orders' }, { kpi: 'aov', title: { zh: '客单价', en: 'AOV' } }] },
    { kpi: 'paid_conversion', window: 'today' },
    { kpi: 'push_open_rate', window: 'today' },
    { kpi: 'active_members', window: 'today' },
    { kpi: 'new_members', window: 'today' },
    { kpi: 'churn_rate', window: 'today' },
    { kpi: 'messages', window: 'today' },
  ],
  trend: { kpi: 'messages', title: { zh: '每分钟消息数', en: 'Messages per minute' } },
};

export const PAGES: readonly WallPage[] = [OVERVIEW_PAGE];

/** Per-tile freshness: ticks arrive every second, so 5 s without one means stale. */
export const STALE_AFTER_MS = 5_000;
