/**
 * `band.scale: level`, pure: deviations are remembered with the scale of the expected value
 * they were measured against and rescaled to the current one (a count's noise grows with
 * √level, a ratio's falls with √denominator), within a bounded factor; deviations without a
 * scale (state saved before, a zero baseline) are used as seen.
 */
import { describe, expect, it } from 'vitest';
import { bandHalfWidth, emptyNoise, MAX_NOISE_RESCALE, noiseScale, recordNoise, type NoiseMemory } from '../../../src/kinds/seasonal/baseline.js';
import type { NoiseBand } from '@siyu-pulse/contracts/rules';

const MIN = 60_000;
const HOUR = 60 * MIN;
const band: NoiseBand = { quantile: 0.5, k: 1, spanMs: 7 * 24 * HOUR, minHistoryMs: 0, learnOnCalendarDays: true, pending: 'learn', scale: 'level' };

/** Twelve hours of deviations of 40 learnt against an expected count of 400 (scale √400 = 20). */
function learnt(b: NoiseBand): NoiseMemory {
  const mem = emptyNoise();
  for (let t = 0; t < 12 * HOUR; t += 5 * MIN) recordNoise(mem, t, 40, b, HOUR, noiseScale(false, { value: 400, sample: 400 }));
  return mem;
}

describe('a band that follows the level', () => {
  const t = 12 * HOUR;

  it('counts: √level, so a quarter of the level has half the band', () => {
    expect(bandHalfWidth(learnt(band), t, band, HOUR, noiseScale(false, { value: 100, sample: 100 }))).toBeCloseTo(20);
    expect(bandHalfWidth(learnt(band), t, band, HOUR, noiseScale(false, { value: 1600, sample: 1600 }))).toBeCloseTo(80);
  });

  it('ratios: the denominator, so four times the deliveries has half the band', () => {
    const mem = emptyNoise();
    for (let s = 0; s < 12 * HOUR; s += 5 * MIN) recordNoise(mem, s, 0.04, band, HOUR, noiseScale(true, { value: 0.2, sample: 1000 }));
    expect(bandHalfWidth(mem, t, band, HOUR, noiseScale(true, { value: 0.2, sample: 4000 }))).toBeCloseTo(0.02);
  });

  it('the expected value\'s own noise: against a median of 3 days the band is wider than against a median of 7', () => {
    const mem = emptyNoise();
    for (let s = 0; s < 12 * HOUR; s += 5 * MIN) recordNoise(mem, s, 40, band, HOUR, noiseScale(false, { value: 400, sample: 400 }, 7));
    const three = bandHalfWidth(mem, t, band, HOUR, noiseScale(false, { value: 400, sample: 400 }, 3));
    expect(three).toBeCloseTo(40 * Math.sqrt((1 + Math.PI / 6) / (1 + Math.PI / 14)));
    expect(three! / 40).toBeCloseTo(1.116, 2);
  });

  it('bounded: a level more than 16× apart rescales by 4× at most', () => {
    expect(bandHalfWidth(learnt(band), t, band, HOUR, noiseScale(false, { value: 1, sample: 1 }))).toBeCloseTo(40 / MAX_NOISE_RESCALE);
  });

  it('without the option, or without a scale (old state, a zero baseline), deviations are used as seen', () => {
    const { scale: _s, ...plain } = band;
    expect(bandHalfWidth(learnt(plain), t, plain, HOUR, 10)).toBe(40);
    expect(bandHalfWidth(learnt(band), t, band, HOUR, noiseScale(false, { value: 0, sample: 0 }))).toBe(40);
    const old: NoiseMemory = { samples: learnt(band).samples.map(([at, dev]) => [at, dev]), lastAt: null };
    expect(bandHalfWidth(old, t, band, HOUR, 10)).toBe(40);
  });
});
