/**
 * Live state of the wall: connection status, the latest snapshot/tick and the bounded
 * one-hour trend. Fed by `useLiveSocket`; components only read it.
 *
 * Server payloads are held in `shallowRef`s and replaced wholesale on every tick: Vue does
 * not deep-proxy them (cheap for a tab that runs for days) and a replacement is the change
 * signal for computed values and the chart.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { DemoHistoryFill, Freshness, KpiWindowValue, LiveSnapshot, LiveTick, LiveWindow, TrendPoint, WindowId } from '@siyu-pulse/contracts/live';
import { boundedTrend, mergeTrend } from './trend';
import { trackChanges } from '../wall/freshness';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';
export type ConnectionReason = 'auth' | 'revoked';

export interface ConnectionStatus {
  state: ConnectionState;
  /** Client time (epoch ms) the connection entered this state — for offline: when it was lost. */
  since: number;
  /**
   * Why, when it matters to the viewer: 'auth' = the server refused the token (retried
   * slowly); 'revoked' = an admin revoked this display token (final: no retries).
   */
  reason?: ConnectionReason;
}

export interface WallMeta {
  demo: boolean;
  timezone: string;
  bucketSeconds: number;
  businessName: string;
}

/** A tick may be ignored (duplicate / out of order) or tell the caller to fetch a full snapshot. */
export type TickResult = 'applied' | 'ignored' | 'resync';

/** The trend tail covers two minutes; a longer silence between ticks leaves holes. */
export const RESYNC_AFTER_SILENCE_MS = 60_000;

export const DEFAULT_TIMEZONE = 'Asia/Shanghai';

export const useLiveStore = defineStore('live', () => {
  const connection = ref<ConnectionStatus>({ state: 'connecting', since: Date.now() });
  const meta = ref<WallMeta | null>(null);
  const windows = shallowRef<Record<WindowId, LiveWindow> | null>(null);
  const trend = shallowRef<TrendPoint[]>([]);
  const freshness = shallowRef<Freshness | null>(null);
  /** Demo: the history fill's progress while it runs (the header says 演示历史填充中 x/y 天); null otherwise. */
  const demoHistory = shallowRef<DemoHistoryFill | null>(null);
  /** Server time of the latest snapshot/tick. */
  const serverTime = ref<number | null>(null);
  const seq = ref<number | null>(null);
  /** Client time the latest snapshot/tick arrived: what per-tile freshness is measured from. */
  const receivedAt = ref<number | null>(null);
  /** serverTime − client receive time of the latest message: corrects the wall clock. */
  const clockOffsetMs = ref(0);
  /** Ticks that arrived with a sequence gap (missed ticks), for diagnostics. */
  const missedTicks = ref(0);
  const snapshots = ref(0);
  /**
   * Server time of the first snapshot of the current session (since the last non-recovered
   * connect): data that has not been seen to arrive is not called stale before it has been
   * watched for the stale interval (e.g. right after a backend restart, which forgets when
   * events last arrived).
   */
  const sessionStart = ref<number | null>(null);
  /** Server time each KPI's today value last changed, as seen by this wall (see wall/freshness.ts). */
  const changedAt = shallowRef<Readonly<Record<string, number>>>({});

  const timezone = computed(() => meta.value?.timezone || DEFAULT_TIMEZONE);
  const hasData = computed(() => windows.value !== null);
  const revoked = computed(() => connection.value.reason === 'revoked');

  function setConnection(state: ConnectionState, at = Date.now(), reason?: ConnectionReason): void {
    const cur = connection.value;
    // A revoked display token is final for this page load.
    if (cur.reason === 'revoked') return;
    // Keep the original `since` while the state (and reason) stays the same.
    if (cur.state === state && cur.reason === reason) return;
    connection.value = reason ? { state, since: at, reason } : { state, since: at };
  }

  function stamp(t: LiveTick, at: number): void {
    serverTime.value = t.serverTime;
    receivedAt.value = at;
    clockOffsetMs.value = t.serverTime - at;
    seq.value = t.seq;
    changedAt.value = trackChanges(changedAt.value, windows.value?.today?.kpis, t.windows.today?.kpis ?? {}, t.serverTime);
    windows.value = t.windows;
    freshness.value = t.freshness;
    demoHistory.value = t.demoHistory ?? null;
  }

  /** A full snapshot replaces everything (on connect, after a non-recovered reconnect, on resync). */
  function applySnapshot(s: LiveSnapshot, at = Date.now()): void {
    meta.value = { demo: s.demo, timezone: s.timezone, bucketSeconds: s.bucketSeconds, businessName: s.businessName };
    stamp(s, at);
    sessionStart.value ??= s.serverTime;
    trend.value = mergeTrend(boundedTrend(s.trend), s.trendTail ?? []);
    snapshots.value++;
  }

  function applyTick(t: LiveTick, at = Date.now()): TickResult {
    const last = seq.value;
    // Same or older sequence number: a duplicate or a late (e.g. volatile) packet.
    if (last !== null && t.seq <= last) return 'ignored';
    const silence = serverTime.value === null ? Infinity : t.serverTime - serverTime.value;
    if (last !== null && t.seq > last + 1) missedTicks.value += t.seq - last - 1;
    stamp(t, at);
    trend.value = mergeTrend(trend.value, t.trendTail);
    return meta.value === null || silence > RESYNC_AFTER_SILENCE_MS ? 'resync' : 'applied';
  }

  function kpi(window: WindowId, id: string): KpiWindowValue | null {
    return windows.value?.[window]?.kpis[id] ?? null;
  }

  /** Forget the sequence so the next snapshot/tick is accepted (a new server process restarts seq). */
  function resetSequence(): void {
    seq.value = null;
    sessionStart.value = null;
  }

  return {
    connection,
    meta,
    windows,
    trend,
    freshness,
    demoHistory,
    serverTime,
    seq,
    receivedAt,
    clockOffsetMs,
    missedTicks,
    snapshots,
    changedAt,
    sessionStart,
    timezone,
    hasData,
    revoked,
    setConnection,
    applySnapshot,
    applyTick,
    kpi,
    resetSequence,
  };
});
