/**
 * Cluster mode: records any node may create, change or delete (display tokens, campaigns,
 * playlists, 社群 names and member counts),
 * kept in one Redis hash per kind — `<prefix><kind>`, one field per record id, the record as
 * JSON — with a channel `<prefix><kind>:changed` on which every write is announced, so the
 * other nodes read the hash again at once instead of waiting for their periodic re-read.
 * Records are written whole and one at a time (per id): two nodes changing two records never
 * lose one of the changes. Not fenced: these are made by people through the admin API, not by
 * the evaluator.
 */
import type { Logger } from 'pino';
import type { createClient } from 'redis';

type Client = ReturnType<typeof createClient>;

export interface SharedRecords {
  /** Every record, by id (JSON text). */
  load(): Promise<Map<string, string>>;
  /** Creates or replaces one record and announces it. */
  put(id: string, json: string): Promise<void>;
  /** Adds one only when its id is not there yet (a single node's records joining a cluster). */
  seed(id: string, json: string): Promise<void>;
  /** Deletes one record and announces it. */
  remove(id: string): Promise<void>;
  /** Creates or replaces some records and deletes others in one transaction, one announcement (a connector's bulk update). */
  update(put: ReadonlyMap<string, string>, removed: readonly string[]): Promise<void>;
  /** Adds those whose ids are not there yet (one round trip). */
  seedMany(records: ReadonlyMap<string, string>): Promise<void>;
  /** Calls `changed` whenever any node wrote one (a dedicated subscriber connection). */
  subscribe(changed: () => void): Promise<void>;
  close(): Promise<void>;
}

export function redisSharedRecords(client: Client, prefix: string, kind: string, logger: Logger): SharedRecords {
  const hash = `${prefix}${kind}`;
  const channel = `${hash}:changed`;
  let subscriber: Client | null = null;
  return {
    async load() {
      return new Map(Object.entries(await client.hGetAll(hash)));
    },
    async put(id, json) {
      await client.multi().hSet(hash, id, json).publish(channel, id).exec();
    },
    async seed(id, json) {
      await client.hSetNX(hash, id, json);
    },
    async remove(id) {
      await client.multi().hDel(hash, id).publish(channel, id).exec();
    },
    async update(put, removed) {
      if (put.size === 0 && removed.length === 0) return;
      const tx = client.multi();
      if (put.size) tx.hSet(hash, Object.fromEntries(put));
      if (removed.length) tx.hDel(hash, [...removed]);
      await tx.publish(channel, '*').exec();
    },
    async seedMany(records) {
      if (records.size === 0) return;
      const tx = client.multi();
      for (const [id, json] of records) tx.hSetNX(hash, id, json);
      await tx.exec();
    },
    async subscribe(changed) {
      subscriber = client.duplicate();
      subscriber.on('error', (err: Error) => logger.warn({ err: err.message, kind }, 'cluster Redis subscriber problem (changes are still read every few seconds)'));
      await subscriber.connect();
      await subscriber.subscribe(channel, () => changed());
    },
    async close() {
      await subscriber?.close().catch(() => undefined);
    },
  };
}

/**
 * Keeps a node's copy of shared records current: `refresh` runs now, on every change another
 * node announces, and every `everyMs` (a missed announcement, a Redis reconnect). Returns the
 * periodic timer (cleared by the caller on close).
 */
export async function followShared(source: { subscribe(changed: () => void): Promise<void> }, refresh: () => Promise<void>, everyMs: number): Promise<NodeJS.Timeout> {
  await source.subscribe(() => void refresh());
  await refresh();
  const timer = setInterval(() => void refresh(), everyMs);
  timer.unref();
  return timer;
}
