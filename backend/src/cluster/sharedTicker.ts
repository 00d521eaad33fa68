/**
 * The wall's alert ticker in a cluster. Only the lease holder runs the alert engine, so only
 * its own `liveAlerts.list()` knows what is open: a wall that connected to a standby node
 * got a snapshot with no alerts (and a node that lost the lease kept showing its last ones).
 * The holder publishes its list to Redis (a fenced write: a deposed holder cannot overwrite
 * the new one's) when alert events go out and every `refreshMs`; every other node reads it on
 * the same period and serves that copy. Live walls also get each alert event through the
 * Socket.IO fan-out; this is what a wall sees when it (re)connects.
 */
import type { LiveAlert } from '@siyu-pulse/contracts/live';
import type { Logger } from 'pino';

export interface SharedTickerOptions {
  /** This node's own list (the engine's open alerts; right only on the lease holder). */
  local(): LiveAlert[];
  /** Whether this node holds the lease now. */
  leader(): boolean;
  read(): Promise<unknown>;
  /** Fenced write: rejects when this node no longer holds the lease. */
  write(json: string): Promise<void>;
  logger: Logger;
  /** Period of the holder's publish and the standbys' read (ms); staleness on a standby is at most about this. */
  refreshMs?: number;
}

export interface SharedTicker {
  /** The ticker for a snapshot: the holder's own list, the published copy elsewhere. */
  list(): LiveAlert[];
  /** The holder publishes now (after alert events went out), not at the next period. */
  publish(): void;
  start(): void;
  stop(): void;
}

export function sharedAlertTicker(o: SharedTickerOptions): SharedTicker {
  let copy: LiveAlert[] = [];
  let timer: NodeJS.Timeout | undefined;
  let failing = false;
  const report = (err: unknown, what: string) => {
    // Once per outage, not once per period.
    if (!failing) o.logger.warn({ err }, `cluster: the wall's alert ticker could not be ${what} (Redis); walls keep the last copy`);
    failing = true;
  };
  const publish = () => {
    if (!o.leader()) return;
    const list = o.local();
    copy = list;
    o.write(JSON.stringify(list)).then(
      () => (failing = false),
      (err: unknown) => {
        // Lost the lease between the check and the write: the next holder publishes.
        if (o.leader()) report(err, 'published');
      },
    );
  };
  const refresh = () => {
    if (o.leader()) return publish();
    o.read().then(
      (doc) => {
        copy = Array.isArray(doc) ? (doc as LiveAlert[]) : [];
        failing = false;
      },
      (err: unknown) => report(err, 'read'),
    );
  };
  return {
    list: () => (o.leader() ? o.local() : copy),
    publish,
    start() {
      refresh();
      timer = setInterval(refresh, o.refreshMs ?? 2_000);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
