/**
 * Built-in traffic simulator (演示数据): raw events in the ingest contract shape, with a
 * diurnal curve, weighted channels, communities, campaigns, a Zipf-active member pool and
 * funnels whose rates match the KPI catalogue's targets. Swings multiply one KPI's driver
 * for a while, so alerts can be demonstrated and tested.
 *
 * Generation. Each root kind (message, push, visit, …) is a Poisson process whose rate is
 * piecewise constant per 1 s cell (diurnal level), sampled by the time-change method (one
 * carried residual per kind: no Poisson sampler, no reset between calls). A root starts a
 * flow: a small state machine (push.sent → delivered → open → …) that waits in a time-ordered
 * queue for its next event. Each decision (does this delivery get opened?) is taken when
 * the window holding that event is generated, with the swings in force then, so a swing
 * injected "now" acts on every later event, including those of flows already in flight.
 *
 * Randomness. A root draws a seed for its flow; the flow's member and outcomes use only
 * that seed (mulberry32's state is one integer, stored with the flow). Swings never draw
 * from the main stream: they move an outcome threshold, or keep / copy roots and members by
 * hash. So a run with a swing equals the run without it except where the swing acts, and
 * its effect is exactly measurable against a baseline with the same seed.
 */
import type { EventType } from '@siyu-pulse/contracts/catalogue';
import { minuteOfDay, tzOffsetMs } from '../time/zone.js';
import { MemberPool } from './members.js';
import {
  ACTIVITY, CAMPAIGNS, CHANNELS, COMMERCE, COMMUNITY_CHANCE, PUSH, ROAS_TARGET, ROOTS, ROOT_KINDS, SERVICE,
  diurnalLevel, planTraffic, type Channel, type RootKind, type TrafficPlan,
} from './model.js';
import { PendingQueue } from './pending.js';
import { Mulberry32, WeightedTable, exp1, hash01, hash32, lognormal, mulberry32, normal, uint32, type Rng } from './random.js';
import { SwingBook, type Swing, type SwingKpi, type SwingSpec } from './swings.js';

export { SWING_KPIS, type Swing, type SwingKpi, type SwingSpec } from './swings.js';
export { CAMPAIGNS, CHANNELS, CHANNEL_LABELS, COMMUNITIES, type Channel, type TrafficPlan } from './model.js';

/** One event in the ingest contract (v1) shape. */
export interface RawEvent {
  id: string;
  type: EventType;
  /** Epoch ms, integer. */
  ts: number;
  member?: string;
  channel: string;
  community?: string;
  campaign?: string;
  source?: string;
  /** Integer fen; only on order.create, order.paid and spend. */
  amount?: number;
  /** Only on service.reply: first-response time. */
  duration_ms?: number;
}

export type EventSink = (events: RawEvent[]) => void | PromiseLike<unknown>;

export interface SimulatorOptions {
  /** Average events per second at the daily peak (~20:00 local). Default 60. */
  peakEventsPerSecond?: number;
  /** IANA zone for the diurnal curve. Default 'Asia/Shanghai'. */
  timezone?: string;
  /**
   * Traffic level (1 = the daily peak) at a time. Default: the diurnal curve in `timezone`.
   * Tests that need a known load whatever the hour they run at pass `() => 1` (a fixed rate).
   */
  levelAt?: (ts: number) => number;
  /** Seed for the deterministic PRNG; random when omitted. */
  seed?: number;
  /**
   * Another stream of the same world: arrivals and flows drawn from (seed, stream) while the
   * member pool stays the seed's (the demo history generates each day on its own stream).
   */
  stream?: number;
  now?: () => number;
  /** Timer period of start(). Default 250 ms. */
  tickMs?: number;
  /** Members in the pool. Default 20,000. */
  memberPoolSize?: number;
  /** Errors thrown or rejected by the sink. Default: console.error. */
  onError?: (err: unknown) => void;
}

/** Arrival rates are held constant over cells of this length (aligned to epoch). */
const CELL_MS = 1000;
/** After a longer gap (process suspended) the timer resumes at now instead of flooding the sink. */
const MAX_CATCH_UP_MS = 60_000;
const SOURCE = 'simulator';
const SECOND = 1000;
const MINUTE = 60_000;
/** Spend events: one per channel per minute, spread over the minute. */
const SPEND_OFFSET_MS = 3000;
const SPEND_STAGGER_MS = 7000;
const SPEND_SIGMA = 0.3;

/** Which swing changes a root kind's arrival rate. */
const RATE_SWINGS: Partial<Record<RootKind, SwingKpi>> = { message: 'messages', join: 'new_members', leave: 'churn_rate' };
const ROOT_EVENT: Record<RootKind, EventType> = {
  message: 'message', interaction: 'interaction', push: 'push.sent', visit: 'page.view',
  activity: 'activity.reach', service: 'service.request', join: 'member.join', leave: 'member.leave',
};
/** Chance that a root of this kind names a campaign (activities always belong to one). */
const CAMPAIGN_CHANCE: Record<RootKind, number> = {
  message: 0, interaction: 0.2, push: 0.75, visit: 0.15, activity: 1, service: 0, join: 0.1, leave: 0,
};
/** Pushes go to a person and service is one-to-one: no community on those. */
const NO_COMMUNITY = new Set<RootKind>(['push', 'service']);

/** A flow in flight: its next candidate event and what is needed to decide and emit it. */
interface Flow {
  /** Time of the next candidate event (integer ms). */
  ts: number;
  type: EventType;
  channel: Channel;
  member: string | undefined;
  community: string | undefined;
  campaign: string | undefined;
  /** The flow's PRNG state. */
  rng: number;
  /** Order amount before swings, or a spend amount (fen). */
  amount: number;
  /** First-response time of a service request (ms). */
  duration: number;
}

interface RootStream {
  kind: RootKind;
  channels: Channel[];
  weights: number[];
  weightSum: number;
  /** Intensity mass left before the next arrival (Exp(1) units). */
  residual: number;
}

export class Simulator {
  readonly seed: number;
  readonly peakEventsPerSecond: number;
  readonly timezone: string;
  readonly tickMs: number;
  /** Design rates of the model (no swings). */
  readonly plan: TrafficPlan;

  private readonly now: () => number;
  private readonly levelAt: (ts: number) => number;
  private readonly onError: (err: unknown) => void;
  private readonly rng: Rng;
  /** Flow PRNG, reseeded from each flow's stored state. */
  private readonly flowRng = new Mulberry32();
  private readonly members: MemberPool;
  private readonly campaigns = new WeightedTable(CAMPAIGNS.map((c) => c.name), CAMPAIGNS.map((c) => c.weight));
  private readonly streams: RootStream[];
  private readonly pending: PendingQueue<Flow>;
  private readonly swings = new SwingBook();
  private readonly idPrefix: string;
  /** Salt of the per-member keep / copy decision of active_members swings. */
  private readonly memberSalt: number;
  private counter = 0;
  /** Whether emitted events carry ids (generateInto). */
  private ids = true;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** End of the last generated window: where the timer continues. */
  private cursor: number | undefined;

  constructor(
    private readonly sink: EventSink,
    opts: SimulatorOptions = {},
  ) {
    this.peakEventsPerSecond = opts.peakEventsPerSecond ?? 60;
    if (!(this.peakEventsPerSecond > 0) || !Number.isFinite(this.peakEventsPerSecond)) {
      throw new RangeError(`peakEventsPerSecond must be a positive number, got ${this.peakEventsPerSecond}`);
    }
    this.tickMs = opts.tickMs ?? 250;
    if (!(this.tickMs >= 10) || !Number.isFinite(this.tickMs)) throw new RangeError(`tickMs must be ≥ 10, got ${this.tickMs}`);
    this.timezone = opts.timezone ?? 'Asia/Shanghai';
    tzOffsetMs(this.timezone, 0); // throws RangeError for an unknown zone
    this.seed = (opts.seed ?? Math.floor(Math.random() * 4294967296)) >>> 0;
    this.now = opts.now ?? Date.now;
    const tz = this.timezone;
    this.levelAt = opts.levelAt ?? ((ts) => diurnalLevel(minuteOfDay(ts, tz)));
    this.onError = opts.onError ?? ((err) => console.error('[simulator] sink failed:', err));
    this.rng = mulberry32(opts.stream === undefined ? this.seed : hash32(this.seed, opts.stream));
    this.memberSalt = hash32(this.seed, 0x6d656d);
    this.members = new MemberPool(opts.memberPoolSize ?? 20_000, this.memberSalt);
    this.plan = planTraffic(this.peakEventsPerSecond);
    // The run stamp keeps ids unique across restarts with the same seed (ingest dedups ids).
    this.idPrefix = `sim-${this.seed}-${Math.floor(this.now()).toString(36)}-`;
    this.streams = ROOT_KINDS.map((kind) => {
      const entries = Object.entries(ROOTS[kind].channels) as [Channel, number][];
      return {
        kind,
        channels: entries.map(([c]) => c),
        weights: entries.map(([, w]) => w),
        weightSum: entries.reduce((s, [, w]) => s + w, 0),
        residual: exp1(this.rng),
      };
    });
    // Bounded state: flows in flight are ~ root rate × mean flow duration (≈ 16 s of peak
    // traffic); the cap is a guard far above that, not a working limit.
    this.pending = new PendingQueue(Math.max(50_000, Math.ceil(this.peakEventsPerSecond * 1200)));
  }

  // ---------------------------------------------------------------- timer

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Flows in flight, waiting for their next event (bounded). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Delivers the events of (previous tick, now] to the sink every tickMs. Idempotent.
   * `from`: where a history that was generated elsewhere ended (the demo's, up to the start
   * moment): the first tick continues from there, when that is in the last minute.
   */
  start(from?: number): void {
    if (this.timer) return;
    const now = this.now();
    if (from !== undefined) this.cursor = from;
    // Continue seamlessly after a backfill that ended recently; otherwise start at now.
    if (this.cursor === undefined || now < this.cursor || now - this.cursor > MAX_CATCH_UP_MS) this.cursor = now;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.now();
    let from = this.cursor ?? now;
    if (now - from > MAX_CATCH_UP_MS) from = now - this.tickMs;
    if (now <= from) return;
    try {
      const events = this.generate(from, now);
      if (events.length === 0) return;
      const result = this.sink(events);
      if (result && typeof result.then === 'function') result.then(undefined, this.onError);
    } catch (err) {
      this.onError(err);
    }
  }

  // ---------------------------------------------------------------- swings

  /**
   * Multiplies one KPI's driver on a channel (or all) from `startAt` (default now) for
   * `durationMs` (default: until removed). Overlapping swings multiply. Where each acts:
   * - push_open_rate / push_click_rate: open | delivered, click | opened.
   * - paid_conversion: paid | order (payment failures); beyond ×1.3 the rest lifts
   *   cart | view, decided at the page view, so that part ramps in over a couple of minutes.
   * - gmv: order amounts (the amount in force at payment time).
   * - messages / new_members / churn_rate: the rate of message / join / leave events.
   * - active_members: keeps (f < 1) or adds stand-in copies of (f > 1) whole members for
   *   new flows, so distinct active members and all their activity scale by f and ratio
   *   KPIs stay put (flows already started finish as they are).
   * Decisions are taken when each event is due, so windows inside the swing are scaled by
   * exactly f in expectation from the first one, while a scaled probability stays ≤ 1
   * (open and click up to ×3.3 on the highest-rate channel).
   */
  injectSwing(spec: SwingSpec): Swing {
    const now = this.now();
    // Swings over both in wall time and in generated time can be forgotten.
    return this.swings.add(spec, now, Math.min(now, this.cursor ?? -Infinity));
  }

  removeSwing(id: string): boolean {
    return this.swings.remove(id);
  }

  clearSwings(): void {
    this.swings.clear();
  }

  /** Swings not over at now() (including ones scheduled to start later). */
  activeSwings(): Swing[] {
    return this.swings.list(this.now());
  }

  // ---------------------------------------------------------------- generation

  /**
   * Events with ts in [from, to), time-ordered. Successive calls should cover successive
   * windows: flows in flight continue into the next call (those whose next event falls in
   * a skipped gap are dropped). Deterministic for a seed and a sequence of calls.
   */
  generate(from: number, to: number): RawEvent[] {
    const out: RawEvent[] = [];
    this.generateInto(from, to, out, true);
    return out;
  }

  /**
   * generate(), appending to `out`; `ids: false` leaves the ids out (the demo history: its
   * import ledger counts each batch once, so ids were built only to be dropped). The events
   * are otherwise the same, and so is the simulator's state after the call.
   */
  generateInto(from: number, to: number, out: Omit<RawEvent, 'id'>[], ids: boolean): void {
    // Integer ms: ts ∈ [ceil(from), ceil(to)) is within [from, to).
    from = Math.ceil(from);
    to = Math.ceil(to);
    if (!(to > from)) return;
    this.ids = ids;
    this.swings.forgetBefore(from);
    this.pending.dropBefore(from);
    for (let cell = Math.floor(from / CELL_MS) * CELL_MS; cell < to; cell += CELL_MS) {
      const a = Math.max(from, cell);
      const b = Math.min(to, cell + CELL_MS);
      const level = this.levelAt(cell + CELL_MS / 2);
      for (const stream of this.streams) this.arrivals(stream, a, b, level);
      this.spend(a, b);
      for (let flow = this.pending.popBefore(b); flow; flow = this.pending.popBefore(b)) this.step(flow, out);
    }
    this.cursor = to;
  }

  /** Poisson arrivals of one root kind over [a, b) by the time-change method. Swings never change it. */
  private arrivals(stream: RootStream, a: number, b: number, level: number): void {
    const { channels, weights } = stream;
    const perMs = (this.plan.rootRate[stream.kind] * level) / SECOND;
    if (!(perMs > 0)) return;
    let t = a;
    let r = stream.residual;
    for (;;) {
      const available = (b - t) * perMs;
      if (r >= available) {
        r -= available;
        break;
      }
      t += r / perMs;
      if (t >= b) {
        r = 0;
        break;
      }
      let u = this.rng() * stream.weightSum;
      let i = 0;
      while (i < weights.length - 1 && u >= weights[i]!) u -= weights[i++]!;
      this.root(stream.kind, t, channels[i]!, a, b);
      r = exp1(this.rng);
    }
    stream.residual = r;
  }

  /**
   * One root arrival. Rate swings (messages, new_members, churn_rate) with factor f keep the
   * root when hash < f and add extra roots j ≥ 1 (at a hashed time in the same cell) when
   * hash_j < f − j: the expected count scales by exactly f.
   */
  private root(kind: RootKind, t: number, channel: Channel, a: number, b: number): void {
    const flowSeed = uint32(this.rng);
    const rateKpi = RATE_SWINGS[kind];
    const f = rateKpi && this.swings.size > 0 ? this.swings.factor(rateKpi, channel, t) : 1;
    if (f === 1) {
      this.memberFlows(kind, t, channel, flowSeed);
      return;
    }
    for (let j = 0; j < f; j++) {
      if (hash01(flowSeed, j, 0x72617465) >= f - j) continue;
      if (j === 0) this.memberFlows(kind, t, channel, flowSeed);
      else this.memberFlows(kind, a + hash01(flowSeed, j, 0x74) * (b - a), channel, hash32(flowSeed, 0x10000 + j));
    }
  }

  /**
   * Picks the member and starts the flow. An active_members swing keeps the member (copy 0)
   * when hash(member) < f and adds stand-in copies k ≥ 1 when hash_k(member) < f − k. The
   * choice does not depend on how active a member is, so distinct active members and
   * activity volume both scale by exactly f in expectation, and ratio KPIs stay put.
   */
  private memberFlows(kind: RootKind, t: number, channel: Channel, seed: number): void {
    const flowRng = this.flowRng;
    flowRng.reseed(seed);
    const u = flowRng.next();
    const member = kind === 'join' || kind === 'leave' ? this.members.uniform(u) : kind === 'push' ? this.members.audience(u) : this.members.active(u);
    const f = this.swings.size > 0 ? this.swings.factor('active_members', channel, t) : 1;
    if (f === 1) {
      this.startFlow(kind, t, channel, member, 0);
      return;
    }
    for (let k = 0; k < f; k++) {
      if (hash01(this.memberSalt, member, k) >= f - k) continue;
      if (k > 0) flowRng.reseed(hash32(seed, k));
      this.startFlow(kind, t, channel, member, k);
    }
  }

  private startFlow(kind: RootKind, t: number, channel: Channel, member: number, copy: number): void {
    const rng = this.flowRng.next;
    const chance = NO_COMMUNITY.has(kind) ? 0 : COMMUNITY_CHANCE[channel];
    const community = chance > 0 && (chance >= 1 || rng() < chance) ? this.members.homeCommunity(member) : undefined;
    const campaignChance = CAMPAIGN_CHANCE[kind];
    const campaign = campaignChance > 0 && (campaignChance >= 1 || rng() < campaignChance) ? this.campaigns.pick(rng()) : undefined;
    this.pending.push({
      ts: Math.floor(t),
      type: ROOT_EVENT[kind],
      channel,
      member: this.members.id(member, copy),
      community,
      campaign,
      rng: this.flowRng.current,
      amount: 0,
      duration: 0,
    });
  }

  /**
   * Spend: one event per channel per minute, paced to the channel's expected GMV at that
   * time ÷ its target ROAS, with mean-one lognormal noise. Swings do not move spend (so a
   * GMV swing moves ROAS too, as it would in reality).
   */
  private spend(a: number, b: number): void {
    for (let minute = Math.floor(a / MINUTE) * MINUTE; minute < b; minute += MINUTE) {
      const level = this.levelAt(minute + MINUTE / 2);
      CHANNELS.forEach((channel, i) => {
        const ts = minute + SPEND_OFFSET_MS + i * SPEND_STAGGER_MS;
        if (ts < a || ts >= b) return;
        const expected = (this.plan.gmvFenPerSecond[channel] * level * 60) / ROAS_TARGET[channel];
        const noise = Math.exp(SPEND_SIGMA * normal(this.rng) - (SPEND_SIGMA * SPEND_SIGMA) / 2);
        this.pending.push({
          ts, type: 'spend', channel, member: undefined, community: undefined, campaign: undefined,
          rng: 0, amount: Math.round(expected * noise), duration: 0,
        });
      });
    }
  }

  /**
   * Decides and emits a flow's candidate event, then schedules its next one. Each delay is
   * drawn right after the event it follows, each decision when its event is due; the draw
   * order is fixed per flow, so runs with and without a swing stay aligned.
   */
  private step(f: Flow, out: Omit<RawEvent, 'id'>[]): void {
    const gen = this.flowRng;
    gen.reseed(f.rng);
    const rng = gen.next;
    const t = f.ts;
    const c = f.channel;
    let delay: number;
    switch (f.type) {
      case 'message':
      case 'interaction':
      case 'member.join':
      case 'member.leave':
      case 'contact.deleted_by_customer': // the WeCom connector's types: the simulator starts no flows of them
      case 'group.create':
      case 'group.dismiss':
        this.emit(f, out);
        return;
      case 'spend':
        this.emit(f, out, f.amount);
        return;

      case 'push.sent':
        this.emit(f, out);
        f.type = 'push.delivered';
        delay = lognormal(rng, 1500, 0.8, MINUTE);
        break;
      case 'push.delivered':
        if (rng() >= PUSH[c]!.deliver) return;
        this.emit(f, out);
        f.type = 'push.open';
        delay = lognormal(rng, 60 * SECOND, 1.2, 30 * MINUTE);
        break;
      case 'push.open':
        if (rng() >= PUSH[c]!.open * this.factor('push_open_rate', c, t)) return;
        this.emit(f, out);
        f.type = 'push.click';
        delay = lognormal(rng, 6 * SECOND, 0.8, 5 * MINUTE);
        break;
      case 'push.click':
        if (rng() >= PUSH[c]!.click * this.factor('push_click_rate', c, t)) return;
        this.emit(f, out);
        f.type = 'page.view';
        delay = 500 + rng() * 2500;
        break;

      case 'page.view': {
        this.emit(f, out);
        const uCart = rng();
        delay = lognormal(rng, 30 * SECOND, 0.9, 20 * MINUTE);
        // The cart decision is taken now (it is the common stop); only paid_conversion
        // swings above what the payment step can carry lift it.
        const boost = this.swings.size > 0 ? paidConversionSplit(this.factor('paid_conversion', c, t + delay)).cart : 1;
        if (uCart >= this.plan.cartProb[c] * boost) return;
        f.type = 'cart.add';
        break;
      }
      case 'cart.add':
        this.emit(f, out);
        f.type = 'order.create';
        delay = lognormal(rng, 60 * SECOND, 1.0, 30 * MINUTE);
        break;
      case 'order.create': {
        if (rng() >= COMMERCE.order) return;
        const z = normal(rng);
        const base = Math.min(COMMERCE.amountMaxFen, Math.max(COMMERCE.amountMinFen, COMMERCE.amountMedianFen * Math.exp(COMMERCE.amountSigma * z)));
        f.amount = Math.round(base / 10) * 10; // prices in whole jiao
        delay = lognormal(rng, 20 * SECOND, 1.0, 15 * MINUTE);
        // The amount uses the GMV swing expected at payment, so create and paid agree.
        this.emit(f, out, Math.round(f.amount * this.factor('gmv', c, t + Math.floor(delay))));
        f.type = 'order.paid';
        break;
      }
      case 'order.paid':
        if (rng() >= COMMERCE.paid * paidConversionSplit(this.factor('paid_conversion', c, t)).paid) return;
        // Same amount as order.create unless a GMV swing began or ended while the order was open.
        this.emit(f, out, Math.round(f.amount * this.factor('gmv', c, t)));
        return;

      case 'activity.reach':
        this.emit(f, out);
        f.type = 'activity.join';
        delay = lognormal(rng, 90 * SECOND, 1.0, 30 * MINUTE);
        break;
      case 'activity.join':
        if (rng() < ACTIVITY.join) this.emit(f, out);
        return;

      case 'service.request':
        this.emit(f, out);
        // First-response time: lognormal, median 40 s, p90 ≈ 2 min, p99 ≈ 5 min.
        f.duration = Math.round(lognormal(rng, SERVICE.replyMedianMs, SERVICE.replySigma, 30 * MINUTE));
        f.type = 'service.reply';
        delay = f.duration;
        break;
      case 'service.reply':
        this.emit(f, out, undefined, f.duration);
        f.type = 'service.resolve';
        delay = lognormal(rng, 3 * MINUTE, 0.8, 60 * MINUTE);
        break;
      case 'service.resolve':
        if (rng() < SERVICE.resolve) this.emit(f, out);
        return;
    }
    f.ts = t + Math.floor(delay);
    f.rng = gen.current;
    this.pending.push(f);
  }

  private factor(kpi: SwingKpi, channel: string, t: number): number {
    return this.swings.size > 0 ? this.swings.factor(kpi, channel, t) : 1;
  }

  private emit(f: Flow, out: Omit<RawEvent, 'id'>[], amount?: number, durationMs?: number): void {
    // Ids are assigned in emission order, so they count up with time.
    const e: Omit<RawEvent, 'id'> & { id?: string } = this.ids
      ? { id: this.idPrefix + String(this.counter++), type: f.type, ts: f.ts, channel: f.channel, source: SOURCE }
      : { type: f.type, ts: f.ts, channel: f.channel, source: SOURCE };
    if (f.member !== undefined) e.member = f.member;
    if (f.community !== undefined) e.community = f.community;
    if (f.campaign !== undefined) e.campaign = f.campaign;
    if (amount !== undefined) e.amount = amount;
    if (durationMs !== undefined) e.duration_ms = durationMs;
    out.push(e);
  }
}

/**
 * paid_conversion factor f, split between paid | order (payment failures, up to the
 * ×1/0.77 that probability can carry) and cart | view (the rest). Product = f.
 */
function paidConversionSplit(f: number): { paid: number; cart: number } {
  const paid = Math.min(f, 1 / COMMERCE.paid);
  return { paid, cart: paid > 0 ? f / paid : 1 };
}
