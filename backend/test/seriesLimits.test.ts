/**
 * Bounds of one history answer: ≤ 2000 points per series (existing), and ≤ 100,000 points
 * across all series, so a fine step split by a many-valued dimension is refused with the
 * numbers instead of building a huge answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

describe('series answer size', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse();
    const now = Date.now();
    const events = Array.from({ length: 60 }, (_, i) => ({ type: 'message', channel: 'wecom', community: `群${i}`, ts: now - 1_000 }));
    expect((await pulse.post(JSON.stringify(events))).status).toBe(202);
    await pulse.flushToStore();
  });
  afterAll(() => pulse?.stopAndClean());

  it('refuses 60 communities × 1,980 points, and answers the same split at a coarser step', async () => {
    const to = Date.now();
    const from = to - 19_800_000; // 5.5 h of 10 s steps
    const fine = await pulse.get(`/api/v1/series?kpi=messages&from=${from}&to=${to}&step=10s&by=community`);
    expect(fine.status).toBe(400);
    expect((fine.json as { error: string }).error).toMatch(/60 series × 198\d points; the limit is 100000/);
    const coarse = await pulse.get(`/api/v1/series?kpi=messages&from=${from}&to=${to}&step=1m&by=community`);
    expect(coarse.status).toBe(200);
    expect((coarse.json as { series: unknown[] }).series).toHaveLength(60);
  });
});
