import { describe, expect, it } from 'vitest';
import { COUNTERS, histogramCounter } from '@siyu-pulse/contracts/catalogue';
import { evaluateKpi, histogramQuantile } from '../src/catalogue/evaluate.js';
import { GROUPS, KPIS, KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import { alignmentOffset, dayStart, tzOffsetMs } from '../src/time/zone.js';

describe('KPI catalogue', () => {
  it('has the six seed groups and unique ids whose counters all exist', () => {
    expect(GROUPS.map((g) => g.id)).toEqual(['scale', 'interaction', 'conversion', 'retention', 'value', 'channel']);
    expect(new Set(KPIS.map((k) => k.id)).size).toBe(KPIS.length);
    for (const k of KPIS) {
      const f = k.formula;
      const terms = f.kind === 'sum' ? f.terms : f.kind === 'ratio' ? [f.num, f.den].flatMap((side) => ('distinct' in side ? [] : side)) : [];
      for (const [c] of terms) expect(COUNTERS, `${k.id} uses ${c}`).toContain(c);
    }
  });

  it('computes ratios, sums with signs, and undefined ratios as null', () => {
    const def = (id: string) => KPI_BY_ID.get(id)!;
    expect(evaluateKpi(def('net_growth'), { member_join: 10, member_leave: 4 })).toBe(6);
    expect(evaluateKpi(def('push_open_rate'), { push_open: 3, push_delivered: 12 })).toBe(0.25);
    expect(evaluateKpi(def('push_open_rate'), { push_open: 0, push_delivered: 0 })).toBeNull();
    expect(evaluateKpi(def('roas'), { order_paid_fen: 50_000, spend_fen: 10_000 })).toBe(5);
    expect(evaluateKpi(def('churn_rate'), { member_leave: 2 }, 40)).toBe(0.05);
    expect(evaluateKpi(def('churn_rate'), { member_leave: 2 })).toBeNull();
    // Two distinct counts: over-cap members ÷ pushed members, both needed, a bare number is ambiguous.
    expect(evaluateKpi(def('push_over_cap_share'), {}, { push_over_cap: 2, push_reached: 4 })).toBe(0.5);
    expect(evaluateKpi(def('push_over_cap_share'), {}, { push_over_cap: 2 })).toBeNull();
    expect(evaluateKpi(def('push_over_cap_share'), {}, { push_over_cap: 0, push_reached: 0 })).toBeNull();
    expect(evaluateKpi(def('push_over_cap_share'), {}, 4)).toBeNull();
    expect(KPI_BY_ID.get('paid_conversion')!.target).toBe(0.052);
  });

  it('quantiles interpolate inside summed histogram buckets', () => {
    // 10 replies ≤ 5 s, 10 in (5 s, 10 s]: p50 is the top of the first bucket, p75 half-way up the second.
    const sums = { [histogramCounter('frt', 0)]: 10, [histogramCounter('frt', 1)]: 10 };
    expect(histogramQuantile('frt', 0.5, sums)).toBe(5_000);
    expect(histogramQuantile('frt', 0.75, sums)).toBe(7_500);
    expect(histogramQuantile('frt', 0.5, {})).toBeNull();
  });
});

describe('time zones', () => {
  it('Asia/Shanghai is UTC+8 and its days start at 16:00 UTC', () => {
    const t = Date.UTC(2026, 10, 23, 3, 0, 0);
    expect(tzOffsetMs('Asia/Shanghai', t)).toBe(8 * 3_600_000);
    expect(dayStart(t, 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 22, 16, 0, 0));
    expect(dayStart(Date.UTC(2026, 10, 22, 16, 0, 0), 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 22, 16, 0, 0));
    expect(alignmentOffset(86_400_000, 'Asia/Shanghai', t)).toBe(16 * 3_600_000);
    expect(alignmentOffset(3_600_000, 'Asia/Kolkata', t)).toBe(30 * 60_000);
  });
});
