/**
 * A leadership lease in Redis: at most one node of the cluster holds it, so only one node
 * evaluates the alert rules and a firing is pushed to the robots by one node, not by each.
 *
 * - acquire: `SET <key> <node>:<nonce> NX PX <ttl>` and, when it wins, `INCR <key>:epoch` in
 *   the same Lua script: the holder's fencing token, which only grows (a deposed leader's token
 *   is always smaller). The shared state's writes compare it (sharedState.ts): from the moment
 *   a new holder has the key, a deposed one's writes are refused.
 * - renew every ttl/3 with a compare-and-`PEXPIRE` (Lua: only while the key is still ours);
 *   a failed or late renewal steps down at once, before the key can have expired, so two
 *   nodes never both believe they lead for longer than the clock skew of one renewal.
 * - a SIGKILLed leader stops renewing: its key expires after `ttl` and a standby, which
 *   tries every ttl/3, takes over — within ttl + ttl/3.
 * - release on a clean shutdown: the holder stops its duties first (saving its last state while
 *   its token is still the current one), then compare-and-`DEL`, so a standby takes over at once.
 * Written here rather than taken from a Redlock library: one Redis (not a quorum of
 * independent masters) and one key, which is the few lines below; Redlock's multi-master
 * algorithm and its retry jitter would add nothing for this.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient } from 'redis';

const RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const ACQUIRE = "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) else return 0 end";
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

export interface LeaseOptions {
  url: string;
  key: string;
  node: string;
  /** Where the other nodes reach this one (PULSE_CLUSTER_ADVERTISE_URL): stored in the lease. */
  advertiseUrl: string;
  ttlMs: number;
  logger: Logger;
  /** Called when this node becomes the holder (with its fencing token) or stops being it. */
  onChange(leader: boolean, epoch: number): void | Promise<void>;
}

export class RedisLease {
  private readonly client: ReturnType<typeof createClient>;
  private readonly value: string;
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private epochValue = 0;
  private lastRenewAt = 0;
  private stopped = false;

  constructor(private readonly o: LeaseOptions) {
    this.client = createClient({ url: o.url });
    this.client.on('error', () => undefined);
    this.value = JSON.stringify({ node: o.node, url: o.advertiseUrl, id: randomUUID() });
  }

  get leader(): boolean {
    return this.held;
  }

  /** The fencing token of the current holding (0 when not holding). */
  get epoch(): number {
    return this.held ? this.epochValue : 0;
  }

  /**
   * The fencing token of this node's last holding, kept after it ends: a write fenced with it
   * is accepted until another node takes the lease (sharedState.ts), so a clean shutdown can
   * save its last state after stepping down and a deposed holder cannot.
   */
  get fencingToken(): number {
    return this.epochValue;
  }

  /** The holder's advertised URL (this node's when it holds the lease); null when nobody holds it. */
  async leaderUrl(): Promise<string | null> {
    if (this.held) return this.o.advertiseUrl;
    const raw = await this.client.get(this.o.key);
    if (raw === null) return null;
    try {
      const url = (JSON.parse(raw) as { url?: unknown }).url;
      return typeof url === 'string' ? url : null;
    } catch {
      return null;
    }
  }

  async start(): Promise<void> {
    await this.client.connect();
    await this.round();
    this.timer = setInterval(() => void this.round(), Math.max(50, Math.floor(this.o.ttlMs / 3)));
    this.timer.unref();
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.held) {
        const started = Date.now();
        const ok = await this.client.eval(RENEW, { keys: [this.o.key], arguments: [this.value, String(this.o.ttlMs)] });
        // A renewal that came back after the key could have expired does not count.
        if (ok !== 1 || Date.now() - this.lastRenewAt > this.o.ttlMs) return void (await this.change(false, 'lost the lease'));
        this.lastRenewAt = started;
      } else {
        const started = Date.now();
        const epoch = Number(await this.client.eval(ACQUIRE, { keys: [this.o.key, `${this.o.key}:epoch`], arguments: [this.value, String(this.o.ttlMs)] }));
        if (!(epoch > 0)) return;
        this.epochValue = epoch;
        this.lastRenewAt = started;
        await this.change(true, 'acquired the lease');
      }
    } catch (err) {
      if (this.held && Date.now() - this.lastRenewAt > (this.o.ttlMs * 2) / 3) await this.change(false, `Redis unreachable (${(err as Error).message})`);
    }
  }

  private async change(leader: boolean, why: string): Promise<void> {
    if (this.held === leader) return;
    this.held = leader;
    this.o.logger.warn({ node: this.o.node, lease: this.o.key, epoch: this.epochValue, leader }, `cluster: ${why}; ${leader ? 'this node now evaluates the alert rules' : 'another node evaluates the alert rules'}`);
    await this.o.onChange(leader, this.epochValue);
  }

  /** Stops renewing; `release` hands the lease over at once (clean shutdown). */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.held) {
      // Duties stop (and save) while the lease is still ours, then it is handed over.
      await this.change(false, 'shutting down');
      if (release) await this.client.eval(RELEASE, { keys: [this.o.key], arguments: [this.value] }).catch(() => undefined);
    }
    await this.client.close().catch(() => undefined);
  }
}
