/**
 * The id ledger of a cluster (PULSE_CLUSTER_REDIS_URL): event ids already counted, shared by
 * every node through Redis, so a producer's retry that lands on another node behind the load
 * balancer is still counted once within the dedup window.
 *
 * One key per id, `<prefix>id:<event id>`, expiring with the window (Redis drops it: no
 * sweep, no per-id memory in the node):
 * - claim: `SET key <reservation> NX PX <lease>` — the node whose SET wins owns the id; any
 *   other node (or a later batch on this one) sees it as taken. The reservation is a short
 *   lease so that a node SIGKILLed between claim and journal does not turn the producer's
 *   retry into a "duplicate" for the whole window: after the lease the id is free again.
 * - confirm (after the journal has the batch): `SET key 1 PXAT <arrival + window>`.
 *   With an owner (an import batch's mark) the value is `o:<owner>`, and a claim by the same
 *   owner takes the id again (that batch's retry after a crash, see IngestService.acceptHistory).
 * - release (batch not acknowledged): delete the key only while it still holds this
 *   claim's reservation (a Lua compare-and-delete, atomic in Redis).
 * - remember (journal replay after a restart): `SET key 1 PXAT <arrival + window>`.
 *
 * An id another request holds a reservation for (claimed, not confirmed) is neither new nor
 * a duplicate: that request may still journal it, or its node may have died before it did.
 * The claim then refuses the whole batch (IdsInFlightError: the ingest answers 503 with
 * Retry-After, nothing counted) instead of calling the retry a duplicate, which would lose the
 * events of a node killed between claim and journal. The retry a few seconds later finds the
 * id confirmed (a duplicate, rightly) or free again (after the lease).
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { IdLedger } from '../ingest/idLedger.js';

type Client = ReturnType<typeof createClient>;

/** Some ids of the batch are held by a request still in flight (or by a node that died in one). */
export class IdsInFlightError extends Error {
  constructor(readonly ids: number) {
    super(`${ids} event id(s) of this batch are being taken by another request right now (a retry while the first attempt is still in flight, or a node that stopped in the middle of one); nothing of this batch was counted: retry in a few seconds`);
    this.name = 'IdsInFlightError';
  }
}

export interface RedisIdLedgerOptions {
  url: string;
  windowMs: number;
  /** Key prefix shared by the cluster's nodes (PULSE_CLUSTER_PREFIX). */
  prefix: string;
  /**
   * How long a claim holds an id before its batch is confirmed (default 15 s). Claim to
   * journal takes milliseconds; the lease is how long a producer's retry is refused (503) after
   * a node died in the middle of a request. A journal stalled longer than this (a hung disk)
   * could let a retry on another node count the events too.
   */
  leaseMs?: number;
}

/** Compare-and-delete: the key goes only if it still holds the caller's reservation. */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

export class RedisIdLedger implements IdLedger {
  readonly windowMs: number;
  private readonly leaseMs: number;
  /** This node's reservations not yet confirmed or released: id → reservation value. */
  private readonly reserved = new Map<string, string>();

  private constructor(
    private readonly client: Client,
    private readonly o: RedisIdLedgerOptions,
  ) {
    this.windowMs = o.windowMs;
    this.leaseMs = Math.min(o.leaseMs ?? 15_000, o.windowMs);
  }

  /** Connects (rejects with the reason when Redis does not answer). */
  static async open(o: RedisIdLedgerOptions): Promise<RedisIdLedger> {
    const client = createClient({ url: o.url });
    // Reconnects are the client's job; a command issued while Redis is away rejects and the
    // ingest answers 503 for that batch (nothing acknowledged, the producer retries).
    client.on('error', () => undefined);
    await client.connect();
    return new RedisIdLedger(client, o);
  }

  private key(id: string): string {
    return `${this.o.prefix}id:${id}`;
  }

  async claim(ids: readonly string[], _at: number, owner?: string): Promise<boolean[]> {
    const seen = new Array<boolean>(ids.length).fill(true);
    const firstAt = new Map<string, number>();
    ids.forEach((id, i) => {
      if (!firstAt.has(id)) firstAt.set(id, i);
    });
    const token = `r:${randomUUID()}`;
    // Issued in one tick: the client pipelines them into one round trip.
    const answers = await Promise.all([...firstAt.keys()].map((id) => this.client.set(this.key(id), token, { condition: 'NX', expiration: { type: 'PX', value: this.leaseMs } })));
    // Ids this owner confirmed before (its own earlier attempt) are its own again.
    const lost = [...firstAt.keys()].filter((_, k) => answers[k] !== 'OK');
    const mine = new Set<string>();
    let inFlight = 0;
    if (lost.length) {
      const values = await Promise.all(lost.map((id) => this.client.get(this.key(id))));
      lost.forEach((id, k) => {
        const v = values[k];
        if (owner !== undefined && v === `o:${owner}`) mine.add(id);
        // A reservation (r:…), or gone between the SET and this GET (released, expired).
        else if (v === null || v === undefined || v.startsWith('r:')) inFlight++;
      });
    }
    if (inFlight) {
      const won = [...firstAt.keys()].filter((_, k) => answers[k] === 'OK');
      await Promise.all(won.map((id) => this.client.eval(RELEASE_SCRIPT, { keys: [this.key(id)], arguments: [token] })));
      throw new IdsInFlightError(inFlight);
    }
    let k = 0;
    for (const [id, i] of firstAt) {
      const won = answers[k++] === 'OK' || mine.has(id);
      seen[i] = !won;
      if (won) this.reserved.set(id, token);
    }
    return seen;
  }

  async confirm(ids: readonly string[], at: number, owner?: string): Promise<void> {
    const until = at + this.windowMs;
    const value = owner === undefined ? '1' : `o:${owner}`;
    await Promise.all(ids.map((id) => this.client.set(this.key(id), value, { expiration: { type: 'PXAT', value: until } })));
    for (const id of ids) this.reserved.delete(id);
  }

  async release(ids: readonly string[], _at: number): Promise<void> {
    await Promise.all(
      ids.map((id) => {
        const token = this.reserved.get(id);
        this.reserved.delete(id);
        return token === undefined ? Promise.resolve(0) : this.client.eval(RELEASE_SCRIPT, { keys: [this.key(id)], arguments: [token] });
      }),
    );
  }

  async remember(entries: readonly (readonly [string, number])[]): Promise<void> {
    const now = Date.now();
    await Promise.all(entries.filter(([, at]) => at + this.windowMs > now).map(([id, at]) => this.client.set(this.key(id), '1', { expiration: { type: 'PXAT', value: at + this.windowMs } })));
  }

  /** Redis expires the keys itself. */
  async sweep(_now: number): Promise<void> {}

  async close(): Promise<void> {
    await this.client.close();
  }
}
