/**
 * Loads the KPI catalogue, retrying with backoff until it succeeds (the wall may start
 * before the backend), and again whenever the live connection comes back without one.
 */
import { onScopeDispose, watch } from 'vue';
import { fetchCatalogue } from '../api';
import { useCatalogueStore } from '../stores/catalogue';
import { useLiveStore } from '../stores/live';

const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export function useCatalogue(token: string | undefined) {
  const catalogue = useCatalogueStore();
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
      catalogue.setCatalogue(await fetchCatalogue(token, inFlight.signal));
      attempt = 0;
    } catch {
      if (!stopped && !live.revoked) {
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
    (state) => {
      if (state === 'connected' && !catalogue.loaded) void load();
    },
  );

  onScopeDispose(() => {
    stopped = true;
    stopWatch();
    if (timer !== undefined) clearTimeout(timer);
    inFlight?.abort();
  });

  return { reload: load };
}
