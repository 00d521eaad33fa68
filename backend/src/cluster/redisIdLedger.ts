/**
 * The id ledger of a cluster (PULSE_CLUSTER_REDIS_URL): event ids already counted, shared by
 * every node through Redis, so a producer's retry that lands on another node behind the load
 * balancer is still counted once within the dedup window.
 *
 * One key per id, `<prefix>id:<event id>`, expiring with the window (Redis drops it: no
 * sweep, no per-id memory in the node):
 * - claim: `SET key <reservation> NX PX <lease>` (all of a batch's ids in one Lua call, which
 *   also returns what a taken key holds) — the node whose SET wins owns the id; any
 *   other node (or a later batch on this one) sees it as taken. The reservation is a short
 *   lease so that a node SIGKILLed between claim and journal does not turn the producer's
 *   retry into a "duplicate" for the whole window: after the lease the id is free again.
 * - confirm (after the journal has the batch): `SET key c:<node> PXAT <arrival + window>`.
 *   With an owner (an import batch's mark) the value is `o:<owner>`, and a claim by the same
 *   owner takes the id again (that batch's retry after a crash, see IngestService.acceptHistory).
 * - release (batch not acknowledged): delete the key only while it still holds this
 *   claim's reservation (a Lua compare-and-delete, atomic in Redis).
 * Values say whose the id is: `r:<node>:<uuid>` a reservation, `c:<node>` confirmed by that
 * node, `o:<owner>` an import batch's mark (`1`: confirmed by an older version, whoever).
 * - markReplayed (journal replay after a restart): an id still free, or this node's own
 *   (reservation or confirmation), is marked `c:<node>` and replayed; one that another node
 *   confirmed or is claiming is NOT replayed. That is a node SIGKILLed after journaling a batch
 *   but before confirming it whose producer never saw the 202: after the lease the retry was
 *   counted on another node, and replaying the journal too would count the batch twice.
 *   (Left open: the same death in the milliseconds between journal and confirm while a flush
 *   also wrote the batch's counters; the replay cannot take back stored counters.)
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
  /** This node (PULSE_NODE_ID, stable across restarts): whose reservation or mark an id holds. */
  nodeId: string;
  /**
   * How long a claim holds an id before its batch is confirmed (default 15 s). Claim to
   * journal takes milliseconds; the lease is how long a producer's retry is refused (503) after
   * a node died in the middle of a request. A journal stalled longer than this (a hung disk)
   * could let a retry on another node count the events too.
   */
  leaseMs?: number;
}

/**
 * Lua, so a batch's ids take one call (atomic per chunk; single-instance Redis or one shard:
 * the keys of a call are not hash-tagged). Up to CHUNK keys per call keep Redis responsive.
 */
const CHUNK = 1_000;
/** Per key: SET NX PX lease; 1 when set, else the value held ('' if it vanished meanwhile). */
const CLAIM_SCRIPT = `local out = {}
for i, k in ipairs(KEYS) do
  if redis.call('SET', k, ARGV[1], 'NX', 'PX', ARGV[2]) then out[i] = 1 else out[i] = redis.call('GET', k) or '' end
end
return out`;
/** Per key: the final mark, expiring at the end of the dedup window (PXAT, ms). */
const MARK_SCRIPT = `for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'PXAT', ARGV[2]) end
return #KEYS`;
/**
 * Per key (ARGV[1] this node's mark, ARGV[2] its reservation prefix, ARGV[2 + i] the key's
 * expiry): 1 and marked when free or this node's own (or an older version's '1'; an import
 * owner's mark is left as it is), 0 when another node confirmed or is claiming it.
 */
const REPLAY_SCRIPT = `local out = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if (not v) or v == '1' or v == ARGV[1] or string.sub(v, 1, #ARGV[2]) == ARGV[2] then
    redis.call('SET', k, ARGV[1], 'PXAT', ARGV[i + 2])
    out[i] = 1
  elseif string.sub(v, 1, 2) == 'o:' then
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;
/** Compare-and-delete: a key goes only while it still holds the caller's reservation. */
const RELEASE_SCRIPT = `local n = 0
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then n = n + redis.call('DEL', k) end
end
return n`;

export class RedisIdLedger implements IdLedger {
  readonly windowMs: number;
  private readonly leaseMs: number;
  private readonly confirmedMark: string;
  private readonly reservationPrefix: string;
  /** This node's reservations not yet confirmed or released: id → reservation value. */
  private readonly reserved = new Map<string, string>();

  private constructor(
    private readonly client: Client,
    private readonly o: RedisIdLedgerOptions,
  ) {
    this.windowMs = o.windowMs;
    this.leaseMs = Math.min(o.leaseMs ?? 15_000, o.windowMs);
    this.confirmedMark = `c:${o.nodeId}`;
    this.reservationPrefix = `r:${o.nodeId}:`;
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

  /** One script call per chunk of ids (not one command per id: the client's cost per command dominated a node's CPU). */
  private async perChunk<T>(ids: readonly string[], run: (keys: string[]) => Promise<T[]>): Promise<T[]> {
    const chunks: Promise<T[]>[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) chunks.push(run(ids.slice(i, i + CHUNK).map((id) => this.key(id))));
    return (await Promise.all(chunks)).flat();
  }

  async claim(ids: readonly string[], _at: number, owner?: string): Promise<boolean[]> {
    const seen = new Array<boolean>(ids.length).fill(true);
    const firstAt = new Map<string, number>();
    ids.forEach((id, i) => {
      if (!firstAt.has(id)) firstAt.set(id, i);
    });
    const unique = [...firstAt.keys()];
    const token = `${this.reservationPrefix}${randomUUID()}`;
    // Per id: 1 when this claim took it, else what the key holds ('' when it just expired).
    const answers = await this.perChunk(unique, async (keys) => (await this.client.eval(CLAIM_SCRIPT, { keys, arguments: [token, String(this.leaseMs)] })) as (number | string)[]);
    const won = unique.map((id, k) => answers[k] === 1 || (owner !== undefined && answers[k] === `o:${owner}`));
    // A reservation (r:…), or gone between two calls (released, expired): another attempt is in flight.
    const inFlight = answers.filter((a, k) => !won[k] && typeof a === 'string' && (a === '' || a.startsWith('r:'))).length;
    if (inFlight) {
      const taken = unique.filter((_, k) => answers[k] === 1);
      await this.perChunk(taken, async (keys) => [await this.client.eval(RELEASE_SCRIPT, { keys, arguments: [token] })]);
      throw new IdsInFlightError(inFlight);
    }
    unique.forEach((id, k) => {
      seen[firstAt.get(id)!] = !won[k];
      if (won[k]) this.reserved.set(id, token);
    });
    return seen;
  }

  async confirm(ids: readonly string[], at: number, owner?: string): Promise<void> {
    const until = at + this.windowMs;
    const value = owner === undefined ? this.confirmedMark : `o:${owner}`;
    await this.perChunk(ids, async (keys) => [await this.client.eval(MARK_SCRIPT, { keys, arguments: [value, String(until)] })]);
    for (const id of ids) this.reserved.delete(id);
  }

  async release(ids: readonly string[], _at: number): Promise<void> {
    // Grouped by reservation (one claim's ids share its token).
    const byToken = new Map<string, string[]>();
    for (const id of ids) {
      const token = this.reserved.get(id);
      this.reserved.delete(id);
      if (token === undefined) continue;
      const list = byToken.get(token);
      if (list) list.push(id);
      else byToken.set(token, [id]);
    }
    await Promise.all([...byToken].map(([token, own]) => this.perChunk(own, async (keys) => [await this.client.eval(RELEASE_SCRIPT, { keys, arguments: [token] })])));
  }

  async markReplayed(entries: readonly (readonly [string, number])[]): Promise<boolean[]> {
    const now = Date.now();
    const out = new Array<boolean>(entries.length).fill(true);
    // Outside the window an id is nobody's any more: replayed, not marked.
    const inside = entries.flatMap(([id, at], i) => (at + this.windowMs > now ? [{ i, key: this.key(id), until: String(at + this.windowMs) }] : []));
    const calls: Promise<void>[] = [];
    for (let c = 0; c < inside.length; c += CHUNK) {
      const chunk = inside.slice(c, c + CHUNK);
      calls.push(
        (async () => {
          const answers = (await this.client.eval(REPLAY_SCRIPT, { keys: chunk.map((e) => e.key), arguments: [this.confirmedMark, this.reservationPrefix, ...chunk.map((e) => e.until)] })) as number[];
          chunk.forEach((e, k) => (out[e.i] = answers[k] === 1));
        })(),
      );
    }
    await Promise.all(calls);
    return out;
  }

  /** Redis expires the keys itself. */
  async sweep(_now: number): Promise<void> {}

  async close(): Promise<void> {
    await this.client.close();
  }
}
