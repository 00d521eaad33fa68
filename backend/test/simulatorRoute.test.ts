/**
 * The simulator wired into the product: demo events flow through ingest into the live
 * view, and the admin API injects and clears swings with validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveSnapshot } from '@siyu-pulse/contracts/live';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

describe('simulator in the server', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse({ env: { PULSE_SIMULATOR: 'on', PULSE_SIMULATOR_RATE: '400' } });
  });
  afterAll(() => pulse?.stopAndClean());

  const call = async (method: string, body?: unknown, token = ADMIN_TOKEN) => {
    const res = await fetch(`${pulse.url}/api/v1/simulator/swings`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };

  it('simulated events reach the live view through ingest', async () => {
    // Waits for the simulator's first events rather than a fixed time.
    const deadline = Date.now() + 10_000;
    let snap = (await pulse.get('/api/v1/snapshot')).json as LiveSnapshot;
    while ((snap.freshness.lastEventAt === null || Object.keys(snap.windows.today.byChannel).length < 2) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      snap = (await pulse.get('/api/v1/snapshot')).json as LiveSnapshot;
    }
    expect(snap.freshness.lastEventAt).not.toBeNull();
    expect(Object.keys(snap.windows.today.byChannel).length).toBeGreaterThan(1);
  });

  it('injects, lists and clears a swing; refuses bad ones with a reason; admin only', async () => {
    const created = await call('POST', { kpi: 'push_open_rate', channel: 'wecom', factor: 0.84, durationSeconds: 600 });
    expect(created.status).toBe(201);
    const listed = await call('GET');
    expect(listed.json!.swings).toHaveLength(1);
    expect((await call('POST', { kpi: 'gmv', channel: 'nowhere', factor: 0.5 })).json).toEqual({ error: expect.stringMatching(/^channel must be one of the simulated channels/) });
    expect((await call('POST', { kpi: 'nope', factor: 0.5 })).status).toBe(400);
    expect((await call('POST', { kpi: 'gmv', factor: -1 })).status).toBe(400);
    expect((await call('POST', { kpi: 'gmv', factor: 0.5 }, READ_TOKEN)).status).toBe(401);
    expect((await call('DELETE')).status).toBe(204);
    expect((await call('GET')).json!.swings).toHaveLength(0);
  });
});
