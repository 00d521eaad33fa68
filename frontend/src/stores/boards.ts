/**
 * The boards the backend serves and the one this wall shows. `?board=<id>` picks one (kept
 * in the URL, so a remote reload stays on the board a remote switch chose); otherwise the
 * default. Until the API answers — or when the backend has no boards API — the built-in
 * boards are used.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { BUILTIN_BOARDS, boardFromUrl, pickBoard, type BoardsResponse } from '../wall/boards';

export const useBoardsStore = defineStore('boards', () => {
  const config = shallowRef<BoardsResponse>(BUILTIN_BOARDS);
  /** 'builtin' until the API answered with boards. */
  const source = ref<'builtin' | 'api'>('builtin');
  const requested = ref<string | null>(typeof location === 'undefined' ? null : boardFromUrl(location.search));

  const picked = computed(() => pickBoard(config.value, requested.value));
  const board = computed(() => picked.value.board);
  /** A requested board id that does not exist (the wall says so and shows the default). */
  const missing = computed(() => (source.value === 'api' ? picked.value.missing : null));

  function setConfig(c: BoardsResponse): void {
    config.value = c;
    source.value = 'api';
  }

  function has(id: string): boolean {
    return config.value.boards.some((b) => b.id === id);
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

  return { config, source, requested, board, missing, setConfig, has, select };
});
