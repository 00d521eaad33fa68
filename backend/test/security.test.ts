/**
 * Security at the HTTP edge, against a real server: hashed tokens in configuration,
 * security headers (CSP, HSTS only behind https), CORS off by default and exact when on,
 * URL bounds, header / request deadlines against slow clients, and tokens kept out of logs.
 */
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { TokenSet, hashToken } from '../src/http/auth.js';
import { MAX_URL_BYTES } from '../src/http/security.js';
import { createLogger, REDACTED_PATHS } from '../src/observability/logger.js';
import { startPulse } from '../src/server.js';
import { request } from './harness/http.js';
import { ADMIN_TOKEN, INGEST_KEY, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const EVENT = [{ type: 'message', channel: 'wecom' }];

describe('hashed tokens', () => {
  it('hashToken gives sha256:<hex of the UTF-8 bytes>, and TokenSet takes either form', () => {
    expect(hashToken('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const set = new TokenSet([hashToken('令牌-0123456789abcdef'), 'plain-token-0123456789']);
    expect(set.has('令牌-0123456789abcdef')).toBe(true);
    expect(set.has('plain-token-0123456789')).toBe(true);
    // The digest is not itself a credential.
    expect(set.has(hashToken('令牌-0123456789abcdef'))).toBe(false);
    expect(new TokenSet([hashToken('x').toUpperCase().replace('SHA256:', 'sha256:')]).has('x')).toBe(true);
  });

  describe('configured hashed, against a real server', () => {
    let pulse: TestPulse;
    beforeAll(async () => {
      pulse = await startTestPulse({
        env: { PULSE_ADMIN_TOKEN: hashToken(ADMIN_TOKEN), PULSE_READ_TOKEN: hashToken(READ_TOKEN), PULSE_INGEST_KEYS: `${hashToken(INGEST_KEY)},plain-second-key-0123456789` },
      });
    });
    afterAll(() => pulse?.stopAndClean());

    it('the plain tokens authorise for their scope; the digests do not', async () => {
      expect((await request(pulse.url, 'GET', '/api/v1/displays', { token: ADMIN_TOKEN })).status).toBe(200);
      expect((await request(pulse.url, 'GET', '/api/v1/session', { token: ADMIN_TOKEN })).json).toMatchObject({ scopes: ['read', 'admin'] });
      expect((await request(pulse.url, 'GET', '/api/v1/kpis', { token: READ_TOKEN })).status).toBe(200);
      expect((await request(pulse.url, 'POST', '/api/v1/events', { token: INGEST_KEY, body: EVENT })).status).toBe(202);
      expect((await request(pulse.url, 'POST', '/api/v1/events', { token: 'plain-second-key-0123456789', body: EVENT })).status).toBe(202);
      expect((await request(pulse.url, 'GET', '/api/v1/displays', { token: hashToken(ADMIN_TOKEN) })).status).toBe(401);
      expect((await request(pulse.url, 'GET', '/api/v1/kpis', { token: hashToken(READ_TOKEN) })).status).toBe(401);
      expect((await request(pulse.url, 'GET', '/api/v1/displays', { token: READ_TOKEN })).status).toBe(401);
    });
  });
});

describe('security headers, CORS off, URL bounds', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse();
  });
  afterAll(() => pulse?.stopAndClean());

  it('every answer carries the CSP and the helmet set; no HSTS on plain http', async () => {
    for (const p of ['/healthz', '/api/v1/kpis', '/api/v1/nope', '/']) {
      const res = await fetch(`${pulse.url}${p}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
      await res.body?.cancel();
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, p).toContain("default-src 'self'");
      expect(csp, p).toContain("script-src 'self';");
      expect(csp, p).toContain("object-src 'none'");
      expect(csp, p).toContain("frame-ancestors 'self'");
      expect(csp, p).not.toContain('upgrade-insecure-requests');
      expect(csp, p).not.toMatch(/script-src[^;]*unsafe/);
      expect(res.headers.get('x-content-type-options'), p).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), p).toBe('no-referrer');
      expect(res.headers.get('x-frame-options'), p).toBe('SAMEORIGIN');
      expect(res.headers.get('strict-transport-security'), p).toBeNull();
      expect(res.headers.get('x-powered-by'), p).toBeNull();
    }
  });

  it('CORS is off: no Access-Control-Allow-Origin, and a preflight is refused with a reason', async () => {
    const pre = await fetch(`${pulse.url}/api/v1/events`, {
      method: 'OPTIONS',
      headers: { origin: 'https://bi.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(pre.status).toBe(403);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await pre.json()) as { error: string }).error).toMatch(/PULSE_CORS_ORIGINS/);
    const get = await fetch(`${pulse.url}/api/v1/kpis`, { headers: { origin: 'https://bi.example.com', authorization: `Bearer ${READ_TOKEN}` } });
    await get.body?.cancel();
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses URLs over 8 KB with 414 and a reason (431 past the 16 KB header limit of Node, with a reason too)', async () => {
    const q = (n: number) => `/api/v1/series?kpi=messages&channel=${'x'.repeat(n)}`;
    const justUnder = await request(pulse.url, 'GET', q(MAX_URL_BYTES - 40), { token: READ_TOKEN });
    expect(justUnder.status).toBe(200); // reached the route
    const over = await request(pulse.url, 'GET', q(MAX_URL_BYTES), { token: READ_TOKEN });
    expect(over).toEqual({ status: 414, json: { error: expect.stringMatching(/URL longer than 8192 bytes/) } });
    // Raw socket, closed by us: a client still sending a URL Node refused lingers on the
    // server until the request timeout.
    const socket = connect(pulse.port, '127.0.0.1');
    socket.on('error', () => {});
    const head = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
    socket.write(`GET ${q(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(await head).toMatch(/^HTTP\/1\.1 431 [\s\S]*\r\n\r\n\{"error":"request line and headers over/);
    socket.destroy();
    expect((await request(pulse.url, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('CORS with PULSE_CORS_ORIGINS, HSTS behind https', () => {
  let pulse: TestPulse;
  const ALLOWED = 'https://bi.example.com';
  beforeAll(async () => {
    pulse = await startTestPulse({ env: { PULSE_CORS_ORIGINS: `${ALLOWED}, http://127.0.0.1:3000`, PULSE_PUBLIC_URL: 'https://pulse.example.com' } });
  });
  afterAll(() => pulse?.stopAndClean());

  const preflight = (origin: string, path = '/api/v1/events') =>
    fetch(`${pulse.url}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });

  it('a listed origin passes the preflight with exactly what the API needs', async () => {
    const res = await preflight(ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,POST,DELETE');
    expect(res.headers.get('access-control-allow-headers')).toBe('Authorization,Content-Type');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const get = await fetch(`${pulse.url}/api/v1/kpis`, { headers: { origin: ALLOWED, authorization: `Bearer ${READ_TOKEN}` } });
    await get.body?.cancel();
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(get.headers.get('vary')).toMatch(/Origin/);
  });

  it('origins match exactly: another host, scheme, port or a suffix trick is refused', async () => {
    for (const origin of ['https://evil.example.com', 'http://bi.example.com', 'https://bi.example.com:8443', 'https://bi.example.com.evil.cn', 'null']) {
      const res = await preflight(origin);
      expect(res.status, origin).toBe(403);
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
      await res.body?.cancel();
    }
  });

  it('CORS covers the API only, not the wall or /metrics', async () => {
    const res = await fetch(`${pulse.url}/metrics`, { headers: { origin: ALLOWED, authorization: `Bearer ${READ_TOKEN}` } });
    await res.body?.cancel();
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends HSTS and upgrade-insecure-requests when the public URL is https', async () => {
    const res = await fetch(`${pulse.url}/healthz`);
    await res.body?.cancel();
    expect(res.headers.get('strict-transport-security')).toBe('max-age=15552000');
    expect(res.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
  });
});

/** Resolves with when the server closed the socket (ms after `t0`) and what it sent. */
function closedAfter(socket: Socket, t0: number): Promise<{ ms: number; received: string }> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ ms: Date.now() - t0, received }));
  });
}

describe('deadlines for slow clients', () => {
  let pulse: TestPulse;
  const HEADERS_MS = 600;
  const REQUEST_MS = 1500;
  beforeAll(async () => {
    pulse = await startTestPulse({ env: { PULSE_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS), PULSE_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS), PULSE_HTTP_KEEPALIVE_TIMEOUT_MS: '800' } });
  });
  afterAll(() => pulse?.stopAndClean());

  it('uses the configured timeouts', () => {
    expect(pulse.http.headersTimeout).toBe(HEADERS_MS);
    expect(pulse.http.requestTimeout).toBe(REQUEST_MS);
    expect(pulse.http.keepAliveTimeout).toBe(800);
  });

  it('slowloris: half the headers, then a byte now and then, is cut off at the headers timeout', async () => {
    const socket = connect(pulse.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const t0 = Date.now();
    const closed = closedAfter(socket, t0);
    socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${READ_TOKEN}\r\n`);
    // Trickling keeps the socket busy but must not extend the deadline.
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write('X-Slow: y\r\n');
    }, 100);
    const { ms, received } = await closed;
    clearInterval(trickle);
    expect(ms).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(ms).toBeLessThan(HEADERS_MS + HEADERS_MS / 4 + 700);
    expect(received).toMatch(/^HTTP\/1\.1 408 [\s\S]*\r\n\r\n\{"error":"the request was not received in time"\}$/);
    expect((await request(pulse.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('a body that never finishes is cut off at the request timeout', async () => {
    const socket = connect(pulse.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const t0 = Date.now();
    const closed = closedAfter(socket, t0);
    socket.write(`POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${INGEST_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[`);
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 100);
    const { ms, received } = await closed;
    clearInterval(trickle);
    expect(ms).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(ms).toBeLessThan(REQUEST_MS + HEADERS_MS / 4 + 1000);
    expect(received).toMatch(/^HTTP\/1\.1 408 [\s\S]*\r\n\r\n\{"error":"the request was not received in time"\}$/);
  });

  it('malformed HTTP gets a 400 with a reason', async () => {
    const socket = connect(pulse.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const closed = closedAfter(socket, Date.now());
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect((await closed).received).toMatch(/^HTTP\/1\.1 400 [\s\S]*\{"error":"malformed HTTP request"\}$/);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const socket = connect(pulse.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const closed = closedAfter(socket, 0);
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const t0 = Date.now();
    const { ms, received } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    // Node keeps the socket up to a second past the advertised keep-alive timeout.
    expect(ms - t0).toBeLessThan(800 + 1000 + 1000);
  });
});

describe('tokens stay out of logs', () => {
  it('the logger censors credential fields', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
    const logger = pino({ level: 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
    logger.info({ req: { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, query: { token: READ_TOKEN } }, notifier: { token: INGEST_KEY } }, 'x');
    expect(lines.join('')).not.toMatch(/test-(admin|read|ingest)/);
    expect(lines.join('')).toContain('[redacted]');
    expect(createLogger('silent').level).toBe('silent');
  });

  it('a server at trace level, hit with good and bad tokens, bad bodies and a banner-free start, logs none of them', async () => {
    const out: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (out.push(chunk.toString()), cb()) });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-logs-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', PULSE_DATA_DIR: dataDir, PULSE_INGEST_KEYS: INGEST_KEY, PULSE_READ_TOKEN: READ_TOKEN, PULSE_ADMIN_TOKEN: ADMIN_TOKEN, PULSE_SIMULATOR: 'off', PULSE_FLUSH_MS: '100' });
    const handle = await startPulse(config, pino({ level: 'trace', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink));
    try {
      const wrong = 'wrong-token-must-not-be-logged-0123';
      for (const token of [INGEST_KEY, READ_TOKEN, ADMIN_TOKEN, wrong]) {
        await request(handle.url, 'POST', '/api/v1/events', { token, body: EVENT });
        await request(handle.url, 'GET', `/api/v1/kpis?token=${token}`);
        await request(handle.url, 'POST', '/api/v1/silences', { token, body: { bad: true } });
        await fetch(`${handle.url}/api/v1/silences`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"broken' }).then((r) => r.text());
      }
      await new Promise((r) => setTimeout(r, 300));
      const text = out.join('');
      for (const t of [INGEST_KEY, READ_TOKEN, ADMIN_TOKEN, wrong]) expect(text).not.toContain(t);
    } finally {
      await handle.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
