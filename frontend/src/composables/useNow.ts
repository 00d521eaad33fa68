/**
 * One shared 1 Hz clock for the whole wall (clock, freshness texts, stale checks), aligned to
 * the second boundary so the displayed seconds advance evenly. Stops when nobody uses it.
 */
import { onScopeDispose, readonly, ref, type Ref } from 'vue';

const now = ref(Date.now());
let users = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

function schedule(): void {
  const delay = 1000 - (Date.now() % 1000) + 5;
  timer = setTimeout(() => {
    now.value = Date.now();
    schedule();
  }, delay);
}

export function useNow(): Readonly<Ref<number>> {
  if (users++ === 0) {
    now.value = Date.now();
    schedule();
  }
  onScopeDispose(() => {
    if (--users === 0 && timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
  });
  return readonly(now);
}
