/**
 * Display tokens: long-lived, read-only credentials for wall screens, one per display so
 * a stolen one can be revoked without logging every other wall out. Persisted in
 * `<dataDir>/displays.json` (temp file + rename, so a crash never leaves half a file);
 * only SHA-256 digests of tokens are stored, and tokens are compared in constant time
 * over those digests.
 *
 * In a cluster (`share`) the displays live in Redis (cluster/displayShare.ts): one created or
 * revoked through any node is written there before the answer, announced to the other nodes
 * (which read the list again at once, and every few seconds anyway), so a wall's token issued on
 * node A opens a wall on node B and a revocation through B refuses the wall everywhere.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { followShared } from '../cluster/sharedRecords.js';

/** A cluster's shared displays (cluster/displayShare.ts). */
export interface DisplayShare {
  /** Every display, lastSeenAt as last recorded by any node. */
  load(): Promise<StoredDisplay[]>;
  /** Creates or replaces one display, and tells the other nodes. */
  put(d: StoredDisplay): Promise<void>;
  /** Adds one only when its id is not there yet (a single node's displays joining a cluster). */
  seed(d: StoredDisplay): Promise<void>;
  /** Records when displays were last seen. */
  seen(at: Map<string, number>): Promise<void>;
  /** Calls `changed` when another node created or revoked a display. */
  subscribe(changed: () => void): Promise<void>;
}

export interface Display {
  id: string;
  name: string;
  createdAt: number;
  /** Last socket connect or disconnect; null: never connected. */
  lastSeenAt: number | null;
  revokedAt?: number;
}

export interface StoredDisplay extends Display {
  /** Hex SHA-256 of the token. */
  tokenSha256: string;
}

interface FileShape {
  version: 1;
  displays: StoredDisplay[];
}

/** A token's prefix makes a leaked one recognisable (logs, secret scanners). */
const TOKEN_PREFIX = 'pd_';
/** lastSeenAt changes are written at most this often; create and revoke are written at once. */
const SEEN_WRITE_MS = 60_000;

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export interface DisplayStoreOptions {
  dataDir: string;
  now?: () => number;
  /** A lastSeenAt write failed (logged by the caller; the value holds in memory). */
  onError?(err: unknown, message: string): void;
}

export class DisplayStore {
  private readonly file: string;
  private readonly now: () => number;
  private displays: StoredDisplay[] = [];
  private digests: Buffer[] = [];
  private seenTimer: NodeJS.Timeout | undefined;
  private shared: DisplayShare | null = null;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Shared: lastSeenAt changes not written yet. */
  private readonly seenPending = new Map<string, number>();

  constructor(private readonly opts: DisplayStoreOptions) {
    this.file = path.join(opts.dataDir, 'displays.json');
    this.now = opts.now ?? Date.now;
    this.load();
  }

  /**
   * Cluster mode: the displays are `share`d from now on. Displays of this node's file that the
   * cluster does not have yet are added (a single node joining keeps its walls), then the
   * shared list replaces the local one and is read again on every change and every `refreshMs`.
   */
  async useShared(share: DisplayShare, refreshMs = 5_000): Promise<void> {
    for (const d of this.displays) await share.seed(d);
    this.shared = share;
    this.refreshTimer = await followShared(share, () => this.refresh(), refreshMs);
  }

  /** Reads the shared list again (keeps a later local lastSeenAt). */
  async refresh(): Promise<void> {
    if (!this.shared) return;
    try {
      const loaded = await this.shared.load();
      const local = new Map(this.displays.map((d) => [d.id, d.lastSeenAt]));
      this.set(loaded.map((d) => ({ ...d, lastSeenAt: Math.max(d.lastSeenAt ?? 0, local.get(d.id) ?? 0) || null })));
    } catch (err) {
      this.opts.onError?.(err, 'the shared displays could not be read (the last list stays)');
    }
  }

  /** Creates a display; the token is returned here only and never stored. */
  async create(name: string): Promise<{ display: Display; token: string }> {
    const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
    const record: StoredDisplay = {
      id: randomBytes(8).toString('hex'),
      name,
      tokenSha256: digest(token).toString('hex'),
      createdAt: this.now(),
      lastSeenAt: null,
    };
    // Written before it is handed out: a token lost at the next restart would log a wall out.
    if (this.shared) await this.shared.put(record);
    else this.write([...this.displays, record]);
    this.set([...this.displays, record]);
    return { display: publicView(record), token };
  }

  list(): Display[] {
    return this.displays.map(publicView);
  }

  get(id: string): Display | undefined {
    const d = this.displays.find((x) => x.id === id);
    return d ? publicView(d) : undefined;
  }

  /**
   * Revokes a display (idempotent). It takes effect in memory even when the file cannot
   * be written; the write error is then thrown so the admin learns it is not durable.
   */
  async revoke(id: string): Promise<Display | undefined> {
    const d = this.displays.find((x) => x.id === id);
    if (!d) return undefined;
    d.revokedAt ??= this.now();
    if (this.shared) await this.shared.put({ ...d, lastSeenAt: null });
    else this.write(this.displays);
    return publicView(d);
  }

  /** Which display a token belongs to, or null. Compares every digest (no early exit). */
  lookup(token: string): { id: string; revoked: boolean } | null {
    const presented = digest(token);
    let found = -1;
    for (let i = 0; i < this.digests.length; i++) {
      if (timingSafeEqual(this.digests[i]!, presented) && found < 0) found = i;
    }
    const d = found < 0 ? undefined : this.displays[found];
    return d ? { id: d.id, revoked: d.revokedAt !== undefined } : null;
  }

  /** Records that a display was seen now; persisted within SEEN_WRITE_MS. */
  touch(id: string): void {
    const d = this.displays.find((x) => x.id === id);
    if (!d) return;
    d.lastSeenAt = this.now();
    if (this.shared) this.seenPending.set(id, d.lastSeenAt);
    if (this.seenTimer) return;
    this.seenTimer = setTimeout(() => this.flushSeen(), SEEN_WRITE_MS);
    this.seenTimer.unref();
  }

  /** Writes pending lastSeenAt changes (on shutdown). */
  close(): void {
    clearInterval(this.refreshTimer);
    if (this.seenTimer) this.flushSeen();
  }

  private flushSeen(): void {
    clearTimeout(this.seenTimer);
    this.seenTimer = undefined;
    if (this.shared) {
      const seen = new Map(this.seenPending);
      this.seenPending.clear();
      this.shared.seen(seen).catch((err: unknown) => this.opts.onError?.(err, 'could not record lastSeenAt in the shared displays'));
      return;
    }
    try {
      this.write(this.displays);
    } catch (err) {
      this.opts.onError?.(err, 'could not persist displays.json (lastSeenAt)');
    }
  }

  private set(displays: StoredDisplay[]): void {
    this.displays = displays;
    this.digests = displays.map((d) => Buffer.from(d.tokenSha256, 'hex'));
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // first run
      throw err;
    }
    // Refuse to start on a damaged file rather than silently revoke every wall.
    let data: Partial<FileShape>;
    try {
      data = JSON.parse(text) as Partial<FileShape>;
    } catch (err) {
      throw new Error(`${this.file} is not valid JSON (${(err as Error).message}); fix or remove it`, { cause: err });
    }
    const displays = Array.isArray(data.displays) ? data.displays : null;
    const bad = displays?.findIndex((d) => !isStoredDisplay(d));
    if (!displays || (bad !== undefined && bad >= 0)) {
      throw new Error(`${this.file}: ${displays ? `displays[${bad}] is malformed` : 'no "displays" list'}; fix or remove it`);
    }
    this.set(displays);
  }

  private write(displays: StoredDisplay[]): void {
    const data: FileShape = { version: 1, displays };
    mkdirSync(this.opts.dataDir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

function publicView(d: StoredDisplay): Display {
  return {
    id: d.id,
    name: d.name,
    createdAt: d.createdAt,
    lastSeenAt: d.lastSeenAt,
    ...(d.revokedAt !== undefined ? { revokedAt: d.revokedAt } : {}),
  };
}

function isStoredDisplay(d: unknown): d is StoredDisplay {
  if (d === null || typeof d !== 'object') return false;
  const r = d as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    typeof r.name === 'string' &&
    typeof r.tokenSha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(r.tokenSha256) &&
    typeof r.createdAt === 'number' &&
    (r.lastSeenAt === null || typeof r.lastSeenAt === 'number') &&
    (r.revokedAt === undefined || typeof r.revokedAt === 'number')
  );
}
