/**
 * Wall playlists: a display rotates through several boards, each for its own number of
 * seconds. One playlist per display id, and one for every wall without its own (`*`: walls
 * opened with the read token, or displays with none set). Persisted in
 * `<dataDir>/playlists.json` (temp file + rename), so a restarted server and a reloaded
 * wall pick up where the admin left them. In a cluster (`shared`) they are records in Redis
 * (cluster/sharedRecords.ts, `<prefix>playlists`), read from there on every request: a wall on
 * any node told to reload its playlist gets the one just set through another node.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { SharedRecords } from '../cluster/sharedRecords.js';

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
    private readonly shared?: SharedRecords,
  ) {
    this.file = path.join(dataDir, 'playlists.json');
    if (shared) return;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { playlists?: Record<string, Playlist> };
      this.lists = parsed.playlists ?? {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.file} is not a valid playlists file (${(err as Error).message}); fix or delete it`, { cause: err });
    }
  }

  /** The playlist a display plays: its own, else the one for all walls, else none. */
  async forDisplay(displayId: string | null): Promise<Playlist | null> {
    const lists = await this.all();
    const own = (id: string) => (Object.hasOwn(lists, id) ? lists[id] : undefined);
    return (displayId !== null ? own(displayId) : undefined) ?? own(ALL_WALLS) ?? null;
  }

  async all(): Promise<Record<string, Playlist>> {
    if (!this.shared) return structuredClone(this.lists);
    const out: Record<string, Playlist> = {};
    for (const [target, raw] of await this.shared.load()) out[target] = JSON.parse(raw) as Playlist;
    return out;
  }

  /** A cluster: this node's playlists the cluster does not have yet are added (a single node joining keeps them). */
  async seed(into: SharedRecords): Promise<void> {
    for (const [target, list] of Object.entries(this.lists)) await into.seed(target, JSON.stringify(list));
  }

  async set(target: string, items: PlaylistItem[]): Promise<Playlist> {
    const list = { items, updatedAt: this.now() };
    if (this.shared) {
      await this.shared.put(target, JSON.stringify(list));
      return list;
    }
    const next = { ...this.lists, [target]: list };
    this.write(next);
    this.lists = next;
    return list;
  }

  async clear(target: string): Promise<boolean> {
    if (this.shared) {
      if (!Object.hasOwn(await this.all(), target)) return false;
      await this.shared.remove(target);
      return true;
    }
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
