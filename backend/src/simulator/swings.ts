/**
 * Swings: temporary multipliers on one KPI's driver, for demos and alert tests. This is
 * the book-keeping (validation, lifetime, lookup); the simulator decides where each
 * factor acts.
 */
import { CHANNELS } from './model.js';

export const SWING_KPIS = [
  'push_open_rate', 'push_click_rate', 'paid_conversion', 'gmv', 'active_members', 'new_members', 'churn_rate', 'messages',
] as const;
export type SwingKpi = (typeof SWING_KPIS)[number];

export interface SwingSpec {
  kpi: SwingKpi;
  /** One channel; all channels when omitted. */
  channel?: string;
  /** Multiplier, 0–20: 0.84 = a 16% drop. */
  factor: number;
  /** Until removed when omitted. */
  durationMs?: number;
  /** Defaults to now(); set it to swing simulated or backfilled time. */
  startAt?: number;
}

export interface Swing {
  id: string;
  kpi: SwingKpi;
  channel: string | null;
  factor: number;
  startsAt: number;
  /** null: until removed. */
  endsAt: number | null;
}

const MAX_SWINGS = 64;
const MAX_FACTOR = 20;

interface Entry {
  id: string;
  kpi: SwingKpi;
  channel: string | null;
  factor: number;
  start: number;
  end: number;
}

export class SwingBook {
  private entries: Entry[] = [];
  private seq = 0;

  get size(): number {
    return this.entries.length;
  }

  /** @param horizon swings that ended before this are forgotten first */
  add(spec: SwingSpec, now: number, horizon: number): Swing {
    if (!(SWING_KPIS as readonly string[]).includes(spec.kpi)) throw new RangeError(`unknown swing KPI '${String(spec.kpi)}' (one of ${SWING_KPIS.join(', ')})`);
    if (spec.channel !== undefined && !(CHANNELS as readonly string[]).includes(spec.channel)) {
      throw new RangeError(`unknown channel '${spec.channel}' (one of ${CHANNELS.join(', ')})`);
    }
    if (typeof spec.factor !== 'number' || !Number.isFinite(spec.factor) || spec.factor < 0 || spec.factor > MAX_FACTOR) {
      throw new RangeError(`factor must be within 0..${MAX_FACTOR}, got ${spec.factor}`);
    }
    if (spec.durationMs !== undefined && !(spec.durationMs > 0)) throw new RangeError(`durationMs must be positive, got ${spec.durationMs}`);
    const start = spec.startAt ?? now;
    if (!Number.isFinite(start)) throw new RangeError(`startAt must be epoch ms, got ${start}`);
    this.forgetBefore(horizon);
    if (this.entries.length >= MAX_SWINGS) throw new RangeError(`at most ${MAX_SWINGS} swings at once`);
    const entry: Entry = {
      id: `swing-${++this.seq}`,
      kpi: spec.kpi,
      channel: spec.channel ?? null,
      factor: spec.factor,
      start,
      end: spec.durationMs === undefined ? Infinity : start + spec.durationMs,
    };
    this.entries.push(entry);
    return toSwing(entry);
  }

  remove(id: string): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((s) => s.id !== id);
    return this.entries.length < before;
  }

  clear(): void {
    this.entries = [];
  }

  /** Swings not over at `now`, including ones that start later. */
  list(now: number): Swing[] {
    return this.entries.filter((s) => s.end > now).map(toSwing);
  }

  forgetBefore(t: number): void {
    if (this.entries.some((s) => s.end <= t)) this.entries = this.entries.filter((s) => s.end > t);
  }

  has(kpi: SwingKpi): boolean {
    return this.entries.some((s) => s.kpi === kpi);
  }

  /** Product of the factors of the swings on `kpi` for `channel` in force at `t` (1 if none). */
  factor(kpi: SwingKpi, channel: string, t: number): number {
    let f = 1;
    for (const s of this.entries) {
      if (s.kpi === kpi && t >= s.start && t < s.end && (s.channel === null || s.channel === channel)) f *= s.factor;
    }
    return f;
  }
}

function toSwing(s: Entry): Swing {
  return { id: s.id, kpi: s.kpi, channel: s.channel, factor: s.factor, startsAt: s.start, endsAt: Number.isFinite(s.end) ? s.end : null };
}
