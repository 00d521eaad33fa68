/**
 * Public (browser / mini-program) ingest keys against a real server: which types they may
 * send (per event, the rest of the batch kept), from which origins / mini-programs, how the
 * key may travel (?key= for sendBeacon, never a secret key), the per-IP rate limit and the
 * start-up validation of the settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { EventRateLimiter } from '../src/ingest/rateLimit.js';
import { PUBLIC_EVENT_TYPES, clientKey, publicOriginProblem, trustProxyProblem } from '../src/ingest/publicScope.js';
import { INGEST_KEY, startTestPulse, type TestPulse } from './harness/pulse.js';

const PUBLIC_KEY = 'pk-h5-shop-0123456789abcdef';
const SHOP = 'https://shop.example.com';
const APPID = 'wx0123456789abcdef';
const MP_REFERER = `https://servicewechat.com/${APPID}/12/page-frame.html`;

interface Answer {
  status: number;
  json: { accepted?: number; duplicates?: number; rejected?: { index: number; error: string }[]; error?: string };
  headers: Headers;
}

async function send(pulse: TestPulse, events: unknown[], o: { header?: string; query?: string; origin?: string; referer?: string; forwardedFor?: string; contentType?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/json' };
  if (o.header) headers.authorization = `Bearer ${o.header}`;
  if (o.origin) headers.origin = o.origin;
  if (o.referer) headers.referer = o.referer;
  if (o.forwardedFor) headers['x-forwarded-for'] = o.forwardedFor;
  const res = await fetch(`${pulse.url}/api/v1/events${o.query ? `?key=${encodeURIComponent(o.query)}` : ''}`, { method: 'POST', headers, body: JSON.stringify(events) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Answer['json']) : {}, headers: res.headers };
}

/** One KPI value over [from, now + 1 min) as Σ÷Σ (step=all), for one channel. */
async function kpi(pulse: TestPulse, id: string, channel: string, from: number): Promise<number | null> {
  await pulse.flushToStore();
  const r = await pulse.get(`/api/v1/series?kpi=${id}&from=${from}&to=${Date.now() + 60_000}&step=all&channel=${encodeURIComponent(channel)}`);
  expect(r.status).toBe(200);
  const series = (r.json as { series: { points: [number, number | null][] }[] }).series;
  return series[0]?.points[0]?.[1] ?? null;
}

describe('public key scope against a real server', () => {
  let pulse: TestPulse;
  const started = Date.now() - 60_000;
  beforeAll(async () => {
    pulse = await startTestPulse({
      env: { PULSE_PUBLIC_INGEST_KEYS: PUBLIC_KEY, PULSE_CORS_ORIGINS: `${SHOP},http://10.0.0.5:3000`, PULSE_MINIPROGRAM_APPIDS: APPID, PULSE_PUBLIC_BURST_PER_IP: '1000' },
    });
  });
  afterAll(() => pulse?.stopAndClean());

  it('refuses order.paid, spend and every server-side type per event, and keeps the page types of the batch', async () => {
    const channel = 'h5-scope';
    const batch = [
      { type: 'page.view', channel },
      { type: 'order.paid', channel, amount: 9_900 },
      { type: 'spend', channel, amount: 50_000 },
      { type: 'cart.add', channel },
      { type: 'member.join', channel, member: 'u1' },
      { type: 'order.create', channel, amount: 9_900 },
      { type: 'interaction', channel },
    ];
    const r = await send(pulse, batch, { header: PUBLIC_KEY, origin: SHOP });
    expect(r.status).toBe(202);
    expect(r.json.accepted).toBe(3);
    expect(r.json.rejected!.map((x) => x.index)).toEqual([1, 2, 4, 5]);
    for (const x of r.json.rejected!) expect(x.error).toMatch(/not accepted from a public \(browser\) key.*secret ingest key/);
    expect(r.json.rejected![0]!.error).toContain('type order.paid');
    // Nothing of the refused money reached the store; the page's events did.
    expect(await kpi(pulse, 'gmv', channel, started)).toBe(0);
    expect(await kpi(pulse, 'spend', channel, started)).toBe(0);
    expect(await kpi(pulse, 'interactions', channel, started)).toBe(1);
    expect(await kpi(pulse, 'view_to_cart_rate', channel, started)).toBe(1);
    // The same order.paid with the secret key (a server) is counted.
    expect((await send(pulse, [batch[1]], { header: INGEST_KEY })).json.accepted).toBe(1);
    expect(await kpi(pulse, 'gmv', channel, started)).toBe(9_900);
  });

  it('every public type is accepted', async () => {
    const r = await send(pulse, PUBLIC_EVENT_TYPES.map((type) => ({ type, channel: 'h5-types' })), { header: PUBLIC_KEY, origin: SHOP });
    expect(r.json).toEqual({ accepted: PUBLIC_EVENT_TYPES.length, duplicates: 0, rejected: [] });
  });

  it('refuses a wrong origin, no origin, and a mini-program not listed; accepts the listed ones', async () => {
    const ev = [{ type: 'page.view', channel: 'h5-origin' }];
    for (const origin of ['https://evil.example.com', 'https://shop.example.com.evil.cn', 'http://shop.example.com', 'null']) {
      const r = await send(pulse, ev, { header: PUBLIC_KEY, origin });
      expect(r.status, origin).toBe(403);
      expect(r.json.error, origin).toMatch(/only from the pages in PULSE_CORS_ORIGINS/);
      expect(r.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
    expect((await send(pulse, ev, { header: PUBLIC_KEY })).status).toBe(403);
    expect((await send(pulse, ev, { header: PUBLIC_KEY, referer: 'https://servicewechat.com/wxffffffffffffffff/3/page-frame.html' })).status).toBe(403);
    expect((await send(pulse, ev, { header: PUBLIC_KEY, referer: `https://evil.example.com/${APPID}/3/page-frame.html` })).status).toBe(403);
    // The listed page (CORS answer included) and the listed mini-program, release and devtools builds.
    const ok = await send(pulse, ev, { header: PUBLIC_KEY, origin: 'http://10.0.0.5:3000' });
    expect(ok.status).toBe(202);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://10.0.0.5:3000');
    expect((await send(pulse, ev, { header: PUBLIC_KEY, referer: MP_REFERER })).status).toBe(202);
    expect((await send(pulse, ev, { header: PUBLIC_KEY, referer: `https://servicewechat.com/${APPID}/devtools/page-frame.html` })).status).toBe(202);
    // Secret keys are not bound to origins (servers send no Origin).
    expect((await send(pulse, ev, { header: INGEST_KEY })).status).toBe(202);
  });

  it('a public key may travel in ?key= with a text/plain body (sendBeacon); a secret key may not', async () => {
    const ev = [{ type: 'interaction', channel: 'h5-beacon' }];
    const beacon = await send(pulse, ev, { query: PUBLIC_KEY, origin: SHOP, contentType: 'text/plain;charset=UTF-8' });
    expect(beacon.status).toBe(202);
    expect(beacon.json.accepted).toBe(1);
    const secret = await send(pulse, ev, { query: INGEST_KEY });
    expect(secret.status).toBe(401);
    expect(secret.json.error).toMatch(/never in a URL/);
    expect((await send(pulse, ev, { query: 'not-a-key-0123456789', origin: SHOP })).status).toBe(401);
    expect(await kpi(pulse, 'interactions', 'h5-beacon', started)).toBe(1);
  });

  it('reads nothing and reaches no admin route', async () => {
    for (const p of ['/api/v1/kpis', '/api/v1/snapshot', `/api/v1/series?kpi=gmv`, '/metrics', '/api/v1/session']) {
      expect((await pulse.get(p, PUBLIC_KEY)).status, p).toBe(401);
      expect((await pulse.get(`${p}${p.includes('?') ? '&' : '?'}token=${PUBLIC_KEY}`, null)).status, `${p} ?token=`).toBe(401);
    }
    const admin = await fetch(`${pulse.url}/api/v1/simulator/swings`, { method: 'DELETE', headers: { authorization: `Bearer ${PUBLIC_KEY}`, origin: SHOP } });
    expect([401, 403]).toContain(admin.status);
  });

  it('exposes Retry-After to the allowed page and caps a public batch at 500 events', async () => {
    const r = await send(pulse, [{ type: 'page.view', channel: 'h5-cap' }], { header: PUBLIC_KEY, origin: SHOP });
    expect(r.headers.get('access-control-expose-headers')).toBe('Retry-After');
    const big = await send(pulse, Array.from({ length: 501 }, () => ({ type: 'page.view', channel: 'h5-cap' })), { header: PUBLIC_KEY, origin: SHOP });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatch(/501 events; the limit is 500 a request for a public key/);
  });
});

describe('per-IP rate limit of public keys', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse({
      env: { PULSE_PUBLIC_INGEST_KEYS: PUBLIC_KEY, PULSE_CORS_ORIGINS: SHOP, PULSE_PUBLIC_RATE_PER_IP: '1', PULSE_PUBLIC_BURST_PER_IP: '100', PULSE_TRUST_PROXY: 'loopback' },
    });
  });
  afterAll(() => pulse?.stopAndClean());

  const views = (n: number) => Array.from({ length: n }, () => ({ type: 'page.view', channel: 'h5-ip' }));

  it('answers 429 with Retry-After once one address has sent its burst; other addresses and secret keys go on', async () => {
    const a = '203.0.113.7';
    expect((await send(pulse, views(100), { header: PUBLIC_KEY, origin: SHOP, forwardedFor: a })).status).toBe(202);
    // 5 more events need 5 tokens; at 1 event/s a refill that large takes 5 s.
    const over = await send(pulse, views(5), { header: PUBLIC_KEY, origin: SHOP, forwardedFor: a });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(over.json.error).toMatch(/per-IP rate of public keys \(PULSE_PUBLIC_RATE_PER_IP\)/);
    // Another client behind the same trusted proxy has its own bucket …
    expect((await send(pulse, views(100), { header: PUBLIC_KEY, origin: SHOP, forwardedFor: '198.51.100.20' })).status).toBe(202);
    // … an IPv6 client's whole /64 shares one …
    expect((await send(pulse, views(100), { header: PUBLIC_KEY, origin: SHOP, forwardedFor: '2001:db8:1:2::1' })).status).toBe(202);
    expect((await send(pulse, views(5), { header: PUBLIC_KEY, origin: SHOP, forwardedFor: '2001:db8:1:2:ffff::9' })).status).toBe(429);
    // A batch above the burst could never be granted: 413, not an endless 429.
    const big = await send(pulse, views(101), { header: PUBLIC_KEY, origin: SHOP, forwardedFor: '198.51.100.99' });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatch(/the limit is 100 a request for a public key/);
    // … and a server's secret key from the limited address is not limited per IP.
    expect((await send(pulse, views(5), { header: INGEST_KEY, forwardedFor: a })).status).toBe(202);
  });
});

describe('without trust proxy, X-Forwarded-For is not believed', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse({ env: { PULSE_PUBLIC_INGEST_KEYS: PUBLIC_KEY, PULSE_CORS_ORIGINS: SHOP, PULSE_PUBLIC_RATE_PER_IP: '1', PULSE_PUBLIC_BURST_PER_IP: '100' } });
  });
  afterAll(() => pulse?.stopAndClean());

  it('a forged client address does not buy a fresh bucket', async () => {
    const ev = (n: number) => Array.from({ length: n }, () => ({ type: 'page.view', channel: 'h5-xff' }));
    expect((await send(pulse, ev(100), { header: PUBLIC_KEY, origin: SHOP, forwardedFor: '203.0.113.1' })).status).toBe(202);
    expect((await send(pulse, ev(5), { header: PUBLIC_KEY, origin: SHOP, forwardedFor: '203.0.113.2' })).status).toBe(429);
  });
});

describe('public key settings and helpers', () => {
  const base = { PULSE_INGEST_KEYS: INGEST_KEY, PULSE_READ_TOKEN: 'r'.repeat(16) };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  it('validates the settings at start-up, naming each', () => {
    const c = loadConfig({ ...base, PULSE_PUBLIC_INGEST_KEYS: PUBLIC_KEY, PULSE_CORS_ORIGINS: SHOP, PULSE_MINIPROGRAM_APPIDS: APPID, PULSE_TRUST_PROXY: '1' });
    expect(c.publicIngest).toEqual({ keys: [PUBLIC_KEY], perIp: { perSecond: 20, burst: 200 }, miniProgramAppIds: [APPID] });
    expect(c.http.trustProxy).toBe(1);
    expect(loadConfig({ ...base, PULSE_TRUST_PROXY: '10.0.0.0/8, loopback' }).http.trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
    expect(loadConfig(base).publicIngest.keys).toEqual([]);
    expect(problems({ ...base, PULSE_PUBLIC_INGEST_KEYS: PUBLIC_KEY })).toEqual([
      'PULSE_PUBLIC_INGEST_KEYS: public keys are accepted only from the pages in PULSE_CORS_ORIGINS or the mini-programs in PULSE_MINIPROGRAM_APPIDS; set at least one of them',
    ]);
    expect(problems({ ...base, PULSE_PUBLIC_INGEST_KEYS: INGEST_KEY, PULSE_CORS_ORIGINS: SHOP })[0]).toMatch(/^PULSE_PUBLIC_INGEST_KEYS: a key cannot be both public and secret/);
    expect(problems({ ...base, PULSE_PUBLIC_INGEST_KEYS: 'short', PULSE_CORS_ORIGINS: SHOP })[0]).toBe('PULSE_PUBLIC_INGEST_KEYS: must be at least 16 characters');
    expect(problems({ ...base, PULSE_MINIPROGRAM_APPIDS: 'wx123' })[0]).toMatch(/^PULSE_MINIPROGRAM_APPIDS: must be a mini-program AppID/);
    expect(problems({ ...base, PULSE_TRUST_PROXY: 'true' })[0]).toMatch(/^PULSE_TRUST_PROXY: trusting every proxy/);
    expect(problems({ ...base, PULSE_TRUST_PROXY: '10.0.0.0/40' })[0]).toMatch(/^PULSE_TRUST_PROXY: not an address/);
    expect(problems({ ...base, PULSE_PUBLIC_RATE_PER_IP: '500', PULSE_PUBLIC_BURST_PER_IP: '200' })[0]).toMatch(/^PULSE_PUBLIC_BURST_PER_IP: must be at least/);
    expect(problems({ ...base, PULSE_PUBLIC_BURST_PER_IP: '50' })[0]).toMatch(/^PULSE_PUBLIC_BURST_PER_IP: .*100/);
  });

  it('clientKey: IPv4 as is, mapped IPv4 unwrapped, IPv6 by /64', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey(undefined)).toBe('unknown');
  });

  it('publicOriginProblem matches origins exactly and mini-programs by their fixed Referer', () => {
    const policy = { corsOrigins: [SHOP], miniProgramAppIds: [APPID] };
    expect(publicOriginProblem(policy, SHOP, undefined)).toBeNull();
    expect(publicOriginProblem(policy, undefined, MP_REFERER)).toBeNull();
    expect(publicOriginProblem(policy, `${SHOP}/`, undefined)).toMatch(/refused origin/);
    expect(publicOriginProblem(policy, undefined, `${MP_REFERER}?x`)).toMatch(/refused a request with no Origin/);
    expect(trustProxyProblem('off')).toBeNull();
    expect(trustProxyProblem('11')).toMatch(/1–10/);
  });

  it('the per-IP limiter forgets clients whose bucket has refilled', () => {
    const l = new EventRateLimiter(10, 100);
    for (let i = 0; i < 50; i++) l.take(`10.0.0.${i}`, 100, 0);
    expect(l.size).toBe(50);
    l.sweep(9_999);
    expect(l.size).toBe(50);
    l.take('10.0.0.1', 1, 9_999);
    l.sweep(10_000);
    expect(l.size).toBe(1);
    // A forgotten client starts with a full bucket, exactly as if it had been kept.
    expect(l.take('10.0.0.2', 100, 10_000)).toBe(0);
  });
});
