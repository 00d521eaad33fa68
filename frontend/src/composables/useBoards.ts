/**
 * Loads the boards (`GET /api/v1/boards`) with backoff until it succeeds, again after every
 * reconnect (a deploy may have changed the layout), and on demand (a remote "switch board"
 * naming a board this wall has not heard of yet). A backend without the boards API (404)
 * leaves the built-in boards in place and is asked again only on reconnect.
 */
import { fetchBoards } from '../api';
import { ApiError } from '../http';
import { useBoardsStore } from '../stores/boards';
import { normalizeBoards } from '../wall/boards';
import { useRetryingLoad } from './useRetryingLoad';

export function useBoards(token: string | undefined) {
  const boards = useBoardsStore();
  const load = useRetryingLoad({
    load: async (signal) => {
      const c = normalizeBoards(await fetchBoards(token, signal));
      if (c) boards.setConfig(c);
    },
    retry: (err) => !(err instanceof ApiError && err.status === 404),
    reloadOn: (state, old) => state === 'connected' && old !== 'connected' && old !== 'connecting',
  });

  /** Switch to a board, fetching the boards first if this id is new to the wall. */
  async function switchTo(id: string): Promise<void> {
    if (!boards.has(id)) await load();
    boards.select(id);
  }

  return { reload: load, switchTo };
}
