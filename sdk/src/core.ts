/**
 * The platform-independent client: queue, batching, retries, persistence hooks. Browser and
 * mini-program entries supply a Platform (transport, storage, network state, page hide).
 * Hand-written rather than a tracking library: the ones that exist bring their own servers'
 * protocols and weigh 10–40 KB; this stays under 4 KB gzipped.
 */
import type { EventType, PulseClient, PulseError, PulseEvent, PulseOptions, TrackFields } from './types.js';

/** `status` 0: no answer (offline, DNS, reset). */
export type Done = (status: number, retryAfter: string | undefined, body: unknown) => void;

export interface Platform {
  /** Events left by an earlier page / app session. */
  load(): PulseEvent[];
  /** Keeps the queue; `sent`: ids the server (or a beacon) has taken, to drop from storage. */
  save(queue: PulseEvent[], sent?: Set<string>): void;
  send(body: string, done: Done): void;
  /** Queues a request that outlives the page (sendBeacon); false when it was refused. */
  beacon?(body: string): boolean;
  online(): boolean;
}

/** Events per request: the server takes up to 500 from a public key; beacons must stay under 64 KB. */
const PER_REQUEST = 100;

const hex = (n: number) => {
  const a = new Uint8Array(n);
  const c = globalThis.crypto;
  if (c?.getRandomValues) c.getRandomValues(a);
  else for (let i = 0; i < n; i++) a[i] = (Math.random() * 256) | 0;
  return Array.from(a, (b) => (b + 256).toString(16).slice(1)).join('');
};
/** crypto.randomUUID where there is one (secure contexts); random hex otherwise (plain-http pages, mini-programs). */
export const eventId = (): string => globalThis.crypto?.randomUUID?.() ?? hex(16);

/** Seconds (or an HTTP date) of a Retry-After header, in ms. */
export const retryAfterMs = (v: string | undefined): number => (v ? Math.max(0, Number(v) * 1000 || Date.parse(v) - Date.now()) || 0 : 0);

export function createCore(o: PulseOptions, p: Platform): PulseClient & { resume(): void; hide(): void } {
  let queue = p.load();
  let member = o.member;
  let sending = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let retryAt = 0;
  const batchSize = o.batchSize ?? 20;
  const cap = o.maxQueue ?? 1000;
  const report = (status: number, error: string, events: PulseEvent[]) => o.onError?.({ status, error, events } satisfies PulseError);

  const later = (ms: number) => {
    timer ??= setTimeout(() => {
      timer = undefined;
      flush();
    }, ms);
  };
  const remove = (events: PulseEvent[]) => {
    const ids = new Set(events.map((e) => e.id));
    queue = queue.filter((e) => !ids.has(e.id));
    p.save(queue, ids);
  };

  function flush(): void {
    if (sending || !queue.length || !p.online()) return;
    const wait = retryAt - Date.now();
    if (wait > 0) return later(wait);
    clearTimeout(timer);
    timer = undefined;
    const batch = queue.slice(0, PER_REQUEST);
    sending = true;
    p.send(JSON.stringify(batch), (status, retryAfter, body) => {
      sending = false;
      if (!status || status >= 500 || status === 408 || status === 429) {
        // Exponential backoff with jitter; the server's Retry-After wins when it gives one.
        const backoff = Math.min(o.maxBackoff ?? 60_000, 1000 * 2 ** attempt++) * (0.5 + Math.random() / 2);
        retryAt = Date.now() + (retryAfterMs(retryAfter) || backoff);
        return later(retryAt - Date.now());
      }
      attempt = retryAt = 0;
      remove(batch);
      const b = body as { error?: string; rejected?: { index: number; error: string }[] } | null;
      if (status >= 300) report(status, b?.error ?? `HTTP ${status}`, batch);
      for (const r of b?.rejected ?? []) report(status, r.error, batch.slice(r.index, r.index + 1));
      flush();
    });
  }

  const track = (type: EventType, f: TrackFields = {}) => {
    queue.push({ id: eventId(), type, ts: Date.now(), channel: o.channel, ...(member ? { member } : {}), ...f });
    if (queue.length > cap) report(0, `offline queue full (${cap}): oldest events dropped`, queue.splice(0, queue.length - cap));
    p.save(queue);
    if (queue.length >= batchSize) flush();
    else later(o.flushInterval ?? 5000);
  };
  const helper = (type: EventType) => (f?: TrackFields) => track(type, f);

  return {
    track,
    pageView: helper('page.view'),
    cartAdd: helper('cart.add'),
    interaction: helper('interaction'),
    pushOpen: helper('push.open'),
    pushClick: helper('push.click'),
    activityJoin: helper('activity.join'),
    identify: (m) => void (member = m),
    flush,
    pending: () => queue.length,
    /** Back online: retry now rather than at the end of a backoff taken while offline. */
    resume() {
      attempt = retryAt = 0;
      flush();
    },
    /**
     * The page is going away: hand everything waiting (in flight too — ids make a double
     * count impossible) to the beacon, which the browser sends after the page is gone.
     */
    hide() {
      // Offline, a beacon is accepted and then lost: the queue stays in storage instead.
      if (!p.beacon || !p.online()) return flush();
      const handed: PulseEvent[] = [];
      for (let i = 0; i < queue.length; i += PER_REQUEST) {
        const chunk = queue.slice(i, i + PER_REQUEST);
        if (!p.beacon(JSON.stringify(chunk))) break;
        handed.push(...chunk);
      }
      if (handed.length) remove(handed);
    },
  };
}
