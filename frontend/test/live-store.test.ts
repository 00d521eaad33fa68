import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { LiveSnapshot, LiveTick, LiveWindow, TrendPoint } from '@siyu-pulse/contracts/live';
import { useLiveStore } from '../src/stores/live';
import { mergeTrend, TREND_MAX_POINTS } from '../src/stores/trend';

const MIN = 60_000;
const T0 = Date.UTC(2025, 10, 23, 2, 0, 0);

const pt = (minute: number, messages: number | null): TrendPoint => ({ ts: T0 + minute * MIN, values: { messages } });

function win(id: 'today' | 'last5m', gmv: number): LiveWindow {
  return {
    id,
    from: T0,
    to: T0 + MIN,
    previousFrom: T0 - 86_400_000,
    previousTo: T0 - 86_400_000 + MIN,
    kpis: { gmv: { value: gmv, previous: null, change: null } },
    byChannel: {},
  };
}

function tick(seq: number, serverTime: number, tail: TrendPoint[], gmv = seq): LiveTick {
  return {
    serverTime,
    seq,
    windows: { today: win('today', gmv), last5m: win('last5m', gmv) },
    trendTail: tail,
    freshness: { lastEventAt: null, byChannel: {} },
  };
}

function snapshot(seq: number, serverTime: number, trend: TrendPoint[]): LiveSnapshot {
  return { ...tick(seq, serverTime, trend.slice(-2)), demo: true, timezone: 'Asia/Shanghai', bucketSeconds: 10, businessName: '示例商家', trend, alerts: [] };
}

describe('mergeTrend', () => {
  it('replaces the same minute, appends a new one, and trims to 60', () => {
    const buf = Array.from({ length: 60 }, (_, i) => pt(i, i));
    const same = mergeTrend(buf, [pt(59, 1000)]);
    expect(same).toHaveLength(60);
    expect(same[59]!.values.messages).toBe(1000);
    expect(buf[59]!.values.messages).toBe(59); // input untouched

    const next = mergeTrend(buf, [pt(59, 70), pt(60, 5)]);
    expect(next).toHaveLength(TREND_MAX_POINTS);
    expect(next[0]!.ts).toBe(T0 + MIN);
    expect(next[58]!.values.messages).toBe(70);
    expect(next[59]!.ts).toBe(T0 + 60 * MIN);
  });
  it('inserts a missing older minute in order', () => {
    const out = mergeTrend([pt(0, 1), pt(2, 3)], [pt(1, 2)]);
    expect(out.map((p) => p.values.messages)).toEqual([1, 2, 3]);
  });
  it('stays bounded however many ticks arrive', () => {
    let buf: TrendPoint[] = [];
    for (let m = 0; m < 500; m++) buf = mergeTrend(buf, [pt(m - 1, m), pt(m, m)]);
    expect(buf).toHaveLength(60);
    expect(buf[59]!.ts).toBe(T0 + 499 * MIN);
  });
});

describe('live store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('starts connecting with no data', () => {
    const s = useLiveStore();
    expect(s.connection.state).toBe('connecting');
    expect(s.hasData).toBe(false);
    expect(s.kpi('today', 'gmv')).toBeNull();
  });

  it('a snapshot replaces everything; ticks apply on top', () => {
    const s = useLiveStore();
    const trend = Array.from({ length: 70 }, (_, i) => pt(i, i)); // more than 60: bounded
    s.applySnapshot(snapshot(10, T0 + 70 * MIN, trend), 1_000);
    expect(s.meta?.businessName).toBe('示例商家');
    expect(s.trend).toHaveLength(60);
    expect(s.kpi('today', 'gmv')?.value).toBe(10);
    expect(s.clockOffsetMs).toBe(T0 + 70 * MIN - 1_000);

    expect(s.applyTick(tick(11, T0 + 70 * MIN + 1_000, [pt(69, 100), pt(70, 1)]), 2_000)).toBe('applied');
    expect(s.kpi('today', 'gmv')?.value).toBe(11);
    expect(s.trend).toHaveLength(60);
    expect(s.trend[58]!.values.messages).toBe(100);
    expect(s.trend[59]!.values.messages).toBe(1);
    expect(s.receivedAt).toBe(2_000);
  });

  it('ignores duplicate / out-of-order ticks and counts gaps', () => {
    const s = useLiveStore();
    s.applySnapshot(snapshot(10, T0, [pt(0, 1)]));
    expect(s.applyTick(tick(10, T0, []))).toBe('ignored');
    expect(s.applyTick(tick(9, T0, []))).toBe('ignored');
    expect(s.applyTick(tick(13, T0 + 3_000, [pt(0, 2)]))).toBe('applied');
    expect(s.missedTicks).toBe(2);
    expect(s.kpi('today', 'gmv')?.value).toBe(13);
  });

  it('asks for a resync after a long silence or without a snapshot', () => {
    const s = useLiveStore();
    expect(s.applyTick(tick(1, T0, []))).toBe('resync'); // no snapshot yet: no meta
    s.applySnapshot(snapshot(1, T0, []));
    expect(s.applyTick(tick(2, T0 + 90_000, []))).toBe('resync');
  });

  it('accepts a lower sequence after resetSequence (restarted server)', () => {
    const s = useLiveStore();
    s.applySnapshot(snapshot(500, T0, []));
    s.resetSequence();
    s.applySnapshot(snapshot(1, T0 + 5_000, []));
    expect(s.applyTick(tick(2, T0 + 6_000, []))).toBe('applied');
  });

  it('keeps `since` while the connection state does not change', () => {
    const s = useLiveStore();
    s.setConnection('reconnecting', 100);
    s.setConnection('reconnecting', 200);
    expect(s.connection).toEqual({ state: 'reconnecting', since: 100 });
    s.setConnection('offline', 100);
    expect(s.connection.state).toBe('offline');
    s.setConnection('offline', 300, 'auth');
    expect(s.connection).toEqual({ state: 'offline', since: 300, reason: 'auth' });
  });
});
