/**
 * Buckets keyed by full tag set, as written to the store. A bucket stays in memory for the
 * lateness window after it closes; a late event marks it dirty and the whole row is
 * written again (a rewrite replaces the stored row, so no double counting).
 *
 * A row for a bucket that memory does not hold completely (older than what was seeded at
 * start-up or already evicted: a late or historical event, an import) starts as *unloaded*:
 * the collector adds the stored row's counters to it before it is written, so the event is
 * added to the stored bucket rather than replacing it.
 */
import { COUNTERS, type Tags } from '@siyu-pulse/contracts/catalogue';
import type { CounterRow } from '../store/port.js';
import type { Rollup } from '../store/rollups.js';
import { newVector, type CounterVector } from './counters.js';
import { tagKeyOf as tagKey } from './tagSets.js';

interface BucketRow {
  tags: Tags;
  vector: CounterVector;
  version: number;
  written: number;
  /** The stored row (if any) has been added in. */
  loaded: boolean;
}

/** A row whose stored counters must be added before it is written. */
export interface UnloadedRow {
  ts: number;
  tags: Tags;
  addStored(v: CounterVector): void;
  markLoaded(): void;
}

export interface PendingWrite {
  rows: CounterRow[];
  /** Call after the store accepted `rows`. */
  commit(): void;
}


export class FlushBuckets {
  private readonly buckets = new Map<number, Map<string, BucketRow>>();
  /** Buckets starting at or after this are complete in memory; older ones may be in the store. */
  private completeFrom = Number.POSITIVE_INFINITY;
  private rows = 0;

  /**
   * `offsetMs`: buckets start at offsetMs + k × bucketMs (local midnight for day rollups).
   * `rollup`: the rows are that per-group rollup (store/rollups.ts), written as such.
   */
  constructor(
    readonly bucketMs: number,
    readonly offsetMs = 0,
    readonly rollup?: Rollup,
  ) {}

  /** Called once seeding from the store is done: buckets from `start` on are all in memory. */
  seededFrom(start: number): void {
    this.completeFrom = start;
  }

  bucketStart(ts: number): number {
    return Math.floor((ts - this.offsetMs) / this.bucketMs) * this.bucketMs + this.offsetMs;
  }

  /** The vector to add an event into; marks the row dirty. */
  vectorFor(ts: number, tags: Tags): CounterVector {
    const row = this.row(this.bucketStart(ts), tags);
    row.version++;
    return row.vector;
  }

  /** Seeds a row already in the store (after a restart) so a late event rewrites it in full. */
  seed(ts: number, tags: Tags, vector: CounterVector): void {
    const row = this.row(this.bucketStart(ts), tags);
    row.vector.set(vector);
    row.loaded = true;
  }

  /**
   * Whether memory holds this bucket row, or would create it as complete without reading the
   * store (at or after the seeded horizon): a direct write to the stored row would be replaced.
   */
  holds(ts: number, tags: Tags): boolean {
    const start = this.bucketStart(ts);
    if (start >= this.completeFrom) return true;
    return this.buckets.get(start)?.has(tagKey(tags)) ?? false;
  }

  /** Whether any row still needs its stored counters added. */
  hasUnloaded(): boolean {
    for (const bucket of this.buckets.values()) for (const row of bucket.values()) if (!row.loaded) return true;
    return false;
  }

  /** Dirty rows that still need their stored counters added. */
  unloaded(): UnloadedRow[] {
    const out: UnloadedRow[] = [];
    for (const [ts, bucket] of this.buckets) {
      for (const row of bucket.values()) {
        if (row.loaded) continue;
        out.push({
          ts,
          tags: row.tags,
          addStored: (v) => {
            for (let i = 0; i < v.length; i++) row.vector[i]! += v[i]!;
          },
          markLoaded: () => {
            row.loaded = true;
          },
        });
      }
    }
    return out;
  }

  private row(start: number, tags: Tags): BucketRow {
    let bucket = this.buckets.get(start);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(start, bucket);
    }
    const key = tagKey(tags);
    let row = bucket.get(key);
    if (!row) {
      row = { tags: { ...tags }, vector: newVector(), version: 0, written: 0, loaded: start >= this.completeFrom };
      bucket.set(key, row);
      this.rows++;
    }
    return row;
  }

  /** Snapshot of every dirty row (open buckets included, so the store is never > 1 flush behind). */
  takeDirty(): PendingWrite {
    const rows: CounterRow[] = [];
    const marks: [BucketRow, number][] = [];
    for (const [ts, bucket] of this.buckets) {
      for (const row of bucket.values()) {
        if (row.version === row.written) continue;
        if (!row.loaded) throw new Error('a bucket row was taken before its stored counters were added');
        // Non-zero counters only (absent = 0 for the stores and the spool): a row of history
        // has a few of the 54 set, and a 54-key object per row made bulk flushes GC-bound.
        const counters: CounterRow['counters'] = {};
        const v = row.vector;
        for (let i = 0; i < v.length; i++) {
          const n = Math.round(v[i]!);
          if (n !== 0) counters[COUNTERS[i]!] = n;
        }
        rows.push(this.rollup ? { ts, tags: { ...row.tags }, counters, rollup: this.rollup } : { ts, tags: { ...row.tags }, counters });
        marks.push([row, row.version]);
      }
    }
    return {
      rows,
      commit: () => {
        for (const [row, version] of marks) row.written = Math.max(row.written, version);
      },
    };
  }

  /** Forgets buckets that closed before `horizon` and were written. Returns how many dirty ones were kept. */
  evict(horizon: number): number {
    let keptDirty = 0;
    for (const [start, bucket] of this.buckets) {
      if (start + this.bucketMs > horizon) continue;
      let dirty = false;
      for (const row of bucket.values()) if (row.version !== row.written) dirty = true;
      if (dirty) keptDirty++;
      else {
        this.rows -= bucket.size;
        this.buckets.delete(start);
      }
    }
    // Rows of evicted buckets are in the store only: a later event for one must load it.
    this.completeFrom = Math.max(this.completeFrom === Number.POSITIVE_INFINITY ? 0 : this.completeFrom, this.bucketStart(horizon));
    return keptDirty;
  }

  /** Rows (bucket × tag set) held in memory. */
  get rowCount(): number {
    return this.rows;
  }

  get bucketCount(): number {
    return this.buckets.size;
  }
}
