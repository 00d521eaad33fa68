/**
 * The boards the backend serves and the one this wall shows. `?board=<id>` picks one (kept
 * in the URL, so a remote reload stays on the board a remote switch chose); otherwise the
 * default. Until the API answers there is no board (the wall shows its header only).
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { boardFromUrl, pickBoard, type BoardsResponse } from '../wall/boards';

export const useBoardsStore = defineStore('boards', () => {
  /** null until the API answered with boards. */
  const config = shallowRef<BoardsResponse | null>(null);
  const requested = ref<string | null>(typeof location === 'undefined' ? null : boardFromUrl(location.search));

  const picked = computed(() => (config.value ? pickBoard(config.value, requested.value) : null));
  const board = computed(() => picked.value?.board ?? null);
  /** A requested board id that does not exist (the wall says so and shows the default). */
  const missing = computed(() => picked.value?.missing ?? null);

  function setConfig(c: BoardsResponse): void {
    config.value = c;
  }

  function has(id: string): boolean {
    return config.value?.boards.some((b) => b.id === id) ?? false;
  }

  /** Switch board (remote control or keyboard) without a reload; remembered in the URL. */
  function select(id: string): void {
    requested.value = id;
    if (typeof location !== 'undefined' && typeof history !== 'undefined') {
      const url = new URL(location.href);
      url.searchParams.set('board', id);
      history.replaceState(history.state, '', url);
    }
  }

  return { config, requested, board, missing, setConfig, has, select };
});
