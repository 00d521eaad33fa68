/**
 * Cluster mode, first part (issue 18): two real nodes share a real redis-server and a real
 * influxd (both started by the harnesses on free loopback ports). Shown here:
 * - an event id taken by node A is a duplicate when the producer's retry lands on node B,
 *   and the stored total counts it once;
 * - a control message sent through node A's API reaches a wall connected to node B, and the
 *   answer counts the walls of both nodes;
 * - each wall gets one tick a second from its own node (ticks are not fanned out);
 * - the stored member sketches carry each node's own id (PULSE_NODE_ID).
 * - walls on either node show the cluster's live numbers (counters and distinct members of
 *   events taken by both nodes), read from the store (cluster/storeLiveSource.ts);
 * - a campaign made through one node is in the other's calendar (cluster/sharedRecords.ts).
 * SIGKILL of nodes under load, one DingTalk message per firing across an evaluator's SIGKILL,
 * silences and display tokens across nodes: clusterKill.test.ts (three built nodes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createClient } from 'redis';
import { Dispatcher, type PlainMessage } from '@siyu-pulse/alerts';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot.js';
import { RedisLease } from '../src/cluster/lease.js';
import { RedisSharedState } from '../src/cluster/sharedState.js';
import { loadConfig } from '../src/config/config.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { request } from './harness/http.js';
import { connectLive, nextEvent, record } from './harness/live.js';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';
import { redisOrSkip, startRedis, type RedisHandle } from './harness/redis.js';

const run = influxdOrSkip('cluster (InfluxDB)') && redisOrSkip('cluster (Redis)');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLUSTER_SALT = 'cluster-test-salt-0123456789abcdef';

describe('cluster configuration', () => {
  it('refuses a cluster on the embedded DuckDB and a bad Redis URL, naming the setting', () => {
    const base = { PULSE_DATA_DIR: '/tmp/x', PULSE_INGEST_KEYS: 'k'.repeat(16), PULSE_READ_TOKEN: 'r'.repeat(16) };
    expect(() => loadConfig({ ...base, PULSE_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/PULSE_CLUSTER_REDIS_URL: a cluster needs PULSE_STORE=influx/);
    expect(() => loadConfig({ ...base, PULSE_STORE: 'influx', INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DB: 'p', PULSE_CLUSTER_REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/PULSE_CLUSTER_REDIS_URL.*redis:\/\//);
    expect(() => loadConfig({ ...base, PULSE_STORE: 'influx', INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DB: 'p', PULSE_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6379', PULSE_NODE_ID: 'node 1' })).toThrow(/PULSE_NODE_ID/);
    // A salt generated in each node's data dir would hash one member differently per node.
    expect(() => loadConfig({ ...base, PULSE_STORE: 'influx', INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DB: 'p', PULSE_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/PULSE_SALT: a cluster needs the same PULSE_SALT on every node/);
    const ok = loadConfig({ ...base, PULSE_STORE: 'influx', INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DB: 'p', PULSE_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6379', PULSE_NODE_ID: 'node-1', PULSE_SALT: 's'.repeat(32) });
    expect(ok.cluster).toEqual({ redisUrl: 'redis://127.0.0.1:6379', prefix: 'pulse:', leaseMs: 15_000, advertiseUrl: null });
    expect(ok.nodeId).toBe('node-1');
    expect(loadConfig(base).cluster).toBeNull();
    expect(loadConfig(base).nodeId).toBe('main');
  });
});

describe.runIf(run)('two nodes on one Redis and one InfluxDB', () => {
  let influx: InfluxdHandle;
  let redis: RedisHandle;
  let a: TestPulse;
  let b: TestPulse;
  let dbName = '';
  let envOf: (node: string) => Record<string, string> = () => ({});
  const readyz = async (p: TestPulse) => (await p.get('/readyz')).json as { cluster?: { node: string; leader: boolean } };
  /** This node's own engine (the HTTP answer would come from the lease holder). */
  const lastEvaluation = (p: TestPulse) => p.engine.status().lastEvaluationAt;
  beforeAll(async () => {
    influx = (await startInfluxd())!;
    redis = (await startRedis())!;
    const db = influx.newDb();
    const env = (node: string) => ({ PULSE_CLUSTER_REDIS_URL: redis.url, PULSE_NODE_ID: node, PULSE_CLUSTER_PREFIX: 'pulse:clustertest:', PULSE_CLUSTER_LEASE_SECONDS: '2', PULSE_ALERT_INTERVAL_SECONDS: '1', PULSE_SALT: CLUSTER_SALT });
    a = await startTestPulse({ influx, influxDb: db, env: env('node-a') });
    b = await startTestPulse({ influx, influxDb: db, env: env('node-b') });
    dbName = db;
    envOf = env;
  }, 60_000);
  afterAll(async () => {
    await a?.stopAndClean();
    await b?.stopAndClean();
    await redis?.stop();
    await influx?.stop();
  });

  it("a producer's retry on another node is a duplicate; the stored total counts the event once", async () => {
    const now = Date.now();
    const batch = Array.from({ length: 50 }, (_, i) => ({ id: `retry-${i}`, type: 'message', ts: now - 2000, channel: 'wecom', member: `m-${i}` }));
    const first = await a.post(JSON.stringify(batch));
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ accepted: 50, duplicates: 0 });
    const retry = await b.post(JSON.stringify([...batch, { id: 'retry-new', type: 'message', ts: now - 2000, channel: 'wecom', member: 'm-new' }]));
    expect(retry.status).toBe(202);
    expect(retry.json).toMatchObject({ accepted: 1, duplicates: 50 });
    await a.flushToStore();
    await b.flushToStore();
    const from = Math.floor((now - 60_000) / 60_000) * 60_000;
    const series = await a.get(`/api/v1/series?kpi=messages&from=${from}&to=${from + 180_000}&step=1m`);
    const total = (series.json as { series: { points: [number, number | null][] }[] }).series[0]!.points.reduce((s, p) => s + (p[1] ?? 0), 0);
    expect(total).toBe(51);
  });

  it('late events for the same old bucket on both nodes add up (each node rewrites only its own row)', async () => {
    // Two hours old: outside the lateness window, so each node reads the stored bucket before writing it.
    const ts = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000 + 5_000;
    const ev = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, type: 'message', ts, channel: 'sms', member: `${prefix}-m-${i}` }));
    expect((await a.post(JSON.stringify(ev('late-a', 20)))).status).toBe(202);
    await a.flushToStore();
    expect((await b.post(JSON.stringify(ev('late-b', 3)))).status).toBe(202);
    await b.flushToStore();
    expect((await a.post(JSON.stringify(ev('late-a2', 2)))).status).toBe(202);
    await a.flushToStore();
    const from = Math.floor(ts / 60_000) * 60_000;
    const series = await b.get(`/api/v1/series?kpi=messages&channel=sms&from=${from}&to=${from + 60_000}&step=1m`);
    const points = (series.json as { series: { points: [number, number | null][] }[] }).series[0]!.points;
    expect(points).toEqual([[from, 25]]);
  });

  it("walls on either node show the cluster's numbers: counters and distinct members of events both nodes took", async () => {
    type Snap = { windows: { today: { byChannel: Record<string, Record<string, number | null>> } } };
    const ts = Date.now() - 1_000;
    const ev = (node: string, members: string[]) => members.map((m, i) => ({ id: `wall-${node}-${i}`, type: 'message', ts, channel: 'wallcheck', member: m }));
    const onA = Array.from({ length: 30 }, (_, i) => `wall-m-${i}`);
    // 12 on B, 6 of them members A saw too: 42 messages from 36 members.
    const onB = [...onA.slice(0, 6), ...Array.from({ length: 6 }, (_, i) => `wall-b-m-${i}`)];
    expect((await a.post(JSON.stringify(ev('a', onA)))).json).toMatchObject({ accepted: 30 });
    expect((await b.post(JSON.stringify(ev('b', onB)))).json).toMatchObject({ accepted: 12 });
    const channelToday = async (p: TestPulse) => ((await p.get('/api/v1/snapshot')).json as Snap).windows.today.byChannel.wallcheck ?? {};
    const until = async (what: string, ok: () => Promise<boolean>) => {
      const deadline = Date.now() + 20_000;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`walls never agreed on ${what}: A ${JSON.stringify(await channelToday(a))}, B ${JSON.stringify(await channelToday(b))}`);
        await sleep(200);
      }
    };
    // Counters reach the store within a flush (1 s) and the walls within a read (1 s); from
    // memory, node A's wall would say 30 and node B's 12.
    await until('messages', async () => (await channelToday(a)).messages === 42 && (await channelToday(b)).messages === 42);
    // Sketches are written every 10 s (forced here), merged over nodes on read.
    await a.flushToStore();
    await b.flushToStore();
    await until('active members', async () => (await channelToday(a)).active_members === 36 && (await channelToday(b)).active_members === 36);
  }, 45_000);

  it('a node whose salt differs from the cluster\'s refuses to start, naming PULSE_SALT', async () => {
    await expect(startTestPulse({ influx, influxDb: dbName, env: { ...envOf('node-c'), PULSE_SALT: 'another-salt-0123456789abcdef' } })).rejects.toThrow(/PULSE_SALT: this node's salt differs/);
  });

  it('a control message sent through node A reaches a wall on node B, counted across both nodes', async () => {
    const onA = await connectLive(a.url, READ_TOKEN);
    const onB = await connectLive(b.url, READ_TOKEN);
    try {
      const got = nextEvent<{ action: string }>(onB, 'control');
      const res = await request(a.url, 'POST', '/api/v1/walls/control', { token: ADMIN_TOKEN, body: { action: 'reload' } });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ sent: 2 });
      expect(await got).toEqual({ action: 'reload' });
    } finally {
      onA.close();
      onB.close();
    }
  });

  it("each wall gets its own node's tick once a second, not one per node", async () => {
    const onB = await connectLive(b.url, READ_TOKEN);
    try {
      const ticks = record<unknown>(onB, 'tick');
      await sleep(3_500);
      // One node ticks once a second: 3 or 4 in 3.5 s; fanned out by two nodes it would be 6–8.
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks.length).toBeLessThanOrEqual(4);
    } finally {
      onB.close();
    }
  });

  it("the alert center's requests to a standby are answered by the node that evaluates: a silence set through node B reaches node A's engine", async () => {
    expect((await readyz(b)).cluster!.leader).toBe(false);
    const created = await request(b.url, 'POST', '/api/v1/silences', { token: ADMIN_TOKEN, body: { matchers: { kpi: 'messages' }, durationMinutes: 30, by: '值班经理', reason: '集群转发测试' } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = (created.json as { silence: { id: string } }).silence.id;
    expect(a.engine.silences({ includeEnded: false }).map((x) => x.id)).toContain(id);
    expect(b.engine.silences({ includeEnded: false })).toEqual([]);
    // Read through either node: the same answer.
    const viaB = await b.get('/api/v1/silences');
    const viaA = await a.get('/api/v1/silences');
    expect(viaB.status).toBe(200);
    expect(viaB.json).toEqual(viaA.json);
    // Refusals pass through unchanged (a reader may not silence).
    const refused = await request(b.url, 'POST', '/api/v1/silences', { token: READ_TOKEN, body: { matchers: { kpi: 'messages' }, durationMinutes: 30 } });
    expect(refused.status).toBe(401);
    const ended = await request(b.url, 'DELETE', `/api/v1/silences/${id}?by=test`, { token: ADMIN_TOKEN });
    expect(ended.status).toBe(200);
    expect(a.engine.silences({ includeEnded: false })).toEqual([]);
  });

  it('a campaign made through node B is in node A\'s calendar (the evaluator\'s), and its removal through A reaches B', async () => {
    const listed = async (p: TestPulse) => ((await p.get('/api/v1/campaigns')).json as { campaigns: { id: string; source: string }[] }).campaigns.filter((c) => c.source === 'api').map((c) => c.id);
    const made = await request(b.url, 'POST', '/api/v1/campaigns', { token: ADMIN_TOKEN, body: { id: 'double-12', name: '双十二大促', start: Date.now() + 86_400_000, end: Date.now() + 2 * 86_400_000 } });
    expect(made.status, JSON.stringify(made.json)).toBe(201);
    const deadline = Date.now() + 5_000;
    while (!(await listed(a)).includes('double-12') && Date.now() < deadline) await sleep(50);
    expect(await listed(a)).toEqual(['double-12']);
    expect((await request(a.url, 'DELETE', '/api/v1/campaigns/double-12', { token: ADMIN_TOKEN })).status).toBe(200);
    while ((await listed(b)).length && Date.now() < deadline + 5_000) await sleep(50);
    expect(await listed(b)).toEqual([]);
  });

  it('社群 names and member counts set through node B are what node A (the evaluator) shows and divides by', async () => {
    const put = async (p: TestPulse, what: 'names' | 'sizes', body: unknown) => {
      const res = await request(p.url, 'PUT', `/api/v1/communities/${what}`, { token: ADMIN_TOKEN, body });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
    };
    const read = async (p: TestPulse) => {
      const [names, sizes] = await Promise.all([p.get('/api/v1/communities/names?ids=wx-g1,wx-g2'), p.get('/api/v1/communities/sizes?ids=wx-g1,wx-g2')]);
      return { ...(names.json as { names: object }), ...(sizes.json as { sizes: object }) };
    };
    await put(b, 'names', { names: { 'wx-g1': '北京望京店 VIP 1 群', 'wx-g2': '上海静安店福利群' } });
    await put(b, 'sizes', { sizes: { 'wx-g1': 230, 'wx-g2': 180 } });
    const want = { names: { 'wx-g1': '北京望京店 VIP 1 群', 'wx-g2': '上海静安店福利群' }, sizes: { 'wx-g1': 230, 'wx-g2': 180 } };
    const deadline = Date.now() + 5_000;
    while (JSON.stringify(await read(a)) !== JSON.stringify(want) && Date.now() < deadline) await sleep(50);
    expect(await read(a)).toEqual(want);
    expect((await a.get('/api/v1/communities/search?q=望京')).json).toMatchObject({ items: [{ id: 'wx-g1', name: '北京望京店 VIP 1 群' }] });
    // A removal through A reaches B.
    await put(a, 'names', { names: { 'wx-g2': '' } });
    while ((await read(b)).names['wx-g2' as never] !== null && Date.now() < deadline + 5_000) await sleep(50);
    expect(await read(b)).toEqual({ ...want, names: { 'wx-g1': '北京望京店 VIP 1 群', 'wx-g2': null } });
  });

  it('a playlist set through node A is the one a wall asking node B gets', async () => {
    const set = await request(a.url, 'PUT', '/api/v1/playlists/*', { token: ADMIN_TOKEN, body: { items: [{ board: 'overview', seconds: 30 }, { board: 'push', seconds: 20 }] } });
    expect(set.status, JSON.stringify(set.json)).toBe(200);
    const onB = (await b.get('/api/v1/playlist')).json as { playlist: { items: { board: string }[] } | null };
    expect(onB.playlist?.items.map((i) => i.board)).toEqual(['overview', 'push']);
    expect((await request(b.url, 'DELETE', '/api/v1/playlists/*', { token: ADMIN_TOKEN })).status).toBe(200);
    expect(((await a.get('/api/v1/playlist')).json as { playlist: unknown }).playlist).toBeNull();
  });

  it('one node evaluates the alert rules; when it shuts down another takes over', async () => {
    const [ra, rb] = [await readyz(a), await readyz(b)];
    expect(ra.cluster!.node).toBe('node-a');
    expect(rb.cluster!.node).toBe('node-b');
    // node-a started first and took the lease; node-b stands by and evaluates nothing.
    expect([ra.cluster!.leader, rb.cluster!.leader]).toEqual([true, false]);
    await sleep(1_500);
    expect(lastEvaluation(a)).not.toBeNull();
    expect(lastEvaluation(b)).toBeNull();
    // A clean shutdown hands the lease over: node-b leads within a renewal period.
    await a.stopAndClean();
    const until = Date.now() + 5_000;
    while (!(await readyz(b)).cluster!.leader && Date.now() < until) await sleep(100);
    expect((await readyz(b)).cluster!.leader).toBe(true);
    await sleep(1_500);
    expect(lastEvaluation(b)).not.toBeNull();
    // A node joining now stands by.
    a = await startTestPulse({ influx, influxDb: dbName, env: envOf('node-c') });
    expect((await readyz(a)).cluster).toEqual({ node: 'node-c', leader: false });
  }, 30_000);
});

describe.runIf(redisOrSkip('cluster lease (Redis)'))('RedisLease', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = (await startRedis())!;
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('one holder at a time; a holder that dies without releasing is replaced after its lease expires, with a larger fencing token', async () => {
    const changes: string[] = [];
    const lease = (node: string) =>
      new RedisLease({ url: redis.url, key: 'pulse:leasetest', node, advertiseUrl: `http://${node}:8080`, ttlMs: 1_000, logger: pino({ level: 'silent' }), onChange: (leader) => void changes.push(`${node}:${leader}`) });
    const peek = createClient({ url: redis.url });
    await peek.connect();
    try {
      const first = lease('n1');
      const second = lease('n2');
      await first.start();
      await second.start();
      expect([first.leader, second.leader]).toEqual([true, false]);
      const firstEpoch = first.epoch;
      await sleep(1_500);
      // Renewals keep it: still the same holder after longer than the ttl.
      expect([first.leader, second.leader]).toEqual([true, false]);
      // A crash: renewals stop, nothing is released; the standby waits for the key to expire.
      await first.stop(false);
      expect(JSON.parse((await peek.get('pulse:leasetest'))!)).toMatchObject({ node: 'n1', url: 'http://n1:8080' });
      expect(await second.leaderUrl()).toBe('http://n1:8080');
      expect(second.leader).toBe(false);
      const crashedAt = Date.now();
      while (!second.leader && Date.now() - crashedAt < 5_000) await sleep(20);
      expect(second.leader).toBe(true);
      // The key's ttl (1 s) plus one standby attempt period (333 ms), with room for a loaded machine.
      expect(Date.now() - crashedAt).toBeLessThanOrEqual(3_500);
      expect(second.epoch).toBeGreaterThan(firstEpoch);
      // A clean shutdown deletes its key at once, so the next node need not wait for an expiry.
      const third = lease('n3');
      await third.start();
      expect(third.leader).toBe(false);
      await second.stop(true);
      expect(await peek.get('pulse:leasetest')).toBeNull();
      const releasedAt = Date.now();
      while (!third.leader && Date.now() - releasedAt < 5_000) await sleep(20);
      expect(third.leader).toBe(true);
      await third.stop();
      expect(changes).toEqual(['n1:true', 'n1:false', 'n2:true', 'n2:false', 'n3:true', 'n3:false']);
    } finally {
      await peek.close();
    }
  }, 20_000);
});

describe.runIf(redisOrSkip('shared outbox (Redis)'))('the shared outbox across a leader change', () => {
  let redis: RedisHandle;
  let robot: FakeDingTalkRobot;
  const SECRET = 'SECoutboxtest0123456789abcdef012345';
  beforeAll(async () => {
    redis = (await startRedis())!;
    robot = await FakeDingTalkRobot.start({ secret: SECRET });
  }, 30_000);
  afterAll(async () => {
    await robot?.close();
    await redis?.stop();
  });

  it('the next holder delivers what is owed and not what was sent; a deposed holder can neither send nor write', async () => {
    const logger = pino({ level: 'silent' });
    const prefix = 'pulse:outboxtest:';
    const leaseKey = `${prefix}lease:singletons`;
    const node = async (name: string) => {
      const lease = new RedisLease({ url: redis.url, key: leaseKey, node: name, advertiseUrl: `http://${name}`, ttlMs: 1_000, logger, onChange: () => undefined });
      const shared = await RedisSharedState.open({ url: redis.url, prefix, leaseKey, token: () => lease.fencingToken }, logger);
      const dispatcher = new Dispatcher({ outboxDir: '/nonexistent', outboxStorage: shared.outbox, notifiers: [{ id: 'dingtalk', type: 'dingtalk', webhook: robot.webhook, secret: SECRET, timeoutMs: 2_000 }] });
      return { lease, shared, dispatcher };
    };
    const message = (n: number): PlainMessage => ({ key: `outbox-test|${n}`, kind: 'report', group: `outbox-test|${n}`, title: `消息 ${n}`, text: `### 消息 ${n}`, links: [], targets: ['dingtalk'], ts: Date.now() });
    const titles = () => robot.messages.map((m) => m.body.markdown?.title);
    const one = await node('n1');
    const two = await node('n2');
    try {
      await one.lease.start();
      await two.lease.start();
      expect([one.lease.leader, two.lease.leader]).toEqual([true, false]);
      // n1 sends message 0, then takes message 1 and dies before sending it.
      expect(one.dispatcher.enqueue([message(0)])).toMatchObject({ queued: 1 });
      await one.dispatcher.flushed();
      await one.dispatcher.tick();
      expect(titles()).toEqual(['消息 0']);
      one.dispatcher.enqueue([message(1)]);
      await one.dispatcher.flushed();
      // A standby cannot write the outbox.
      two.dispatcher.enqueue([message(9)]);
      await expect(two.dispatcher.flushed()).rejects.toThrow(/FENCED/);
      // n1 stops renewing (a SIGKILL, a long pause): n2 takes the lease once it expires.
      await one.lease.stop(false);
      const until = Date.now() + 5_000;
      while (!two.lease.leader && Date.now() < until) await sleep(20);
      expect(two.lease.leader).toBe(true);
      await two.dispatcher.reload();
      await two.dispatcher.tick();
      expect(titles()).toEqual(['消息 0', '消息 1']);
      // n1 wakes up still holding message 1 as owed: it may not send it, nor write anything.
      await one.dispatcher.tick();
      expect(titles()).toEqual(['消息 0', '消息 1']);
      one.dispatcher.enqueue([message(2)]);
      await expect(one.dispatcher.flushed()).rejects.toThrow(/FENCED/);
      await expect(one.shared.write('silences', '{"version":1,"silences":[],"acks":[]}')).rejects.toThrow(/FENCED/);
      // What Redis holds: 0 and 1 delivered once each, nothing of the deposed or standby writes.
      const stored = Object.values(await two.shared.client.hGetAll(`${prefix}outbox`)).map((raw) => JSON.parse(raw) as { key: string; state: string; attempts: number });
      expect(stored.map((e) => `${e.key} ${e.state} ${e.attempts}`).sort()).toEqual(['outbox-test|0 delivered 1', 'outbox-test|1 delivered 1']);
    } finally {
      for (const n of [one, two]) {
        await n.dispatcher.close();
        await n.lease.stop();
        await n.shared.close();
      }
    }
  }, 20_000);
});
