/**
 * The BUILT mini-program SDK (dist/miniprogram/index.js, the CommonJS file WeChat's "构建 npm"
 * picks up) in a stand-in of the `wx` API with WeChat's documented shapes (test/wxShim.ts),
 * against the real server: exact counts, offline at launch then online, a killed app's queue
 * sent at the next launch, a lost answer retried and counted once, 429 Retry-After honoured,
 * 4xx and per-event rejections reported and not retried, and the app-hide flush.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PulseClient, PulseError, PulseOptions } from '../src/types.js';
import { built } from './built.js';
import { APPID, PUBLIC_KEY, kpi, sleep, startServer, until, type TestPulse } from './server.js';
import { createWxShim, type WxShim } from './wxShim.js';

type MiniProgramSdk = { createPulse(o: PulseOptions): PulseClient & { onHide(): void } };
const sdk = createRequire(import.meta.url)(built('miniprogram/index.js')) as MiniProgramSdk;
const QUEUE = 'siyu_pulse_queue';

/** A mini-program launch: `wx` is a global there, as here. */
function launch(shim: WxShim, o: Partial<PulseOptions> & { endpoint: string; channel: string }) {
  (globalThis as { wx?: unknown }).wx = shim.wx;
  const errors: PulseError[] = [];
  const client = sdk.createPulse({ key: PUBLIC_KEY, flushInterval: 100, onError: (e) => errors.push(e), ...o });
  return { client, errors };
}

const stored = (shim: WxShim) => (JSON.parse(shim.storage.get(QUEUE) ?? '[]') as unknown[]).length;
const accepted = (shim: WxShim) => shim.requests.reduce((n, r) => n + (r.status === 202 ? ((r.response as { accepted: number }).accepted ?? 0) : 0), 0);

describe('mini-program SDK against the real server', () => {
  let pulse: TestPulse;
  const from = Date.now() - 60_000;
  beforeAll(async () => {
    pulse = await startServer({ PULSE_MINIPROGRAM_APPIDS: APPID });
  });
  afterAll(async () => {
    delete (globalThis as { wx?: unknown }).wx;
    await pulse?.stopAndClean();
  });

  it('counts exactly what was tracked (27 events in batches of ≤ 10), with the WeChat Referer and no Origin', async () => {
    const shim = createWxShim({ appId: APPID });
    const channel = 'mp-exact';
    const { client, errors } = launch(shim, { endpoint: pulse.url, channel, batchSize: 10 });
    for (let i = 0; i < 23; i++) client.interaction({ community: 'g1' });
    for (let i = 0; i < 4; i++) client.pageView();
    await until(() => client.pending() === 0 && shim.pendingWrites() === 0, 'the queue to drain');
    expect(errors).toEqual([]);
    expect(shim.requests.every((r) => r.status === 202)).toBe(true);
    expect(accepted(shim)).toBe(27);
    for (const r of shim.requests) {
      expect(r.headers.referer).toBe(`https://servicewechat.com/${APPID}/0/page-frame.html`);
      expect(r.headers.origin).toBeUndefined();
      expect((JSON.parse(r.body) as unknown[]).length).toBeLessThanOrEqual(100);
    }
    const ids = shim.requests.flatMap((r) => (JSON.parse(r.body) as { id: string }[]).map((e) => e.id));
    expect(new Set(ids).size).toBe(27);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(23);
    expect(stored(shim)).toBe(0);
  });

  it('offline at launch: 12 events wait in wx storage, none is sent; back online they are all counted once', async () => {
    const shim = createWxShim({ appId: APPID, networkType: 'none' });
    const channel = 'mp-offline';
    const { client } = launch(shim, { endpoint: pulse.url, channel, batchSize: 5 });
    await sleep(20); // getNetworkType answers asynchronously, as in WeChat
    for (let i = 0; i < 12; i++) client.interaction();
    client.flush();
    await until(() => shim.pendingWrites() === 0, 'storage writes');
    await sleep(400); // four flush intervals
    expect(shim.requests).toHaveLength(0);
    expect(client.pending()).toBe(12);
    expect(stored(shim)).toBe(12);
    shim.setNetwork('4g');
    await until(() => client.pending() === 0 && shim.pendingWrites() === 0, 'the queue to drain once online');
    expect(accepted(shim)).toBe(12);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(12);
    expect(stored(shim)).toBe(0);
  });

  it('the offline queue is capped: 8 tracked with maxQueue 5 keeps the newest 5, reports the 3 oldest, and sends 5', async () => {
    const shim = createWxShim({ appId: APPID, networkType: 'none' });
    const channel = 'mp-cap';
    const { client, errors } = launch(shim, { endpoint: pulse.url, channel, maxQueue: 5, batchSize: 50 });
    await sleep(20);
    for (let i = 0; i < 8; i++) client.interaction({ source: `n${i}` });
    await until(() => shim.pendingWrites() === 0, 'storage writes');
    expect(client.pending()).toBe(5);
    expect(stored(shim)).toBe(5);
    expect(errors.map((e) => e.status)).toEqual([0, 0, 0]);
    expect(errors.flatMap((e) => e.events.map((ev) => ev.source))).toEqual(['n0', 'n1', 'n2']);
    expect(errors[0]!.error).toMatch(/offline queue full \(5\)/);
    shim.setNetwork('wifi');
    await until(() => client.pending() === 0, 'the capped queue to be sent');
    const sent = shim.requests.flatMap((r) => (r.status === 202 ? (JSON.parse(r.body) as { source: string }[]).map((e) => e.source) : []));
    expect(sent).toEqual(['n3', 'n4', 'n5', 'n6', 'n7']);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(5);
  });

  it('a mini-program killed while offline sends its 5 stored events at the next launch', async () => {
    const storage = new Map<string, string>();
    const channel = 'mp-relaunch';
    const first = createWxShim({ appId: APPID, networkType: 'none', storage });
    const one = launch(first, { endpoint: pulse.url, channel });
    await sleep(20);
    for (let i = 0; i < 5; i++) one.client.interaction();
    await until(() => first.pendingWrites() === 0, 'storage writes');
    expect(first.requests).toHaveLength(0);
    // The app is killed here: nothing of `one` runs again.
    const second = createWxShim({ appId: APPID, storage });
    const two = launch(second, { endpoint: pulse.url, channel });
    expect(two.client.pending()).toBe(5);
    await until(() => two.client.pending() === 0 && second.pendingWrites() === 0, 'the stored queue to be sent');
    expect(accepted(second)).toBe(5);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(5);
    expect(stored(second)).toBe(0);
  });

  it('an answer lost on the way back is retried with the same ids and counted once (8 events, 8 duplicates)', async () => {
    const shim = createWxShim({ appId: APPID });
    const channel = 'mp-lost';
    shim.loseResponses(1);
    const { client } = launch(shim, { endpoint: pulse.url, channel, batchSize: 8 });
    for (let i = 0; i < 8; i++) client.interaction();
    await until(() => client.pending() === 0, 'the retry to succeed');
    expect(shim.requests).toHaveLength(2);
    expect(shim.requests[0]!.errMsg).toBe('request:fail timeout');
    expect(shim.requests[0]!.response).toEqual({ accepted: 8, duplicates: 0, rejected: [] });
    expect(shim.requests[1]!.response).toEqual({ accepted: 0, duplicates: 8, rejected: [] });
    expect(shim.requests[1]!.body).toBe(shim.requests[0]!.body);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(8);
  });

  it('a 401 is reported with its events and not retried; order.paid is rejected alone and the rest counted', async () => {
    const bad = createWxShim({ appId: APPID });
    const a = launch(bad, { endpoint: pulse.url, channel: 'mp-401', key: 'not-a-key-0123456789', batchSize: 3 });
    for (let i = 0; i < 3; i++) a.client.interaction();
    await until(() => a.errors.length === 1, 'the 401 to be reported');
    expect(a.errors[0]!.status).toBe(401);
    expect(a.errors[0]!.events).toHaveLength(3);
    expect(a.client.pending()).toBe(0);
    await sleep(1_500); // longer than the first backoff (≤ 1 s)
    expect(bad.requests).toHaveLength(1);

    const shim = createWxShim({ appId: APPID });
    const channel = 'mp-scope';
    const b = launch(shim, { endpoint: pulse.url, channel, batchSize: 3 });
    b.client.interaction();
    b.client.track('order.paid', { amount: 9_900 });
    b.client.interaction();
    await until(() => b.client.pending() === 0, 'the batch to be answered');
    expect(b.errors).toHaveLength(1);
    expect(b.errors[0]!.status).toBe(202);
    expect(b.errors[0]!.error).toMatch(/type order\.paid is not accepted from a public \(browser\) key/);
    expect(b.errors[0]!.events.map((e) => e.type)).toEqual(['order.paid']);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(2);
    expect(await kpi(pulse, 'gmv', channel, from)).toBe(0);
  });

  it('onAppHide sends what waits at once instead of after the flush interval', async () => {
    const shim = createWxShim({ appId: APPID });
    const channel = 'mp-hide';
    const { client } = launch(shim, { endpoint: pulse.url, channel, batchSize: 50, flushInterval: 3_600_000 });
    for (let i = 0; i < 3; i++) client.interaction();
    await sleep(200);
    expect(shim.requests).toHaveLength(0);
    shim.hideApp();
    await until(() => client.pending() === 0, 'the hide flush');
    expect(accepted(shim)).toBe(3);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(3);
  });
});

describe('mini-program SDK and the per-IP limit', () => {
  let pulse: TestPulse;
  const from = Date.now() - 60_000;
  beforeAll(async () => {
    pulse = await startServer({ PULSE_MINIPROGRAM_APPIDS: APPID, PULSE_PUBLIC_RATE_PER_IP: '1', PULSE_PUBLIC_BURST_PER_IP: '100' });
  });
  afterAll(async () => {
    delete (globalThis as { wx?: unknown }).wx;
    await pulse?.stopAndClean();
  });

  it('waits the Retry-After of a 429 before sending again, then delivers all 105 events', async () => {
    const shim = createWxShim({ appId: APPID });
    const channel = 'mp-429';
    const { client, errors } = launch(shim, { endpoint: pulse.url, channel, batchSize: 100 });
    for (let i = 0; i < 100; i++) client.interaction();
    await until(() => shim.requests.length === 1 && shim.requests[0]!.status === 202, 'the first 100');
    for (let i = 0; i < 5; i++) client.interaction();
    client.flush();
    await until(() => client.pending() === 0, 'the 5 after the 429', 30_000);
    const limited = shim.requests.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    for (const r of limited) {
      const next = shim.requests[shim.requests.indexOf(r) + 1]!;
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      // The next attempt is not made before the server's Retry-After has passed.
      expect(next.at - r.at).toBeGreaterThanOrEqual(Number(r.retryAfter) * 1000 - 50);
    }
    expect(errors).toEqual([]);
    expect(accepted(shim)).toBe(105);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(105);
  });
});
