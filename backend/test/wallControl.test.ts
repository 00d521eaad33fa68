/**
 * Remote control: an admin tells every open wall (or one display's) to reload or switch
 * board; the message arrives as the `control` socket event, and the answer counts sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { WallControl } from '@siyu-pulse/contracts/live';
import { request } from './harness/http.js';
import { connectLive, record } from './harness/live.js';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

/** Waits for the messages themselves (no fixed sleep): until `ok` holds, or fails after 5 s. */
async function until(ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('remote control of walls', () => {
  let pulse: TestPulse;
  let displays: { id: string; token: string }[];
  let sockets: Socket[] = [];
  beforeAll(async () => {
    pulse = await startTestPulse();
    displays = [];
    for (const name of ['A', 'B', 'unplugged']) {
      const r = await request(pulse.url, 'POST', '/api/v1/displays', { token: ADMIN_TOKEN, body: { name } });
      displays.push(r.json as { id: string; token: string });
    }
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await pulse?.stopAndClean();
  });

  const control = (body: unknown, token: string | null = ADMIN_TOKEN) => request(pulse.url, 'POST', '/api/v1/walls/control', { token, body });

  it('broadcasts to every connected wall and a target reaches only that display', async () => {
    const [a, b] = displays;
    sockets = [await connectLive(pulse.url, a!.token), await connectLive(pulse.url, b!.token), await connectLive(pulse.url, READ_TOKEN)];
    const got = sockets.map((s) => record<WallControl>(s, 'control'));

    expect(await control({ action: 'reload' })).toEqual({ status: 200, json: { sent: 3 } });
    await until(() => got.every((g) => g.length >= 1), 'the broadcast reached the three walls');
    expect(got).toEqual([[{ action: 'reload' }], [{ action: 'reload' }], [{ action: 'reload' }]]);

    expect(await control({ action: 'board', board: 'push', target: a!.id })).toEqual({ status: 200, json: { sent: 1 } });
    // A broadcast after it: a socket delivers in order, so once every wall has the broadcast,
    // a wall that got no targeted message before it never will.
    expect(await control({ action: 'reload' })).toEqual({ status: 200, json: { sent: 3 } });
    await until(() => got.every((g) => g.at(-1)?.action === 'reload' && g.length >= 2), 'the second broadcast reached the three walls');
    // The target is addressing, not part of the message.
    expect(got.map((g) => g.slice(1))).toEqual([[{ action: 'board', board: 'push' }, { action: 'reload' }], [{ action: 'reload' }], [{ action: 'reload' }]]);

    // A known display with no wall open: nothing to send to.
    expect(await control({ action: 'reload', target: displays[2]!.id })).toEqual({ status: 200, json: { sent: 0 } });
  });

  it('refuses unknown boards, actions and displays with a reason; admin only', async () => {
    expect(await control({ action: 'board', board: 'lobby' })).toEqual({ status: 400, json: { error: 'no board "lobby" (boards: overview, push, wecom, communities, retention)' } });
    expect((await control({ action: 'board' })).status).toBe(400);
    expect((await control({ action: 'dance' })).json).toEqual({ error: expect.stringMatching(/send \{"action":"reload"\}/) });
    expect((await control({ action: 'reload', extra: 1 })).status).toBe(400);
    expect((await control({ action: 'reload', target: 'nope' })).status).toBe(404);
    const revoked = displays[2]!;
    expect((await request(pulse.url, 'DELETE', `/api/v1/displays/${revoked.id}`, { token: ADMIN_TOKEN })).status).toBe(200);
    expect(await control({ action: 'reload', target: revoked.id })).toEqual({ status: 404, json: { error: `no active display "${revoked.id}"` } });
    expect((await control({ action: 'reload' }, READ_TOKEN)).status).toBe(401);
    expect((await control({ action: 'reload' }, null)).status).toBe(401);
  });
});
