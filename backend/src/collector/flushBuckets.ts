/**
 * Buckets keyed by full tag set, as written to the store. A bucket stays in memory for the
 * lateness window after it closes; a late event marks it dirty and the whole row is
 * written again (a rewrite replaces the stored row, so no double counting).
 */
import { COUNTERS, type Tags } from '../catalogue/events.js';
import type { CounterRow } from '../store/port.js';
import { newVector, toSums, type CounterVector } from './counters.js';

interface BucketRow {
  tags: Tags;
  vector: CounterVector;
  version: number;
  written: number;
}

export interface PendingWrite {
  rows: CounterRow[];
  /** Call after the store accepted `rows`. */
  commit(): void;
}

const tagKey = (t: Tags) => `${t.channel}\u0000${t.community}\u0000${t.campaign}`;

export class FlushBuckets {
  private readonly buckets = new Map<number, Map<string, BucketRow>>();

  constructor(readonly bucketMs: number) {}

  bucketStart(ts: number): number {
    return Math.floor(ts / this.bucketMs) * this.bucketMs;
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
      row = { tags: { ...tags }, vector: newVector(), version: 0, written: 0 };
      bucket.set(key, row);
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
        const counters = toSums(row.vector);
        for (const c of COUNTERS) counters[c] = Math.round(counters[c]!);
        rows.push({ ts, tags: { ...row.tags }, counters });
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
      else this.buckets.delete(start);
    }
    return keptDirty;
  }

  get bucketCount(): number {
    return this.buckets.size;
  }
}
