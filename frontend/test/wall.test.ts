import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { AlertEvent } from '@siyu-pulse/contracts/alerts';
import type { KpiWindowValue } from '@siyu-pulse/contracts/live';
import { normalizeBoards, panelRows, pickBoard, tileRows } from '../src/wall/boards';
import { applyChannelNames, channelLabel, channelRows } from '../src/wall/channels';
import { channelLabel as catalogueChannelLabel } from '@siyu-pulse/contracts/catalogue';
import { computeFunnel, funnelWidth } from '../src/wall/funnel';
import { dataAt, DEFAULT_STALE_AFTER_MS, linkStale, staleAfterFromUrl, staleReason, trackChanges } from '../src/wall/freshness';
import { alertTone, FLASH_MS, MAX_ACTIVE, moreSevere, useAlertsStore } from '../src/stores/alerts';

const kv = (value: number | null): KpiWindowValue => ({ value, previous: null, change: null });

describe('boards', () => {
  it('normalizes the API answer leniently and picks the requested board or the default', () => {
    const res = normalizeBoards({
      default: 'b',
      boards: [
        { id: 'a', title: { zh: '甲', en: 'A' }, tiles: ['gmv', 3, 'gmv', 'aov'], panels: ['funnel', 'nope', 'alerts'] },
        { id: 'b', title: 'plain', tiles: [], panels: [] },
        { title: 'no id' },
      ],
    })!;
    expect(res.default).toBe('b');
    expect(res.boards.map((b) => b.id)).toEqual(['a', 'b']);
    expect(res.boards[0]!.tiles).toEqual(['gmv', 'aov']);
    expect(res.boards[0]!.panels).toEqual(['funnel', 'alerts']);
    expect(res.boards[1]!.title).toEqual({ zh: 'plain', en: 'plain' });
    expect(pickBoard(res, 'a')).toEqual({ board: res.boards[0], missing: null });
    expect(pickBoard(res, null).board.id).toBe('b');
    expect(pickBoard(res, 'zzz')).toEqual({ board: res.boards[1], missing: 'zzz' });
    expect(normalizeBoards({ boards: 'x' })).toBeNull();
    expect(normalizeBoards({ default: 'gone', boards: [{ id: 'x', tiles: [], panels: [] }] })!.default).toBe('x');
  });
  it('lays out panels in rows of at most three and tiles in one or two rows', () => {
    expect([1, 2, 3, 4, 5, 6].map(panelRows)).toEqual([[1], [2], [3], [2, 2], [3, 2], [3, 3]]);
    expect(panelRows(0)).toEqual([]);
    expect(tileRows(6)).toBe(1);
    expect(tileRows(7)).toBe(2);
  });
});

describe('funnel', () => {
  it('derives the counts from paid orders and the step rates', () => {
    // 1000 views → 150 carts → 60 orders → 45 paid
    const f = computeFunnel({
      view_to_cart_rate: kv(150 / 1000),
      cart_to_order_rate: kv(60 / 150),
      order_to_paid_rate: kv(45 / 60),
      paid_orders: kv(45),
      paid_conversion: kv(45 / 1000),
    });
    expect(f.steps.map((s) => s.count)).toEqual([1000, 150, 60, 45]);
    expect(f.steps.map((s) => s.rate)).toEqual([null, 0.15, 0.4, 0.75]);
    expect(f.steps[3]!.share).toBeCloseTo(0.045, 10);
    expect(f.overall).toBe(0.045);
    expect(f.partial).toBe(false);
  });
  it('shows rates only where a count cannot be derived', () => {
    // Orders exist but none paid yet: order_to_paid_rate = 0 hides orders/carts; views come from nowhere.
    const f = computeFunnel({ view_to_cart_rate: kv(0.2), cart_to_order_rate: kv(0.5), order_to_paid_rate: kv(0), paid_orders: kv(0), paid_conversion: kv(0) });
    expect(f.steps.map((s) => s.count)).toEqual([null, null, null, 0]);
    expect(f.steps.map((s) => s.rate)).toEqual([null, 0.2, 0.5, 0]);
    expect(f.partial).toBe(true);
    const empty = computeFunnel({});
    expect(empty.steps.every((s) => s.share === null && s.count === null)).toBe(true);
  });
  it('draws bars on a log scale, never thinner than the minimum', () => {
    expect(funnelWidth(1)).toBe(1);
    expect(funnelWidth(0.1)).toBeCloseTo(2 / 3, 10);
    expect(funnelWidth(0.0001)).toBe(0.3);
    expect(funnelWidth(null)).toBe(0.3);
  });
});

describe('channels', () => {
  it('ranks rows by the GMV bar the panel draws, built-in channels first only on a tie', () => {
    const t = channelRows({
      zeta: { gmv: 500, push_open_rate: null, active_members: 1 },
      sms: { gmv: 100, push_open_rate: 0.1, active_members: 5 },
      wecom: { gmv: 1000, push_open_rate: 0.3, active_members: 9 },
      alpha: { gmv: 50, push_open_rate: null, active_members: 2 },
      beta: { gmv: 100, push_open_rate: null, active_members: 2 },
    });
    expect(t.rows.map((r) => r.id)).toEqual(['wecom', 'zeta', 'sms', 'beta', 'alpha']);
    expect(t.rows.map((r) => r.label.zh)).toEqual(['企业微信', 'zeta', '短信', 'beta', 'alpha']);
    expect(t.rows[0]!.bar).toBe(1);
    expect(t.rows[2]!.bar).toBe(0.1);
    expect(t.rows[2]!.values).toEqual({ gmv: 100, push_open_rate: 0.1, active_members: 5 });
    // The note about hidden channels takes one row's place: 2 rows fit → 1 row + the note.
    expect(channelRows({ a: {}, b: {} }, 2)).toMatchObject({ hidden: 0 });
    expect(channelRows({ a: {}, b: {}, c: {} }, 2).hidden).toBe(2);
    expect(channelRows({ a: {}, b: {}, c: {} }, 2).rows.map((r) => r.id)).toEqual(['a']);
  });

  it("never hides the team's own largest channel behind the seven simulator channels", () => {
    const sim = ['wecom', 'wechat_group', 'miniprogram', 'douyin', 'sms', 'app_push', 'store_qr'];
    const by: Record<string, Record<string, number | null>> = Object.fromEntries(sim.map((id, i) => [id, { gmv: 1000 + i }]));
    by.taobao = { gmv: 9_000_000 };
    const t = channelRows(by, 7);
    expect(t.rows[0]!.id).toBe('taobao');
    expect(t.hidden).toBe(2);
    expect(t.rows.map((r) => r.id)).toEqual(['taobao', 'store_qr', 'app_push', 'sms', 'douyin', 'miniprogram']);
  });

  it('names channels as configured (served with the catalogue), raw id as the fallback', () => {
    try {
      applyChannelNames({ taobao: { zh: '淘宝店', en: 'Taobao' }, wecom: { zh: '企微', en: 'WeCom' } });
      expect(channelLabel('taobao')).toEqual({ zh: '淘宝店', en: 'Taobao' });
      expect(channelLabel('wecom').zh).toBe('企微');
      expect(channelLabel('sms').zh).toBe('短信');
      expect(channelLabel('jd')).toEqual({ zh: 'jd', en: 'jd' });
      // The backend lookup (DingTalk, reports, the shared modules) sees the same names.
      expect(catalogueChannelLabel('taobao').zh).toBe('淘宝店');
      expect(channelRows({ taobao: { gmv: 1 } }).rows[0]!.label.zh).toBe('淘宝店');
    } finally {
      applyChannelNames({});
    }
    expect(channelLabel('taobao').zh).toBe('taobao');
  });
});

describe('freshness', () => {
  const base = { serverNow: 100_000, freshness: { lastEventAt: 90_000, byChannel: { wecom: 50_000, miniprogram: 95_000 } } };
  it('dates a KPI by its last change or the channels that feed it', () => {
    const byChannel = { wecom: { new_members: 3, gmv: 0 }, miniprogram: { new_members: 0, gmv: 500 } };
    expect(dataAt(['new_members'], { ...base, byChannel, changedAt: {} })).toBe(50_000);
    expect(dataAt(['new_members'], { ...base, byChannel, changedAt: { new_members: 70_000 } })).toBe(70_000);
    expect(dataAt(['gmv'], { ...base, byChannel, changedAt: {} })).toBe(95_000);
    // Nothing feeds churn yet: any event proves the pipeline alive.
    expect(dataAt(['churn_rate'], { ...base, byChannel, changedAt: {} })).toBe(90_000);
    expect(dataAt(['x'], { serverNow: 1, freshness: null, byChannel: undefined, changedAt: {} })).toBeNull();
  });
  it('separates a dead link from a stopped source', () => {
    expect(linkStale({ now: 10_000, receivedAt: 9_000, connected: true, hasData: true })).toBe(false);
    expect(linkStale({ now: 10_000, receivedAt: 6_000, connected: true, hasData: true })).toBe(true);
    expect(linkStale({ now: 10_000, receivedAt: 9_900, connected: false, hasData: true })).toBe(true);
    expect(linkStale({ now: 10_000, receivedAt: null, connected: false, hasData: false })).toBe(false);
    expect(staleReason(true, 99_000, 100_000, 5_000)).toBe('link');
    expect(staleReason(false, 94_000, 100_000, 5_000)).toBe('source');
    expect(staleReason(false, 96_000, 100_000, 5_000)).toBeNull();
    expect(staleReason(false, null, 100_000, 5_000)).toBe('source');
  });
  it('reads ?staleAfter= in seconds, bounded', () => {
    expect(staleAfterFromUrl('?staleAfter=4')).toBe(4_000);
    expect(staleAfterFromUrl('?staleAfter=0.5')).toBe(2_000);
    expect(staleAfterFromUrl('?staleAfter=abc')).toBe(DEFAULT_STALE_AFTER_MS);
    expect(staleAfterFromUrl('')).toBe(180_000);
  });
  it('tracks when values change, and keeps the same object when none did', () => {
    const prev = { gmv: 1 };
    expect(trackChanges(prev, undefined, { gmv: { value: 5 } }, 10)).toBe(prev);
    expect(trackChanges(prev, { gmv: { value: 5 } }, { gmv: { value: 5 } }, 10)).toBe(prev);
    expect(trackChanges(prev, { gmv: { value: 5 }, aov: { value: null } }, { gmv: { value: 6 }, aov: { value: null } }, 10)).toEqual({ gmv: 10 });
  });
});

describe('alerts store', () => {
  beforeEach(() => setActivePinia(createPinia()));
  const ev = (over: Partial<AlertEvent>): AlertEvent => ({
    id: 'e',
    alertKey: 'r|channel=wecom',
    ruleId: 'r',
    ruleName: '消息数下降',
    kpi: 'messages',
    split: { dim: 'channel', value: 'wecom' },
    from: 'ok',
    state: 'firing',
    severity: 'critical',
    ts: 1_000,
    value: 10,
    baseline: 100,
    baselineKind: 'previous_window',
    change: -0.9,
    threshold: 0.15,
    summary: 's',
    ...over,
  });

  it('folds events into the active list, flashes the KPI on firing, removes on resolve', () => {
    const s = useAlertsStore();
    s.apply([ev({ state: 'pending', severity: null, from: 'ok' })], 0);
    expect(s.active).toHaveLength(1);
    expect(s.flashOf('messages', 1)).toBeNull();
    s.apply([ev({ from: 'pending', state: 'firing', ts: 2_000 })], 100);
    expect(s.active[0]!.state).toBe('firing');
    expect(s.active[0]!.since).toBe(2_000);
    expect(s.flashOf('messages', 200)).toBe('critical');
    expect(s.byKpi.get('messages')?.severity).toBe('critical');
    s.expire(100 + FLASH_MS + 1);
    expect(s.flashes).toEqual({});
    s.apply([ev({ from: 'firing', state: 'resolved' })], 0);
    expect(s.active).toEqual([]);
  });
  it('replaces the list from a snapshot, sorted by severity, bounded', () => {
    const s = useAlertsStore();
    const mk = (i: number, state: string, severity: string | null, since = i) => ({ alertKey: `k${i}`, ruleName: 'r', kpi: 'gmv', split: null, state, severity, value: 1, baseline: 2, change: -0.5, since, summary: '' });
    s.replace([mk(1, 'pending', null), mk(2, 'flapping', 'warning'), mk(3, 'firing', 'warning'), mk(4, 'firing', 'critical'), { junk: true }], 0);
    expect(s.active.map((a) => a.alertKey)).toEqual(['k4', 'k3', 'k2', 'k1']);
    expect(s.active.map(alertTone)).toEqual(['critical', 'warning', 'flapping', 'pending']);
    expect(s.flashOf('gmv', 1)).toBe('critical'); // the most severe firing one for that KPI
    // A long-running incident seen on a reload does not flash again.
    const later = 10 * 60_000;
    s.replace([mk(9, 'firing', 'critical', later - 5 * 60_000)], later, later);
    expect(s.flashOf('gmv', later + 1)).toBeNull();
    s.replace(Array.from({ length: MAX_ACTIVE + 20 }, (_, i) => mk(i, 'firing', 'warning')), 0);
    expect(s.active).toHaveLength(MAX_ACTIVE);
    expect([moreSevere('warning', 'critical'), moreSevere('flapping', null), moreSevere(null, null)]).toEqual(['critical', 'flapping', null]);
  });
});
