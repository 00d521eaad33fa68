/**
 * Every route against every kind of credential: none, the ingest key, the read token,
 * the admin token, a display token and a revoked display token. A new route gets a row
 * here. Admin rows use bodies that are refused after authorisation (400/404) where a
 * valid one would change state, so the table checks the gate, not the feature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './harness/http.js';
import { ADMIN_TOKEN, INGEST_KEY, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

type Who = 'none' | 'ingest' | 'read' | 'admin' | 'display' | 'revoked';
const WHO: Who[] = ['none', 'ingest', 'read', 'admin', 'display', 'revoked'];

interface Row {
  method: string;
  path: string;
  body?: unknown;
  /** Status per credential, in WHO order. */
  expect: [none: number, ingest: number, read: number, admin: number, display: number, revoked: number];
}

const READ: Row['expect'] = [401, 401, 200, 200, 200, 401];
const adminOnly = (status: number): Row['expect'] => [401, 401, 401, status, 401, 401];
const EVENT = [{ type: 'message', channel: 'wecom' }];

const ROUTES: Row[] = [
  { method: 'GET', path: '/healthz', expect: [200, 200, 200, 200, 200, 200] },
  { method: 'GET', path: '/readyz', expect: [200, 200, 200, 200, 200, 200] },
  { method: 'POST', path: '/api/v1/events', body: EVENT, expect: [401, 202, 401, 401, 401, 401] },
  { method: 'GET', path: '/api/v1/session', expect: [401, 401, 200, 200, 200, 401] },
  { method: 'GET', path: '/api/v1/kpis', expect: READ },
  { method: 'GET', path: '/api/v1/snapshot', expect: READ },
  { method: 'GET', path: '/api/v1/series?kpi=messages', expect: READ },
  { method: 'GET', path: '/api/v1/alerts', expect: READ },
  { method: 'GET', path: '/api/v1/alerts/history', expect: READ },
  { method: 'POST', path: '/api/v1/alerts/ack', body: {}, expect: adminOnly(400) },
  { method: 'POST', path: '/api/v1/alerts/new-normal', body: {}, expect: adminOnly(400) },
  { method: 'GET', path: '/api/v1/rules', expect: READ },
  { method: 'GET', path: '/api/v1/alerts/feedback', expect: READ },
  { method: 'GET', path: '/api/v1/campaigns', expect: READ },
  { method: 'POST', path: '/api/v1/rules/backtest', body: {}, expect: adminOnly(400) },
  // A rule not in force: readers get the 404.
  { method: 'GET', path: '/api/v1/rules/nope/yaml', expect: [401, 401, 404, 404, 404, 401] },
  { method: 'POST', path: '/api/v1/campaigns', body: {}, expect: adminOnly(400) },
  { method: 'DELETE', path: '/api/v1/campaigns/nope', expect: adminOnly(404) },
  // No such alert: readers get the 404 with the reason, not a 401.
  { method: 'GET', path: '/api/v1/alerts/landing?key=nope%7Ctotal', expect: [401, 401, 404, 404, 404, 401] },
  { method: 'POST', path: '/api/v1/links', body: { path: '/api/v1/kpis' }, expect: adminOnly(400) },
  { method: 'POST', path: '/api/v1/links/rotate', expect: adminOnly(200) },
  { method: 'GET', path: '/api/v1/briefs/morning', expect: READ },
  { method: 'GET', path: '/api/v1/playlist', expect: READ },
  { method: 'GET', path: '/api/v1/playlists', expect: adminOnly(200) },
  { method: 'PUT', path: '/api/v1/playlists/nope', body: { items: [] }, expect: adminOnly(404) },
  { method: 'DELETE', path: '/api/v1/playlists/nope', expect: adminOnly(404) },
  // No robot configured in the route table: an admin gets 409 with the reason.
  { method: 'POST', path: '/api/v1/briefs/morning', expect: adminOnly(409) },
  { method: 'GET', path: '/api/v1/rules/precision', expect: READ },
  { method: 'POST', path: '/api/v1/alerts/00000000-0000-0000-0000-000000000000/feedback', body: { verdict: 'valid' }, expect: adminOnly(404) },
  { method: 'DELETE', path: '/api/v1/alerts/00000000-0000-0000-0000-000000000000/feedback', expect: adminOnly(404) },
  // Imports (npm run import): admin only; a malformed import id is the admin's 400.
  { method: 'GET', path: '/api/v1/imports/0123456789abcdef', expect: adminOnly(200) },
  { method: 'POST', path: '/api/v1/imports/nope/batches/0?lines=10', body: EVENT, expect: adminOnly(400) },
  { method: 'POST', path: '/api/v1/imports/0123456789abcdef/finish', expect: adminOnly(200) },
  { method: 'GET', path: '/api/v1/silences', expect: READ },
  { method: 'POST', path: '/api/v1/silences', body: {}, expect: adminOnly(400) },
  { method: 'DELETE', path: '/api/v1/silences/nope', expect: adminOnly(404) },
  { method: 'GET', path: '/api/v1/notifiers', expect: READ },
  { method: 'POST', path: '/api/v1/notifiers/nope/test', expect: adminOnly(404) },
  // The simulator is off in tests: an admin gets 409 with the reason.
  { method: 'GET', path: '/api/v1/simulator/swings', expect: adminOnly(409) },
  { method: 'POST', path: '/api/v1/simulator/swings', body: { kpi: 'gmv', factor: 0.5 }, expect: adminOnly(409) },
  { method: 'DELETE', path: '/api/v1/simulator/swings', expect: adminOnly(409) },
  { method: 'GET', path: '/metrics', expect: READ },
  { method: 'GET', path: '/api/v1/displays', expect: adminOnly(200) },
  { method: 'POST', path: '/api/v1/displays', body: { name: 'route table' }, expect: adminOnly(201) },
  { method: 'DELETE', path: '/api/v1/displays/nope', expect: adminOnly(404) },
  { method: 'GET', path: '/api/v1/boards', expect: READ },
  { method: 'POST', path: '/api/v1/walls/control', body: { action: 'reload' }, expect: adminOnly(200) },
  { method: 'POST', path: '/api/v1/reports/weekly', body: { week: 'not-a-week' }, expect: adminOnly(400) },
  { method: 'GET', path: '/api/v1/reports', expect: READ },
  // No report for that week yet: readers get the 404, not a 401.
  { method: 'GET', path: '/api/v1/reports/2026-W01', expect: [401, 401, 404, 404, 404, 401] },
  { method: 'GET', path: '/api/v1/nope', expect: [404, 404, 404, 404, 404, 404] },
];

describe('route access table', () => {
  let pulse: TestPulse;
  const tokens: Record<Who, string | null> = { none: null, ingest: INGEST_KEY, read: READ_TOKEN, admin: ADMIN_TOKEN, display: null, revoked: null };
  beforeAll(async () => {
    pulse = await startTestPulse();
    const create = async (name: string) => (await request(pulse.url, 'POST', '/api/v1/displays', { token: ADMIN_TOKEN, body: { name } })).json as { id: string; token: string };
    tokens.display = (await create('table')).token;
    const revoked = await create('table revoked');
    tokens.revoked = revoked.token;
    await request(pulse.url, 'DELETE', `/api/v1/displays/${revoked.id}`, { token: ADMIN_TOKEN });
  });
  afterAll(() => pulse?.stopAndClean());

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', async (_name, row) => {
    const got: Record<string, number> = {};
    const want: Record<string, number> = {};
    for (const [i, who] of WHO.entries()) {
      got[who] = (await request(pulse.url, row.method, row.path, { token: tokens[who], body: row.body })).status;
      want[who] = row.expect[i]!;
    }
    expect(got).toEqual(want);
  });

  it('read routes take a token in ?token= (wall URLs); ingest and admin routes do not', async () => {
    const q = (path: string, token: string) => `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
    expect((await request(pulse.url, 'GET', q('/api/v1/snapshot', tokens.display!))).status).toBe(200);
    expect((await request(pulse.url, 'GET', q('/api/v1/boards', READ_TOKEN))).status).toBe(200);
    expect((await request(pulse.url, 'GET', q('/api/v1/boards', tokens.revoked!))).status).toBe(401);
    expect((await request(pulse.url, 'POST', q('/api/v1/walls/control', ADMIN_TOKEN), { body: { action: 'reload' } })).status).toBe(401);
    expect((await request(pulse.url, 'GET', q('/api/v1/displays', ADMIN_TOKEN))).status).toBe(401);
    expect((await request(pulse.url, 'POST', q('/api/v1/events', INGEST_KEY), { body: EVENT })).status).toBe(401);
  });

  it('the sign-in answer says what a token may do, and never echoes it', async () => {
    const session = async (token: string | null) => request(pulse.url, 'GET', '/api/v1/session', { token });
    expect((await session(READ_TOKEN)).json).toEqual({ scopes: ['read'], displayId: null, readOpen: false, adminEnabled: true, timezone: 'Asia/Shanghai', demo: false });
    expect((await session(ADMIN_TOKEN)).json).toEqual({ scopes: ['read', 'admin'], displayId: null, readOpen: false, adminEnabled: true, timezone: 'Asia/Shanghai', demo: false });
    expect((await session(tokens.display)).json).toMatchObject({ scopes: ['read'], displayId: expect.any(String) });
    const wrong = await session('not-a-token-0123456789');
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.json)).not.toContain('not-a-token');
  });
});

describe('route access with open reading (loopback demo)', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse({ env: { PULSE_DEMO: 'on', PULSE_READ_TOKEN: '' } });
  });
  afterAll(() => pulse?.stopAndClean());

  it('reads without a token, but a revoked display token is still told it was revoked', async () => {
    expect(pulse.config.readToken).toBeNull();
    expect((await request(pulse.url, 'GET', '/api/v1/boards')).status).toBe(200);
    const d = (await request(pulse.url, 'POST', '/api/v1/displays', { token: ADMIN_TOKEN, body: { name: 'demo wall' } })).json as { id: string; token: string };
    expect((await request(pulse.url, 'GET', '/api/v1/boards', { token: d.token })).status).toBe(200);
    await request(pulse.url, 'DELETE', `/api/v1/displays/${d.id}`, { token: ADMIN_TOKEN });
    expect(await request(pulse.url, 'GET', '/api/v1/boards', { token: d.token })).toEqual({ status: 401, json: { error: expect.stringMatching(/revoked/), revoked: true } });
    // Admin stays closed without its token.
    expect((await request(pulse.url, 'GET', '/api/v1/displays')).status).toBe(401);
    // Sign-in: no token reads; a mistyped token is refused rather than taken as a reader.
    expect((await request(pulse.url, 'GET', '/api/v1/session')).json).toMatchObject({ scopes: ['read'], readOpen: true });
    expect((await request(pulse.url, 'GET', '/api/v1/session', { token: 'typo-admin-token-0123456789' })).status).toBe(401);
  });
});
