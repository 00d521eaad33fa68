/**
 * The cluster's id ledger on a real redis-server (Debian's, started by the harness on a free
 * loopback port): two ledgers stand for two nodes behind a load balancer. An id claimed on
 * one node is a duplicate on the other; a released claim frees the id; a claim whose node
 * died (never confirmed nor released) frees the id after its lease; confirmed ids last the
 * window and survive a Redis restart (AOF); journal replay re-marks only ids still inside
 * the window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdsInFlightError, RedisIdLedger } from '../src/cluster/redisIdLedger.js';
import { redisOrSkip, startRedis, type RedisHandle } from './harness/redis.js';

const run = redisOrSkip('cluster id ledger (Redis)');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(run)('RedisIdLedger (two nodes, one Redis)', () => {
  let redis: RedisHandle;
  const open: RedisIdLedger[] = [];
  const ledger = async (o: { windowMs?: number; leaseMs?: number; prefix?: string; node?: string } = {}) => {
    const l = await RedisIdLedger.open({ url: redis.url, windowMs: o.windowMs ?? 3_600_000, leaseMs: o.leaseMs, prefix: o.prefix ?? 'pulse:test:', nodeId: o.node ?? `n${open.length}` });
    open.push(l);
    return l;
  };
  beforeAll(async () => {
    redis = (await startRedis())!;
  }, 30_000);
  afterAll(async () => {
    for (const l of open) await l.close().catch(() => undefined);
    await redis?.stop();
  });

  it('an id claimed on one node is a duplicate on the other; a released claim frees it', async () => {
    const [a, b] = [await ledger({ prefix: 'p1:' }), await ledger({ prefix: 'p1:' })];
    const now = Date.now();
    expect(await a.claim(['e1', 'e2', 'e1'], now)).toEqual([false, false, true]);
    // A retry on B while A's request is still in flight: refused whole (B keeps nothing
    // reserved), neither counted nor called a duplicate.
    await expect(b.claim(['e1', 'e3'], now)).rejects.toThrow(IdsInFlightError);
    await a.confirm(['e1', 'e2'], now);
    expect(await b.claim(['e1', 'e3'], now)).toEqual([true, false]);
    await b.release(['e3'], now);
    expect(await a.claim(['e3'], now)).toEqual([false]);
    // Releasing an id this node never reserved changes nothing (e1 is A's, confirmed).
    await b.release(['e1'], now);
    expect(await b.claim(['e1', 'e2'], now)).toEqual([true, true]);
    // A different prefix is a different cluster.
    const other = await ledger({ prefix: 'p2:' });
    expect(await other.claim(['e1'], now)).toEqual([false]);
  });

  it("a node that died between claim and journal does not make the producer's retry a duplicate after the lease", async () => {
    const [dead, alive] = [await ledger({ prefix: 'p3:', leaseMs: 300 }), await ledger({ prefix: 'p3:', leaseMs: 300 })];
    const now = Date.now();
    expect(await dead.claim(['x1'], now)).toEqual([false]);
    // Not a duplicate (its events were never journaled): refused until the lease ends.
    await expect(alive.claim(['x1', 'x2'], now)).rejects.toThrow(/being taken by another request/);
    await sleep(450);
    expect(await alive.claim(['x1', 'x2'], Date.now())).toEqual([false, false]);
  });

  it("journal replay after a restart counts the node's own ids and skips ids another node counted meanwhile", async () => {
    const lease = { prefix: 'p6:', leaseMs: 300 };
    const a = await ledger({ ...lease, node: 'a' });
    const b = await ledger({ ...lease, node: 'b' });
    const now = Date.now();
    // A journals two batches and is SIGKILLed before confirming either; the producer saw no 202.
    expect(await a.claim(['lost', 'kept'], now)).toEqual([false, false]);
    // The first batch's retry lands on B after A's lease: B counts it.
    await sleep(450);
    expect(await b.claim(['lost'], Date.now())).toEqual([false]);
    await b.confirm(['lost'], Date.now());
    // B is in the middle of taking another id when A comes back.
    expect(await b.claim(['taking'], Date.now())).toEqual([false]);
    // A again (same node id, a fresh process): 'lost' is B's now (replaying it would count it
    // twice), 'kept' is nobody else's, 'taking' is B's request in flight.
    const a2 = await ledger({ ...lease, node: 'a' });
    expect(await a2.markReplayed([['lost', now], ['kept', now], ['taking', now]])).toEqual([false, true, false]);
    // 'kept' is now A's confirmed id: a duplicate on B.
    expect(await b.claim(['kept'], Date.now())).toEqual([true]);
    // A's own reservation, still inside its lease when A is back: A's, replayed and confirmed.
    const c = await ledger({ prefix: 'p7:', leaseMs: 60_000, node: 'c' });
    expect(await c.claim(['mine'], now)).toEqual([false]);
    const c2 = await ledger({ prefix: 'p7:', node: 'c' });
    expect(await c2.markReplayed([['mine', now]])).toEqual([true]);
    const d = await ledger({ prefix: 'p7:', node: 'd' });
    expect(await d.claim(['mine'], Date.now())).toEqual([true]);
  });

  it('confirmed ids last the window, survive a Redis restart, and replay re-marks only ids inside the window', async () => {
    const a = await ledger({ prefix: 'p4:', windowMs: 5_000 });
    const now = Date.now();
    expect(await a.claim(['k1', 'k2'], now)).toEqual([false, false]);
    await a.confirm(['k1', 'k2'], now);
    expect(
      await a.markReplayed([
        ['old', now - 6_000],
        ['recent', now - 1_000],
      ]),
    ).toEqual([true, true]);
    await redis.restart();
    const b = await ledger({ prefix: 'p4:', windowMs: 5_000 });
    expect(await b.claim(['k1', 'k2', 'old', 'recent'], Date.now())).toEqual([true, true, false, true]);
    await b.release(['old'], Date.now());
    // A short window: the key expires with it.
    const c = await ledger({ prefix: 'p5:', windowMs: 400 });
    const t = Date.now();
    await c.claim(['w1'], t);
    await c.confirm(['w1'], t);
    expect(await c.claim(['w1'], Date.now())).toEqual([true]);
    await sleep(550);
    expect(await c.claim(['w1'], Date.now())).toEqual([false]);
  }, 30_000);
});
