import { describe, expect, it } from 'vitest';
import type { KpiDef } from '@siyu-pulse/contracts/catalogue';
import { KPIS } from '@siyu-pulse/contracts/catalogue';
import { addKpi, allowedDims, sanitiseKpis } from '../src/trends/selection';
import { compareShift, parseTrendsQuery, resolveRange, sameQuery, serialiseTrendsQuery, type TrendsState } from '../src/trends/state';
import { DAY, HOUR, formatDateTime, formatStep, fromLocalInput, parseStep, toLocalInput, tzOffsetMs } from '../src/trends/time';

const byId = new Map<string, KpiDef>(KPIS.map((k) => [k.id, k]));

describe('URL state', () => {
  it('opens exactly the view of an alert link (kpi, epoch from/to, channel)', () => {
    const s = parseTrendsQuery({ kpi: 'push_open_rate', from: '1763870400000', to: '1763874000000', channel: 'wecom' });
    expect(s).toEqual({
      kpis: ['push_open_rate'],
      range: { kind: 'custom', from: 1763870400000, to: 1763874000000 },
      step: null,
      by: null,
      filter: { dim: 'channel', value: 'wecom' },
      compare: null,
    });
  });

  it('reads comma lists and repeated kpi, presets, step, by, compare', () => {
    const s = parseTrendsQuery({ kpi: ['gmv,paid_orders', 'gmv', 'aov'], range: '7d', step: '1h', by: 'community', compare: 'wow' });
    expect(s.kpis).toEqual(['gmv', 'paid_orders', 'aov']);
    expect(s.range).toEqual({ kind: 'preset', preset: '7d' });
    expect(s.step).toBe('1h');
    expect(s.by).toBe('community');
    expect(s.compare).toBe('wow');
  });

  it('falls back to the default for unreadable values instead of failing', () => {
    const s = parseTrendsQuery({ range: 'forever', step: 'fast', by: 'member', compare: 'yesterday', from: 'yesterday', to: '5' });
    expect(s.range).toEqual({ kind: 'preset', preset: '24h' });
    expect(s.step).toBeNull();
    expect(s.by).toBeNull();
    expect(s.compare).toBeNull();
    // from after to is not a window
    expect(parseTrendsQuery({ from: '2000', to: '1000' }).range.kind).toBe('preset');
  });

  it('round-trips every field and keeps unknown parameters (lang, tracking) as they were', () => {
    const state: TrendsState = {
      kpis: ['gmv', 'push_open_rate'],
      range: { kind: 'custom', from: 1000, to: 5000 },
      step: '5m',
      by: 'channel',
      filter: { dim: 'campaign', value: '双11, "预热"' },
      compare: 'prev',
    };
    const q = serialiseTrendsQuery(state, { lang: 'en', utm: ['a', 'b'], kpi: 'old', range: '1h' });
    expect(q).toEqual({ kpi: 'gmv,push_open_rate', from: '1000', to: '5000', step: '5m', by: 'channel', campaign: '双11, "预热"', compare: 'prev', lang: 'en', utm: ['a', 'b'] });
    expect(parseTrendsQuery(q)).toEqual(state);
    const preset = serialiseTrendsQuery({ ...state, range: { kind: 'preset', preset: '30d' }, step: null, by: null, filter: null, compare: null });
    expect(preset).toEqual({ kpi: 'gmv,push_open_rate', range: '30d' });
  });

  it('compares queries regardless of key order', () => {
    expect(sameQuery({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(sameQuery({ a: '1' }, { a: '2' })).toBe(false);
  });

  it('resolves presets against now and shifts comparisons by one window or one week', () => {
    expect(resolveRange({ kind: 'preset', preset: '24h' }, 10 * DAY)).toEqual({ from: 9 * DAY, to: 10 * DAY });
    expect(resolveRange({ kind: 'custom', from: 1, to: 2 }, 10 * DAY)).toEqual({ from: 1, to: 2 });
    expect(compareShift('prev', 3 * HOUR)).toBe(3 * HOUR);
    expect(compareShift('wow', 3 * HOUR)).toBe(7 * DAY);
  });
});

describe('business time (Asia/Shanghai whatever the browser zone)', () => {
  const tz = 'Asia/Shanghai';
  it('reads datetime-local values as Beijing wall-clock time', () => {
    expect(fromLocalInput('2025-11-23T09:30', tz)).toBe(Date.UTC(2025, 10, 23, 1, 30));
    expect(fromLocalInput('2025-11-23T00:00', tz)).toBe(Date.UTC(2025, 10, 22, 16, 0));
    expect(fromLocalInput('not a date', tz)).toBeNull();
    expect(toLocalInput(Date.UTC(2025, 10, 22, 16, 0), tz)).toBe('2025-11-23T00:00');
    expect(formatDateTime(Date.UTC(2025, 0, 1, 23, 59), tz)).toBe('2025-01-02 07:59');
    expect(tzOffsetMs(tz, Date.UTC(2025, 6, 1))).toBe(8 * HOUR);
  });
  it('handles a DST zone at the instant itself', () => {
    // Berlin: CEST (+2) in July, CET (+1) in January.
    expect(fromLocalInput('2025-07-01T12:00', 'Europe/Berlin')).toBe(Date.UTC(2025, 6, 1, 10, 0));
    expect(fromLocalInput('2025-01-01T12:00', 'Europe/Berlin')).toBe(Date.UTC(2025, 0, 1, 11, 0));
  });
  it('formats and parses steps like the series API', () => {
    expect([10_000, 60_000, 300_000, HOUR, 6 * HOUR, DAY].map(formatStep)).toEqual(['10s', '1m', '5m', '1h', '6h', '1d']);
    expect(parseStep('15m')).toBe(900_000);
    expect(parseStep('0m')).toBeNull();
    expect(parseStep('1w')).toBeNull();
  });
});

describe('KPI selection', () => {
  it('allows two units and refuses a third, naming the ones in use', () => {
    let r = addKpi(['gmv'], 'push_open_rate', byId); // fen + percent
    expect(r).toEqual({ ok: true, kpis: ['gmv', 'push_open_rate'] });
    r = addKpi(['gmv', 'push_open_rate'], 'paid_conversion', byId); // percent again: fine
    expect(r.ok).toBe(true);
    r = addKpi(['gmv', 'push_open_rate'], 'messages', byId); // count: a third unit
    expect(r).toEqual({ ok: false, units: ['fen', 'percent'] });
  });
  it('drops unknown and third-unit KPIs of a link, reporting them', () => {
    expect(sanitiseKpis(['nope', 'gmv', 'messages', 'push_open_rate', 'aov'], byId)).toEqual({ kpis: ['gmv', 'messages', 'aov'], unknown: ['nope'], dropped: ['push_open_rate'] });
  });
  it('offers only the channel dimension when a distinct-count KPI is picked', () => {
    expect(allowedDims(['gmv'], byId)).toEqual(['channel', 'community', 'campaign']);
    expect(allowedDims(['gmv', 'active_members'], byId)).toEqual(['channel']);
    expect(allowedDims(['churn_rate'], byId)).toEqual(['channel']);
  });
});
