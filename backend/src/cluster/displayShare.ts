/**
 * Cluster mode: display tokens (displays/store.ts) shared through Redis, so a wall's token made
 * through any node opens a wall on every node and a revocation through any node refuses it
 * everywhere. Keys under PULSE_CLUSTER_PREFIX:
 * - `<prefix>displays` — one field per display id, the record as displays.json holds it
 *   (name, SHA-256 of the token — never the token —, createdAt, revokedAt), announced on
 *   `<prefix>displays:changed` (sharedRecords.ts);
 * - `<prefix>displays:seen` — display id → when a wall last connected (ms), written by
 *   whichever node the wall is on (kept apart so a node recording a visit never rewrites a
 *   revocation another node made).
 * A revocation is never undone.
 */
import type { Logger } from 'pino';
import type { createClient } from 'redis';
import type { DisplayShare, StoredDisplay } from '../displays/store.js';
import { redisSharedRecords } from './sharedRecords.js';

type Client = ReturnType<typeof createClient>;

export function redisDisplayShare(client: Client, prefix: string, logger: Logger): DisplayShare & { close(): Promise<void> } {
  const records = redisSharedRecords(client, prefix, 'displays', logger);
  const seenHash = `${prefix}displays:seen`;
  const stored = (d: StoredDisplay) => JSON.stringify({ ...d, lastSeenAt: null });
  return {
    async load() {
      const [all, seen] = await Promise.all([records.load(), client.hGetAll(seenHash)]);
      const out: StoredDisplay[] = [];
      for (const [id, raw] of all) {
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
    put: (d) => records.put(d.id, stored(d)),
    async seed(d) {
      await records.seed(d.id, stored(d));
      if (d.lastSeenAt !== null) await client.hSetNX(seenHash, d.id, String(d.lastSeenAt));
    },
    async seen(at) {
      if (at.size) await client.hSet(seenHash, Object.fromEntries([...at].map(([id, t]) => [id, String(t)])));
    },
    subscribe: (changed) => records.subscribe(changed),
    close: () => records.close(),
  };
}
