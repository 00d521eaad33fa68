/** The pure decision: change, guards, direction, hysteresis inputs, the z-test. */
import { describe, expect, it } from 'vitest';
import { evaluateChange, normalCdf, relativeChange, twoProportionZTest } from '../../src/engine/evaluate.js';
import { CATALOGUE_MAP } from '../rules/catalogueFixture.js';
import { changeRule } from './fakes.js';

const OPEN = CATALOGUE_MAP.get('push_open_rate')!;
const GMV = CATALOGUE_MAP.get('gmv')!;
const rate = (num: number, den: number) => ({ value: num / den, num, den, sample: den });
const sum = (v: number) => ({ value: v, sample: v });
const open = (over: Record<string, unknown> = {}) => changeRule({ id: 'r', name: 'r', kpi: 'push_open_rate', window: '15m', ...over });

describe('two-proportion z-test', () => {
  it('30/100 vs 50/100: z ≈ −2.89, two-sided p ≈ 0.0039', () => {
    const t = twoProportionZTest(30, 100, 50, 100);
    expect(t?.z).toBeCloseTo(-2.8868, 4);
    expect(t?.p).toBeCloseTo(0.003892, 5);
  });

  it('is symmetric, 1 for equal proportions, and undefined without trials', () => {
    expect(twoProportionZTest(50, 100, 30, 100)?.z).toBeCloseTo(2.8868, 4);
    expect(twoProportionZTest(30, 100, 30, 100)?.z).toBe(0);
    expect(twoProportionZTest(30, 100, 30, 100)?.p).toBeCloseTo(1, 6);
    expect(twoProportionZTest(0, 100, 0, 50)).toEqual({ z: 0, p: 1 });
    expect(twoProportionZTest(1, 0, 5, 10)).toBeNull();
    expect(twoProportionZTest(11, 10, 5, 10)).toBeNull(); // not a proportion
  });

  it('normal CDF at known quantiles', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-2.575829)).toBeCloseTo(0.005, 6);
  });
});

describe('evaluateChange', () => {
  it('relative change uses |baseline| and is undefined for a zero baseline', () => {
    expect(relativeChange(84, 100)).toBeCloseTo(-0.16, 12);
    expect(relativeChange(-5, -10)).toBeCloseTo(0.5, 12);
    expect(relativeChange(5, 0)).toBeNull();
  });

  it('a change of exactly the threshold fires (no floating-point miss)', () => {
    const e = evaluateChange(open(), OPEN, rate(510, 2000), rate(600, 2000)); // 0.255 vs 0.3
    expect(e.change).toBeCloseTo(-0.15, 12);
    expect(e.observation?.fire).toBe('down');
  });

  it('direction: an up-only rule ignores a drop but still reports it', () => {
    const e = evaluateChange(open({ direction: 'up' }), OPEN, rate(400, 2000), rate(600, 2000));
    expect(e.change).toBeCloseTo(-1 / 3, 12);
    expect(e.observation).toMatchObject({ fire: null, holdUp: false, holdDown: false });
  });

  it('hysteresis inputs: between clear and fire the alert holds but does not fire', () => {
    const e = evaluateChange(open(), OPEN, rate(522, 2000), rate(600, 2000)); // −13%
    expect(e.observation).toMatchObject({ fire: null, holdDown: true, holdUp: false });
    const f = evaluateChange(open(), OPEN, rate(546, 2000), rate(600, 2000)); // −9%
    expect(f.observation).toMatchObject({ fire: null, holdDown: false });
  });

  it('ratio KPIs: both denominators must reach min_sample', () => {
    const r = open({ min_sample: 200 });
    expect(evaluateChange(r, OPEN, rate(50, 199), rate(60, 200)).observation?.fire).toBeNull();
    expect(evaluateChange(r, OPEN, rate(50, 200), rate(60, 199)).observation?.fire).toBeNull();
    expect(evaluateChange(r, OPEN, rate(50, 200), rate(60, 200)).observation?.fire).toBe('down');
  });

  it('sums: the larger side must reach min_sample (3 → 1 is noise, 1000 → 0 is an outage)', () => {
    const r = changeRule({ id: 'g', name: 'g', kpi: 'gmv', window: '1h', min_sample: 100 });
    expect(evaluateChange(r, GMV, sum(1), sum(3)).observation?.fire).toBeNull();
    expect(evaluateChange(r, GMV, sum(0), sum(1000)).observation?.fire).toBe('down');
    expect(evaluateChange(r, GMV, undefined, sum(1000))).toMatchObject({ value: 0, change: -1 }); // no sales = 0
  });

  it('no baseline → not enough history; no current ratio → undecided', () => {
    expect(evaluateChange(open(), OPEN, rate(1, 10), undefined)).toMatchObject({ notEnoughHistory: true, observation: null });
    expect(evaluateChange(open(), OPEN, undefined, rate(1, 10))).toMatchObject({ notEnoughHistory: false, observation: null, value: null });
    expect(evaluateChange(open(), OPEN, rate(1, 10), { value: 0, num: 0, den: 10, sample: 10 }).reason).toMatch(/baseline is 0/);
  });

  it('severity is critical from the critical threshold', () => {
    const r = open({ thresholds: { critical: '30%' } });
    expect(evaluateChange(r, OPEN, rate(400, 2000), rate(600, 2000)).observation?.severity).toBe('critical');
    expect(evaluateChange(r, OPEN, rate(500, 2000), rate(600, 2000)).observation?.severity).toBe('warning');
  });
});
