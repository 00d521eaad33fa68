/**
 * One REST load for the wall, retried with backoff until it succeeds (the wall may start
 * before the backend), loaded again when the live connection says so, and stopped with the
 * component's scope. A revoked display token stops it for good.
 */
import { onScopeDispose, watch } from 'vue';
import { useLiveStore, type ConnectionState } from '../stores/live';

const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export interface RetryingLoadOptions {
  load(signal: AbortSignal): Promise<void>;
  /** false: do not retry after this error (default: always retry). */
  retry?(err: unknown): boolean;
  /** true: load again on this connection-state change. */
  reloadOn(state: ConnectionState, old: ConnectionState | undefined): boolean;
}

export function useRetryingLoad(opts: RetryingLoadOptions): () => Promise<void> {
  const live = useLiveStore();
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;
  let stopped = false;

  async function load(): Promise<void> {
    if (inFlight || stopped || live.revoked) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    inFlight = new AbortController();
    try {
      await opts.load(inFlight.signal);
      attempt = 0;
    } catch (err) {
      if (!stopped && !live.revoked && (opts.retry?.(err) ?? true)) {
        const delay = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]!;
        timer = setTimeout(() => void load(), delay);
      }
    } finally {
      inFlight = undefined;
    }
  }

  void load();
  const stopWatch = watch(
    () => live.connection.state,
    (state, old) => {
      if (opts.reloadOn(state, old)) void load();
    },
  );

  onScopeDispose(() => {
    stopped = true;
    stopWatch();
    if (timer !== undefined) clearTimeout(timer);
    inFlight?.abort();
  });

  return load;
}
