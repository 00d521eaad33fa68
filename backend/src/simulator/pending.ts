/**
 * Flows in flight (a delivery waiting for its open, an order for its payment) wait here
 * until the window that holds their next event is generated. A binary min-heap on
 * (ts, insertion order), so output is time-ordered and deterministic. Its size is bounded
 * by rate × longest delay (all delays are capped) and by a hard `capacity`.
 */
export interface Timed {
  ts: number;
}

export class PendingQueue<T extends Timed> {
  private readonly items: T[] = [];
  private readonly seqs: number[] = [];
  private seq = 0;
  /** Items refused because the queue was full, and items dropped because their window was skipped. */
  overflowed = 0;
  skipped = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length >= this.capacity) {
      this.overflowed++;
      return;
    }
    this.items.push(item);
    this.seqs.push(this.seq++);
    this.up(this.items.length - 1);
  }

  /** Removes events before `from` (a window was skipped, e.g. after the process slept). */
  dropBefore(from: number): void {
    while (this.items.length > 0 && this.items[0]!.ts < from) {
      this.pop();
      this.skipped++;
    }
  }

  /** The earliest item if its ts < `to` (ties in insertion order), removed; else undefined. */
  popBefore(to: number): T | undefined {
    return this.items.length > 0 && this.items[0]!.ts < to ? this.pop() : undefined;
  }

  // Sifts move a hole instead of swapping pairs: this queue is on the hot path.
  private up(i: number): void {
    const item = this.items[i]!;
    const seq = this.seqs[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.items[parent]!;
      if (p.ts < item.ts || (p.ts === item.ts && this.seqs[parent]! < seq)) break;
      this.items[i] = p;
      this.seqs[i] = this.seqs[parent]!;
      i = parent;
    }
    this.items[i] = item;
    this.seqs[i] = seq;
  }

  private pop(): T {
    const top = this.items[0]!;
    const item = this.items.pop()!;
    const seq = this.seqs.pop()!;
    const n = this.items.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n) {
        const a = this.items[c]!;
        const b = this.items[r]!;
        if (b.ts < a.ts || (b.ts === a.ts && this.seqs[r]! < this.seqs[c]!)) c = r;
      }
      const child = this.items[c]!;
      if (item.ts < child.ts || (item.ts === child.ts && seq < this.seqs[c]!)) break;
      this.items[i] = child;
      this.seqs[i] = this.seqs[c]!;
      i = c;
    }
    this.items[i] = item;
    this.seqs[i] = seq;
    return top;
  }
}
