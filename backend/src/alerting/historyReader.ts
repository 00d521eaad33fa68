/**
 * A WindowReader for backtests: a rule evaluated every minute over 30 days asks for ~10⁵
 * windows, far too many for one store query each. This reader fetches the KPI's counters
 * one Beijing day at a time at minute resolution (total and per split value), keeps prefix
 * sums, and answers any minute-aligned window by subtraction; distinct counts are fetched a
 * day at a time per granularity. Same store, same sums, same KPI arithmetic (kpiSource) as
 * the live engine; a window that is not minute-aligned goes to the store as it is.
 *
 * Memory is bounded by the range asked for: a 58-day reach of minutes × the KPI's counters
 * (2–4) × split values.
 */
import type { Dimension } from '@siyu-pulse/alerts';
import { COUNTERS, GRANULARITIES, type CounterName, type CounterSums, type Granularity, type MemberSetId } from '@siyu-pulse/contracts/catalogue';
import type { MetricStore } from '../store/port.js';
import { DAY, MINUTE } from '../time/zone.js';
import { storeReader, type WindowReader } from './kpiSource.js';

/** Prefix sums of each counter over one day's minutes: p[c][i] = Σ of minutes [0, i). */
type Prefix = Map<CounterName, Float64Array>;
/** The key under which a prefix counts minutes that had a stored row at all (a split value is listed when it had one, as a store query lists it). */
const ROWS = '\u0000rows';
interface DayCounters {
  total: Prefix;
  splits: Map<string, Prefix>;
}

const MINUTES_PER_DAY = DAY / MINUTE;

export interface HistoryReaderOptions {
  store: MetricStore;
  /** Only these counters are fetched (the KPI's); others read as 0. */
  counters: readonly CounterName[];
}

export class HistoryReader implements WindowReader {
  private readonly direct: WindowReader;
  private readonly days = new Map<string, Promise<DayCounters>>();
  private readonly distinctDays = new Map<string, Promise<{ total: Map<number, number>; splits: Map<number, Map<string, number>> }>>();
  /** Store queries made (shown by the backtest answer: what the preview cost). */
  queries = 0;

  constructor(private readonly o: HistoryReaderOptions) {
    this.direct = storeReader(o.store);
  }

  async counters(from: number, to: number, by?: Dimension): Promise<{ total: Partial<CounterSums>; splits: Map<string, Partial<CounterSums>> }> {
    if (from % MINUTE !== 0 || to % MINUTE !== 0 || to <= from) {
      this.queries++;
      return this.direct.counters(from, to, by);
    }
    const total: Partial<CounterSums> = {};
    const splits = new Map<string, Partial<CounterSums>>();
    const add = (into: Partial<CounterSums>, p: Prefix, a: number, b: number) => {
      for (const [c, arr] of p) into[c] = (into[c] ?? 0) + (arr[b]! - arr[a]!);
    };
    for (let t = from; t < to; ) {
      const dayStart = this.dayStart(t);
      const dayEnd = Math.min(to, dayStart + DAY);
      const a = (t - dayStart) / MINUTE;
      const b = (dayEnd - dayStart) / MINUTE;
      const day = await this.day(dayStart, by);
      add(total, day.total, a, b);
      for (const [value, p] of day.splits) {
        let s = splits.get(value);
        if (!s) splits.set(value, (s = {}));
        add(s, p, a, b);
      }
      t = dayEnd;
    }
    // As a store query answers: the total is empty without rows, a split value is listed only when it had rows.
    const present = (s: Partial<CounterSums>) => (s[ROWS] ?? 0) > 0;
    for (const [value, s] of splits) {
      if (!present(s)) splits.delete(value);
      delete s[ROWS];
    }
    if (!present(total)) return { total: {}, splits };
    delete total[ROWS];
    return { total, splits };
  }

  async distinct(set: MemberSetId, g: Granularity, start: number, byChannel: boolean): Promise<{ total: number; splits: Map<string, number> }> {
    const dayStart = this.dayStart(start);
    const key = `${set}|${g}|${dayStart}|${byChannel}`;
    let p = this.distinctDays.get(key);
    if (!p) {
      this.distinctDays.set(key, (p = this.loadDistinct(set, g, dayStart, byChannel)));
    }
    const day = await p;
    return { total: day.total.get(start) ?? 0, splits: new Map(day.splits.get(start) ?? []) };
  }

  /** Chunks are UTC days (always 1,440 minutes); business-day periods fall inside them or across two. */
  private dayStart(t: number): number {
    return Math.floor(t / DAY) * DAY;
  }

  private day(dayStart: number, by?: Dimension): Promise<DayCounters> {
    const key = `${dayStart}|${by ?? ''}`;
    let p = this.days.get(key);
    if (!p) {
      p = this.loadDay(dayStart, by);
      this.days.set(key, p);
      // A failed load is not cached: the next window tries again.
      p.catch(() => this.days.delete(key));
    }
    return p;
  }

  private async loadDay(dayStart: number, by?: Dimension): Promise<DayCounters> {
    // A KPI of distinct counts only needs no counter, but which split values had rows still
    // matters (as in a store query); every stored row carries every counter, so one will do.
    const fetched = this.o.counters.length ? this.o.counters : COUNTERS.slice(0, 1);
    const q = { from: dayStart, to: dayStart + DAY, stepMs: MINUTE, offsetMs: dayStart % MINUTE, counters: fetched, filter: {} };
    this.queries += by ? 2 : 1;
    const [totalRows, splitRows] = await Promise.all([this.o.store.queryCounters({ ...q, by: [] }), by ? this.o.store.queryCounters({ ...q, by: [by] }) : Promise.resolve([])]);
    const prefix = (points: { ts: number; sums: Record<string, number> }[]): Prefix => {
      const out: Prefix = new Map();
      for (const c of [...this.o.counters, ROWS]) {
        const arr = new Float64Array(MINUTES_PER_DAY + 1);
        for (const pt of points) {
          const i = Math.floor((pt.ts - dayStart) / MINUTE);
          if (i >= 0 && i < MINUTES_PER_DAY) arr[i + 1]! += c === ROWS ? 1 : (pt.sums[c] ?? 0);
        }
        for (let i = 1; i <= MINUTES_PER_DAY; i++) arr[i]! += arr[i - 1]!;
        out.set(c, arr);
      }
      return out;
    };
    const splits = new Map<string, Prefix>();
    for (const s of splitRows) splits.set(s.tags[by!] ?? '', prefix(s.points));
    return { total: prefix(totalRows[0]?.points ?? []), splits };
  }

  private async loadDistinct(set: MemberSetId, g: Granularity, dayStart: number, byChannel: boolean) {
    const q = { from: dayStart, to: dayStart + Math.max(DAY, GRANULARITIES[g]), granularity: g, set };
    this.queries += byChannel ? 2 : 1;
    const [total, split] = await Promise.all([this.o.store.queryDistinct({ ...q, byChannel: false }), byChannel ? this.o.store.queryDistinct({ ...q, byChannel: true }) : Promise.resolve([])]);
    const totals = new Map((total[0]?.points ?? []).map((p) => [p.ts, p.value]));
    const splits = new Map<number, Map<string, number>>();
    for (const s of split) {
      for (const p of s.points) {
        let m = splits.get(p.ts);
        if (!m) splits.set(p.ts, (m = new Map()));
        m.set(s.channel ?? '', p.value);
      }
    }
    return { total: totals, splits };
  }
}
