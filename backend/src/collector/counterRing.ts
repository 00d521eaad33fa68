/**
 * Live counters per channel in fixed time slots (the collector keeps one ring at bucket
 * resolution for the last minutes and one at minute resolution for the last day), so live
 * windows, the wall and alert windows never query the store on the hot path.
 */
import { addInto, newVector, type CounterVector } from './counters.js';

export interface WindowSums {
  total: CounterVector;
  byChannel: Map<string, CounterVector>;
}

export const emptyWindow = (): WindowSums => ({ total: newVector(), byChannel: new Map() });

/** Adds one slot's vectors (per channel) into a window's total and its channels. */
export function addSlotInto(slot: ReadonlyMap<string, CounterVector>, into: WindowSums): void {
  for (const [channel, v] of slot) {
    addInto(into.total, v);
    let c = into.byChannel.get(channel);
    if (!c) {
      c = newVector();
      into.byChannel.set(channel, c);
    }
    addInto(c, v);
  }
}

export class CounterRing {
  private readonly slots = new Map<number, Map<string, CounterVector>>();

  constructor(
    readonly slotMs: number,
    readonly retentionMs: number,
  ) {}

  /** The vector for (slot containing ts, channel), created on first use. */
  vectorAt(ts: number, channel: string): CounterVector {
    const start = Math.floor(ts / this.slotMs) * this.slotMs;
    let slot = this.slots.get(start);
    if (!slot) {
      slot = new Map();
      this.slots.set(start, slot);
    }
    let v = slot.get(channel);
    if (!v) {
      v = newVector();
      slot.set(channel, v);
    }
    return v;
  }

  /** Adds the slots in [from, to) (both slot-aligned) into `into`. */
  sumInto(from: number, to: number, into: WindowSums): void {
    for (let t = from; t < to; t += this.slotMs) {
      const slot = this.slots.get(t);
      if (slot) addSlotInto(slot, into);
    }
  }

  /** Oldest instant this ring still answers for. */
  horizon(now: number): number {
    return Math.floor((now - this.retentionMs) / this.slotMs) * this.slotMs;
  }

  evict(now: number): void {
    const horizon = this.horizon(now);
    for (const start of this.slots.keys()) if (start < horizon) this.slots.delete(start);
  }

  get slotCount(): number {
    return this.slots.size;
  }
}
