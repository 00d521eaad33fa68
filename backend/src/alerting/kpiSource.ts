/**
 * The alert engine's view of the data (alerts' KpiSource): KPI windows as ratios of sums,
 * from the collector's live rings when the window is in memory and split by channel or
 * not at all, otherwise from the store. Distinct-member KPIs only exist per stored period,
 * so their windows snap to the last complete minute / hour / day of the same length (a KPI
 * defined per day only: to the day so far, see window()).
 */
import type { Dimension, KpiInfo, KpiSource, WindowResult, WindowValue } from '@siyu-pulse/alerts';
import { COUNTERS, GRANULARITIES, type CounterName, type CounterSums, type Granularity, type MemberSetId } from '@siyu-pulse/contracts/catalogue';
import { evaluateKpi, ratioParts, type DistinctValues } from '../catalogue/evaluate.js';
import { KPIS, KPI_BY_ID, allowedSplits, distinctGranularities, distinctSets, isSpan, type KpiDef } from '@siyu-pulse/contracts/catalogue';
import { SpanReader, type SpanPoint } from '../query/span.js';
import type { TargetedKpi } from '../catalogue/targets.js';
import type { Collector } from '../collector/collector.js';
import { toSums } from '../collector/counters.js';
import type { MetricStore } from '../store/port.js';
import { alignmentOffset, floorTo } from '../time/zone.js';

/** Counter sums and distinct counts of stored periods: the store itself, or a cache in front of it (backtests). */
export interface WindowReader {
  /** `only`: the counters the KPI needs (default all); a store pays per field and series (influxd). */
  counters(from: number, to: number, by?: Dimension, only?: readonly CounterName[]): Promise<{ total: Partial<CounterSums>; splits: Map<string, Partial<CounterSums>> }>;
  distinct(set: MemberSetId, g: Granularity, start: number, byChannel: boolean): Promise<{ total: number; splits: Map<string, number> }>;
}

/** Reads every window straight from the store (one query per window and split). */
export function storeReader(store: MetricStore): WindowReader {
  return {
    async counters(from, to, by, only) {
      const step = to - from;
      const query = { from, to, stepMs: step, offsetMs: ((from % step) + step) % step, counters: only ?? COUNTERS, filter: {} };
      const [totalRows, splitRows] = await Promise.all([store.queryCounters({ ...query, by: [] }), by ? store.queryCounters({ ...query, by: [by] }) : Promise.resolve([])]);
      const splits = new Map<string, Partial<CounterSums>>();
      for (const s of splitRows) splits.set(s.tags[by!] ?? '', s.points[0]?.sums ?? {});
      return { total: totalRows[0]?.points[0]?.sums ?? {}, splits };
    },
    async distinct(set, g, start, byChannel) {
      const step = GRANULARITIES[g];
      const [total, split] = await Promise.all([
        store.queryDistinct({ from: start, to: start + step, granularity: g, set, byChannel: false }),
        byChannel ? store.queryDistinct({ from: start, to: start + step, granularity: g, set, byChannel: true }) : Promise.resolve([]),
      ]);
      return { total: total[0]?.points[0]?.value ?? 0, splits: new Map(split.map((s) => [s.channel ?? '', s.points[0]?.value ?? 0])) };
    },
  };
}

export interface KpiSourceOptions {
  /** Last arrival per channel when the collector is not the whole picture (a cluster: every node's, from the store). */
  lastSeenByChannel?: () => Record<string, number>;
  /** Live state for windows still in memory; absent: everything from the reader (backtests). */
  collector?: Collector;
  store: MetricStore;
  /** Where stored windows are read (default: the store, one query per window). */
  reader?: WindowReader;
  timezone: string;
  /** Oldest instant with data (store history or process start): earlier windows have no baseline. */
  historySince: () => number;
  /** The catalogue with configured targets (default: the catalogue's own). */
  kpis?: readonly TargetedKpi[];
  now?: () => number;
  /** 社群 member counts (latest snapshot) for group rules; none when absent. */
  communitySizes?: () => Record<string, number>;
}

function valueOf(def: KpiDef, sums: Partial<CounterSums>, distinct?: DistinctValues): WindowValue {
  const value = evaluateKpi(def, sums, distinct);
  const parts = ratioParts(def, sums, distinct);
  if (parts) return { value, num: parts.num, den: parts.den, sample: parts.den ?? 0 };
  return { value, sample: Math.abs(value ?? 0) };
}

const granularityOfLength = (ms: number): Granularity | undefined =>
  (Object.keys(GRANULARITIES) as Granularity[]).find((g) => GRANULARITIES[g] === ms);

export function createKpiSource(o: KpiSourceOptions): KpiSource {
  const now = o.now ?? Date.now;
  const catalogue: KpiInfo[] = (o.kpis ?? (KPIS as readonly TargetedKpi[])).map((k) => ({
    id: k.id,
    label: k.label,
    unit: k.unit,
    good: k.good,
    // Month-level ratios (留存率, 复购率, 人均互动频次（月）) answer num / den like any ratio.
    ratio: k.formula.kind === 'ratio' || (k.formula.kind === 'span' && k.formula.measure !== 'distinct'),
    splits: allowedSplits(k),
    distinct: distinctSets(k).length > 0,
    // The windows a distinct count is answered over (a month-level KPI: 1d only), so a rule
    // over another window is refused when it is loaded, naming the KPI and these windows.
    ...(distinctSets(k).length > 0 ? { windows: distinctGranularities(k).map((g) => GRANULARITIES[g]) } : {}),
    ...(k.target !== undefined ? { target: k.target } : {}),
    ...(k.channelTargets ? { channelTargets: k.channelTargets } : {}),
  }));

  const reader = o.reader ?? storeReader(o.store);
  const collector = o.collector;
  const spans = new SpanReader(o.store, o.timezone);

  /** A month-level KPI's value for the local day starting at `day` (its window ends with that day). */
  async function spanWindow(def: KpiDef, day: number, by?: Dimension): Promise<WindowResult> {
    const asValue = (p: SpanPoint | undefined): WindowValue =>
      !p ? { value: null, sample: 0 } : p.den === null ? { value: p.value, sample: Math.abs(p.value ?? 0) } : { value: p.value, num: p.num, den: p.den, sample: p.den };
    const [total, split] = await Promise.all([
      spans.series(def, { from: day, to: day + GRANULARITIES.day }),
      by === 'channel' ? spans.series(def, { from: day, to: day + GRANULARITIES.day, byChannel: true }) : Promise.resolve([]),
    ]);
    // Prototype-less: split values are producers' channel ids (`__proto__` is a valid one).
    const splits = Object.create(null) as Record<string, WindowValue>;
    for (const s of split) splits[s.channel] = asValue(s.points[0]);
    return { total: asValue(total[0]?.points[0]), splits };
  }

  async function counterWindow(from: number, to: number, by?: Dimension, only?: readonly CounterName[]): Promise<{ total: Partial<CounterSums>; splits: Map<string, Partial<CounterSums>> }> {
    const inMemory = collector !== undefined && from >= collector.liveHorizon() && (by === undefined || by === 'channel') && from % collector.bucketMs === 0 && to % collector.bucketMs === 0;
    if (inMemory) {
      const w = collector.windowSums(from, to);
      return { total: toSums(w.total), splits: new Map([...w.byChannel].map(([ch, v]) => [ch, toSums(v)])) };
    }
    return reader.counters(from, to, by, only);
  }

  async function distinctWindow(set: MemberSetId, g: Granularity, start: number, byChannel: boolean) {
    const mem = collector?.distinctPeriod(set, g, start);
    if (mem) return { total: mem.total, splits: mem.byChannel };
    return reader.distinct(set, g, start, byChannel);
  }

  return {
    catalogue: () => catalogue,
    lastSeen(by) {
      // Arrivals are tracked per channel (the collector's, or every node's in a cluster); other dimensions are not tracked live.
      if (by !== 'channel') return {};
      if (o.lastSeenByChannel) return o.lastSeenByChannel();
      return collector ? collector.freshness().byChannel : {};
    },
    sizes(by) {
      return by === 'community' && o.communitySizes ? o.communitySizes() : {};
    },
    async window(kpi, from, to, by): Promise<WindowResult | null> {
      const def = KPI_BY_ID.get(kpi);
      if (!def) throw new Error(`unknown KPI ${kpi}`);
      if (by && !allowedSplits(def).includes(by)) throw new Error(`${kpi} cannot be split by ${by}`);
      const sets = distinctSets(def);
      if (sets.length) {
        const g = granularityOfLength(to - from);
        const allowed = distinctGranularities(def);
        if (!g || !allowed.includes(g)) throw new Error(`${kpi} counts distinct members: its window must be ${allowed.map((x) => ({ minute: '1m', hour: '1h', day: '1d' })[x]).join(', ')}`);
        const step = GRANULARITIES[g];
        if (allowed.every((x) => x === 'day')) {
          // A KPI defined per day only (push_over_cap_share, the month-level KPIs) would always be a day late as a
          // last complete period: read the local day holding the window's last instant, so the
          // newest window is today so far (a threshold alert fires the same day) and earlier
          // ones are whole days. A change rule would then compare a partial day with a whole
          // one: use a target rule for such KPIs.
          const last = Math.min(to, now()) - 1;
          from = floorTo(last, step, alignmentOffset(step, o.timezone, last));
          to = from + step;
        } else {
          // The last complete period of that length ending at or before `to`.
          const end = floorTo(Math.min(to, now()), step, alignmentOffset(step, o.timezone, to));
          from = end - step;
          to = end;
        }
      }
      if (from < o.historySince()) return null;
      // Month-level KPIs: the days ending with the window's day, from the stored day sketches.
      if (isSpan(def)) return spanWindow(def, from, by);
      // Split by community (up to 100,000 groups), a sum KPI reads only its own counters: on
      // influxd every field is a cursor per series (the 社群 group rules read 20,000 groups).
      const only = by === 'community' && def.formula.kind === 'sum' ? [...new Set(def.formula.terms.map(([c]) => c))] : undefined;
      const counters = await counterWindow(from, to, by, only);
      const g = granularityOfLength(to - from);
      const distinct = sets.length ? await Promise.all(sets.map((set) => distinctWindow(set, g!, from, by === 'channel'))) : undefined;
      const pick = (key?: string): DistinctValues | undefined =>
        distinct && Object.fromEntries(sets.map((set, i) => [set, key === undefined ? distinct[i]!.total : (distinct[i]!.splits.get(key) ?? 0)]));
      const splits = Object.create(null) as Record<string, WindowValue>;
      if (by) {
        const keys = new Set([...counters.splits.keys(), ...(distinct?.flatMap((d) => [...d.splits.keys()]) ?? [])]);
        for (const key of keys) splits[key] = valueOf(def, counters.splits.get(key) ?? {}, pick(key));
      }
      return { total: valueOf(def, counters.total, pick()), splits };
    },
  };
}
