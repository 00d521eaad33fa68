/**
 * Loads the boards (`GET /api/v1/boards`) with backoff until it succeeds, again after every
 * reconnect (a deploy may have changed the layout), and on demand (a remote "switch board"
 * naming a board this wall has not heard of yet). A backend without the boards API (404)
 * leaves the built-in boards in place and is asked again only on reconnect.
 */
import { onScopeDispose, watch } from 'vue';
import { fetchBoards, HttpError } from '../api';
import { useBoardsStore } from '../stores/boards';
import { useLiveStore } from '../stores/live';
import { normalizeBoards } from '../wall/boards';

const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export function useBoards(token: string | undefined) {
  const boards = useBoardsStore();
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
      const c = normalizeBoards(await fetchBoards(token, inFlight.signal));
      if (c) boards.setConfig(c);
      attempt = 0;
    } catch (err) {
      const gone = err instanceof HttpError && err.status === 404;
      if (!stopped && !gone && !live.revoked) {
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
      if (state === 'connected' && old !== 'connected' && old !== 'connecting') void load();
    },
  );

  onScopeDispose(() => {
    stopped = true;
    stopWatch();
    if (timer !== undefined) clearTimeout(timer);
    inFlight?.abort();
  });

  /** Switch to a board, fetching the boards first if this id is new to the wall. */
  async function switchTo(id: string): Promise<void> {
    if (!boards.has(id)) await load();
    boards.select(id);
  }

  return { reload: load, switchTo };
}
