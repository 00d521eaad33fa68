/**
 * Freshness of what the wall shows, per tile and per panel. Two different failures, two
 * different badges:
 *
 *  - LINK: no server heartbeat. The server sends a tick every second even when nothing
 *    happens; three missed ticks (3 × its 1 s cadence), or a dropped connection, and every
 *    figure on the wall is presumed out of date → everything greys with 「连接中断」.
 *  - SOURCE: the heartbeat is fine but the data behind one tile stopped arriving. A tile's
 *    data is "fresh" when its value last changed (seen by this wall) or when a channel that
 *    feeds it last sent an event (server `freshness.byChannel`), whichever is later. No
 *    update for `staleAfterMs` (3 × the expected 60 s data cadence = 3 min by default;
 *    `?staleAfter=<seconds>` overrides it, e.g. for tests) → that tile greys with 「数据停滞」.
 *    A quiet metric on a live source (no one churned, but the channel keeps sending) is not
 *    stale: its channel is fresh. That is the heartbeat's job: quiet ≠ dead.
 *
 * Pure functions; the times are server-clock epoch ms (the tick's `serverTime` plus the time
 * since it arrived), so a wrong wall-PC clock does not make everything stale.
 */
import type { Freshness } from '@siyu-pulse/contracts/live';

/** The server ticks every second. */
export const TICK_CADENCE_MS = 1_000;
export const HEARTBEAT_STALE_MS = 3 * TICK_CADENCE_MS;
/** Expected cadence of a KPI's underlying events on a working day. */
export const DATA_CADENCE_MS = 60_000;
export const DEFAULT_STALE_AFTER_MS = 3 * DATA_CADENCE_MS;

export type StaleReason = 'link' | 'source' | null;

export interface DataClock {
  /** Server-clock "now". */
  serverNow: number;
  freshness: Freshness | null;
  byChannel: Record<string, Record<string, number | null>> | undefined;
  /** Server time each KPI's value (today window) last changed, as seen by this wall. */
  changedAt: Readonly<Record<string, number>>;
}

/** `?staleAfter=<seconds>` → ms, or the default. Bounded to [2 s, 1 day]. */
export function staleAfterFromUrl(search: string): number {
  const raw = new URLSearchParams(search).get('staleAfter');
  const s = raw === null ? NaN : Number(raw);
  if (!Number.isFinite(s) || s <= 0) return DEFAULT_STALE_AFTER_MS;
  return Math.round(Math.min(86_400, Math.max(2, s)) * 1000);
}

/** When the data behind these KPIs last arrived or changed (server ms), or null if never seen. */
export function dataAt(kpis: readonly string[], c: DataClock): number | null {
  let at: number | null = null;
  const later = (t: number | undefined | null) => {
    if (t !== undefined && t !== null && Number.isFinite(t) && (at === null || t > at)) at = t;
  };
  let fed = false;
  for (const k of kpis) {
    later(c.changedAt[k]);
    // Channels that contribute to this KPI today: a defined, non-zero value.
    for (const [ch, vals] of Object.entries(c.byChannel ?? {})) {
      const v = vals[k];
      if (v !== null && v !== undefined && v !== 0) {
        fed = true;
        later(c.freshness?.byChannel[ch]);
      }
    }
  }
  // Nothing feeds these KPIs yet (e.g. no order today): any incoming event shows the
  // pipeline is alive.
  if (!fed) later(c.freshness?.lastEventAt);
  return at;
}

export interface StaleInput {
  /** Client-clock now and the client time the last tick arrived. */
  now: number;
  receivedAt: number | null;
  connected: boolean;
  hasData: boolean;
}

/** Link-level staleness: disconnected, or no tick for 3 × its cadence. */
export function linkStale(s: StaleInput): boolean {
  if (!s.hasData) return false;
  return !s.connected || s.receivedAt === null || s.now - s.receivedAt > HEARTBEAT_STALE_MS;
}

export function staleReason(link: boolean, at: number | null, serverNow: number, staleAfterMs: number): StaleReason {
  if (link) return 'link';
  if (at === null || serverNow - at > staleAfterMs) return 'source';
  return null;
}

/**
 * Tracks when each KPI's value changed between two windows' values (server time `at`).
 * Returns the same object when nothing changed (cheap for a shallowRef), a new one otherwise.
 * KPIs seen for the first time get no entry: a first value says nothing about when it changed.
 */
export function trackChanges(
  prev: Readonly<Record<string, number>>,
  before: Record<string, { value: number | null }> | undefined,
  after: Record<string, { value: number | null }>,
  at: number,
): Readonly<Record<string, number>> {
  if (!before) return prev;
  let out: Record<string, number> | null = null;
  for (const [k, v] of Object.entries(after)) {
    const old = before[k];
    if (old !== undefined && old.value !== v.value) {
      out ??= { ...prev };
      out[k] = at;
    }
  }
  return out ?? prev;
}
