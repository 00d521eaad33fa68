/**
 * Cluster mode (PULSE_CLUSTER_REDIS_URL): the parts several nodes share through Redis.
 * Today: the id ledger (a retry landing on another node is still a duplicate) and the
 * Socket.IO adapter (Redis Streams: control messages, revocations and alert events reach
 * the walls of every node; connection-state recovery sessions live in Redis too).
 * Not yet shared (issue 18, see docs/dev-notes): live counters across nodes, the alert
 * evaluator lease, silences / acks / display tokens / outbox.
 */
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
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

export async function openCluster(o: { redisUrl: string; prefix: string; nodeId: string; dedupWindowMs: number }, logger: Logger): Promise<ClusterParts> {
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
