/**
 * Display tokens end to end: created by an admin (shown once), read-only on REST and the
 * live socket, revoked at once (REST 401, open sockets told why and disconnected), and
 * kept across a restart as digests only.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WallControl } from '@siyu-pulse/contracts/live';
import { request } from './harness/http.js';
import { connectError, connectLive, nextEvent, record } from './harness/live.js';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

interface Created {
  id: string;
  name: string;
  token: string;
  createdAt: number;
  url: string;
}
interface Listed {
  id: string;
  name: string;
  createdAt: number;
  lastSeenAt: number | null;
  revokedAt?: number;
  connected: number;
}

async function createDisplay(pulse: TestPulse, name: string): Promise<Created> {
  const r = await request(pulse.url, 'POST', '/api/v1/displays', { token: ADMIN_TOKEN, body: { name } });
  expect(r.status).toBe(201);
  return r.json as Created;
}

async function listDisplays(pulse: TestPulse): Promise<Listed[]> {
  const r = await request(pulse.url, 'GET', '/api/v1/displays', { token: ADMIN_TOKEN });
  expect(r.status).toBe(200);
  return (r.json as { displays: Listed[] }).displays;
}

describe('display tokens', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse();
  });
  afterAll(() => pulse?.stopAndClean());

  it('creates a token shown once inside its wall URL; it reads REST and the live socket', async () => {
    const before = Date.now();
    const d = await createDisplay(pulse, '3F 运营大屏');
    expect(d).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), name: '3F 运营大屏', token: expect.stringMatching(/^pd_[\w-]{32}$/), createdAt: expect.any(Number), url: `${pulse.url}/?token=${d.token}` });
    expect(d.createdAt).toBeGreaterThanOrEqual(before);

    expect((await request(pulse.url, 'GET', '/api/v1/snapshot', { token: d.token })).status).toBe(200);
    // The wall URL form: the token in the query string.
    expect((await request(pulse.url, 'GET', `/api/v1/snapshot?token=${d.token}`)).status).toBe(200);
    expect((await request(pulse.url, 'GET', '/api/v1/boards', { token: d.token })).status).toBe(200);

    const socket = await connectLive(pulse.url, d.token);
    try {
      const listed = (await listDisplays(pulse)).find((x) => x.id === d.id)!;
      expect(listed).toEqual({ id: d.id, name: '3F 运营大屏', createdAt: d.createdAt, lastSeenAt: expect.any(Number), connected: 1 });
      expect(JSON.stringify(await listDisplays(pulse))).not.toContain(d.token);
    } finally {
      socket.close();
    }
  });

  it('grants the read scope only: no ingest, no admin', async () => {
    const d = await createDisplay(pulse, 'lobby');
    expect((await pulse.post('[]', { key: d.token })).status).toBe(401);
    expect((await request(pulse.url, 'GET', '/api/v1/displays', { token: d.token })).status).toBe(401);
    expect((await request(pulse.url, 'POST', '/api/v1/displays', { token: d.token, body: { name: 'x' } })).status).toBe(401);
    expect((await request(pulse.url, 'DELETE', `/api/v1/displays/${d.id}`, { token: d.token })).status).toBe(401);
    expect((await request(pulse.url, 'POST', '/api/v1/walls/control', { token: d.token, body: { action: 'reload' } })).status).toBe(401);
    expect((await request(pulse.url, 'POST', '/api/v1/silences', { token: d.token, body: {} })).status).toBe(401);
  });

  it('refuses a create without a usable name, and from a read token', async () => {
    const bad = async (body: unknown) => request(pulse.url, 'POST', '/api/v1/displays', { token: ADMIN_TOKEN, body });
    expect((await bad({})).status).toBe(400);
    expect((await bad({ name: '   ' })).json).toEqual({ error: expect.stringMatching(/^name: /) });
    expect((await bad({ name: 'x'.repeat(65) })).status).toBe(400);
    expect((await bad({ name: 'ok', token: 'chosen' })).status).toBe(400);
    expect((await request(pulse.url, 'POST', '/api/v1/displays', { token: READ_TOKEN, body: { name: 'x' } })).status).toBe(401);
  });

  it('revoking answers REST 401 at once and tells the open socket why before disconnecting it', async () => {
    const victim = await createDisplay(pulse, 'stolen');
    const other = await createDisplay(pulse, 'still fine');
    const socket = await connectLive(pulse.url, victim.token);
    const otherSocket = await connectLive(pulse.url, other.token);
    const otherControls = record<WallControl>(otherSocket, 'control');
    try {
      const control = nextEvent<WallControl>(socket, 'control');
      const disconnected = nextEvent<string>(socket, 'disconnect');

      const r = await request(pulse.url, 'DELETE', `/api/v1/displays/${victim.id}`, { token: ADMIN_TOKEN });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ display: { id: victim.id, name: 'stolen', createdAt: victim.createdAt, lastSeenAt: expect.any(Number), revokedAt: expect.any(Number) }, disconnected: 1 });
      expect(await control).toEqual({ action: 'revoked' });
      // A server-side disconnect: the client does not reconnect by itself.
      expect(await disconnected).toBe('io server disconnect');

      const rest = await request(pulse.url, 'GET', '/api/v1/snapshot', { token: victim.token });
      expect(rest).toEqual({ status: 401, json: { error: expect.stringMatching(/revoked/), revoked: true } });
      expect((await request(pulse.url, 'GET', `/api/v1/kpis?token=${victim.token}`)).status).toBe(401);
      expect(await connectError(pulse.url, victim.token)).toMatch(/revoked/);

      // Only that display: the other wall reads on, connected and untold.
      expect((await request(pulse.url, 'GET', '/api/v1/snapshot', { token: other.token })).status).toBe(200);
      expect(otherSocket.connected).toBe(true);
      expect(otherControls).toEqual([]);

      const listed = (await listDisplays(pulse)).find((x) => x.id === victim.id)!;
      expect(listed.revokedAt).toEqual(expect.any(Number));
      expect(listed.connected).toBe(0);
      // Idempotent; unknown ids are 404.
      expect((await request(pulse.url, 'DELETE', `/api/v1/displays/${victim.id}`, { token: ADMIN_TOKEN })).json).toMatchObject({ disconnected: 0, display: { revokedAt: listed.revokedAt } });
      expect((await request(pulse.url, 'DELETE', '/api/v1/displays/nope', { token: ADMIN_TOKEN })).status).toBe(404);
    } finally {
      socket.close();
      otherSocket.close();
    }
  });

  it('a wall offline during the revocation cannot slip back in through connection-state recovery', async () => {
    const d = await createDisplay(pulse, 'briefly offline');
    const socket = io(`${pulse.url}/live`, { auth: { token: d.token }, transports: ['websocket'], reconnectionDelay: 500, randomizationFactor: 0 });
    try {
      await nextEvent(socket, 'snapshot');
      await nextEvent(socket, 'tick'); // a broadcast offset to recover from
      const control = nextEvent<WallControl>(socket, 'control');
      const reconnected = new Promise<boolean>((resolve) => socket.once('connect', () => resolve(socket.recovered)));
      socket.io.engine.close(); // a network blip: the server keeps the session for recovery
      const until = Date.now() + 5_000;
      while ((await listDisplays(pulse)).find((x) => x.id === d.id)!.connected > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect((await request(pulse.url, 'DELETE', `/api/v1/displays/${d.id}`, { token: ADMIN_TOKEN })).json).toMatchObject({ disconnected: 0 });

      expect(await reconnected).toBe(true);
      expect(await control).toEqual({ action: 'revoked' });
      await new Promise((r) => setTimeout(r, 100));
      expect(socket.connected).toBe(false);
    } finally {
      socket.close();
    }
  });

  it('an unknown token that looks like a display token reads nothing', async () => {
    expect((await request(pulse.url, 'GET', '/api/v1/snapshot', { token: `pd_${'A'.repeat(32)}` })).status).toBe(401);
    expect(await connectError(pulse.url, `pd_${'A'.repeat(32)}`)).toMatch(/unauthorized/);
  });
});

describe('display tokens across a restart', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-displays-'));
  let pulse: TestPulse | undefined;
  afterAll(async () => {
    await pulse?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps tokens (as SHA-256 digests only), revocations and lastSeenAt', async () => {
    pulse = await startTestPulse({ dataDir });
    const kept = await createDisplay(pulse, 'kept');
    const revoked = await createDisplay(pulse, 'revoked');
    expect((await request(pulse.url, 'DELETE', `/api/v1/displays/${revoked.id}`, { token: ADMIN_TOKEN })).status).toBe(200);
    const socket = await connectLive(pulse.url, kept.token);
    socket.close();
    await pulse.close();

    const file = readFileSync(path.join(dataDir, 'displays.json'), 'utf8');
    expect(file).not.toContain(kept.token);
    expect(file).not.toContain(revoked.token);
    expect(file).toContain(createHash('sha256').update(kept.token).digest('hex'));

    pulse = await startTestPulse({ dataDir });
    expect((await request(pulse.url, 'GET', '/api/v1/snapshot', { token: kept.token })).status).toBe(200);
    expect((await request(pulse.url, 'GET', '/api/v1/snapshot', { token: revoked.token })).status).toBe(401);
    (await connectLive(pulse.url, kept.token)).close();
    const listed = await listDisplays(pulse);
    expect(listed.map((d) => [d.name, d.revokedAt === undefined, d.lastSeenAt === null])).toEqual([
      ['kept', true, false],
      ['revoked', false, true],
    ]);
  });

  it('a damaged displays.json stops start-up instead of logging every wall out', async () => {
    await pulse?.close();
    pulse = undefined;
    writeFileSync(path.join(dataDir, 'displays.json'), '{"displays": [');
    await expect(startTestPulse({ dataDir })).rejects.toThrow(/displays\.json is not valid JSON/);
  });
});
