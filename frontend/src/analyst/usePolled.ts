/**
 * A REST view kept fresh: loads now, again every `intervalMs` while the page is visible,
 * and on demand (after an action). Keeps the last good answer on a failed refresh and says
 * so, so a blip does not blank the page.
 */
import { onScopeDispose, ref, shallowRef, type Ref, type ShallowRef } from 'vue';

export interface Polled<T> {
  data: ShallowRef<T | undefined>;
  error: Ref<string | null>;
  loading: Ref<boolean>;
  updatedAt: Ref<number | null>;
  refresh(): Promise<void>;
}

export function usePolled<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number | null): Polled<T> {
  const data = shallowRef<T>();
  const error = ref<string | null>(null);
  const loading = ref(false);
  const updatedAt = ref<number | null>(null);
  let inFlight: AbortController | undefined;
  let stopped = false;

  async function refresh(): Promise<void> {
    if (stopped) return;
    inFlight?.abort(); // the newest request wins (filters changed)
    const ctrl = new AbortController();
    inFlight = ctrl;
    loading.value = true;
    try {
      const value = await load(ctrl.signal);
      if (ctrl.signal.aborted) return;
      data.value = value;
      error.value = null;
      updatedAt.value = Date.now();
    } catch (err) {
      if (!ctrl.signal.aborted) error.value = (err as Error).message;
    } finally {
      if (inFlight === ctrl) {
        inFlight = undefined;
        loading.value = false;
      }
    }
  }

  void refresh();
  const timer = intervalMs === null ? undefined : setInterval(() => {
    if (typeof document === 'undefined' || document.visibilityState === 'visible') void refresh();
  }, intervalMs);
  onScopeDispose(() => {
    stopped = true;
    if (timer !== undefined) clearInterval(timer);
    inFlight?.abort();
  });
  return { data, error, loading, updatedAt, refresh };
}
