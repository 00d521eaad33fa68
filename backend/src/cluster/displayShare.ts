/**
 * Cluster mode: display tokens (displays/store.ts) shared through Redis, so a wall's token made
 * through any node opens a wall on every node and a revocation through any node refuses it
 * everywhere. Keys under PULSE_CLUSTER_PREFIX:
 * - `<prefix>displays` — a hash, one field per display id, the record as displays.json holds it
 *   (name, SHA-256 of the token — never the token —, createdAt, revokedAt);
 * - `<prefix>displays:seen` — a hash, display id → when a wall last connected (ms), written by
 *   whichever node the wall is on (kept apart so a node recording a visit never rewrites a
 *   revocation another node made);
 * - channel `<prefix>displays:changed` — a create or revoke was written: the other nodes read
 *   the list again at once (and every few seconds regardless, should a message be missed).
 * Not fenced: any node may create or revoke (records are written whole, per id; a revocation is
 * never undone).
 */
import type { Logger } from 'pino';
import type { createClient } from 'redis';
import type { DisplayShare, StoredDisplay } from '../displays/store.js';

type Client = ReturnType<typeof createClient>;

export function redisDisplayShare(client: Client, prefix: string, logger: Logger): DisplayShare & { close(): Promise<void> } {
  const hash = `${prefix}displays`;
  const seenHash = `${prefix}displays:seen`;
  const channel = `${prefix}displays:changed`;
  let subscriber: Client | null = null;
  const stored = (d: StoredDisplay) => JSON.stringify({ ...d, lastSeenAt: null });
  return {
    async load() {
      const [all, seen] = await Promise.all([client.hGetAll(hash), client.hGetAll(seenHash)]);
      const out: StoredDisplay[] = [];
      for (const [id, raw] of Object.entries(all)) {
        try {
          const d = JSON.parse(raw) as StoredDisplay;
          const at = Number(seen[id]);
          out.push({ ...d, lastSeenAt: Number.isFinite(at) && at > 0 ? at : null });
        } catch {
          logger.warn({ display: id }, 'shared display record unreadable; skipped');
        }
      }
      return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },
    async put(d) {
      await client.multi().hSet(hash, d.id, stored(d)).publish(channel, d.id).exec();
    },
    async seed(d) {
      await client.hSetNX(hash, d.id, stored(d));
      if (d.lastSeenAt !== null) await client.hSetNX(seenHash, d.id, String(d.lastSeenAt));
    },
    async seen(at) {
      if (at.size) await client.hSet(seenHash, Object.fromEntries([...at].map(([id, t]) => [id, String(t)])));
    },
    async subscribe(changed) {
      subscriber = client.duplicate();
      subscriber.on('error', () => undefined);
      await subscriber.connect();
      await subscriber.subscribe(channel, () => changed());
    },
    async close() {
      await subscriber?.close().catch(() => undefined);
    },
  };
}
