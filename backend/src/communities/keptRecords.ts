/**
 * Per-group records people or a connector set through the API (社群 names, member counts):
 * on a single node a JSON file in the data dir; in a cluster a shared Redis hash
 * (cluster/sharedRecords.ts), so a name or a size PUT through any node is what every node
 * shows and what the evaluator's 退群潮 rule divides by.
 */
import type { z } from 'zod';
import { followShared, type SharedRecords } from '../cluster/sharedRecords.js';
import { readJsonFile, writeJsonAtomic } from '../durability/jsonFile.js';

export interface KeptRecordsOptions<V> {
  file: string;
  /** One record's shape (checked on read: the file, and each shared record). */
  record: z.ZodType<V>;
  /** What the records are, for log lines ("community names"). */
  what: string;
  onError?(err: unknown, message: string): void;
}

export class KeptRecords<V> {
  /** The records by id (read here; changed only through apply()). */
  readonly map = new Map<string, V>();
  private shared: SharedRecords | null = null;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: KeptRecordsOptions<V>) {
    const saved = readJsonFile(o.file, (err, aside) => o.onError?.(err, `${o.what} file was unreadable; moved to ${aside}`));
    if (saved === undefined) return;
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) {
      o.onError?.(new Error('not an object'), `${o.file}: not an object of id → record; ignored`);
      return;
    }
    for (const [id, raw] of Object.entries(saved)) {
      const r = o.record.safeParse(raw);
      if (r.success) this.map.set(id, r.data);
      else o.onError?.(r.error, `${o.file}: ${JSON.stringify(id)} is not a valid record; ignored`);
    }
  }

  /** Sets and removes records: durable (the file, or Redis) before they count here. */
  async apply(put: ReadonlyMap<string, V>, removed: readonly string[]): Promise<void> {
    const next = new Map(this.map);
    for (const [id, v] of put) next.set(id, v);
    for (const id of removed) next.delete(id);
    if (this.shared) await this.shared.update(new Map([...put].map(([id, v]) => [id, JSON.stringify(v)])), removed);
    else writeJsonAtomic(this.o.file, Object.fromEntries(next));
    this.map.clear();
    for (const [id, v] of next) this.map.set(id, v);
  }

  /**
   * Cluster mode from now on: this node's records the cluster does not have yet are added (a
   * single node joining keeps them), then the shared hash is followed (on every change any
   * node announces, and every `refreshMs`).
   */
  async useShared(shared: SharedRecords, refreshMs = 5_000): Promise<void> {
    await shared.seedMany(new Map([...this.map].map(([id, v]) => [id, JSON.stringify(v)])));
    this.shared = shared;
    this.refreshTimer = await followShared(shared, () => this.refresh(), refreshMs);
  }

  private async refresh(): Promise<void> {
    if (!this.shared) return;
    let all: Map<string, string>;
    try {
      all = await this.shared.load();
    } catch (err) {
      return this.o.onError?.(err, `the shared ${this.o.what} could not be read (the last copy stays)`);
    }
    const next = new Map<string, V>();
    for (const [id, json] of all) {
      let r: ReturnType<z.ZodType<V>['safeParse']>;
      try {
        r = this.o.record.safeParse(JSON.parse(json));
      } catch (err) {
        this.o.onError?.(err, `shared ${this.o.what} ${JSON.stringify(id)} unreadable; skipped`);
        continue;
      }
      if (r.success) next.set(id, r.data);
      else this.o.onError?.(r.error, `shared ${this.o.what} ${JSON.stringify(id)} unreadable; skipped`);
    }
    this.map.clear();
    for (const [id, v] of next) this.map.set(id, v);
  }

  close(): void {
    clearInterval(this.refreshTimer);
  }
}
