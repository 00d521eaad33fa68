/**
 * The 社群 board's data for the wall: GET /api/v1/communities/board with the wall's token,
 * again every minute (the server caches a minute) and when the live connection comes back.
 * A failed load keeps the last lists.
 */
import { onScopeDispose, shallowRef } from 'vue';
import { getJson } from '../api';
import type { CommunityBoard } from '@siyu-pulse/contracts/communities';
import { useRetryingLoad } from '../composables/useRetryingLoad';

const REFRESH_MS = 60_000;

export function useCommunityBoard(token: string | undefined, limit: number) {
  const board = shallowRef<CommunityBoard | null>(null);
  const loadedAt = shallowRef<number | null>(null);
  const load = useRetryingLoad({
    load: async (signal) => {
      board.value = await getJson<CommunityBoard>(`/api/v1/communities/board?limit=${limit}`, token, signal);
      loadedAt.value = Date.now();
    },
    reloadOn: (state, old) => state === 'connected' && old !== 'connected',
  });
  const timer = setInterval(() => void load(), REFRESH_MS);
  onScopeDispose(() => clearInterval(timer));
  return { board, loadedAt };
}
