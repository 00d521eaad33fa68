/**
 * Regression (found by fuzz.test.ts): a tag value or member id holding a lone UTF-16
 * surrogate (`"\ud800"` in JSON) was accepted. It has no UTF-8 form, so the store kept
 * U+FFFD instead: different values merged, and none read back as sent. They are refused
 * now, with a reason; well-formed astral characters (surrogate pairs) still pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tagValueProblem } from '../src/store/port.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

describe('lone surrogates', () => {
  it('tagValueProblem refuses lone halves and keeps pairs', () => {
    for (const v of ['\ud800', 'a\udc00b', 'x\udbff', '\udfffx', '\udc00\ud800']) expect(tagValueProblem(v), JSON.stringify(v)).toMatch(/lone surrogate/);
    for (const v of ['😀', '𝕏私域', 'a\ud83d\ude00b']) expect(tagValueProblem(v)).toBeNull();
  });

  describe('at the ingest API', () => {
    let pulse: TestPulse;
    beforeAll(async () => {
      pulse = await startTestPulse();
    });
    afterAll(() => pulse?.stopAndClean());

    it('refuses them in channel, community, campaign and member; accepts pairs', async () => {
      const body = '[{"type":"message","channel":"\\ud800"},{"type":"message","channel":"wecom","community":"a\\udc00"},' +
        '{"type":"message","channel":"wecom","campaign":"\\udbff"},{"type":"message","channel":"wecom","member":"m\\ud800"},' +
        '{"type":"message","channel":"\\ud83d\\ude00","member":"\\ud83d\\ude00"}]';
      const res = await pulse.post(body);
      expect(res.status).toBe(202);
      expect(res.json).toEqual({
        accepted: 1,
        duplicates: 0,
        rejected: [0, 1, 2, 3].map((index) => ({ index, error: expect.stringMatching(/^(channel|community|campaign|member): not well-formed Unicode \(a lone surrogate half\)$/) })),
      });
      // Into the store (the spool drained): reads run on their own connection and see what a
      // resolved write left, not a write still queued.
      await pulse.flushToStore();
      const series = await pulse.get(`/api/v1/series?kpi=messages&by=channel&from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}&step=1h`);
      const channels = (series.json as { series: { tags: { channel: string }; points: [number, number | null][] }[] }).series
        .filter((s) => s.points.some(([, v]) => v))
        .map((s) => s.tags.channel);
      expect(channels).toEqual(['😀']);
    });
  });
});
