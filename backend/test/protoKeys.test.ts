/**
 * Producer-chosen ids never reach Object.prototype: a channel called `__proto__` (or
 * `constructor`) is an ordinary key in the wall's per-channel values, including the
 * month-level values the server computes from stored sketches. The fuzz test found the
 * month values writing `active_members_30d` onto Object.prototype through such a channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

describe('producer-chosen keys', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse({});
  });
  afterAll(async () => {
    await pulse?.stopAndClean();
  });

  it('a channel named __proto__ or constructor is counted as a channel and pollutes nothing', async () => {
    const now = Date.now();
    const events = ['__proto__', 'constructor', 'wecom'].flatMap((channel, c) =>
      Array.from({ length: 3 }, (_, i) => ({ id: `p-${c}-${i}`, type: 'message', ts: now - 1000, channel, member: `m-${c}-${i}` })),
    );
    const res = await pulse.post(JSON.stringify(events));
    expect(res.status).toBe(202);
    // Stores the rows and recomputes the month-level values per channel from the sketches.
    await pulse.flushToStore();
    const probe: Record<string, unknown> = {};
    expect(probe.active_members_30d).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'active_members_30d')).toBe(false);
    const snap = (await pulse.get('/api/v1/snapshot')).json as { windows: Record<string, { byChannel: Record<string, Record<string, number | null>> }> };
    const today = snap.windows.today!;
    expect(Object.keys(today.byChannel).sort()).toEqual(['__proto__', 'constructor', 'wecom']);
    expect(today.byChannel['wecom']!.messages).toBe(3);
  });
});
