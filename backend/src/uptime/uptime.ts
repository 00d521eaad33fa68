/**
 * When the server was up, so that a period with no data because nothing was running reads
 * as a gap (null) — in /api/v1/series, the wall's trend, CSV and reports — while a period
 * the server was up without events stays 0.
 *
 * How it is recorded: each run writes one span {runId, startedAt, lastSeenAt} through the
 * MetricStore port (DuckDB table / InfluxDB measurement `pulse_uptime`) at start-up, then
 * every heartbeat (60 s), and once more on a clean shutdown. A crash stops the heartbeats:
 * a span is taken to last until lastSeenAt + one heartbeat interval, so a crash leaves at
 * most one interval of uncertainty, and that interval counts as up (0, not a gap).
 * A period no run covers but that has stored data (imported history, late events) is never
 * a gap: the data says something happened.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MetricStore } from '../store/port.js';

export const HEARTBEAT_MS = 60_000;

export type Span = [from: number, to: number];

export interface UptimeSource {
  /** Merged periods in [from, to) the server was up (stored runs and this one). */
  upSpans(from: number, to: number): Promise<Span[]>;
}

export class UptimeRecorder implements UptimeSource {
  readonly runId = randomUUID();
  readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly heartbeatMs: number;

  constructor(
    private readonly store: MetricStore,
    private readonly logger: Pick<Logger, 'warn'>,
    opts: { now?: () => number; heartbeatMs?: number; startedAt?: number } = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
    this.startedAt = opts.startedAt ?? this.now();
  }

  /** Records the start; a store that refuses is logged (the next heartbeat retries). */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beat();
  }

  private async beat(): Promise<void> {
    try {
      await this.store.writeUptime({ runId: this.runId, startedAt: this.startedAt, lastSeenAt: Math.max(this.startedAt, this.now()) });
    } catch (err) {
      this.logger.warn({ err }, 'uptime: heartbeat not recorded (retried at the next one)');
    }
  }

  async upSpans(from: number, to: number): Promise<Span[]> {
    let stored: Span[];
    try {
      stored = (await this.store.queryUptime(from - this.heartbeatMs, to)).map((u) => [u.startedAt, u.lastSeenAt + this.heartbeatMs]);
    } catch (err) {
      // Not knowing is not "down": no gap rather than a false one.
      this.logger.warn({ err }, 'uptime: runs could not be read; nothing is shown as a gap');
      return [[from, to]];
    }
    return mergeSpans([...stored, [this.startedAt, Number.POSITIVE_INFINITY]], from, to);
  }
}

/** Sorted, merged, clipped to [from, to). */
export function mergeSpans(spans: Span[], from: number, to: number): Span[] {
  const sorted = spans.filter(([a, b]) => b > from && a < to).sort((x, y) => x[0] - y[0]);
  const out: Span[] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out.map(([a, b]) => [Math.max(a, from), Math.min(b, to)]);
}

/** Whether [from, to) overlaps any span (spans sorted, as upSpans returns them). */
export function overlaps(spans: readonly Span[], from: number, to: number): boolean {
  return spans.some(([a, b]) => a < to && b > from);
}
