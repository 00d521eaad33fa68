/**
 * The traffic simulator: contract validity, determinism, the diurnal shape, funnel rates,
 * and swings. Everything runs on simulated time through generate(); the timer tests use
 * fake timers. Statistical bounds are 4σ of the sampling distribution, computed from the
 * sample itself, so a correct model fails them with probability < 1e-4 per check (and the
 * seeds are fixed, so the outcome does not change between runs).
 *
 * @tier soak (a simulated day and its statistics: tens of seconds)
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EVENT_TYPES, MEMBER_SETS } from '@siyu-pulse/contracts/catalogue';
import { EventSchema } from '../src/ingest/schema.js';
import { CAMPAIGNS, CHANNELS, COMMUNITIES, Simulator, type RawEvent, type SwingKpi, type SwingSpec } from '../src/simulator/simulator.js';
import { PUSH } from '../src/simulator/model.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** 2026-11-23 00:00 Asia/Shanghai. */
const DAY0 = Date.UTC(2026, 10, 22, 16, 0, 0);
const at = (hour: number) => DAY0 + hour * HOUR;

const AMOUNT_TYPES = new Set(['order.create', 'order.paid', 'spend']);
const ACTIVE_TYPES = new Set<string>(MEMBER_SETS.active);
const ALLOWED_KEYS = new Set(['id', 'type', 'ts', 'member', 'channel', 'community', 'campaign', 'source', 'amount', 'duration_ms']);
const COMMUNITY_NAMES = new Set(COMMUNITIES.map((c) => c.name));
const CAMPAIGN_NAMES = new Set(CAMPAIGNS.map((c) => c.name));

/** Everything wrong with one event, as strings (empty = valid). */
function problems(e: RawEvent, from: number, to: number): string[] {
  const p: string[] = [];
  if (!(EVENT_TYPES as readonly string[]).includes(e.type)) p.push(`type ${e.type}`);
  if (!Number.isInteger(e.ts) || e.ts < from || e.ts >= to) p.push(`ts ${e.ts} outside [${from}, ${to})`);
  if (typeof e.id !== 'string' || e.id === '') p.push('id');
  if (!(CHANNELS as readonly string[]).includes(e.channel)) p.push(`channel '${e.channel}'`);
  for (const [k, v] of Object.entries(e)) {
    if (!ALLOWED_KEYS.has(k)) p.push(`key ${k}`);
    if (v === undefined) p.push(`${k} is undefined`);
  }
  if (AMOUNT_TYPES.has(e.type)) {
    if (!Number.isInteger(e.amount) || e.amount! < 0) p.push(`amount ${e.amount} on ${e.type}`);
  } else if ('amount' in e) p.push(`amount on ${e.type}`);
  if (e.type === 'service.reply') {
    if (!Number.isInteger(e.duration_ms) || e.duration_ms! < 0) p.push(`duration_ms ${e.duration_ms}`);
  } else if ('duration_ms' in e) p.push(`duration_ms on ${e.type}`);
  if (e.type === 'spend' ? e.member !== undefined : !e.member) p.push(`member '${e.member}' on ${e.type}`);
  if (e.community !== undefined && !COMMUNITY_NAMES.has(e.community)) p.push(`community ${e.community}`);
  if (e.campaign !== undefined && !CAMPAIGN_NAMES.has(e.campaign)) p.push(`campaign ${e.campaign}`);
  return p;
}

function generateAll(sim: Simulator, from: number, to: number, step: number): RawEvent[] {
  const out: RawEvent[] = [];
  for (let t = from; t < to; t += step) for (const e of sim.generate(t, Math.min(to, t + step))) out.push(e);
  return out;
}

describe('simulator: contract and determinism', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const run = (seed: number) => generateAll(new Simulator(() => {}, { seed, now: () => at(20) }), at(20), at(20) + 5 * MINUTE, 15_000);
    const a = run(7);
    expect(a.length).toBeGreaterThan(10_000);
    expect(run(7)).toEqual(a);
    const shape = (es: RawEvent[]) => es.slice(0, 200).map((e) => `${e.type} ${e.ts} ${e.member}`);
    expect(shape(run(8))).not.toEqual(shape(a));
  });

  it('emits valid, time-ordered events with unique ids, accepted by the ingest schema', () => {
    const sim = new Simulator(() => {}, { seed: 3, now: () => at(19) });
    const ids = new Set<string>();
    const bad: string[] = [];
    let n = 0;
    // Uneven windows, like timer ticks.
    for (let t = at(19), i = 0; t < at(21); i++) {
      const to = t + 250 + ((i * 7919) % 1750);
      const events = sim.generate(t, to);
      events.forEach((e, j) => {
        n++;
        ids.add(e.id);
        for (const p of problems(e, t, to)) bad.push(`${e.id}: ${p}`);
        if (j > 0 && e.ts < events[j - 1]!.ts) bad.push(`${e.id}: out of order`);
        if (n % 50 === 0) {
          const r = EventSchema.safeParse(e);
          if (!r.success) bad.push(`${e.id}: schema ${r.error.message}`);
        }
      });
      t = to;
    }
    expect(bad.slice(0, 10)).toEqual([]);
    expect(n).toBeGreaterThan(300_000);
    expect(ids.size).toBe(n);
  });

  it('drops follow-ups of a skipped window instead of emitting them out of range', () => {
    const sim = new Simulator(() => {}, { seed: 4, now: () => at(20) });
    sim.generate(at(20), at(20) + MINUTE);
    expect(sim.pendingCount).toBeGreaterThan(0);
    const later = at(20) + 30 * MINUTE;
    const events = sim.generate(later, later + MINUTE);
    expect(events.every((e) => e.ts >= later && e.ts < later + MINUTE)).toBe(true);
  });

  it('rejects bad options and bad swings', () => {
    expect(() => new Simulator(() => {}, { peakEventsPerSecond: 0 })).toThrow(RangeError);
    expect(() => new Simulator(() => {}, { timezone: 'Mars/Olympus' })).toThrow(RangeError);
    const sim = new Simulator(() => {}, { seed: 1 });
    expect(() => sim.injectSwing({ kpi: 'nope' as never, factor: 0.5 })).toThrow(/unknown swing KPI/);
    expect(() => sim.injectSwing({ kpi: 'gmv', channel: 'fax', factor: 0.5 })).toThrow(/unknown channel/);
    expect(() => sim.injectSwing({ kpi: 'gmv', factor: -1 })).toThrow(/factor/);
    expect(() => sim.injectSwing({ kpi: 'gmv', factor: Number.NaN })).toThrow(/factor/);
    expect(() => sim.injectSwing({ kpi: 'gmv', factor: 0.5, durationMs: 0 })).toThrow(/durationMs/);
  });
});

/** One simulated day (Asia/Shanghai), aggregated on the fly so memory stays flat. */
interface DayStats {
  events: number;
  hourly: number[];
  byType: Map<string, number>;
  bad: string[];
  gmvFen: number;
  spendFen: number;
  spendByChannel: Map<string, number>;
  gmvByChannel: Map<string, number>;
  frt: number[];
  memberEvents: Map<string, number>;
  channels: Set<string>;
  communities: Set<string>;
  campaigns: Set<string>;
  groupEventsWithoutCommunity: number;
  /** Paid amounts with no earlier order.create of the same member, channel and amount. */
  unmatchedPaid: number;
  maxPending: number;
}

function simulateDay(peakEventsPerSecond: number, seed: number): DayStats {
  const sim = new Simulator(() => {}, { seed, peakEventsPerSecond, now: () => DAY0 });
  const s: DayStats = {
    events: 0, hourly: new Array<number>(24).fill(0), byType: new Map(), bad: [], gmvFen: 0, spendFen: 0,
    spendByChannel: new Map(), gmvByChannel: new Map(), frt: [], memberEvents: new Map(), channels: new Set(),
    communities: new Set(), campaigns: new Set(), groupEventsWithoutCommunity: 0, unmatchedPaid: 0, maxPending: 0,
  };
  const openOrders = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v = 1) => m.set(k, (m.get(k) ?? 0) + v);
  for (let t = DAY0; t < DAY0 + 24 * HOUR; t += MINUTE) {
    for (const e of sim.generate(t, t + MINUTE)) {
      s.events++;
      s.hourly[Math.floor((e.ts - DAY0) / HOUR)]!++;
      add(s.byType, e.type);
      if (s.bad.length < 10) for (const p of problems(e, t, t + MINUTE)) s.bad.push(`${e.id}: ${p}`);
      s.channels.add(e.channel);
      if (e.community) s.communities.add(e.community);
      if (e.campaign) s.campaigns.add(e.campaign);
      if (e.channel === 'wechat_group' && e.type !== 'spend' && !e.community) s.groupEventsWithoutCommunity++;
      if (e.member && e.type !== 'member.join' && e.type !== 'member.leave') add(s.memberEvents, e.member);
      if (e.type === 'service.reply') s.frt.push(e.duration_ms!);
      if (e.type === 'spend') {
        s.spendFen += e.amount!;
        add(s.spendByChannel, e.channel, e.amount!);
      }
      const orderKey = `${e.member}|${e.channel}|${e.amount}`;
      if (e.type === 'order.create') add(openOrders, orderKey);
      if (e.type === 'order.paid') {
        s.gmvFen += e.amount!;
        add(s.gmvByChannel, e.channel, e.amount!);
        const open = openOrders.get(orderKey) ?? 0;
        if (open > 0) openOrders.set(orderKey, open - 1);
        else s.unmatchedPaid++;
      }
    }
    s.maxPending = Math.max(s.maxPending, sim.pendingCount);
  }
  return s;
}

describe('simulator: a simulated day', () => {
  const PEAK = 30;
  let day: DayStats;
  const count = (type: string) => day.byType.get(type) ?? 0;
  beforeAll(() => {
    day = simulateDay(PEAK, 11);
  });

  it('has only valid events and keeps its state bounded', () => {
    expect(day.bad).toEqual([]);
    expect(day.events).toBeGreaterThan(500_000);
    // Flows in flight stay well under a minute of peak traffic.
    console.log('[simulator] max flows in flight:', day.maxPending);
    expect(day.maxPending).toBeLessThan(PEAK * 60);
  });

  it('follows the diurnal curve: evening peak, quiet night, lunch bump', () => {
    const h = day.hourly;
    console.log('[simulator] events per hour (local):', h.join(' '));
    expect(h[20]! / h[3]!).toBeGreaterThan(3);
    expect(Math.max(...h)).toBe(h[20]);
    expect(h[12]!).toBeGreaterThan(h[11]!);
    expect(h[12]!).toBeGreaterThan(h[14]!);
    for (let hour = 1; hour < 6; hour++) expect(h[hour]!).toBeLessThan(h[10]! / 3);
    // Average over the peak hour is close to the configured peak rate.
    expect(h[20]! / 3600).toBeGreaterThan(PEAK * 0.85);
    expect(h[20]! / 3600).toBeLessThan(PEAK * 1.1);
  });

  it('lands the funnel rates, AOV and ROAS in their bands', () => {
    const rates = {
      openRate: count('push.open') / count('push.delivered'),
      deliveryRate: count('push.delivered') / count('push.sent'),
      clickPerOpen: count('push.click') / count('push.open'),
      viewToCart: count('cart.add') / count('page.view'),
      cartToOrder: count('order.create') / count('cart.add'),
      orderToPaid: count('order.paid') / count('order.create'),
      paidConversion: count('order.paid') / count('page.view'),
      aovYuan: day.gmvFen / count('order.paid') / 100,
      roas: day.gmvFen / day.spendFen,
      activityJoin: count('activity.join') / count('activity.reach'),
      resolveRate: count('service.resolve') / count('service.request'),
      leavePerJoin: count('member.leave') / count('member.join'),
    };
    console.log('[simulator] day sample:', day.events, 'events;', JSON.stringify(rates, (_k, v: unknown) => (typeof v === 'number' ? +v.toFixed(4) : v)));
    expect(rates.openRate).toBeGreaterThan(0.18);
    expect(rates.openRate).toBeLessThan(0.26);
    expect(rates.deliveryRate).toBeGreaterThan(0.93);
    expect(rates.deliveryRate).toBeLessThan(0.97);
    expect(rates.clickPerOpen).toBeGreaterThan(0.27);
    expect(rates.clickPerOpen).toBeLessThan(0.33);
    expect(rates.paidConversion).toBeGreaterThan(0.035);
    expect(rates.paidConversion).toBeLessThan(0.07);
    expect(Math.abs(rates.paidConversion - 0.052)).toBeLessThan(0.004);
    expect(rates.aovYuan).toBeGreaterThan(150);
    expect(rates.aovYuan).toBeLessThan(300);
    expect(rates.roas).toBeGreaterThan(2);
    expect(rates.roas).toBeLessThan(7);
    expect(rates.activityJoin).toBeGreaterThan(0.18);
    expect(rates.activityJoin).toBeLessThan(0.22);
    expect(rates.resolveRate).toBeGreaterThan(0.82);
    expect(rates.resolveRate).toBeLessThan(0.88);
    expect(rates.leavePerJoin).toBeLessThan(0.2);
    // ROAS differs by channel (Douyin is paid traffic, WeCom is cheap).
    const roasOf = (c: string) => (day.gmvByChannel.get(c) ?? 0) / (day.spendByChannel.get(c) ?? 1);
    expect(roasOf('wecom')).toBeGreaterThan(roasOf('douyin'));
  });

  it('gives order.create and order.paid of an order the same amount', () => {
    expect(count('order.paid')).toBeGreaterThan(3000);
    expect(day.unmatchedPaid).toBe(0);
  });

  it('has a long-tailed first-response time with a median near 40 s', () => {
    const sorted = [...day.frt].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.floor(p * (sorted.length - 1))]!;
    console.log('[simulator] first response p50/p90/p99 (s):', q(0.5) / 1000, q(0.9) / 1000, q(0.99) / 1000);
    expect(q(0.5)).toBeGreaterThan(35_000);
    expect(q(0.5)).toBeLessThan(45_000);
    expect(q(0.9)).toBeGreaterThan(90_000);
    expect(q(0.99)).toBeGreaterThan(180_000);
  });

  it('covers every channel, community and campaign, with Zipf-like member activity', () => {
    expect([...day.channels].sort()).toEqual([...CHANNELS].sort());
    expect(day.communities.size).toBe(COMMUNITIES.length);
    expect(day.campaigns.size).toBe(CAMPAIGNS.length);
    expect(day.groupEventsWithoutCommunity).toBe(0);
    const perMember = [...day.memberEvents.values()].sort((a, b) => b - a);
    const total = perMember.reduce((s, v) => s + v, 0);
    const top1pct = perMember.slice(0, Math.ceil(perMember.length / 100)).reduce((s, v) => s + v, 0);
    console.log('[simulator] members seen:', perMember.length, 'top 1% share:', (top1pct / total).toFixed(3));
    expect(top1pct / total).toBeGreaterThan(0.05); // 5× their head count
    expect(perMember.length).toBeGreaterThan(15_000);
  });

  it('runs at a fixed rate with levelAt: () => 1, the same at 04:00 as at 20:00 (tests do not depend on the hour)', () => {
    const perHour = (hour: number, levelAt?: (ts: number) => number) => {
      const sim = new Simulator(() => {}, { seed: 9, peakEventsPerSecond: 20, now: () => at(hour), ...(levelAt ? { levelAt } : {}) });
      return generateAll(sim, at(hour), at(hour) + 10 * MINUTE, MINUTE).length;
    };
    const night = perHour(4, () => 1);
    const evening = perHour(20, () => 1);
    // 20/s for 600 s = 12,000 expected; the two hours agree within sampling noise.
    for (const n of [night, evening]) expect(Math.abs(n - 12_000)).toBeLessThan(4 * Math.sqrt(12_000) * 3);
    expect(Math.abs(night - evening) / evening).toBeLessThan(0.1);
    // Without it the curve applies: 04:00 is ~4% of the peak.
    expect(perHour(4) / perHour(20)).toBeLessThan(0.1);
  });

  it('follows the configured time zone', () => {
    const sim = new Simulator(() => {}, { seed: 5, peakEventsPerSecond: 2, timezone: 'UTC', now: () => 0 });
    const dayUtc = Date.UTC(2026, 10, 23);
    const hourly = new Array<number>(24).fill(0);
    for (const e of generateAll(sim, dayUtc, dayUtc + 24 * HOUR, 10 * MINUTE)) hourly[new Date(e.ts).getUTCHours()]!++;
    expect(Math.max(...hourly)).toBe(hourly[20]);
    expect(hourly[20]! / hourly[3]!).toBeGreaterThan(3);
  });
});

/** Per-channel, per-type counts, GMV and per-minute distinct active members of a run. */
interface Tally {
  counts: Map<string, number>;
  gmvFen: Map<string, number>;
  /** Σ over minutes of distinct active members, per channel. */
  distinctMinutes: Map<string, number>;
  /** For `trackChannel`: member → minutes in which it was active. */
  memberMinutes: Map<string, number>;
}

function tally(opts: { seed: number; peak: number; from: number; to: number; swing?: Omit<SwingSpec, 'startAt'>; trackChannel?: string }): Tally {
  const sim = new Simulator(() => {}, { seed: opts.seed, peakEventsPerSecond: opts.peak, now: () => opts.from });
  // Warm-up, so the measured window starts with follow-ups in flight (steady state).
  sim.generate(opts.from - 15 * MINUTE, opts.from);
  if (opts.swing) sim.injectSwing({ ...opts.swing, startAt: opts.from });
  const r: Tally = { counts: new Map(), gmvFen: new Map(), distinctMinutes: new Map(), memberMinutes: new Map() };
  const add = (m: Map<string, number>, k: string, v = 1) => m.set(k, (m.get(k) ?? 0) + v);
  for (let t = opts.from; t < opts.to; t += MINUTE) {
    const active = new Map<string, Set<string>>();
    for (const e of sim.generate(t, t + MINUTE)) {
      add(r.counts, `${e.channel}|${e.type}`);
      if (e.type === 'order.paid') add(r.gmvFen, e.channel, e.amount!);
      if (e.member && ACTIVE_TYPES.has(e.type)) {
        let set = active.get(e.channel);
        if (!set) active.set(e.channel, (set = new Set()));
        set.add(e.member);
      }
    }
    for (const [channel, set] of active) {
      add(r.distinctMinutes, channel, set.size);
      if (channel === opts.trackChannel) for (const m of set) add(r.memberMinutes, m);
    }
  }
  return r;
}

const get = (t: Tally, channel: string, type: string) => t.counts.get(`${channel}|${type}`) ?? 0;
const sumType = (t: Tally, type: string) => CHANNELS.reduce((s, c) => s + get(t, c, type), 0);

/** Counts of every event type on every channel except `swung` are identical. */
function otherChannelsUnchanged(base: Tally, swung: Tally, channel: string): void {
  const others = (t: Tally) => [...t.counts].filter(([k]) => !k.startsWith(`${channel}|`)).sort(([a], [b]) => a.localeCompare(b));
  expect(others(swung)).toEqual(others(base));
  for (const c of CHANNELS) if (c !== channel) expect(swung.gmvFen.get(c)).toBe(base.gmvFen.get(c));
}

/**
 * Swings are measured against the same seed without the swing. The simulator never lets a
 * swing touch its main random stream, so both runs have the same roots and the swung
 * outcomes are a random thinning (or copying) of the baseline ones: given N baseline
 * outcomes, the swung count is N·⌊f⌋ + Binomial(N, f − ⌊f⌋), so the measured ratio has
 * mean f and σ = √(φ(1−φ)/N), φ = f − ⌊f⌋. Bounds are 4σ.
 */
const sigma = (f: number, n: number) => {
  const phi = f - Math.floor(f);
  return Math.sqrt((phi * (1 - phi)) / n);
};

describe('simulator: swings', () => {
  it('a 0.84 open-rate swing on one channel lowers its open rate by 16% and leaves the rest alone', () => {
    const run = { seed: 21, peak: 200, from: at(20), to: at(21.5) };
    const base = tally(run);
    const swung = tally({ ...run, swing: { kpi: 'push_open_rate', channel: 'wecom', factor: 0.84 } });
    const delivered = get(base, 'wecom', 'push.delivered');
    expect(get(swung, 'wecom', 'push.delivered')).toBe(delivered);
    const baseRate = get(base, 'wecom', 'push.open') / delivered;
    const swungRate = get(swung, 'wecom', 'push.open') / delivered;
    const ratio = swungRate / baseRate;
    const tolerance = 4 * sigma(0.84, get(base, 'wecom', 'push.open'));
    console.log(`[simulator] wecom open rate ${baseRate.toFixed(4)} → ${swungRate.toFixed(4)}: ratio ${ratio.toFixed(4)} (expected 0.84 ± ${tolerance.toFixed(4)}, n=${get(base, 'wecom', 'push.open')} opens)`);
    expect(Math.abs(ratio - 0.84)).toBeLessThan(tolerance);
    // The unswung rate is the model's (binomial 4σ over the deliveries).
    const p = PUSH.wecom!.open;
    expect(Math.abs(baseRate - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / delivered));
    otherChannelsUnchanged(base, swung, 'wecom');
  });

  describe('each swing KPI scales its driver by the factor', () => {
    const run = { seed: 33, peak: 60, from: at(20), to: at(21) };
    let base: Tally;
    beforeAll(() => {
      base = tally({ ...run, trackChannel: 'wecom' });
    });

    const cases: { kpi: SwingKpi; channel?: string; factor: number; measure: (t: Tally) => number; n: (t: Tally) => number }[] = [
      { kpi: 'push_click_rate', channel: 'app_push', factor: 0.86, measure: (t) => get(t, 'app_push', 'push.click') / get(t, 'app_push', 'push.delivered'), n: (t) => get(t, 'app_push', 'push.click') },
      { kpi: 'paid_conversion', channel: 'miniprogram', factor: 0.6, measure: (t) => get(t, 'miniprogram', 'order.paid') / get(t, 'miniprogram', 'page.view'), n: (t) => get(t, 'miniprogram', 'order.paid') },
      { kpi: 'new_members', factor: 0.84, measure: (t) => sumType(t, 'member.join'), n: (t) => sumType(t, 'member.join') },
      { kpi: 'churn_rate', factor: 1.4, measure: (t) => sumType(t, 'member.leave'), n: (t) => sumType(t, 'member.leave') },
      { kpi: 'messages', channel: 'wechat_group', factor: 0.86, measure: (t) => get(t, 'wechat_group', 'message'), n: (t) => get(t, 'wechat_group', 'message') },
    ];
    for (const c of cases) {
      it(`${c.kpi} ×${c.factor}${c.channel ? ` on ${c.channel}` : ''}`, () => {
        const swung = tally({ ...run, swing: { kpi: c.kpi, channel: c.channel, factor: c.factor } });
        const ratio = c.measure(swung) / c.measure(base);
        const tolerance = 4 * sigma(c.factor, c.n(base));
        console.log(`[simulator] ${c.kpi} ×${c.factor}: measured ratio ${ratio.toFixed(4)} ± ${tolerance.toFixed(4)} (n=${c.n(base)})`);
        expect(Math.abs(ratio - c.factor)).toBeLessThan(tolerance);
        if (c.channel) otherChannelsUnchanged(base, swung, c.channel);
        if (c.kpi === 'churn_rate') expect(swung.distinctMinutes).toEqual(base.distinctMinutes); // the denominator stays
      });
    }

    it('gmv ×0.84 scales order amounts (same orders, so exact up to rounding)', () => {
      const swung = tally({ ...run, swing: { kpi: 'gmv', channel: 'miniprogram', factor: 0.84 } });
      expect(get(swung, 'miniprogram', 'order.paid')).toBe(get(base, 'miniprogram', 'order.paid'));
      expect(Math.abs(swung.gmvFen.get('miniprogram')! / base.gmvFen.get('miniprogram')! - 0.84)).toBeLessThan(1e-4);
      otherChannelsUnchanged(base, swung, 'miniprogram');
    });

    for (const factor of [0.84, 1.4]) {
      it(`active_members ×${factor} on wecom scales distinct active members, not the ratios`, () => {
        const swung = tally({ ...run, swing: { kpi: 'active_members', channel: 'wecom', factor }, trackChannel: 'wecom' });
        const ratio = swung.distinctMinutes.get('wecom')! / base.distinctMinutes.get('wecom')!;
        // Members are kept / copied as wholes: Var(ratio) = φ(1−φ)·Σw²/(Σw)², w = a member's active minutes.
        const w = [...base.memberMinutes.values()];
        const sw = w.reduce((s, v) => s + v, 0);
        const sw2 = w.reduce((s, v) => s + v * v, 0);
        const phi = factor - Math.floor(factor);
        const tolerance = 4 * Math.sqrt((phi * (1 - phi) * sw2) / (sw * sw));
        console.log(`[simulator] active_members ×${factor}: distinct-per-minute ratio ${ratio.toFixed(4)} ± ${tolerance.toFixed(4)}`);
        expect(Math.abs(ratio - factor)).toBeLessThan(tolerance);
        const openRate = (t: Tally) => get(t, 'wecom', 'push.open') / get(t, 'wecom', 'push.delivered');
        expect(Math.abs(openRate(swung) / openRate(base) - 1)).toBeLessThan(0.1);
        otherChannelsUnchanged(base, swung, 'wecom');
      });
    }
  });

  it('acts on flows already in flight from the moment it is injected, and expires after durationMs', () => {
    let now = at(20);
    const sim = new Simulator(() => {}, { seed: 5, now: () => now });
    sim.generate(at(20) - 10 * MINUTE, at(20)); // deliveries in flight, their opens still to come
    const swing = sim.injectSwing({ kpi: 'push_open_rate', channel: 'wecom', factor: 0, durationMs: 10 * MINUTE });
    expect(swing).toMatchObject({ kpi: 'push_open_rate', channel: 'wecom', factor: 0, startsAt: at(20), endsAt: at(20) + 10 * MINUTE });
    expect(sim.activeSwings().map((s) => s.id)).toEqual([swing.id]);
    const during = sim.generate(at(20), at(20) + 10 * MINUTE);
    const after = sim.generate(at(20) + 10 * MINUTE, at(20) + 20 * MINUTE);
    const count = (es: RawEvent[], type: string, channel: string) => es.filter((e) => e.type === type && e.channel === channel).length;
    expect(count(during, 'push.open', 'wecom')).toBe(0);
    expect(count(during, 'push.delivered', 'wecom')).toBeGreaterThan(500);
    expect(count(during, 'push.open', 'app_push')).toBeGreaterThan(50);
    expect(count(after, 'push.open', 'wecom')).toBeGreaterThan(100);
    now = at(20) + 10 * MINUTE;
    expect(sim.activeSwings()).toEqual([]);

    const open = sim.injectSwing({ kpi: 'messages', factor: 2 });
    expect(open.endsAt).toBeNull();
    sim.injectSwing({ kpi: 'gmv', factor: 1.5, channel: 'douyin', durationMs: MINUTE });
    expect(sim.activeSwings()).toHaveLength(2);
    expect(sim.removeSwing(open.id)).toBe(true);
    expect(sim.removeSwing(open.id)).toBe(false);
    expect(sim.activeSwings()).toHaveLength(1);
    sim.clearSwings();
    expect(sim.activeSwings()).toEqual([]);
  });
});

describe('simulator: timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers contiguous batches to the sink every tick and stops cleanly', () => {
    vi.useFakeTimers({ now: at(20) });
    const batches: RawEvent[][] = [];
    const sim = new Simulator((events) => void batches.push(events), { seed: 9, now: () => Date.now(), tickMs: 250 });
    sim.start();
    sim.start(); // idempotent
    expect(sim.running).toBe(true);
    vi.advanceTimersByTime(5_000);
    expect(batches.length).toBeGreaterThanOrEqual(19);
    const events = batches.flat();
    expect(events.every((e) => e.ts >= at(20) && e.ts < at(20) + 5_000)).toBe(true);
    for (let i = 1; i < events.length; i++) expect(events[i]!.ts).toBeGreaterThanOrEqual(events[i - 1]!.ts);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    // ~60 events/s at the 20:00 peak.
    expect(events.length).toBeGreaterThan(150);
    expect(events.length).toBeLessThan(500);

    sim.stop();
    expect(sim.running).toBe(false);
    const delivered = batches.length;
    vi.advanceTimersByTime(5_000);
    expect(batches.length).toBe(delivered);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not flood the sink after the clock jumps, and reports sink errors without stopping', async () => {
    vi.useFakeTimers({ now: at(20) });
    const errors: unknown[] = [];
    let calls = 0;
    const batches: RawEvent[][] = [];
    const sim = new Simulator(
      (events) => {
        calls++;
        if (calls === 1) throw new Error('sync boom');
        if (calls === 2) return Promise.reject(new Error('async boom'));
        batches.push(events);
      },
      { seed: 9, now: () => Date.now(), tickMs: 250, onError: (e) => errors.push(e) },
    );
    sim.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(errors.map((e) => (e as Error).message)).toEqual(['sync boom', 'async boom']);
    expect(batches.length).toBeGreaterThan(0);
    vi.setSystemTime(at(20) + HOUR); // the process slept for an hour
    batches.length = 0;
    await vi.advanceTimersByTimeAsync(250);
    const events = batches.flat();
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.ts >= Date.now() - 500)).toBe(true);
    sim.stop();
  });
});
