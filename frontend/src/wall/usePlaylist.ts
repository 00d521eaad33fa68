/**
 * Wall playlists: the boards this wall rotates through (`GET /api/v1/playlist`, set by an
 * admin per display or for every wall), each shown for its own seconds. Loaded at start,
 * again after a reconnect and whenever the `playlist` control says it changed. A manual
 * board switch (remote control) shows that board; the rotation carries on from there.
 */
import { computed, onBeforeUnmount, ref, shallowRef } from 'vue';
import type { WallPlaylist } from '@siyu-pulse/contracts/live';
import { getJson } from '../api';
import { ApiError } from '../http';
import { useRetryingLoad } from '../composables/useRetryingLoad';

export function usePlaylist(token: string | undefined, switchTo: (board: string) => Promise<void>, currentBoard: () => string | null) {
  const items = shallowRef<WallPlaylist['items']>([]);
  const index = ref(0);
  /** When the next board comes up (epoch ms, this browser's clock); null: no rotation. */
  const nextAt = ref<number | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;

  function show(i: number): void {
    clearTimeout(timer);
    const list = items.value;
    const item = list[i];
    if (!item || list.length < 2) {
      nextAt.value = null;
      return;
    }
    index.value = i;
    if (item.board !== currentBoard()) void switchTo(item.board);
    nextAt.value = Date.now() + item.seconds * 1000;
    timer = setTimeout(() => show((i + 1) % list.length), item.seconds * 1000);
  }

  function apply(p: WallPlaylist | null): void {
    const list = p?.items ?? [];
    const same = JSON.stringify(list) === JSON.stringify(items.value);
    items.value = list;
    if (same && nextAt.value !== null) return; // unchanged: keep the rotation's rhythm
    // Start on the board already on screen when it is in the list, so nothing jumps.
    const here = list.findIndex((x) => x.board === currentBoard());
    show(here >= 0 ? here : 0);
  }

  const reload = useRetryingLoad({
    load: async (signal) => apply((await getJson<{ playlist: WallPlaylist | null }>('/api/v1/playlist', token, signal)).playlist),
    retry: (err) => !(err instanceof ApiError && err.status === 404),
    reloadOn: (state, old) => state === 'connected' && old !== 'connected' && old !== 'connecting',
  });
  onBeforeUnmount(() => clearTimeout(timer));

  const next = computed(() => (items.value.length >= 2 ? items.value[(index.value + 1) % items.value.length]! : null));
  return { items, index, next, nextAt, reload };
}
