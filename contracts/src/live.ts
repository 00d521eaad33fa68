/**
 * The live contract between the backend and every client (wall, tests, alert engine):
 * what `GET /api/v1/snapshot` returns and what the Socket.IO namespace `/live` emits.
 * Types and the board's panel list; no backend code.
 *
 * Socket events (server → client):
 *  - `snapshot` : LiveSnapshot — on connect, and again after any reconnect that was not
 *                 recovered by Socket.IO connection state recovery.
 *  - `tick`     : LiveTick — every second (the server heartbeat too: a quiet metric still ticks).
 *  - `alert`    : AlertEvent[] (@siyu-pulse/alerts contract) — on each alert state change.
 *                 Fold them into `LiveSnapshot.alerts` by `alertKey`: an event whose state is
 *                 `pending` | `firing` | `flapping` replaces the entry (`since` = event `ts`),
 *                 `ok` | `resolved` removes it.
 *  - `control`  : WallControl — remote control from an admin (reload, switch board), or
 *                 `revoked` just before the server disconnects a revoked display token.
 *
 * REST for walls: `GET /api/v1/boards` → BoardsResponse.
 */

import type { Outrun } from './catalogue/outrun.js';

export type { Outrun };
export type WindowId = 'last5m' | 'today';

export interface KpiWindowValue {
  /** Current window value; null when undefined (0/0, no samples). */
  value: number | null;
  /** Same KPI over the comparison window (previous 5 min; yesterday at the same time of day). */
  previous: number | null;
  /** (value − previous) / |previous|; null when either side is null or previous is 0. */
  change: number | null;
  /** A share over 100% (numerator outran its denominator): which counter is missing. */
  outrun?: Outrun;
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
  /** Shares over 100% in this window, overall (channel null) and per channel; absent when none. */
  outruns?: (Outrun & { channel: string | null })[];
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
  /**
   * Demo mode: the simulated history (30 days before the first start, through the import
   * path) is still being filled; absent when no fill runs (done, none, or not the demo).
   * Pages that show 30-day / weekly figures say so (演示历史填充中 x/y 天) while it is present.
   */
  demoHistory?: DemoHistoryFill;
}

/** Progress of the demo's history fill (backend/src/simulator/history.ts), in whole days. */
export interface DemoHistoryFill {
  /** Days of the plan already in the store (a resumed fill counts the days an earlier run put in). */
  daysDone: number;
  /** Days in the plan (the days before the first start, plus that day up to the start). */
  daysTotal: number;
  /** When this fill (this process's run of it) started, epoch ms. */
  startedAt: number;
}

/** `GET /api/v1/demo/history`: the fill's progress, or null when none is running. */
export interface DemoHistoryAnswer {
  fill: DemoHistoryFill | null;
}

export interface LiveSnapshot extends LiveTick {
  demo: boolean;
  timezone: string;
  bucketSeconds: number;
  /** The business's name shown on the wall. */
  businessName: string;
  /** Per-minute points for the last hour, oldest first. */
  trend: TrendPoint[];
  /** Alerts pending, firing or flapping now (the wall's ticker); [] when none. */
  alerts: LiveAlert[];
}

/** An open alert as the wall shows it (a subset of the alert engine's AlertEvent). */
export interface LiveAlert {
  /** Stable id of the alert instance (`ruleId|dim=value` or `ruleId|total`). */
  alertKey: string;
  ruleName: string;
  /** KPI id from the catalogue (which tile to flash). */
  kpi: string;
  split: { dim: string; value: string } | null;
  state: 'pending' | 'firing' | 'flapping';
  severity: 'warning' | 'critical' | null;
  value: number | null;
  baseline: number | null;
  /** (value − baseline) / |baseline|. */
  change: number | null;
  /** When the current state was entered, epoch ms. */
  since: number;
  /** Short Chinese text, e.g. `推送打开率（渠道 wecom）环比下降 16.3%`. */
  summary: string;
}

/** Payload of the `control` socket event. */
export type WallControl = { action: 'reload' } | { action: 'board'; board: string } | { action: 'revoked' } | { action: 'playlist' };

/** Boards a wall rotates through (`GET /api/v1/playlist`; the `playlist` control says: ask again). */
export interface WallPlaylist {
  items: { board: string; seconds: number }[];
  updatedAt: number;
}

/** The panels a board may list (the wall draws each from a table: wall/panels.ts). */
export const BOARD_PANELS = ['trend_messages', 'trend_open_rate', 'trend_conversion', 'funnel', 'channels', 'alerts', 'communities'] as const;
export type BoardPanel = (typeof BOARD_PANELS)[number];
/** What fits on a 1920×1080 wall: two rows of six tiles, two rows of three panels. */
export const MAX_TILES = 12;
export const MAX_PANELS = 6;

/** One wall layout: which headline tiles and panels a wall shows. */
export interface Board {
  id: string;
  title: { zh: string; en: string };
  /** KPI ids for the headline tiles, in order. */
  tiles: string[];
  panels: BoardPanel[];
}

/** `GET /api/v1/boards`. */
export interface BoardsResponse {
  /** The board a wall shows unless told otherwise (the wall URL or a `control` message may pick another). */
  default: string;
  boards: Board[];
}
