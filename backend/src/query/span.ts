/**
 * Month-level KPIs (月活, 人均互动频次（月）, 7 / 30-day 留存率, 复购率): values over several
 * local days, computed from the stored day sketches (pulse_sketch, granularity day) and day
 * counter sums. Distinct members do not add up across days, but sketches merge: the 30 days
 * ending with day d are the union of their 30 day sketches.
 *
 * A series of n points needs the unions of n overlapping windows. Merging every window from
 * scratch costs n × days merges (900 for 30 points of 30 days); the windows are instead built
 * with the van Herk / Gil-Werman scheme for sliding aggregates of an idempotent operation
 * (register-wise max is one): per block of `days` windows, suffix unions of one block and a
 * running prefix of the next, so each window is one merge of two partial unions — about 3
 * merges per point, whatever the window length. Each day sketch is read and decoded once.
 *
 * Intersections use inclusion–exclusion on the merged sketches: |A∩B| = |A| + |B| − |A∪B|.
 * Its error bound (see `spanBound`) is stated in each KPI's description and returned per point.
 */
import type { CounterName, MemberSetId } from '@siyu-pulse/contracts/catalogue';
import type { KpiDef, KpiFormula } from '@siyu-pulse/contracts/catalogue';
import { Hll } from '../sketch/hll.js';
import type { MetricStore } from '../store/port.js';
import { DAY, alignmentOffset } from '../time/zone.js';

type SpanFormula = Extract<KpiFormula, { kind: 'span' }>;

/**
 * Relative error of one sketch estimate used for the bounds: 2.4 standard errors of the dense
 * sketch (1.04 / √2^16 = 0.41 %), the ±1 % the sketch is held to (backend/test/hll.test.ts).
 * A sparse sketch (≤ 1,500 registers) is exact but for index collisions: its error is 0 here.
 */
export const SKETCH_REL_ERROR = 0.01;

export interface SpanPoint {
  /** Start of the point's local day (the last day of its window). */
  ts: number;
  value: number | null;
  /** The ratio's numerator and denominator (for `distinct`: num = the count, den = null). */
  num: number;
  den: number | null;
  /**
   * Worst-case absolute error of `value` from the sketches' ±1 % (near 0 while every sketch
   * used is sparse, i.e. exact but for index collisions).
   */
  bound: number;
}

export interface SpanSeries {
  /** '' = all channels. */
  channel: string;
  points: SpanPoint[];
}

export interface SpanQuery {
  /** Local day starts: the first point's day (inclusive) and the end (exclusive). */
  from: number;
  to: number;
  /** Only this channel; absent: the all-channels total, unless byChannel. */
  channel?: string;
  byChannel?: boolean;
}

/** An estimate and whether its sketch was dense (then ±SKETCH_REL_ERROR applies). */
interface Est {
  n: number;
  dense: boolean;
}

/**
 * Error allowance of one estimate, in members: ±1 % when dense; when sparse, two members that
 * share one of the 2^25 sparse indexes count once (expected n²/2^26 such pairs), so allow
 * twice that.
 */
const errOf = (e: Est) => (e.dense ? SKETCH_REL_ERROR * e.n : (e.n * e.n) / 2 ** 25);

function estimate(h: Hll | undefined): Est {
  if (!h || h.isEmpty) return { n: 0, dense: false };
  return { n: h.estimate(), dense: h.isDense };
}

/**
 * Unions of every run of `k` consecutive days: result[i] = ∪ days[i .. i+k) for
 * i in [0, days.length − k]. Van Herk / Gil-Werman: for each block of k starting indexes,
 * suffix unions over the block and a running prefix over the next block; window i is
 * suffix[i] ∪ prefix(block end … i+k−1). ~3 merges per window; memory O(k) sketches.
 */
export function slidingUnions(days: readonly (Hll | undefined)[], k: number, use: (i: number, union: Hll) => void): void {
  const n = days.length - k + 1;
  for (let b = 0; b < n; b += k) {
    const blockEnd = Math.min(b + k, n);
    // suffix[j - b] = ∪ days[j .. b + k)
    const suffix: Hll[] = new Array(blockEnd - b);
    let acc = new Hll();
    for (let j = b + k - 1; j >= b; j--) {
      const d = days[j];
      if (d) {
        const next = acc.clone();
        next.merge(d);
        acc = next;
      }
      if (j < blockEnd) suffix[j - b] = acc;
    }
    const prefix = new Hll();
    for (let i = b; i < blockEnd; i++) {
      // Window i = days[i .. i+k): suffix from i to the block's end (b + k), prefix of the rest.
      if (i > b) {
        const d = days[i + k - 1];
        if (d) prefix.merge(d);
      }
      const union = suffix[i - b]!.clone();
      union.merge(prefix);
      use(i, union);
    }
  }
}

export class SpanReader {
  constructor(
    private readonly store: MetricStore,
    private readonly timezone: string,
  ) {}

  /** Day starts from `from` (inclusive) to `to` (exclusive), local days. */
  private dayStarts(from: number, to: number): number[] {
    const out: number[] = [];
    for (let t = from; t < to; t += DAY) out.push(t);
    return out;
  }

  /** Merged day sketches (every node's rows) per channel and day start. */
  private async daySketches(set: MemberSetId, from: number, to: number, q: SpanQuery): Promise<Map<string, Map<number, Hll>>> {
    const channel = q.channel ?? (q.byChannel ? undefined : '');
    const rows = await this.store.querySketches({ from, to, granularity: 'day', set, ...(channel !== undefined ? { channel } : {}) });
    const out = new Map<string, Map<number, Hll>>();
    for (const r of rows) {
      if (q.byChannel && q.channel === undefined && r.channel === '') continue;
      let days = out.get(r.channel);
      if (!days) out.set(r.channel, (days = new Map()));
      const h = Hll.fromBase64(r.sketch);
      const had = days.get(r.ts);
      if (had) had.merge(h);
      else days.set(r.ts, h);
    }
    return out;
  }

  /** Σ of the formula's counter terms per channel and day. */
  private async dayCounts(f: SpanFormula, from: number, to: number, q: SpanQuery): Promise<Map<string, Map<number, number>>> {
    const out = new Map<string, Map<number, number>>();
    const terms = f.terms ?? [];
    if (!terms.length) return out;
    const counters = [...new Set(terms.map(([c]) => c))] as CounterName[];
    const series = await this.store.queryCounters({
      from, to, stepMs: DAY, offsetMs: alignmentOffset(DAY, this.timezone, from), counters,
      by: q.byChannel ? ['channel'] : [],
      filter: q.channel !== undefined ? { channel: q.channel } : {},
    });
    for (const s of series) {
      const ch = q.byChannel ? (s.tags.channel ?? '') : (q.channel ?? '');
      const days = new Map<number, number>();
      for (const p of s.points) days.set(p.ts, terms.reduce((sum, [c, sign]) => sum + sign * (p.sums[c] ?? 0), 0));
      out.set(ch, days);
    }
    return out;
  }

  /**
   * The KPI per local day in [q.from, q.to) (both day starts), total, one channel or one
   * series per channel. Reads the day sketches of the window before the first point too.
   */
  async series(def: KpiDef, q: SpanQuery): Promise<SpanSeries[]> {
    const f = def.formula;
    if (f.kind !== 'span') throw new Error(`${def.id} is not a span KPI`);
    const k = f.days;
    const pairs = f.measure === 'retention' || f.measure === 'repeat';
    // Days whose sketches are needed: the current window of the first point, and for two
    // periods the window before it.
    const lookback = (pairs ? 2 * k : k) - 1;
    const first = q.from - lookback * DAY;
    const points = this.dayStarts(q.from, q.to);
    const [sketches, counts] = await Promise.all([this.daySketches(f.set, first, q.to, q), this.dayCounts(f, first, q.to, q)]);
    const channels = q.byChannel && q.channel === undefined ? [...new Set([...sketches.keys(), ...counts.keys()])].sort() : [q.channel ?? ''];
    return channels.map((channel) => ({ channel, points: this.compute(f, first, points, sketches.get(channel), counts.get(channel)) }));
  }

  private compute(f: SpanFormula, first: number, points: number[], sketches: Map<number, Hll> | undefined, counts: Map<number, number> | undefined): SpanPoint[] {
    const k = f.days;
    const allDays = this.dayStarts(first, points.length ? points[points.length - 1]! + DAY : first);
    const days = allDays.map((t) => sketches?.get(t));
    const indexOf = (ts: number) => Math.round((ts - first) / DAY);
    // Window of k days ending with day index e: starts at e − k + 1.
    const cur = new Map<number, Est>();
    slidingUnions(days, k, (i, u) => cur.set(i + k - 1, estimate(u)));
    const both = new Map<number, Est>();
    if (f.measure === 'retention' || f.measure === 'repeat') slidingUnions(days, 2 * k, (i, u) => both.set(i + 2 * k - 1, estimate(u)));
    // Exact counter sums over the window, by prefix sums.
    const prefix = [0];
    for (const t of allDays) prefix.push(prefix[prefix.length - 1]! + (counts?.get(t) ?? 0));
    const none: Est = { n: 0, dense: false };

    return points.map((ts) => {
      const e = indexOf(ts);
      const c = cur.get(e) ?? none;
      switch (f.measure) {
        case 'distinct':
          return { ts, value: c.n, num: c.n, den: null, bound: errOf(c) };
        case 'per_member': {
          const sum = prefix[e + 1]! - prefix[Math.max(0, e - k + 1)]!;
          if (c.n === 0) return { ts, value: null, num: sum, den: 0, bound: 0 };
          const value = sum / c.n;
          // value × (1 / (1 ± ε) − 1) ≤ value × ε / (1 − ε)
          const rel = errOf(c) / c.n;
          // value × (1 / (1 − ε) − 1) = value × ε / (1 − ε)
          return { ts, value, num: sum, den: c.n, bound: (value * rel) / (1 - Math.min(rel, 0.5)) };
        }
        case 'retention':
        case 'repeat': {
          const prev = cur.get(e - k) ?? none;
          const union = both.get(e) ?? none;
          // Clamped: estimates of the three sketches can disagree by a few members.
          const inter = Math.min(prev.n, c.n, Math.max(0, prev.n + c.n - union.n));
          const den = f.measure === 'retention' ? prev : c;
          if (den.n === 0) return { ts, value: null, num: inter, den: 0, bound: 0 };
          const value = inter / den.n;
          const interErr = errOf(prev) + errOf(c) + errOf(union);
          const bound = Math.min(1, interErr / den.n + value * (errOf(den) / Math.max(1, den.n)));
          return { ts, value, num: inter, den: den.n, bound };
        }
      }
    });
  }
}
