/**
 * Wall playlists: a display rotates through several boards, each for its own number of
 * seconds. One playlist per display id, and one for every wall without its own (`*`: walls
 * opened with the read token, or displays with none set). Persisted in
 * `<dataDir>/playlists.json` (temp file + rename), so a restarted server and a reloaded
 * wall pick up where the admin left them.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** The playlist of walls without their own. */
export const ALL_WALLS = '*';
export const MIN_SECONDS = 3;
export const MAX_SECONDS = 3600;

export const PlaylistItems = z
  .array(z.strictObject({ board: z.string().min(1).max(40), seconds: z.number().int().min(MIN_SECONDS).max(MAX_SECONDS) }), { message: 'items must be a list of {board, seconds}' })
  .min(2, 'a playlist rotates at least two boards (to show one board, switch to it)')
  .max(20, 'at most 20 boards in a playlist');
export type PlaylistItem = z.infer<typeof PlaylistItems>[number];

export interface Playlist {
  items: PlaylistItem[];
  updatedAt: number;
}

export class PlaylistStore {
  private readonly file: string;
  private lists: Record<string, Playlist> = {};

  constructor(
    dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.file = path.join(dataDir, 'playlists.json');
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { playlists?: Record<string, Playlist> };
      this.lists = parsed.playlists ?? {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.file} is not a valid playlists file (${(err as Error).message}); fix or delete it`, { cause: err });
    }
  }

  /** The playlist a display plays: its own, else the one for all walls, else none. */
  forDisplay(displayId: string | null): Playlist | null {
    const own = (id: string) => (Object.hasOwn(this.lists, id) ? this.lists[id] : undefined);
    return (displayId !== null ? own(displayId) : undefined) ?? own(ALL_WALLS) ?? null;
  }

  all(): Record<string, Playlist> {
    return structuredClone(this.lists);
  }

  set(target: string, items: PlaylistItem[]): Playlist {
    const next = { ...this.lists, [target]: { items, updatedAt: this.now() } };
    this.write(next);
    this.lists = next;
    return next[target]!;
  }

  clear(target: string): boolean {
    if (!Object.hasOwn(this.lists, target)) return false;
    const next = { ...this.lists };
    delete next[target];
    this.write(next);
    this.lists = next;
    return true;
  }

  private write(lists: Record<string, Playlist>): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ version: 1, playlists: lists }, null, 2)}\n`);
    renameSync(tmp, this.file);
  }
}
