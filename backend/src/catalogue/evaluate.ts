/**
 * Computes a KPI value from counter sums over a window (and a distinct count when the KPI
 * needs one). The one place KPI arithmetic lives: series, snapshot and alerts all call it.
 */
import { HISTOGRAMS, histogramCounter, type CounterSums, type MemberSetId } from '@siyu-pulse/contracts/catalogue';
import { distinctSets, type KpiDef, type RatioSide, type Term } from '@siyu-pulse/contracts/catalogue';

function sumTerms(terms: readonly Term[], sums: Partial<CounterSums>): number {
  let total = 0;
  for (const [counter, sign] of terms) total += sign * (sums[counter] ?? 0);
  return total;
}

/**
 * Distinct counts over a window: per member set, or one number for a KPI that uses a
 * single set (that set's count). A set that is missing is not known.
 */
export type DistinctValues = number | Partial<Record<MemberSetId, number>>;

function distinctOf(def: KpiDef, set: MemberSetId, distinct: DistinctValues | undefined): number | undefined {
  if (typeof distinct !== 'number') return distinct?.[set];
  // A bare number is ambiguous for a KPI with two member sets: not known.
  return distinctSets(def).length === 1 ? distinct : undefined;
}

function side(def: KpiDef, s: RatioSide, sums: Partial<CounterSums>, distinct: DistinctValues | undefined): number | undefined {
  return 'distinct' in s ? distinctOf(def, s.distinct, distinct) : sumTerms(s, sums);
}

/**
 * @param sums Σ of every counter over the window.
 * @param distinct the distinct counts of the KPI's member sets over the same window, or
 *   undefined when not known (then distinct-based KPIs are null).
 * @returns the value, or null when undefined for this window (0/0, no samples).
 */
export function evaluateKpi(def: KpiDef, sums: Partial<CounterSums>, distinct?: DistinctValues): number | null {
  const f = def.formula;
  switch (f.kind) {
    case 'sum':
      return sumTerms(f.terms, sums);
    case 'distinct':
      return distinctOf(def, f.set, distinct) ?? null;
    case 'ratio': {
      const num = side(def, f.num, sums, distinct);
      const den = side(def, f.den, sums, distinct);
      if (num === undefined || den === undefined || den === 0) return null;
      return num / den;
    }
    case 'quantile':
      return histogramQuantile(f.histogram, f.q, sums);
    case 'span':
      // A union of day sketches over 30 days: not a function of one window's sums and counts
      // (query/span.ts computes it).
      return null;
  }
}

/** The numerator and denominator of a ratio KPI (alerts need them for sample guards). */
export function ratioParts(def: KpiDef, sums: Partial<CounterSums>, distinct?: DistinctValues): { num: number; den: number | null } | null {
  const f = def.formula;
  if (f.kind !== 'ratio') return null;
  return { num: side(def, f.num, sums, distinct) ?? 0, den: side(def, f.den, sums, distinct) ?? null };
}

/**
 * Quantile from summed fixed-bound histogram buckets, linearly interpolated inside the
 * bucket that holds the rank (the Prometheus histogram_quantile rule). A rank that falls in
 * the +Inf bucket returns the highest finite bound.
 */
export function histogramQuantile(id: keyof typeof HISTOGRAMS, q: number, sums: Partial<CounterSums>): number | null {
  const bounds = HISTOGRAMS[id].boundsMs;
  const counts = Array.from({ length: bounds.length + 1 }, (_, i) => sums[histogramCounter(id, i)] ?? 0);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    if (cumulative + count >= rank && count > 0) {
      if (i === bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + ((upper - lower) * (rank - cumulative)) / count;
    }
    cumulative += count;
  }
  return bounds[bounds.length - 1]!;
}

/** Index of the histogram bucket a duration falls in (upper bound inclusive). */
export function histogramBucketIndex(id: keyof typeof HISTOGRAMS, valueMs: number): number {
  const bounds = HISTOGRAMS[id].boundsMs;
  for (let i = 0; i < bounds.length; i++) if (valueMs <= bounds[i]!) return i;
  return bounds.length;
}
