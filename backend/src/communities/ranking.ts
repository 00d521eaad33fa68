/**
 * 社群 ranking: per-group totals over a range from one store query (split by community,
 * one whole-range step), sorted on one measure, so a page asks for the top 10 of 20,000
 * groups instead of drawing 20,000 lines. Counters only (joins, leaves, messages,
 * interactions, paid orders, GMV): distinct active members per group need mergeable sketches
 * per community, which the store does not hold yet.
 */
import type { Dimension } from '@siyu-pulse/contracts/catalogue';
import type { MetricStore } from '../store/port.js';
import { OVERFLOW_TAG } from '../ingest/tagGuard.js';
import { HOUR, alignmentOffset, ceilTo, floorTo } from '../time/zone.js';

export const GROUP_MEASURES = ['messages', 'interactions', 'joins', 'leaves', 'net', 'paid_orders', 'gmv_fen'] as const;
export type GroupMeasure = (typeof GROUP_MEASURES)[number];

const COUNTER_OF: Record<Exclude<GroupMeasure, 'net'>, string> = {
  messages: 'message',
  interactions: 'interaction',
  joins: 'member_join',
  leaves: 'member_leave',
  paid_orders: 'order_paid',
  gmv_fen: 'order_paid_fen',
};
const COUNTERS = Object.values(COUNTER_OF);

export type GroupTotals = Record<GroupMeasure, number>;

export interface GroupRow extends GroupTotals {
  community: string;
}

export interface RankRequest {
  /** Inclusive, exclusive; aligned to whole hours by the service. */
  from: number;
  to: number;
  by: GroupMeasure;
  order: 'desc' | 'asc';
  limit: number;
  channel?: string;
}

export interface RankResult {
  from: number;
  to: number;
  by: GroupMeasure;
  order: 'desc' | 'asc';
  /** Groups with any counted event in the range (the "(other)" overflow excluded). */
  groups: number;
  rows: GroupRow[];
}

export function totalsOf(sums: Record<string, number>): GroupTotals {
  const t = {} as GroupTotals;
  for (const [m, c] of Object.entries(COUNTER_OF)) t[m as Exclude<GroupMeasure, 'net'>] = sums[c] ?? 0;
  t.net = t.joins - t.leaves;
  return t;
}

export class GroupRanking {
  constructor(
    private readonly store: MetricStore,
    private readonly timezone: string,
  ) {}

  /**
   * Totals per community over [from, to) (hour-aligned) of the given counters, every group
   * that had one of them. InfluxDB 1.x opens one cursor per series and field, so summing six
   * fields over 20,000 groups costs six times one field (measured: 1.3 s vs 9.9 s for 12,000
   * groups on influxd 1.6.7): rank on the measure's own counters, then read the rest for the
   * top rows only.
   */
  async totals(from: number, to: number, counters: readonly string[] = COUNTERS, filter: Partial<Record<Dimension, string>> = {}): Promise<{ from: number; to: number; rows: GroupRow[] }> {
    const offset = alignmentOffset(HOUR, this.timezone, from);
    const f = floorTo(from, HOUR, offset);
    const t = ceilTo(to, HOUR, offset);
    const series = await this.store.queryCounters({ from: f, to: t, stepMs: t - f, offsetMs: f % (t - f), counters, by: ['community'], filter });
    const rows: GroupRow[] = [];
    for (const s of series) {
      const community = s.tags.community ?? '';
      if (community === '' || community === OVERFLOW_TAG) continue;
      const sums: Record<string, number> = {};
      for (const p of s.points) for (const [k, v] of Object.entries(p.sums)) sums[k] = (sums[k] ?? 0) + v;
      rows.push({ community, ...totalsOf(sums) });
    }
    return { from: f, to: t, rows };
  }

  async rank(req: RankRequest): Promise<RankResult> {
    const base: Partial<Record<Dimension, string>> = req.channel ? { channel: req.channel } : {};
    const own = req.by === 'net' ? [COUNTER_OF.joins, COUNTER_OF.leaves] : [COUNTER_OF[req.by]];
    const { from, to, rows } = await this.totals(req.from, req.to, own, base);
    const sign = req.order === 'desc' ? -1 : 1;
    // Ties broken by id so pages are stable between refreshes.
    rows.sort((a, b) => sign * (a[req.by] - b[req.by]) || (a.community < b.community ? -1 : a.community > b.community ? 1 : 0));
    const top: GroupRow[] = [];
    for (const row of rows.slice(0, req.limit)) {
      const full = await this.totals(from, to, COUNTERS, { ...base, community: row.community });
      top.push(full.rows[0] ?? row);
    }
    return { from, to, by: req.by, order: req.order, groups: rows.length, rows: top };
  }
}
