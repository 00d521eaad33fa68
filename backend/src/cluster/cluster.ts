/**
 * Cluster mode (PULSE_CLUSTER_REDIS_URL): the parts several nodes share through Redis.
 * Today: the id ledger (a retry landing on another node is still a duplicate) and the
 * Socket.IO adapter (Redis Streams: control messages, revocations and alert events reach
 * the walls of every node; connection-state recovery sessions live in Redis too).
 * The alert lease is in lease.ts, the walls' cluster-wide numbers in storeLiveSource.ts.
 * Not yet shared (issue 18, see docs/dev-notes): silences / acks / display tokens / outbox.
 */
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { ServerOptions } from 'socket.io';
import { RedisIdLedger } from './redisIdLedger.js';

export interface ClusterParts {
  /** Closed by its user (the ingest path closes its ledger last). */
  ledger: RedisIdLedger;
  socketAdapter: ServerOptions['adapter'];
  /** Closes the Socket.IO fan-out connection (after the live hub). */
  close(): Promise<void>;
}

export async function openCluster(o: { redisUrl: string; prefix: string; nodeId: string; dedupWindowMs: number; salt: string }, logger: Logger): Promise<ClusterParts> {
  const where = o.redisUrl.replace(/\/\/[^@/]*@/, '//***@');
  const adapterClient = createClient({ url: o.redisUrl });
  let lastError = '';
  adapterClient.on('error', (err: Error) => {
    // The client reconnects by itself; log each new reason once rather than every retry.
    if (err.message !== lastError) logger.error({ err: err.message, redis: where }, 'cluster Redis connection problem (Socket.IO fan-out)');
    lastError = err.message;
  });
  try {
    await adapterClient.connect();
  } catch (err) {
    throw new Error(`PULSE_CLUSTER_REDIS_URL: cannot reach Redis at ${where}: ${(err as Error).message}`, { cause: err });
  }
  await checkSameSalt(adapterClient, `${o.prefix}salt-fingerprint`, o.salt);
  const ledger = await RedisIdLedger.open({ url: o.redisUrl, windowMs: o.dedupWindowMs, prefix: o.prefix });
  logger.info({ redis: where, node: o.nodeId, prefix: o.prefix }, 'cluster mode: ids and wall fan-out shared through Redis');
  return {
    ledger,
    socketAdapter: createAdapter(adapterClient, { streamName: `${o.prefix}socket.io`, sessionKeyPrefix: `${o.prefix}sio:session:` }),
    async close() {
      await adapterClient.close().catch(() => undefined);
    },
  };
}

/**
 * Every node must hash a member id alike, or one member counts once per node and a retry on
 * another node is not a duplicate. The first node records a fingerprint of its salt (a hash:
 * the salt itself never leaves the node); a node with a different salt refuses to start.
 */
async function checkSameSalt(client: ReturnType<typeof createClient>, key: string, salt: string): Promise<void> {
  const mine = createHash('sha256').update(`siyu-pulse salt fingerprint\0${salt}`).digest('hex');
  await client.set(key, mine, { NX: true });
  const recorded = await client.get(key);
  if (recorded !== mine) {
    throw new Error(`PULSE_SALT: this node's salt differs from the one the other nodes of this cluster use (fingerprint in Redis key ${key}); set the same PULSE_SALT on every node, or delete that key if the whole cluster changes its salt (distinct counts then start over)`);
  }
}
