/**
 * History queries: `GET /api/v1/series`. Validates the request, picks or checks the step,
 * reads counter sums (and distinct counts) from the store and computes the KPI per bucket
 * as a ratio of sums. A request that would exceed the point limit is refused, not run.
 */
import type { HISTOGRAMS} from '@siyu-pulse/contracts/catalogue';
import { COUNTERS, DIMENSIONS, GRANULARITIES, histogramCounters, type CounterSums, type Dimension, type Granularity, type MemberSetId, type Tags } from '@siyu-pulse/contracts/catalogue';
import { evaluateKpi, ratioParts } from '../catalogue/evaluate.js';
import { sideIsMoney } from '@siyu-pulse/contracts/catalogue';
import { outrunOf, type Outrun } from '@siyu-pulse/contracts/catalogue';
import { KPI_BY_ID, allowedSplits, distinctGranularities, distinctSets, isSpan, usesDistinct, type KpiDef } from '@siyu-pulse/contracts/catalogue';
import { SpanReader } from './span.js';
import type { MetricStore } from '../store/port.js';
import { overlaps, type UptimeSource } from '../uptime/uptime.js';
import { DAY, HOUR, MINUTE, alignmentOffset, ceilTo, floorTo } from '../time/zone.js';

export const MAX_POINTS = 2000;
/** Every stored row carries every counter (zeros included), so one counter finds every row. */
const ANY_COUNTER = COUNTERS[0]!;
/** Across all series of one answer: a fine step split three ways must not build a huge answer. */
export const MAX_TOTAL_POINTS = 100_000;
/** Longest range one request may cover. */
const MAX_RANGE_MS = 400 * DAY;
/** Auto step: the smallest candidate that keeps a chart readable. */
const AUTO_TARGET_POINTS = 720;
/**
 * Ratios get coarser auto steps (1 h → 1 min, 24 h → 15 min, 7 d → 1 h): a 10 s point holds
 * a handful of deliveries and swings 0 / 100 / 200%.
 */
const AUTO_TARGET_POINTS_RATIO = 200;
/** A ratio point whose denominator counts fewer events than this is marked thin. */
export const THIN_SAMPLE = 30;

export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

export interface SeriesRequest {
  kpi: string;
  from?: string;
  to?: string;
  step?: string;
  by?: string;
  filter: Partial<Record<Dimension, string>>;
}

export interface SeriesResult {
  kpi: string;
  unit: KpiDef['unit'];
  from: number;
  to: number;
  step: number;
  series: {
    tags: Partial<Tags>;
    points: [number, number | null][];
    /** Ratios: timestamps of points whose denominator is under THIN_SAMPLE events (shown, but not to be read as a rate). */
    thin?: number[];
    /** Share KPIs: timestamps of points over 100% (numerator outran the denominator). */
    outruns?: number[];
    /**
     * Month-level KPIs (unions of day sketches): [ts, worst-case ± absolute error of the point]
     * from the sketches' error (query/span.ts).
     */
    bounds?: [number, number][];
  }[];
  /** Ratios: the denominator size under which a point is listed in `thin`. */
  thinBelow?: number;
  /** Share KPIs with any point over 100%: which counter is missing. */
  outrun?: Outrun;
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: MINUTE, h: HOUR, d: DAY } as const;

export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  if (m) return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (/^\d+$/.test(text)) return Number(text);
  return null;
}

function parseTime(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(t)) return t;
  throw new QueryError(`${name} must be epoch milliseconds or an ISO 8601 date-time (e.g. 2026-11-23T00:00:00+08:00), got ${JSON.stringify(text)}`);
}

export function countersFor(def: KpiDef): string[] {
  const f = def.formula;
  switch (f.kind) {
    case 'sum':
      return f.terms.map(([c]) => c);
    case 'ratio':
      return [f.num, f.den].flatMap((side) => ('distinct' in side ? [] : side.map(([c]) => c)));
    case 'quantile':
      return histogramCounters(f.histogram as keyof typeof HISTOGRAMS);
    case 'distinct':
      return [];
    case 'span':
      return (f.terms ?? []).map(([c]) => c);
  }
}

const granularityOfStep = (step: number): Granularity | undefined =>
  (Object.keys(GRANULARITIES) as Granularity[]).find((g) => GRANULARITIES[g] === step);

const STEP_NAME: Record<Granularity, string> = { minute: '1m', hour: '1h', day: '1d' };

/** "1m, 1h or 1d" / "1d": the steps a distinct-based KPI is offered at. */
function stepNames(def: KpiDef): string {
  const names = distinctGranularities(def).map((g) => STEP_NAME[g]);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names.join('');
}

/** Why a distinct-based KPI refuses a step: sets do not add up, and some KPIs exist at fewer periods. */
function distinctStepReason(def: KpiDef): string {
  const gs = distinctGranularities(def);
  const only = gs.length < Object.keys(GRANULARITIES).length ? `, and is only defined per ${gs.join(' / ')}` : '';
  return `${def.id} counts distinct members, which do not add up across time${only}`;
}

export class SeriesService {
  private readonly spans: SpanReader;

  constructor(
    private readonly store: MetricStore,
    private readonly bucketMs: number,
    private readonly timezone: string,
    private readonly now: () => number = Date.now,
    /** When the server was up: buckets outside it with no stored data are gaps (null). */
    private readonly uptime?: UptimeSource,
  ) {
    this.spans = new SpanReader(store, timezone);
  }

  /** Candidate steps for a KPI, smallest first. */
  stepsFor(def: KpiDef): number[] {
    if (usesDistinct(def)) return distinctGranularities(def).map((g) => GRANULARITIES[g]);
    const all = [this.bucketMs, MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 6 * HOUR, DAY];
    return [...new Set(all.filter((s) => s >= this.bucketMs && s % this.bucketMs === 0))];
  }

  async series(req: SeriesRequest): Promise<SeriesResult> {
    const def = KPI_BY_ID.get(req.kpi);
    if (!def) throw new QueryError(`unknown KPI ${JSON.stringify(req.kpi)}; GET /api/v1/kpis lists the KPIs`);
    const now = this.now();
    const to = parseTime('to', req.to, now);
    const from = parseTime('from', req.from, to - HOUR);
    if (!(from < to)) throw new QueryError('from must be before to');
    if (to - from > MAX_RANGE_MS) throw new QueryError(`range is longer than ${MAX_RANGE_MS / DAY} days`);

    const distinctSet = usesDistinct(def);
    let step: number;
    let wholeRange = false;
    if (req.step === 'all') {
      // One point over the whole range (bucket-aligned): a ratio over [from, to) as Σ÷Σ,
      // which per-step points cannot give for a range that does not start on a step.
      if (distinctSet) throw new QueryError(`${distinctStepReason(def)}: step=all is not available (use ${stepNames(def)})`);
      wholeRange = true;
      step = ceilTo(to, this.bucketMs, 0) - floorTo(from, this.bucketMs, 0);
    } else if (req.step !== undefined && req.step !== '' && req.step !== 'auto') {
      const parsed = parseDuration(req.step);
      if (parsed === null || parsed <= 0) throw new QueryError(`step must be a duration such as 10s, 1m, 1h, 1d (or all: one point for the whole range), got ${JSON.stringify(req.step)}`);
      step = parsed;
      const g = granularityOfStep(step);
      if (distinctSet && (!g || !distinctGranularities(def).includes(g))) {
        throw new QueryError(`${distinctStepReason(def)}: step must be ${stepNames(def)}`);
      }
      if (!distinctSet && step % this.bucketMs !== 0) throw new QueryError(`step must be a multiple of the bucket size (${this.bucketMs / 1000}s)`);
    } else {
      const candidates = this.stepsFor(def);
      const target = def.formula.kind === 'ratio' ? AUTO_TARGET_POINTS_RATIO : AUTO_TARGET_POINTS;
      step = candidates.find((s) => (to - from) / s <= target) ?? candidates[candidates.length - 1]!;
    }
    const offset = wholeRange ? floorTo(from, this.bucketMs, 0) % step : alignmentOffset(step, this.timezone, from);
    const alignedFrom = floorTo(from, step, offset);
    const alignedTo = ceilTo(to, step, offset);
    const points = Math.round((alignedTo - alignedFrom) / step);
    if (points > MAX_POINTS) {
      throw new QueryError(`this range and step give ${points} points per series; the limit is ${MAX_POINTS}. Use a larger step or a shorter range`);
    }

    const allowed = allowedSplits(def);
    const by = (req.by ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    for (const d of by) {
      if (!(DIMENSIONS as readonly string[]).includes(d)) throw new QueryError(`by must be a list of ${DIMENSIONS.join(', ')}, got ${JSON.stringify(d)}`);
      if (!allowed.includes(d as Dimension)) throw new QueryError(`${def.id} can only be split by ${allowed.join(', ')}`);
    }
    for (const d of Object.keys(req.filter) as Dimension[]) {
      if (!allowed.includes(d)) throw new QueryError(`${def.id} can only be filtered by ${allowed.join(', ')}`);
    }
    const dims = [...new Set(by)] as Dimension[];
    if (isSpan(def)) return this.spanSeries(def, { from: alignedFrom, to: alignedTo, step, offset, now, dims, filter: req.filter });

    // Group key → bucket ts → sums / distinct
    const groups = new Map<string, { tags: Partial<Tags>; sums: Map<number, CounterSums>; distinct: Map<number, Partial<Record<MemberSetId, number>>> }>();
    const group = (tags: Partial<Tags>) => {
      const key = JSON.stringify(dims.map((d) => tags[d] ?? ''));
      let g = groups.get(key);
      if (!g) {
        g = { tags: Object.fromEntries(dims.map((d) => [d, tags[d] ?? ''])), sums: new Map(), distinct: new Map() };
        groups.set(key, g);
      }
      return g;
    };

    const counters = countersFor(def);
    if (counters.length) {
      const rows = await this.store.queryCounters({ from: alignedFrom, to: alignedTo, stepMs: step, offsetMs: offset, counters, by: dims, filter: req.filter });
      for (const s of rows) {
        const g = group(s.tags);
        for (const p of s.points) g.sums.set(p.ts, p.sums);
      }
    }
    const sets = distinctSets(def);
    for (const set of sets) {
      const granularity = granularityOfStep(step)!;
      const channel = req.filter.channel;
      const rows = await this.store.queryDistinct({ from: alignedFrom, to: alignedTo, granularity, set, byChannel: dims.includes('channel'), ...(channel !== undefined ? { channel } : {}) });
      for (const s of rows) {
        const g = group(dims.includes('channel') ? { channel: s.channel ?? '' } : {});
        for (const p of s.points) g.distinct.set(p.ts, { ...g.distinct.get(p.ts), [set]: p.value });
      }
    }
    if (dims.length === 0 && groups.size === 0) group({});
    if (groups.size * points > MAX_TOTAL_POINTS) {
      throw new QueryError(`this split gives ${groups.size} series × ${points} points; the limit is ${MAX_TOTAL_POINTS} points per answer. Use a larger step, a shorter range, fewer split dimensions or a filter`);
    }

    const gaps = await this.gaps(alignedFrom, Math.min(alignedTo, now), step, offset);
    // Thin points: a count denominator (money denominators have no "too few events").
    const f = def.formula;
    const checkThin = f.kind === 'ratio' && !sideIsMoney(f.den);
    let outrun: Outrun | undefined;
    const series = [...groups.values()]
      .sort((a, b) => JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)))
      .map((g) => {
        const pts: [number, number | null][] = [];
        const thin: number[] = [];
        const outruns: number[] = [];
        for (let ts = alignedFrom; ts < alignedTo; ts += step) {
          if (ts > now || gaps.has(ts)) {
            pts.push([ts, null]);
            continue;
          }
          // A period without a stored count had no member in the set: 0.
          const d = g.distinct.get(ts);
          const sums = g.sums.get(ts) ?? {};
          const distinct = sets.length ? Object.fromEntries(sets.map((set) => [set, d?.[set] ?? 0])) : undefined;
          const value = evaluateKpi(def, sums, distinct);
          pts.push([ts, value]);
          if (checkThin && value !== null) {
            const den = ratioParts(def, sums, distinct)?.den ?? 0;
            if (den < THIN_SAMPLE) thin.push(ts);
          }
          const o = outrunOf(def, value);
          if (o) {
            outrun ??= o;
            outruns.push(ts);
          }
        }
        return { tags: g.tags, points: pts, ...(checkThin ? { thin } : {}), ...(outruns.length ? { outruns } : {}) };
      });
    return { kpi: def.id, unit: def.unit, from: alignedFrom, to: alignedTo, step, series, ...(checkThin ? { thinBelow: THIN_SAMPLE } : {}), ...(outrun ? { outrun } : {}) };
  }

  /** Month-level KPIs: one point per local day, each over the days ending with it (query/span.ts). */
  private async spanSeries(
    def: KpiDef,
    o: { from: number; to: number; step: number; offset: number; now: number; dims: Dimension[]; filter: SeriesRequest['filter'] },
  ): Promise<SeriesResult> {
    const channel = o.filter.channel;
    const result = await this.spans.series(def, { from: o.from, to: o.to, byChannel: o.dims.includes('channel'), ...(channel !== undefined ? { channel } : {}) });
    const points = Math.round((o.to - o.from) / o.step);
    if (result.length * points > MAX_TOTAL_POINTS) {
      throw new QueryError(`this split gives ${result.length} series × ${points} points; the limit is ${MAX_TOTAL_POINTS} points per answer. Use a shorter range or a filter`);
    }
    const gaps = await this.gaps(o.from, Math.min(o.to, o.now), o.step, o.offset);
    const checkThin = def.formula.kind === 'span' && def.formula.measure !== 'distinct';
    const series = result.map((s) => {
      const pts: [number, number | null][] = [];
      const thin: number[] = [];
      const bounds: [number, number][] = [];
      for (const p of s.points) {
        if (p.ts > o.now || gaps.has(p.ts)) {
          pts.push([p.ts, null]);
          continue;
        }
        pts.push([p.ts, p.value]);
        if (p.value !== null) bounds.push([p.ts, p.bound]);
        if (checkThin && p.value !== null && (p.den ?? 0) < THIN_SAMPLE) thin.push(p.ts);
      }
      const tags: Partial<Tags> = o.dims.includes('channel') ? { channel: s.channel } : {};
      return { tags, points: pts, bounds, ...(checkThin ? { thin } : {}) };
    });
    return { kpi: def.id, unit: def.unit, from: o.from, to: o.to, step: o.step, series, ...(checkThin ? { thinBelow: THIN_SAMPLE } : {}) };
  }

  /**
   * Buckets when nothing was running: outside every recorded run of the server AND without
   * any stored row (of any counter, split or filter: imported or late data is never hidden).
   */
  private async gaps(from: number, to: number, step: number, offset: number): Promise<Set<number>> {
    const gaps = new Set<number>();
    if (!this.uptime || from >= to) return gaps;
    const up = await this.uptime.upSpans(from, to);
    const down: number[] = [];
    for (let ts = from; ts < to; ts += step) if (!overlaps(up, ts, Math.min(ts + step, to))) down.push(ts);
    if (!down.length) return gaps;
    const [any] = await this.store.queryCounters({ from, to: from + Math.ceil((to - from) / step) * step, stepMs: step, offsetMs: offset, counters: [ANY_COUNTER], by: [], filter: {} });
    const stored = new Set((any?.points ?? []).map((p) => p.ts));
    for (const ts of down) if (!stored.has(ts)) gaps.add(ts);
    return gaps;
  }
}
