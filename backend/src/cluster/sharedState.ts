/**
 * Cluster mode: the state a single node keeps in its data dir, kept in Redis instead so that
 * every node sees it and the node that takes the evaluation over after a failover (lease.ts)
 * starts from what the last evaluator wrote. Keys (all under PULSE_CLUSTER_PREFIX):
 *
 * - `<prefix>state:silences`, `<prefix>state:alert-memory` — the alert engine's documents
 *   (silences and acks; each open alert's state machine and what its group was told, the noise
 *   bands), one JSON string each, as the single node's silences.json / alert-memory.json;
 * - `<prefix>state:feedback` — 有效 / 误报 verdicts (feedback.json);
 * - `<prefix>reports` — a hash, weekly report id (ISO week) → the report (reports/<id>.json);
 * - `<prefix>outbox` — a hash, one field per owed or finished delivery (notifier + key), the
 *   value the entry as the single node's outbox.jsonl line;
 * - `<prefix>displays`, `<prefix>displays:seen` (display tokens, displayShare.ts).
 *
 * Fencing: every write of the evaluator's state is a Lua script that first compares the lease's
 * fencing token (`<lease key>:epoch`, incremented by each new holder) with the token of this
 * node's holding, and refuses (error FENCED) when they differ. A deposed leader (paused,
 * partitioned, or simply slower than its lease) therefore cannot overwrite what the new leader
 * wrote, nor mark a delivery; `mayDeliver` is the same check without a write, made before each
 * send. The check and the write are one script: Redis runs it atomically.
 */
import type { OutboxEntry, OutboxStorage, StateDocumentName, StateDocuments } from '@siyu-pulse/alerts';
import { outboxId, parseEntry } from '@siyu-pulse/alerts';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import type { WeeklyReport } from '@siyu-pulse/contracts/reports';
import type { SharedReports } from '../reports/store.js';

type Client = ReturnType<typeof createClient>;

/** KEYS[1] the fencing token's key, ARGV[1] this holding's token. */
const FENCE = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED this node no longer holds the evaluator lease') end";
const FENCED_SET = `${FENCE} redis.call('SET', KEYS[2], ARGV[2]) return 1`;
const FENCED_HSET = `${FENCE} for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end return 1`;
const FENCED_HDEL = `${FENCE} for i = 2, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end return 1`;
const FENCE_ONLY = `${FENCE} return 1`;

/** What the evaluator writes, and may write only while it holds the lease. */
export type FencedDocumentName = StateDocumentName | 'feedback' | 'live-alerts' | 'delivery-log';

export interface SharedStateOptions {
  url: string;
  prefix: string;
  /** The lease's key (lease.ts); its fencing token is `<leaseKey>:epoch`. */
  leaseKey: string;
  /** This node's current fencing token (0 when it does not hold the lease). */
  token(): number;
}

export class RedisSharedState implements StateDocuments {
  readonly outbox: OutboxStorage;
  readonly reports: SharedReports;
  private readonly epochKey: string;

  private constructor(
    readonly client: Client,
    private readonly o: SharedStateOptions,
  ) {
    this.epochKey = `${o.leaseKey}:epoch`;
    const hash = `${o.prefix}outbox`;
    this.outbox = {
      load: async () => {
        const all = await client.hGetAll(hash);
        const out: OutboxEntry[] = [];
        for (const raw of Object.values(all)) {
          const e = parseEntry(raw);
          if (e) out.push(e);
        }
        return out;
      },
      write: async (entries) => {
        if (!entries.length) return;
        await this.fenced(FENCED_HSET, hash, entries.flatMap((e) => [outboxId(e), JSON.stringify(e)]));
      },
      remove: async (ids) => {
        if (ids.length) await this.fenced(FENCED_HDEL, hash, ids);
      },
      mayDeliver: async () => {
        await this.fenced(FENCE_ONLY, hash, []);
      },
    };
    const reports = `${o.prefix}reports`;
    this.reports = {
      load: async () => Object.values(await client.hGetAll(reports)).map((raw) => JSON.parse(raw) as WeeklyReport),
      put: async (r) => {
        await this.fenced(FENCED_HSET, reports, [r.id, JSON.stringify(r)]);
      },
    };
  }

  static async open(o: SharedStateOptions, logger: Logger): Promise<RedisSharedState> {
    const client = createClient({ url: o.url });
    let last = '';
    client.on('error', (err: Error) => {
      if (err.message !== last) logger.error({ err: err.message }, 'cluster Redis connection problem (shared state)');
      last = err.message;
    });
    await client.connect();
    return new RedisSharedState(client, o);
  }

  async read(name: FencedDocumentName): Promise<unknown> {
    const raw = await this.client.get(this.docKey(name));
    return raw === null ? undefined : (JSON.parse(raw) as unknown);
  }

  /** Replaces a document; rejects (FENCED) when this node no longer holds the lease. */
  async write(name: FencedDocumentName, json: string): Promise<void> {
    await this.fenced(FENCED_SET, this.docKey(name), [json]);
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }

  private docKey(name: FencedDocumentName): string {
    return `${this.o.prefix}state:${name}`;
  }

  private async fenced(script: string, key: string, args: string[]): Promise<void> {
    await this.client.eval(script, { keys: [this.epochKey, key], arguments: [String(this.o.token()), ...args] });
  }
}
