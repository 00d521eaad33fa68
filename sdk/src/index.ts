/**
 * @siyu-pulse/sdk for H5 pages: `createPulse({ endpoint, key, channel })`.
 * - the queue lives in localStorage, so events tracked offline or in a closed tab are sent by
 *   the next page of the same site;
 * - requests are `text/plain` with the public key in `?key=`: a cross-origin "simple" request,
 *   no CORS preflight, and the same URL works for `navigator.sendBeacon`, which cannot set
 *   headers, when the page is hidden or closed.
 */
import { createCore, type Platform } from './core.js';
import type { PulseClient, PulseEvent, PulseOptions } from './types.js';

export * from './types.js';

const STORE = 'siyu_pulse_queue';

function load(): PulseEvent[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(STORE) ?? '[]');
    return Array.isArray(v) ? (v as PulseEvent[]) : [];
  } catch {
    return [];
  }
}

export function createPulse(o: PulseOptions): PulseClient {
  const url = `${o.endpoint.replace(/\/+$/, '')}/api/v1/events?key=${encodeURIComponent(o.key)}`;
  const platform: Platform = {
    load,
    // Other tabs of the site share the key: keep their waiting events, drop what was sent.
    save(queue, sent) {
      try {
        const mine = new Set(queue.map((e) => e.id));
        const others = load().filter((e) => !mine.has(e.id) && !sent?.has(e.id));
        localStorage.setItem(STORE, JSON.stringify(others.concat(queue).slice(-(o.maxQueue ?? 1000))));
      } catch {
        /* storage full or disabled (private mode): the queue lives in memory only */
      }
    },
    send(body, done) {
      // A hung connection must not hold the queue: give up after 30 s and retry (ids dedupe).
      fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit', signal: AbortSignal.timeout?.(30_000) }).then(
        (res) => res.json().catch(() => null).then((json: unknown) => done(res.status, res.headers.get('retry-after') ?? undefined, json)),
        () => done(0, undefined, null),
      );
    },
    beacon: (body) => navigator.sendBeacon?.(url, body) ?? false,
    online: () => navigator.onLine !== false,
  };
  const core = createCore(o, platform);
  addEventListener('online', core.resume);
  addEventListener('pagehide', core.hide);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && core.hide());
  core.flush();
  return core;
}
