/**
 * Durable outbox: a delivery owed survives a restart. One JSON line per entry snapshot,
 * appended and fsynced before anything is sent; the last line for a (notifierId, key) wins.
 * Finished entries are kept for `retainMs` so a re-enqueued key is still recognised
 * (idempotency), then dropped when the file is compacted.
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

export interface OutboxOptions {
  dir: string;
  /** Compact once the file is larger than this. */
  compactBytes?: number;
  /** How long delivered / failed entries are remembered. */
  retainMs?: number;
  now?: () => number;
}

export const OUTBOX_FILE = 'outbox.jsonl';

const idOf = (notifierId: string, key: string) => `${notifierId}\u0000${key}`;

export class Outbox {
  readonly path: string;
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly now: () => number;
  private readonly retainMs: number;
  private readonly compactBytes: number;
  private compactAt: number;
  private fd: number;
  private bytes = 0;

  constructor(opts: OutboxOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.path = join(opts.dir, OUTBOX_FILE);
    this.now = opts.now ?? Date.now;
    this.retainMs = opts.retainMs ?? 7 * 24 * 3600_000;
    this.compactBytes = opts.compactBytes ?? 1 << 20;
    this.compactAt = this.compactBytes;
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
    this.write(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    for (const e of entries) this.entries.set(idOf(e.notifierId, e.key), e);
    if (this.bytes > this.compactAt) this.compact();
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
    closeSync(this.fd);
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

function parseEntry(raw: string): OutboxEntry | null {
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
