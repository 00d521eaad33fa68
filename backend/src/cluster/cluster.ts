/**
 * Cluster mode (PULSE_CLUSTER_REDIS_URL): the parts several nodes share through Redis.
 * Today: the id ledger (a retry landing on another node is still a duplicate) and the
 * Socket.IO adapter (Redis Streams: control messages, revocations and alert events reach
 * the walls of every node; connection-state recovery sessions live in Redis too).
 * The evaluator's state (silences, acks, open alerts, feedback, the outbox) is shared through
 * Redis with writes fenced by the alert lease (sharedState.ts); the lease is in lease.ts, the
 * walls' cluster-wide numbers in storeLiveSource.ts.
 */
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { ServerOptions } from 'socket.io';
import { RedisIdLedger } from './redisIdLedger.js';
import { RedisSharedState } from './sharedState.js';
import { redisDisplayShare } from './displayShare.js';
import { redisSharedRecords, type SharedRecords } from './sharedRecords.js';
import type { DisplayShare } from '../displays/store.js';

export interface ClusterParts {
  /** Closed by its user (the ingest path closes its ledger last). */
  ledger: RedisIdLedger;
  socketAdapter: ServerOptions['adapter'];
  /** The evaluator lease's key (lease.ts). */
  leaseKey: string;
  /** What a single node keeps in its data dir, shared (writes fenced by the lease). */
  shared: RedisSharedState;
  /** Display tokens, readable and writable by every node (displayShare.ts). */
  displays: DisplayShare;
  /** Campaigns made through the admin API, readable and writable by every node. */
  campaigns: SharedRecords;
  /** Wall playlists (one record per display id, `*` for all walls). */
  playlists: SharedRecords;
  /** 社群 names and member counts set through the API or the WeCom connector on any node. */
  communityNames: SharedRecords;
  communitySizes: SharedRecords;
  /**
   * The secret signed links are signed with when PULSE_LINK_SECRET is not set: the first node's
   * (`candidate`, its data dir's) is kept in Redis and used by all, so a link in a DingTalk
   * message opens on whichever node the load balancer picks.
   */
  sharedLinkSecret(candidate: () => string): Promise<string>;
  /** Closes the Socket.IO fan-out and shared-state connections (after the live hub and the dispatcher). */
  close(): Promise<void>;
}

export async function openCluster(o: { redisUrl: string; prefix: string; nodeId: string; dedupWindowMs: number; salt: string; fencingToken: () => number }, logger: Logger): Promise<ClusterParts> {
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
  const ledger = await RedisIdLedger.open({ url: o.redisUrl, windowMs: o.dedupWindowMs, prefix: o.prefix, nodeId: o.nodeId });
  const leaseKey = `${o.prefix}lease:singletons`;
  const shared = await RedisSharedState.open({ url: o.redisUrl, prefix: o.prefix, leaseKey, token: o.fencingToken }, logger);
  const displays = redisDisplayShare(shared.client, o.prefix, logger);
  const campaigns = redisSharedRecords(shared.client, o.prefix, 'campaigns', logger);
  const playlists = redisSharedRecords(shared.client, o.prefix, 'playlists', logger);
  const communityNames = redisSharedRecords(shared.client, o.prefix, 'community-names', logger);
  const communitySizes = redisSharedRecords(shared.client, o.prefix, 'community-sizes', logger);
  logger.info({ redis: where, node: o.nodeId, prefix: o.prefix }, 'cluster mode: ids, wall fan-out and the evaluator state shared through Redis');
  return {
    ledger,
    socketAdapter: createAdapter(adapterClient, { streamName: `${o.prefix}socket.io`, sessionKeyPrefix: `${o.prefix}sio:session:` }),
    leaseKey,
    shared,
    displays,
    campaigns,
    playlists,
    communityNames,
    communitySizes,
    async sharedLinkSecret(candidate) {
      const key = `${o.prefix}link-secret`;
      // Not the adapter's connection: it blocks in stream reads once the adapter runs.
      await shared.client.set(key, candidate(), { NX: true });
      const secret = await shared.client.get(key);
      if (!secret || secret.length < 32) throw new Error(`Redis key ${key} holds no link secret of at least 32 characters; delete it (every signed link stops working) or set PULSE_LINK_SECRET on every node`);
      return secret;
    },
    async close() {
      await adapterClient.close().catch(() => undefined);
      await displays.close();
      await campaigns.close();
      await communityNames.close();
      await communitySizes.close();
      await shared.close();
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
