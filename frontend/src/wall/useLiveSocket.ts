/**
 * The live connection: Socket.IO namespace `/live`. `snapshot` replaces the store's state,
 * `tick` (every second, also the heartbeat) is applied on top. Connection state goes
 * connecting → connected → reconnecting → offline (after `offlineAfterMs` without a
 * connection; `since` = when it was lost).
 *
 * Also: `alert` (AlertEvent[]: state changes for the ticker; the snapshot carries the full
 * active list) and `control` (remote control from an admin: reload, switch board, and
 * "this display token was revoked" — which stops the socket for good: no retry storm
 * against a server that will keep refusing).
 *
 * The read token travels in the Socket.IO handshake `auth` payload (not in the URL, so it
 * doesn't land in access logs) and is never logged.
 */
import { io, type Socket } from 'socket.io-client';
import { onScopeDispose, watch } from 'vue';
import type { LiveSnapshot, LiveTick, WallControl } from '@siyu-pulse/contracts/live';
import type { AlertEvent } from '@siyu-pulse/contracts/alerts';
import { fetchSnapshot } from '../api';
import { useAlertsStore } from '../stores/alerts';
import { useLiveStore } from '../stores/live';

/** Remote control from an admin (`POST /api/v1/walls/control`). */
export type ControlCommand = WallControl;

interface ServerToClientEvents {
  snapshot: (s: LiveSnapshot) => void;
  tick: (t: LiveTick) => void;
  alert: (events: AlertEvent[]) => void;
  control: (c: ControlCommand) => void;
}
type ClientToServerEvents = Record<string, never>;

export interface LiveSocketOptions {
  token?: string | undefined;
  /** Backend origin; default: the page's own origin. */
  url?: string;
  /** Reconnecting for this long turns into "offline since …". */
  offlineAfterMs?: number;
  /** No snapshot/tick for this long while "connected": the link is presumed dead; reconnect. */
  watchdogMs?: number;
  /** After the server refused the handshake (e.g. bad token), try again this often. */
  refusedRetryMs?: number;
  /** Minimum spacing of REST snapshot fetches when a tick asks for a resync. */
  resyncMinIntervalMs?: number;
  /**
   * Re-read the full snapshot this often (0 = never). Ticks only carry the last two trend
   * minutes, but late events (within the server's lateness window, 5 min by default) can
   * still change older minutes; this reconciles the chart with the server.
   */
  reconcileEveryMs?: number;
  /** Remote `reload` / `board` commands ('revoked' is handled here). */
  onControl?: (c: ControlCommand) => void;
}

export function useLiveSocket(opts: LiveSocketOptions = {}) {
  const store = useLiveStore();
  const alerts = useAlertsStore();
  const offlineAfterMs = opts.offlineAfterMs ?? 10_000;
  const watchdogMs = opts.watchdogMs ?? 15_000;
  const refusedRetryMs = opts.refusedRetryMs ?? 30_000;
  const resyncMinIntervalMs = opts.resyncMinIntervalMs ?? 5_000;
  const reconcileEveryMs = opts.reconcileEveryMs ?? 5 * 60_000;

  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(`${opts.url ?? ''}/live`, {
    auth: opts.token ? { token: opts.token } : {},
    reconnectionDelay: 1_000,
    reconnectionDelayMax: 5_000,
  });

  let stopped = false;
  let offlineTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let connectedAt = 0;
  let lastResyncAt = 0;
  let resyncAbort: AbortController | undefined;

  function clearOfflineTimer(): void {
    if (offlineTimer !== undefined) clearTimeout(offlineTimer);
    offlineTimer = undefined;
  }

  /** The connection dropped (or could not be made): reconnecting, then offline since then. */
  function markLost(at: number): void {
    const cur = store.connection;
    if (cur.state === 'connected') store.setConnection('reconnecting', at);
    if (offlineTimer === undefined && cur.state !== 'offline') {
      const lostAt = cur.state === 'connected' ? at : cur.since;
      offlineTimer = setTimeout(() => {
        offlineTimer = undefined;
        if (store.connection.state !== 'connected') store.setConnection('offline', lostAt);
      }, offlineAfterMs);
    }
  }

  function retryLater(delay: number): void {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!stopped && !socket.connected) socket.connect();
    }, delay);
  }

  async function resync(): Promise<void> {
    const at = Date.now();
    if (resyncAbort || at - lastResyncAt < resyncMinIntervalMs) return;
    lastResyncAt = at;
    resyncAbort = new AbortController();
    try {
      const s = await fetchSnapshot(opts.token, resyncAbort.signal);
      if (!stopped) applySnapshot(s);
    } catch {
      // The next tick asks again (rate-limited above); the socket remains the source of truth.
    } finally {
      resyncAbort = undefined;
    }
  }

  function applySnapshot(s: LiveSnapshot): void {
    store.applySnapshot(s);
    alerts.replace(s.alerts, Date.now(), s.serverTime);
  }

  /** An admin revoked this display token: say so, stop everything, never retry. */
  function revoke(): void {
    if (stopped) return;
    store.setConnection('offline', Date.now(), 'revoked');
    stop();
  }

  socket.on('connect', () => {
    clearOfflineTimer();
    connectedAt = Date.now();
    // A recovered session replays missed ticks; otherwise the server sends a fresh snapshot
    // (possibly from a restarted process whose sequence starts again).
    if (!socket.recovered) store.resetSequence();
    store.setConnection('connected', connectedAt);
  });

  socket.on('disconnect', (reason) => {
    if (stopped) return;
    markLost(Date.now());
    // The server closed the session on purpose: Socket.IO does not retry that by itself.
    if (reason === 'io server disconnect') retryLater(2_000);
  });

  socket.on('connect_error', (err) => {
    if (stopped) return;
    if (socket.active) {
      // Transport-level failure: the manager retries with backoff.
      markLost(Date.now());
      return;
    }
    // Refused by the server's middleware: no automatic retry. Say why if it is the token.
    clearOfflineTimer();
    if (/revoked/i.test(err.message)) {
      revoke();
      return;
    }
    const auth = /auth|token|unauthori[sz]ed|forbidden|401|403/i.test(err.message);
    store.setConnection('offline', Date.now(), auth ? 'auth' : undefined);
    retryLater(refusedRetryMs);
  });

  socket.on('snapshot', (s) => applySnapshot(s));
  socket.on('tick', (t) => {
    if (store.applyTick(t) === 'resync') void resync();
  });
  socket.on('alert', (events) => alerts.apply(events));
  socket.on('control', (c) => {
    if (!c || typeof c !== 'object') return;
    if (c.action === 'revoked') revoke();
    else opts.onControl?.(c);
  });

  // Heartbeat watchdog: ticks come every second; a silent "connected" socket is a dead link.
  const watchdog = setInterval(() => {
    if (!socket.connected) return;
    const last = Math.max(store.receivedAt ?? 0, connectedAt);
    if (Date.now() - last > watchdogMs) {
      connectedAt = Date.now();
      socket.io.engine?.close(); // the manager sees a transport close and reconnects
    }
  }, 1_000);

  const reconcile =
    reconcileEveryMs > 0
      ? setInterval(() => {
          if (socket.connected) void resync();
        }, reconcileEveryMs)
      : undefined;

  const stopLog = watch(
    () => store.connection.state,
    (state) => console.info(`[pulse] live connection: ${state}${store.connection.reason ? ` (${store.connection.reason})` : ''}`),
  );

  function stop(): void {
    stopped = true;
    clearOfflineTimer();
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    clearInterval(watchdog);
    if (reconcile !== undefined) clearInterval(reconcile);
    resyncAbort?.abort();
    stopLog();
    socket.off();
    socket.disconnect();
  }
  onScopeDispose(stop);

  return { socket, stop };
}
