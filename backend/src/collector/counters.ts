/**
 * Counter vectors: one Float64Array slot per catalogue counter, so summing windows is a
 * tight loop rather than object churn on the 1 s tick.
 */
import { AMOUNT_COUNTERS, COUNTERS, EVENT_TYPES, HISTOGRAMS, countCounterOf, histogramCounter, type CounterSums, type EventType, type HistogramId, type Tags } from '@siyu-pulse/contracts/catalogue';
import { histogramBucketIndex } from '../catalogue/evaluate.js';

export type CounterVector = Float64Array;
export const COUNTER_INDEX: ReadonlyMap<string, number> = new Map(COUNTERS.map((c, i) => [c, i]));

export const newVector = (): CounterVector => new Float64Array(COUNTERS.length);

export function addInto(target: CounterVector, source: CounterVector): void {
  for (let i = 0; i < target.length; i++) target[i]! += source[i]!;
}

export function toSums(v: CounterVector): CounterSums {
  const sums: CounterSums = {};
  for (let i = 0; i < COUNTERS.length; i++) sums[COUNTERS[i]!] = v[i]!;
  return sums;
}

export function fromSums(sums: Partial<CounterSums>): CounterVector {
  const v = newVector();
  for (const [name, value] of Object.entries(sums)) {
    const i = COUNTER_INDEX.get(name);
    if (i !== undefined && typeof value === 'number') v[i] = value;
  }
  return v;
}

/** What one event adds: its count, its amount (fen) and its latency histogram bucket. */
export interface CountableEvent {
  type: EventType;
  ts: number;
  tags: Tags;
  /** Hashed member id (never the raw id); in memory only. */
  member?: string;
  /**
   * The member's sketch key (register index + rank, see sketch/hll.ts): what the journal
   * keeps of a member so distinct counts survive a crash without persisting ids or hashes.
   */
  sketchKey?: number;
  amount?: number;
  durationMs?: number;
}

const HISTOGRAM_BY_TYPE = new Map<EventType, HistogramId>(
  (Object.keys(HISTOGRAMS) as HistogramId[]).map((id) => [HISTOGRAMS[id].eventType, id]),
);

/** What an event of one type adds, as counter slots (worked out once per type, not per event). */
interface TypePlan {
  count: number;
  /** Slot of the type's amount counter, or -1. */
  amount: number;
  hist: HistogramId | undefined;
}

function planOf(type: EventType): TypePlan {
  const amountCounter = (AMOUNT_COUNTERS as Partial<Record<EventType, string>>)[type];
  return { count: COUNTER_INDEX.get(countCounterOf(type))!, amount: amountCounter ? COUNTER_INDEX.get(amountCounter)! : -1, hist: HISTOGRAM_BY_TYPE.get(type) };
}

const PLANS = new Map<EventType, TypePlan>(EVENT_TYPES.map((t) => [t, planOf(t)]));

export function applyEvent(v: CounterVector, e: CountableEvent): void {
  const plan = PLANS.get(e.type) ?? planOf(e.type);
  v[plan.count]! += 1;
  if (plan.amount >= 0 && e.amount !== undefined) v[plan.amount]! += e.amount;
  const hist = plan.hist;
  if (hist && e.durationMs !== undefined) {
    v[COUNTER_INDEX.get(histogramCounter(hist, histogramBucketIndex(hist, e.durationMs)))!]! += 1;
  }
}

/**
 * What applyEvent adds, as (slot, delta) pairs written into `out` from index 0; returns how
 * many numbers were written (2 per pair, at most 6). For sparse rows (the import's 10 s
 * deltas, import/aggregate.ts), where a vector of every counter per row was most of the
 * allocation.
 */
export function eventSlots(e: CountableEvent, out: number[]): number {
  const plan = PLANS.get(e.type) ?? planOf(e.type);
  out[0] = plan.count;
  out[1] = 1;
  let n = 2;
  if (plan.amount >= 0 && e.amount !== undefined) {
    out[n++] = plan.amount;
    out[n++] = e.amount;
  }
  const hist = plan.hist;
  if (hist && e.durationMs !== undefined) {
    out[n++] = COUNTER_INDEX.get(histogramCounter(hist, histogramBucketIndex(hist, e.durationMs)))!;
    out[n++] = 1;
  }
  return n;
}
