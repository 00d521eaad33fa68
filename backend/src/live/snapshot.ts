/**
 * Builds the live view (LiveTick / LiveSnapshot) from a LiveSource (the collector's memory on
 * one node, the store's rows of every node in a cluster):
 * the last 5 minutes vs the 5 before, today vs yesterday at the same time, and per-minute
 * trend points. Computed once per tick and shared by every client.
 */
import type { Granularity, MemberSetId } from '@siyu-pulse/contracts/catalogue';
import { evaluateKpi } from '../catalogue/evaluate.js';
import { outrunOf } from '@siyu-pulse/contracts/catalogue';
import { KPIS, distinctGranularities, distinctSets, isSpan } from '@siyu-pulse/contracts/catalogue';
import type { MonthLiveValues } from './monthLive.js';
import type { LiveSource } from './source.js';
import type { WindowSums } from '../collector/counterRing.js';
import { toSums } from '../collector/counters.js';
import { LAST_WINDOW_MS, type DistinctCounts } from '../collector/distinct.js';
import { DAY, MINUTE, dayStart, floorTo } from '../time/zone.js';
import type { DemoHistoryFill, KpiWindowValue, LiveAlert, LiveSnapshot, LiveTick, LiveWindow, TrendPoint, WindowId } from '@siyu-pulse/contracts/live';

/** The short window: the collector keeps each one's distinct counts for the next 5 minutes' comparison. */
const FIVE_MIN = LAST_WINDOW_MS;
const TREND_MINUTES = 60;
/** Late events (within the lateness window) still change recent minutes; ticks resend them. */
const TAIL_MINUTES = 6;

export interface SnapshotOptions {
  /** The collector on a single node; cluster/storeLiveSource.ts in a cluster. */
  source: LiveSource;
  timezone: string;
  demo: boolean;
  businessName: string;
  /**
   * Data before this instant is not in memory (process start, or the oldest seeded slot); a
   * function when it moves back while running (the demo's history fills today from midnight).
   */
  coverageSince: number | (() => number);
  /** Demo: the history fill's progress while it runs (null otherwise): ticks carry it for the wall's label. */
  demoHistory?: () => DemoHistoryFill | null;
  /** Open alerts for the wall's ticker (from the alert engine, wired by the composition root). */
  alerts?: () => LiveAlert[];
  /**
   * Month-level KPIs (月活, 留存率, …) for the "today" window: computed every few minutes from
   * the stored day sketches (live/monthLive.ts); absent or not yet computed: null.
   */
  month?: () => MonthLiveValues | undefined;
  /**
   * Yesterday's counters over [previousFrom, previousTo) from the store (live/yesterdaySoFar.ts),
   * for when memory does not reach back to yesterday's midnight (a server started after ~02:00).
   */
  yesterdayFromStore?: (from: number, to: number) => WindowSums | undefined;
  /** Whether the server was up in [from, to) (uptime/uptime.ts); a trend minute it was not, with no data, is a gap. */
  wasUp?: (from: number, to: number) => boolean;
  now?: () => number;
}

export function relativeChange(value: number | null, previous: number | null): number | null {
  if (value === null || previous === null || previous === 0) return null;
  return (value - previous) / Math.abs(previous);
}

type DistinctLookup = (set: MemberSetId, channel?: string) => number | undefined;

/**
 * Every KPI over one window. `period`: the stored period the window stands for (today: a
 * day; the last 5 minutes and trend minutes: sub-hour). A distinct-based KPI not defined at
 * that period (push_over_cap_share outside a day) is null rather than a meaningless figure.
 */
function kpiValues(sums: WindowSums, distinct: DistinctLookup, period: Granularity, channel?: string): Record<string, number | null> {
  const vector = channel === undefined ? sums.total : sums.byChannel.get(channel);
  const s = vector ? toSums(vector) : {};
  const out: Record<string, number | null> = {};
  for (const def of KPIS) {
    const sets = distinctSets(def);
    if (sets.length && !distinctGranularities(def).includes(period)) {
      out[def.id] = null;
      continue;
    }
    out[def.id] = evaluateKpi(def, s, sets.length ? Object.fromEntries(sets.map((set) => [set, distinct(set, channel)])) : undefined);
  }
  return out;
}

/** Counts per member set, read once per window on first use (only the sets some KPI needs there). */
function lookupIn(read: (set: MemberSetId) => DistinctCounts | undefined): DistinctLookup & { seen(): DistinctCounts[] } {
  const cache = new Map<MemberSetId, DistinctCounts | undefined>();
  const counts = (set: MemberSetId) => {
    if (!cache.has(set)) cache.set(set, read(set));
    return cache.get(set);
  };
  const lookup = (set: MemberSetId, channel?: string) => {
    const c = counts(set);
    return c === undefined ? undefined : channel === undefined ? c.total : (c.byChannel.get(channel) ?? 0);
  };
  return Object.assign(lookup, { seen: () => [...cache.values()].filter((c): c is DistinctCounts => c !== undefined) });
}

const NO_MEMBERS: DistinctCounts = { total: 0, byChannel: new Map() };

export class SnapshotService {
  private seq = 0;
  private readonly now: () => number;

  constructor(private readonly opts: SnapshotOptions) {
    this.now = opts.now ?? Date.now;
  }

  private window(id: WindowId, now: number): LiveWindow {
    const c = this.opts.source;
    const bucket = floorTo(now, c.bucketMs);
    let from: number, to: number, previousFrom: number, previousTo: number;
    let current: ReturnType<typeof lookupIn>;
    let previousDistinct: DistinctLookup;
    let period: Granularity;
    if (id === 'last5m') {
      // Closed buckets only, so both windows are equally complete.
      to = bucket;
      from = to - FIVE_MIN;
      previousTo = from;
      previousFrom = from - FIVE_MIN;
      period = 'minute';
      current = lookupIn((set) => c.distinctWindow(set, from, to));
      previousDistinct = lookupIn((set) => c.distinctWindow(set, previousFrom, previousTo));
    } else {
      from = dayStart(now, this.opts.timezone);
      to = bucket + c.bucketMs;
      previousFrom = from - DAY;
      previousTo = floorTo(now, MINUTE) - DAY;
      period = 'day';
      current = lookupIn((set) => c.distinctPeriod(set, 'day', from) ?? NO_MEMBERS);
      const yesterdayMinute = floorTo(now, MINUTE) - DAY;
      previousDistinct = (set, channel) => (channel === undefined ? c.dayDistinctAtMinute(set, yesterdayMinute) : undefined);
    }
    const sums = c.windowSums(from, to);
    const values = kpiValues(sums, current, period);
    const coverageSince = typeof this.opts.coverageSince === 'number' ? this.opts.coverageSince : this.opts.coverageSince();
    const havePrevious = previousFrom >= coverageSince;
    // Only when today itself is whole in memory (seeded from midnight): a server that holds just
    // the minutes since it started (a first start) would compare them with a full yesterday.
    const stored = !havePrevious && id === 'today' && from >= coverageSince ? this.opts.yesterdayFromStore?.(previousFrom, previousTo) : undefined;
    const previousSums = havePrevious ? c.windowSums(previousFrom, previousTo) : stored;
    const previous = previousSums ? kpiValues(previousSums, previousDistinct, period) : null;
    // Month-level KPIs: the windows ending today vs ending yesterday (from the stored sketches).
    const month = id === 'today' ? this.opts.month?.() : undefined;
    if (month) {
      for (const def of KPIS) {
        if (!isSpan(def)) continue;
        values[def.id] = month.today[def.id] ?? null;
        if (previous) previous[def.id] = month.yesterday[def.id] ?? null;
      }
    }
    const kpis: Record<string, KpiWindowValue> = {};
    const outruns: NonNullable<LiveWindow['outruns']> = [];
    for (const def of KPIS) {
      const value = values[def.id] ?? null;
      const prev = previous?.[def.id] ?? null;
      const outrun = outrunOf(def, value);
      kpis[def.id] = { value, previous: prev, change: relativeChange(value, prev), ...(outrun ? { outrun } : {}) };
      if (outrun) outruns.push({ ...outrun, channel: null });
    }
    const channels = new Set([...sums.byChannel.keys(), ...current.seen().flatMap((d) => [...d.byChannel.keys()])]);
    // Channel ids come from producers: no prototype, so `__proto__` is an ordinary key.
    const byChannel: LiveWindow['byChannel'] = Object.create(null);
    for (const ch of [...channels].sort()) {
      byChannel[ch] = kpiValues(sums, current, period, ch);
      if (month) for (const def of KPIS) if (isSpan(def)) byChannel[ch][def.id] = month.todayByChannel[ch]?.[def.id] ?? null;
      for (const def of KPIS) {
        const outrun = outrunOf(def, byChannel[ch][def.id]);
        if (outrun) outruns.push({ ...outrun, channel: ch });
      }
    }
    return { id, from, to, previousFrom, previousTo, kpis, byChannel, ...(outruns.length ? { outruns } : {}) };
  }

  private trendPoint(minute: number): TrendPoint {
    const c = this.opts.source;
    const sums = c.windowSums(minute, minute + MINUTE);
    // Nothing was running and nothing was stored: a gap in the wall's chart, not a drop to 0.
    if (this.opts.wasUp && sums.byChannel.size === 0 && !this.opts.wasUp(minute, minute + MINUTE)) {
      return { ts: minute, values: Object.fromEntries(KPIS.map((d) => [d.id, null])) };
    }
    return { ts: minute, values: kpiValues(sums, lookupIn((set) => c.distinctPeriod(set, 'minute', minute)), 'minute') };
  }

  /** The broadcast tick: advances `seq` (only ticks do, so a gap means a missed tick). */
  tick(): LiveTick {
    return this.build(++this.seq);
  }

  private build(seq: number): LiveTick {
    const now = this.now();
    const minute = floorTo(now, MINUTE);
    const trendTail: TrendPoint[] = [];
    for (let i = TAIL_MINUTES - 1; i >= 0; i--) trendTail.push(this.trendPoint(minute - i * MINUTE));
    const demoHistory = this.opts.demoHistory?.() ?? null;
    return {
      serverTime: now,
      seq,
      windows: { last5m: this.window('last5m', now), today: this.window('today', now) },
      trendTail,
      freshness: this.opts.source.freshness(),
      ...(demoHistory ? { demoHistory } : {}),
    };
  }

  /** A full view for a new client or a REST read; carries the last tick's seq. */
  snapshot(): LiveSnapshot {
    const tick = this.build(this.seq);
    const minute = floorTo(tick.serverTime, MINUTE);
    const trend: TrendPoint[] = [];
    for (let i = TREND_MINUTES - 1; i >= 0; i--) trend.push(this.trendPoint(minute - i * MINUTE));
    return {
      ...tick,
      demo: this.opts.demo,
      timezone: this.opts.timezone,
      bucketSeconds: this.opts.source.bucketMs / 1000,
      businessName: this.opts.businessName,
      trend,
      alerts: this.opts.alerts?.() ?? [],
    };
  }
}
