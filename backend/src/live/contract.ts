/**
 * The live contract between the backend and every client (wall, tests, alert engine):
 * what `GET /api/v1/snapshot` returns and what the Socket.IO namespace `/live` emits.
 * Types only, so the frontend can `import type` it without pulling backend code.
 *
 * Socket events (server → client):
 *  - `snapshot` : LiveSnapshot — on connect, and again after any reconnect that was not
 *                 recovered by Socket.IO connection state recovery.
 *  - `tick`     : LiveTick — every second (the server heartbeat too: a quiet metric still ticks).
 */

export type WindowId = 'last5m' | 'today';

export interface KpiWindowValue {
  /** Current window value; null when undefined (0/0, no samples). */
  value: number | null;
  /** Same KPI over the comparison window (previous 5 min; yesterday at the same time of day). */
  previous: number | null;
  /** (value − previous) / |previous|; null when either side is null or previous is 0. */
  change: number | null;
}

export interface LiveWindow {
  id: WindowId;
  from: number;
  to: number;
  previousFrom: number;
  previousTo: number;
  kpis: Record<string, KpiWindowValue>;
  /** Per channel: KPI id → value for the current window. */
  byChannel: Record<string, Record<string, number | null>>;
}

export interface TrendPoint {
  /** Minute start, epoch ms. */
  ts: number;
  /** KPI id → value for that minute. */
  values: Record<string, number | null>;
}

export interface Freshness {
  /** Last time any accepted event arrived (server receive time), or null. */
  lastEventAt: number | null;
  byChannel: Record<string, number>;
}

export interface LiveTick {
  serverTime: number;
  /** Monotonic per server process; a gap tells the client it missed ticks. */
  seq: number;
  windows: Record<WindowId, LiveWindow>;
  /** The last six minute points: the current one keeps changing, and late events can still change the five before. */
  trendTail: TrendPoint[];
  freshness: Freshness;
}

export interface LiveSnapshot extends LiveTick {
  demo: boolean;
  timezone: string;
  bucketSeconds: number;
  /** The business's name shown on the wall. */
  businessName: string;
  /** Per-minute points for the last hour, oldest first. */
  trend: TrendPoint[];
}
