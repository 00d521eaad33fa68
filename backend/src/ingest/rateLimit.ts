/**
 * Per-ingest-key token bucket counted in events (not requests: one request may carry
 * 10,000 events). Hand-written because the usual Express limiters count requests only.
 */
export class EventRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    /** The most events one request can ever be granted (a larger one waits forever). */
    readonly burst: number,
  ) {}

  /** Takes `n` tokens for `key`; returns 0 when allowed, else the seconds to wait. */
  take(key: string, n: number, now: number): number {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (n > this.burst) return Math.ceil(n / this.perSecond);
    if (b.tokens >= n) {
      b.tokens -= n;
      return 0;
    }
    return Math.max(1, Math.ceil((n - b.tokens) / this.perSecond));
  }

  /**
   * Forgets keys whose bucket has refilled (a forgotten key starts full, so nothing changes
   * for it). Keeps a per-IP limiter's memory bounded by the clients of the last refill time.
   */
  sweep(now: number): void {
    const refillMs = (this.burst / this.perSecond) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at >= refillMs) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
