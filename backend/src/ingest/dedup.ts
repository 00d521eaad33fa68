/**
 * Remembers event ids for the lateness window so a retried batch is counted once.
 * Bounded: beyond `maxEntries` the oldest ids are forgotten first (Map keeps insertion
 * order, which is arrival order).
 */
export class IdDeduplicator {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 2_000_000,
  ) {}

  /** true when `id` was already seen inside the window; records it otherwise. */
  seenBefore(id: string, now: number): boolean {
    const at = this.seen.get(id);
    if (at !== undefined && now - at <= this.windowMs) return true;
    if (at !== undefined) this.seen.delete(id);
    this.seen.set(id, now);
    if (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return false;
  }

  /** Forgets an id (its batch was not acknowledged after all). */
  forget(id: string): void {
    this.seen.delete(id);
  }

  /** Records an id seen at `at` (journal replay after a restart). */
  remember(id: string, at: number): void {
    this.seen.delete(id);
    this.seen.set(id, at);
  }

  /** Drops ids older than the window. Called periodically. */
  sweep(now: number): void {
    for (const [id, at] of this.seen) {
      if (now - at <= this.windowMs) break;
      this.seen.delete(id);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
