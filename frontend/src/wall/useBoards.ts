/**
 * Loads the boards (`GET /api/v1/boards`) with backoff until it succeeds, again after every
 * reconnect (a deploy may have changed the layout), and on demand (a remote "switch board"
 * naming a board this wall has not heard of yet).
 */
import { fetchBoards } from '../api';
import { useBoardsStore } from '../stores/boards';
import { normalizeBoards } from './boards';
import { useRetryingLoad } from '../composables/useRetryingLoad';

export function useBoards(token: string | undefined) {
  const boards = useBoardsStore();
  const load = useRetryingLoad({
    load: async (signal) => {
      const c = normalizeBoards(await fetchBoards(token, signal));
      if (c) boards.setConfig(c);
    },
    reloadOn: (state, old) => state === 'connected' && old !== 'connected' && old !== 'connecting',
  });

  /** Switch to a board, fetching the boards first if this id is new to the wall. */
  async function switchTo(id: string): Promise<void> {
    if (!boards.has(id)) await load();
    boards.select(id);
  }

  return { reload: load, switchTo };
}
