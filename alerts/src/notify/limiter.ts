/**
 * Per-notifier send budget. DingTalk and WeCom allow 20 messages a minute per robot and
 * DingTalk then blocks the robot for 10 minutes, so we stay below (18/min) with a sliding
 * window, and after a throttle answer we send nothing until the block is over.
 */
export const DEFAULT_WINDOW_MS = 60_000;
export const DEFAULT_THROTTLE_MS = 10 * 60_000;

export class SlidingWindowLimiter {
  private readonly sent: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** How many more messages may go out right now. */
  available(): number {
    this.prune();
    return Math.max(0, this.limit - this.sent.length);
  }

  record(n = 1): void {
    const t = this.now();
    for (let i = 0; i < n; i++) this.sent.push(t);
  }

  private prune(): void {
    const cutoff = this.now() - this.windowMs;
    while (this.sent.length && (this.sent[0] ?? Infinity) <= cutoff) this.sent.shift();
  }
}

/** Opens on a throttle answer; closed again once the window has passed. */
export class ThrottleCircuit {
  private until = 0;
  /** From a trip until the next successful send: pending alerts then go out as one digest. */
  private recovering = false;

  constructor(
    readonly throttleMs: number,
    private readonly now: () => number,
  ) {}

  trip(forMs = this.throttleMs): number {
    this.until = Math.max(this.until, this.now() + forMs);
    this.recovering = true;
    return this.until;
  }

  isOpen(): boolean {
    return this.now() < this.until;
  }

  /** End of the current throttle, or null when not throttled. */
  openUntil(): number | null {
    return this.isOpen() ? this.until : null;
  }

  isRecovering(): boolean {
    return this.recovering;
  }

  delivered(): void {
    this.recovering = false;
  }
}
