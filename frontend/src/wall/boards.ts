/**
 * Boards: which KPI tiles and which panels a wall shows. The backend serves them
 * (`GET /api/v1/boards`, a layout an admin edits) so two walls can show different boards;
 * a wall picks one with `?board=<id>` or gets the default. The wall and the backend ship
 * together, so the panel list and the limits are the contract's.
 *
 * Everything else a tile needs (label, unit, good direction, target) comes from the KPI
 * catalogue, so a board is just ids.
 */
import type { Label } from '@siyu-pulse/contracts/catalogue';
import { BOARD_PANELS, MAX_PANELS, MAX_TILES, type Board, type BoardPanel, type BoardsResponse } from '@siyu-pulse/contracts/live';

export type { Board, BoardsResponse };
export type PanelId = BoardPanel;

const isLabel = (v: unknown): v is Label =>
  typeof v === 'object' && v !== null && typeof (v as Label).zh === 'string' && typeof (v as Label).en === 'string';

/**
 * Validates the API answer leniently: unknown panel ids and non-string tiles are dropped,
 * tiles/panels are capped, a board without an id is skipped. Returns null when nothing usable
 * is left (the caller keeps what it had).
 */
export function normalizeBoards(raw: unknown): BoardsResponse | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as { default?: unknown; boards?: unknown };
  if (!Array.isArray(r.boards)) return null;
  const boards: Board[] = [];
  const seen = new Set<string>();
  for (const b of r.boards as unknown[]) {
    if (typeof b !== 'object' || b === null) continue;
    const x = b as { id?: unknown; title?: unknown; tiles?: unknown; panels?: unknown };
    if (typeof x.id !== 'string' || !x.id || seen.has(x.id)) continue;
    seen.add(x.id);
    const tiles = Array.isArray(x.tiles) ? [...new Set(x.tiles.filter((t): t is string => typeof t === 'string' && t.length > 0))].slice(0, MAX_TILES) : [];
    const panels = Array.isArray(x.panels)
      ? [...new Set(x.panels.filter((p): p is PanelId => (BOARD_PANELS as readonly unknown[]).includes(p)))].slice(0, MAX_PANELS)
      : [];
    const title = isLabel(x.title) ? x.title : typeof x.title === 'string' ? { zh: x.title, en: x.title } : { zh: x.id, en: x.id };
    boards.push({ id: x.id, title, tiles, panels });
  }
  if (boards.length === 0) return null;
  const def = typeof r.default === 'string' && seen.has(r.default) ? r.default : boards[0]!.id;
  return { default: def, boards };
}

/** The board a wall shows: the requested one if it exists, else the default, else the first. */
export function pickBoard(res: BoardsResponse, requested: string | null | undefined): { board: Board; missing: string | null } {
  const found = requested ? res.boards.find((b) => b.id === requested) : undefined;
  if (found) return { board: found, missing: null };
  const board = res.boards.find((b) => b.id === res.default) ?? res.boards[0]!;
  return { board, missing: requested && requested !== board.id ? requested : null };
}

export function boardFromUrl(search: string): string | null {
  const v = new URLSearchParams(search).get('board');
  return v ? v : null;
}

/** Tile rows: one row up to six tiles, two rows beyond (7–12). */
export function tileRows(count: number): number {
  return count > 6 ? 2 : 1;
}

/**
 * Panel rows for the board grid: up to three panels a row; four panels go 2 + 2, five go
 * 3 + 2. Returns the number of panels in each row.
 */
export function panelRows(count: number): number[] {
  if (count <= 0) return [];
  if (count <= 3) return [count];
  if (count === 4) return [2, 2];
  return [3, count - 3];
}
