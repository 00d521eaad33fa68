/**
 * Active alerts for the ticker, and which tiles are flashing.
 *
 * Two feeds: the snapshot's `alerts` (the full active list, on connect / resync) replaces
 * the list; socket `alert` events (AlertEvent[], state changes) update it in between. An
 * event moving an alert INTO firing (or a firing alert the wall had not seen) flashes the
 * tile of its KPI for FLASH_MS. Everything is bounded: at most MAX_ACTIVE alerts (the least
 * severe are dropped first) and one flash entry per KPI.
 */
import { defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';
import type { AlertEvent } from '@siyu-pulse/contracts/alerts';
import type { LiveAlert } from '@siyu-pulse/contracts/live';

export type { LiveAlert };
export type ActiveState = LiveAlert['state'];

export type AlertTone = 'critical' | 'warning' | 'flapping' | 'pending';

export const MAX_ACTIVE = 100;
export const FLASH_MS = 10_000;
/** A snapshot's firing alert flashes only if it fired this recently. */
export const FLASH_RECENT_MS = 60_000;

const ACTIVE: readonly string[] = ['pending', 'firing', 'flapping'];

export function isActiveState(s: string): s is ActiveState {
  return ACTIVE.includes(s);
}

/** The colour class of an alert: critical red, warning amber, flapping purple, pending grey. */
export function alertTone(a: Pick<LiveAlert, 'state' | 'severity'>): AlertTone {
  if (a.state === 'flapping') return 'flapping';
  if (a.state === 'pending') return 'pending';
  return a.severity === 'critical' ? 'critical' : 'warning';
}

const RANK: Record<AlertTone, number> = { critical: 0, warning: 1, flapping: 2, pending: 3 };

/** The more severe of two tones (null = none). */
export function moreSevere(a: AlertTone | null, b: AlertTone | null): AlertTone | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] <= RANK[b] ? a : b;
}

/** Most severe first, then the newest. */
export function sortAlerts(list: readonly LiveAlert[]): LiveAlert[] {
  return [...list].sort((a, b) => RANK[alertTone(a)] - RANK[alertTone(b)] || b.since - a.since || a.alertKey.localeCompare(b.alertKey));
}

/** An event folded into the active list (the contract: `since` = the event's ts). */
function fromEvent(e: AlertEvent): LiveAlert | null {
  if (!isActiveState(e.state)) return null;
  return {
    alertKey: e.alertKey,
    ruleName: e.ruleName,
    kpi: e.kpi,
    split: e.split,
    state: e.state,
    severity: e.severity,
    value: e.value,
    baseline: e.baseline,
    change: e.change,
    since: e.ts,
    summary: e.summary,
  };
}

/**
 * Lenient parse of one snapshot alert: an unattended wall keeps its page open across a deploy
 * (until a remote reload), so it must not crash on a newer backend's answer.
 */
export function normalizeLiveAlert(raw: unknown): LiveAlert | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const a = raw as Partial<LiveAlert> & Record<string, unknown>;
  if (typeof a.alertKey !== 'string' || typeof a.kpi !== 'string' || typeof a.state !== 'string' || !isActiveState(a.state)) return null;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const split = a.split && typeof a.split === 'object' && typeof a.split.dim === 'string' && typeof a.split.value === 'string' ? { dim: a.split.dim, value: a.split.value } : null;
  return {
    alertKey: a.alertKey,
    ruleName: typeof a.ruleName === 'string' ? a.ruleName : a.alertKey,
    kpi: a.kpi,
    split,
    state: a.state,
    severity: a.severity === 'critical' || a.severity === 'warning' ? a.severity : null,
    value: n(a.value),
    baseline: n(a.baseline),
    change: n(a.change),
    since: n(a.since) ?? Date.now(),
    summary: typeof a.summary === 'string' ? a.summary : '',
  };
}

function bounded(list: LiveAlert[]): LiveAlert[] {
  const sorted = sortAlerts(list);
  return sorted.length > MAX_ACTIVE ? sorted.slice(0, MAX_ACTIVE) : sorted;
}

export const useAlertsStore = defineStore('alerts', () => {
  /** Sorted, bounded, replaced wholesale on every change. */
  const active = shallowRef<LiveAlert[]>([]);
  /** KPI id → { until (client ms), tone } of a tile flash. */
  const flashes = shallowRef<Record<string, { until: number; tone: AlertTone }>>({});
  /** Client time of the last alert update (snapshot or event). */
  const updatedAt = shallowRef<number | null>(null);

  /** Flash a KPI's tile; a flash already running in a more severe colour keeps its colour. */
  function flash(kpi: string, tone: AlertTone, at: number): void {
    const cur = flashes.value[kpi];
    const keep = cur && cur.until > at && RANK[cur.tone] < RANK[tone];
    flashes.value = { ...flashes.value, [kpi]: { until: at + FLASH_MS, tone: keep ? cur.tone : tone } };
  }

  /**
   * The snapshot's full list replaces ours. An alert firing that we had not seen firing
   * flashes its tile if it started recently (`serverTime` − since < FLASH_RECENT_MS): a wall
   * reloaded in the middle of a long incident does not flash for it again.
   */
  function replace(raw: readonly unknown[], at = Date.now(), serverTime = at): void {
    const before = new Map(active.value.map((a) => [a.alertKey, a]));
    const list = raw.map(normalizeLiveAlert).filter((a): a is LiveAlert => a !== null);
    for (const a of list) {
      const fresh = serverTime - a.since < FLASH_RECENT_MS;
      if (a.state === 'firing' && fresh && before.get(a.alertKey)?.state !== 'firing') flash(a.kpi, alertTone(a), at);
    }
    active.value = bounded(list);
    updatedAt.value = at;
  }

  /** State changes from the socket `alert` event. */
  function apply(events: unknown, at = Date.now()): void {
    if (!Array.isArray(events) || events.length === 0) return;
    const byKey = new Map(active.value.map((a) => [a.alertKey, a]));
    for (const e of events as AlertEvent[]) {
      if (!e || typeof e.alertKey !== 'string' || typeof e.state !== 'string') continue;
      const next = fromEvent(e);
      if (next) {
        if (next.state === 'firing' && e.from !== 'firing') flash(next.kpi, alertTone(next), at);
        byKey.set(e.alertKey, next);
      } else {
        byKey.delete(e.alertKey); // ok / resolved
      }
    }
    active.value = bounded([...byKey.values()]);
    updatedAt.value = at;
  }

  /** Drops expired flashes (called with the wall's 1 Hz clock). */
  function expire(now: number): void {
    const cur = flashes.value;
    const keys = Object.keys(cur);
    if (keys.length === 0) return;
    const live = keys.filter((k) => cur[k]!.until > now);
    if (live.length !== keys.length) flashes.value = Object.fromEntries(live.map((k) => [k, cur[k]!]));
  }

  function flashOf(kpi: string, now: number): AlertTone | null {
    const f = flashes.value[kpi];
    return f && f.until > now ? f.tone : null;
  }

  /** The most severe active alert per KPI (for the tile's persistent marker). */
  const byKpi = computed(() => {
    const m = new Map<string, LiveAlert>();
    for (const a of active.value) if (!m.has(a.kpi) && a.state !== 'pending') m.set(a.kpi, a);
    return m;
  });

  function clear(): void {
    active.value = [];
    flashes.value = {};
  }

  return { active, flashes, updatedAt, byKpi, replace, apply, expire, flashOf, clear };
});
