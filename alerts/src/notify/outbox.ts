/**
 * Durable outbox: a delivery owed survives a restart. One JSON line per entry snapshot,
 * appended and fsynced before anything is sent; the last line for a (notifierId, key) wins.
 * Finished entries are kept for `retainMs` so a re-enqueued key is still recognised
 * (idempotency), then dropped when the file is compacted.
 *
 * A cluster passes `storage` instead (OutboxStorage: Redis, in the backend's cluster/): the
 * entries live there, written through (in call order, see `flushed()`), and the node that
 * takes the evaluation over `reload()`s them and delivers what is owed. The storage refuses
 * the writes of a node that no longer holds the evaluator lease (fencing).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Notification } from '../contract.js';
import type { RetryClass } from './types.js';

export type EntryState = 'pending' | 'delivered' | 'failed';

export interface OutboxEntry {
  key: string;
  notifierId: string;
  notification: Notification;
  attempts: number;
  /** Not to be sent before this time (epoch ms): backoff and throttle waits. */
  notBefore: number;
  state: EntryState;
  createdAt: number;
  updatedAt: number;
  lastError?: { retry: RetryClass; code: string; message: string; explanation: string };
}

/** Shared outbox entries (a cluster), by `outboxId`. */
export interface OutboxStorage {
  /** Every stored entry. */
  load(): Promise<OutboxEntry[]>;
  /** Stores these snapshots (the last one per id wins). */
  write(entries: OutboxEntry[]): Promise<void>;
  /** Forgets these entries (finished ones past their retention). */
  remove(ids: string[]): Promise<void>;
  /** Resolves when this node may send now; rejects when it may not (it lost the lease). */
  mayDeliver(): Promise<void>;
}

export interface OutboxOptions {
  dir: string;
  /** Keep the entries here instead of in `<dir>/outbox.jsonl`. */
  storage?: OutboxStorage;
  /** Compact once the file is larger than this. */
  compactBytes?: number;
  /** How long delivered / failed entries are remembered. */
  retainMs?: number;
  now?: () => number;
}

export const OUTBOX_FILE = 'outbox.jsonl';

const idOf = (notifierId: string, key: string) => `${notifierId}\u0000${key}`;
/** An entry's id in the outbox (and in an OutboxStorage). */
export const outboxId = (e: Pick<OutboxEntry, 'notifierId' | 'key'>): string => idOf(e.notifierId, e.key);

export class Outbox {
  readonly path: string;
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly now: () => number;
  private readonly retainMs: number;
  private readonly compactBytes: number;
  private compactAt: number;
  private fd = -1;
  private bytes = 0;
  private readonly storage: OutboxStorage | null;
  /** Shared storage: writes in call order, and the first failure not reported yet. */
  private writes: Promise<void> = Promise.resolve();
  private writeFailure: unknown = null;
  private prunedAt = 0;

  constructor(opts: OutboxOptions) {
    this.now = opts.now ?? Date.now;
    this.retainMs = opts.retainMs ?? 7 * 24 * 3600_000;
    this.compactBytes = opts.compactBytes ?? 1 << 20;
    this.compactAt = this.compactBytes;
    this.storage = opts.storage ?? null;
    this.path = this.storage ? 'shared outbox' : join(opts.dir, OUTBOX_FILE);
    if (this.storage) return;
    mkdirSync(opts.dir, { recursive: true });
    const torn = this.replay();
    this.fd = openSync(this.path, 'a');
    // A crash mid-append leaves a partial last line; end it so the next line stays whole.
    if (torn) this.write('\n');
    if (this.bytes > this.compactAt) this.compact();
  }

  /** Adds entries that are not known yet; returns the ones added. One fsync for the batch. */
  add(items: { notifierId: string; notification: Notification }[]): OutboxEntry[] {
    const t = this.now();
    const added: OutboxEntry[] = [];
    const seen = new Set<string>();
    for (const { notifierId, notification } of items) {
      const id = idOf(notifierId, notification.key);
      if (this.entries.has(id) || seen.has(id)) continue;
      seen.add(id);
      added.push({ key: notification.key, notifierId, notification, attempts: 0, notBefore: t, state: 'pending', createdAt: t, updatedAt: t });
    }
    this.save(added);
    return added;
  }

  /** Persists new snapshots of entries (state changes, attempts, notBefore). */
  save(entries: OutboxEntry[]): void {
    if (!entries.length) return;
    if (this.storage) {
      for (const e of entries) this.entries.set(idOf(e.notifierId, e.key), e);
      const storage = this.storage;
      const snapshot = entries.map((e) => ({ ...e }));
      this.chain(() => storage.write(snapshot));
      this.prune();
      return;
    }
    this.write(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    for (const e of entries) this.entries.set(idOf(e.notifierId, e.key), e);
    if (this.bytes > this.compactAt) this.compact();
  }

  /**
   * Resolves when every change so far is durable (at once for the file, which is written
   * before `add` / `save` return); rejects with the first shared write that failed since.
   */
  async flushed(): Promise<void> {
    await this.writes;
    const err = this.writeFailure;
    this.writeFailure = null;
    if (err) throw err;
  }

  /** Resolves when this node may send now (always, with the file). */
  mayDeliver(): Promise<void> {
    return this.storage ? this.storage.mayDeliver() : Promise.resolve();
  }

  /** Shared storage: forgets what this node held and reads the entries again (taking delivery over). */
  async reload(): Promise<void> {
    if (!this.storage) return;
    await this.writes;
    this.writeFailure = null;
    const loaded = await this.storage.load();
    this.entries.clear();
    for (const e of loaded) this.entries.set(idOf(e.notifierId, e.key), e);
  }

  private chain(write: () => Promise<void>): void {
    this.writes = this.writes.then(write).catch((err: unknown) => {
      this.writeFailure ??= err;
    });
  }

  /** Shared storage: finished entries past their retention are removed, at most once an hour. */
  private prune(): void {
    const t = this.now();
    if (!this.storage || t - this.prunedAt < 3600_000) return;
    this.prunedAt = t;
    const cutoff = t - this.retainMs;
    const old: string[] = [];
    for (const [id, e] of this.entries) if (e.state !== 'pending' && e.updatedAt < cutoff) old.push(id);
    if (!old.length) return;
    for (const id of old) this.entries.delete(id);
    const storage = this.storage;
    this.chain(() => storage.remove(old));
  }

  get(notifierId: string, key: string): OutboxEntry | undefined {
    return this.entries.get(idOf(notifierId, key));
  }

  /** Pending entries for a notifier, oldest first; only those due at `now` when given. */
  pending(notifierId: string, now?: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const e of this.entries.values()) {
      if (e.notifierId === notifierId && e.state === 'pending' && (now === undefined || e.notBefore <= now)) out.push(e);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || a.notification.ts - b.notification.ts);
  }

  list(notifierId: string, state: EntryState): OutboxEntry[] {
    return [...this.entries.values()].filter((e) => e.notifierId === notifierId && e.state === state);
  }

  /** Notifier ids that have entries (including ones no longer configured). */
  notifierIds(): string[] {
    return [...new Set([...this.entries.values()].map((e) => e.notifierId))];
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
  }

  private write(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    writeSync(this.fd, buf);
    fsyncSync(this.fd);
    this.bytes += buf.length;
  }

  /** Loads the file; returns true when its last line is incomplete. */
  private replay(): boolean {
    if (!existsSync(this.path)) return false;
    const text = readFileSync(this.path, 'utf8');
    this.bytes = Buffer.byteLength(text, 'utf8');
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      const e = parseEntry(raw);
      if (e) this.entries.set(idOf(e.notifierId, e.key), e);
    }
    return text.length > 0 && !text.endsWith('\n');
  }

  /** Rewrites the file with live entries only: write a temp file, fsync, rename over. */
  private compact(): void {
    const cutoff = this.now() - this.retainMs;
    for (const [id, e] of this.entries) if (e.state !== 'pending' && e.updatedAt < cutoff) this.entries.delete(id);
    const text = [...this.entries.values()].map((e) => `${JSON.stringify(e)}\n`).join('');
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    closeSync(this.fd);
    renameSync(tmp, this.path);
    syncDir(dirname(this.path));
    this.fd = openSync(this.path, 'a');
    this.bytes = statSync(this.path).size;
    // Many live entries: do not rewrite on every append.
    this.compactAt = Math.max(this.compactBytes, this.bytes * 2);
  }
}

/** One stored entry (a JSON line or a shared storage's value); null when it is not one. */
export function parseEntry(raw: string): OutboxEntry | null {
  try {
    const e = JSON.parse(raw) as Partial<OutboxEntry>;
    const ok =
      typeof e.key === 'string' &&
      typeof e.notifierId === 'string' &&
      (e.state === 'pending' || e.state === 'delivered' || e.state === 'failed') &&
      typeof e.notification === 'object' &&
      typeof e.notBefore === 'number';
    return ok ? (e as OutboxEntry) : null;
  } catch {
    return null; // a torn line from a crash mid-append
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not supported on every platform (Windows); the rename itself is still atomic.
  }
}
