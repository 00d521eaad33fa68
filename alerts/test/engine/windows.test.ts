/** Window arithmetic, pooling and contributors. */
import { describe, expect, it } from 'vitest';
import { topContributors } from '../../src/engine/contributors.js';
import { baselineWindows, evaluationTime, poolWindows } from '../../src/engine/windows.js';
import { CATALOGUE_MAP } from '../rules/catalogueFixture.js';

const M = 60_000;
const t = 1_000 * M;

describe('windows', () => {
  it('baseline spans per kind', () => {
    expect(baselineWindows('previous_window', 1, t, 15 * M)).toEqual([{ from: t - 30 * M, to: t - 15 * M }]);
    expect(baselineWindows('same_window_yesterday', 1, t, 60 * M)).toEqual([{ from: t - 60 * M - 86_400_000, to: t - 86_400_000 }]);
    expect(baselineWindows('same_window_last_week', 1, t, 60 * M)).toEqual([{ from: t - 60 * M - 7 * 86_400_000, to: t - 7 * 86_400_000 }]);
    expect(baselineWindows('trailing_mean', 3, t, 10 * M)).toEqual([
      { from: t - 20 * M, to: t - 10 * M },
      { from: t - 30 * M, to: t - 20 * M },
      { from: t - 40 * M, to: t - 30 * M },
    ]);
  });

  it('evaluation time: seconds, or minutes for distinct KPIs', () => {
    expect(evaluationTime(t + 59_999, false)).toBe(t + 59_000);
    expect(evaluationTime(t + 59_999, true)).toBe(t);
    expect(evaluationTime(t + 59_999, false, 10_000)).toBe(t + 50_000); // on the collector's 10 s buckets
  });

  it('pools ratios as Σnum/Σden and sums as a mean per window; sample is per window', () => {
    const r = (num: number, den: number) => ({ value: num / den, num, den, sample: den });
    const pooled = poolWindows([
      { total: r(30, 100), splits: { a: r(30, 100) } },
      { total: r(10, 300), splits: {} },
    ]);
    expect(pooled.total).toEqual({ value: 40 / 400, num: 40, den: 400, sample: 200 });
    expect(pooled.splits.a).toEqual({ value: 0.3, num: 30, den: 100, sample: 50 });
    const s = (v: number) => ({ value: v, sample: v });
    expect(poolWindows([{ total: s(10), splits: { a: s(10) } }, { total: s(30), splits: {} }]).splits.a).toEqual({ value: 5, sample: 5 });
  });
});

describe('contributors', () => {
  it('ratios: share of the total rate now minus then; unchanged values contribute nothing', () => {
    const kpi = CATALOGUE_MAP.get('push_open_rate')!;
    const r = (num: number, den: number) => ({ value: num / den, num, den, sample: den });
    const cur = { total: r(890, 4000), splits: { wecom: r(300, 2000), app_push: r(290, 1000), sms: r(300, 1000) } };
    const base = { total: r(1200, 4000), splits: { wecom: r(600, 2000), app_push: r(300, 1000), sms: r(300, 1000) } };
    const top = topContributors(kpi, 'channel', cur, base);
    expect(top.map((c) => c.value)).toEqual(['wecom', 'app_push']);
    expect(top[0]).toEqual({ dim: 'channel', value: 'wecom', current: 0.15, baseline: 0.3, change: -0.5 });
  });

  it('sums: the largest absolute moves, a vanished value counting as 0', () => {
    const kpi = CATALOGUE_MAP.get('gmv')!;
    const s = (v: number) => ({ value: v, sample: v });
    const cur = { total: s(150), splits: { a: s(100), b: s(50) } };
    const base = { total: s(400), splits: { a: s(110), b: s(40), c: s(200), d: s(50) } };
    expect(topContributors(kpi, 'channel', cur, base).map((c) => [c.value, c.current, c.change])).toEqual([
      ['c', 0, -1],
      ['d', 0, -1],
      ['a', 100, -10 / 110],
    ]);
  });

  it('a value that moved the other way is not a contributor to the swing', () => {
    const kpi = CATALOGUE_MAP.get('gmv')!;
    const s = (v: number) => ({ value: v, sample: v });
    // The total fell 300; b rose 100 (it softened the fall), a and c fell.
    const cur = { total: s(700), splits: { a: s(300), b: s(300), c: s(100) } };
    const base = { total: s(1000), splits: { a: s(600), b: s(200), c: s(200) } };
    expect(topContributors(kpi, 'channel', cur, base).map((c) => c.value)).toEqual(['a', 'c']);
    const r = (num: number, den: number) => ({ value: num / den, num, den, sample: den });
    const rate = CATALOGUE_MAP.get('push_open_rate')!;
    // Open rate fell 30% → 20%; sms's own rate and share rose.
    const cur2 = { total: r(200, 1000), splits: { wecom: r(100, 800), sms: r(100, 200) } };
    const base2 = { total: r(300, 1000), splits: { wecom: r(270, 900), sms: r(30, 100) } };
    expect(topContributors(rate, 'channel', cur2, base2).map((c) => c.value)).toEqual(['wecom']);
  });
});
