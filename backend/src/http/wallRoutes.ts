/**
 * Wall API: the boards walls may show (read scope), and remote control (admin) — tell
 * every open wall, or one display's, to reload or switch board over the live socket.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import { ALL_WALLS, PlaylistItems, type PlaylistStore } from '../displays/playlists.js';
import type { BoardsResponse, WallControl } from '@siyu-pulse/contracts/live';
import { bearerToken, readAccess, requireScope, type AccessPolicy } from './auth.js';

export interface WallRouteOptions {
  policy: AccessPolicy;
  boards: BoardsResponse;
  /** Whether a display exists and is not revoked. */
  displayActive(displayId: string): boolean;
  /** Sends to every wall (no target) or one display's sockets; returns how many sockets. */
  /** Resolves with how many wall sockets (every node) it went to. */
  send(message: WallControl, targetDisplayId?: string): Promise<number>;
  /** Playlists per display (absent: playlists off). */
  playlists?: PlaylistStore;
}

const target = z.string().min(1).max(64).optional();
const ControlBody = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('reload'), target }),
  z.strictObject({ action: z.literal('board'), board: z.string().min(1), target }),
  // Rotate boards: items set the playlist (of `target`, or of every wall without its own); null stops it.
  z.strictObject({ action: z.literal('playlist'), items: PlaylistItems.nullable(), target }),
]);

export function wallRouter(o: WallRouteOptions): Router {
  const r = Router();
  const boardIds = new Set(o.boards.boards.map((b) => b.id));

  r.get('/api/v1/boards', requireScope(o.policy, 'read'), (_req, res) => {
    res.json(o.boards);
  });
  r.post('/api/v1/walls/control', requireScope(o.policy, 'admin'), express.json({ limit: '4kb' }), async (req, res) => {
    const b = ControlBody.safeParse(req.body ?? {});
    if (!b.success) {
      const problems = b.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
      return void res.status(400).json({ error: `${problems.join('; ')} — send {"action":"reload"} or {"action":"board","board":"<id>"}, optionally with "target":"<display id>"` });
    }
    const { target: to, ...message } = b.data;
    if (message.action === 'playlist') {
      if (!o.playlists) return void res.status(409).json({ error: 'playlists are off' });
      if (to !== undefined && !o.displayActive(to)) return void res.status(404).json({ error: `no active display ${JSON.stringify(to)}` });
      return void (await setPlaylist(res, to ?? ALL_WALLS, message.items));
    }
    if (message.action === 'board' && !boardIds.has(message.board)) {
      return void res.status(400).json({ error: `no board ${JSON.stringify(message.board)} (boards: ${[...boardIds].join(', ')})` });
    }
    if (to !== undefined && !o.displayActive(to)) return void res.status(404).json({ error: `no active display ${JSON.stringify(to)}` });
    res.json({ sent: await o.send(message, to) });
  });

  /** Sets (or clears) a playlist and tells the walls it concerns at once. */
  async function setPlaylist(res: express.Response, target: string, items: { board: string; seconds: number }[] | null): Promise<void> {
    const store = o.playlists!;
    const unknown = (items ?? []).map((i) => i.board).filter((id) => !boardIds.has(id));
    if (unknown.length) return void res.status(400).json({ error: `no board ${unknown.map((u) => JSON.stringify(u)).join(', ')} (boards: ${[...boardIds].join(', ')})` });
    if (items === null) await store.clear(target);
    else await store.set(target, items);
    // The walls concerned (one display's sockets, or every wall) ask for the playlist that
    // applies to them: a display with its own keeps it when the all-walls one changes.
    const sent = await (target === ALL_WALLS ? o.send({ action: 'playlist' }) : o.send({ action: 'playlist' }, target));
    res.json({ target, playlist: items === null ? null : await store.forDisplay(target === ALL_WALLS ? null : target), sent });
  }

  // The playlist this wall plays (by its display token; the all-walls one otherwise).
  r.get('/api/v1/playlist', requireScope(o.policy, 'read'), async (req, res) => {
    if (!o.playlists) return void res.json({ playlist: null });
    const access = readAccess(o.policy, bearerToken(req, true));
    res.json({ playlist: await o.playlists.forDisplay(access.ok ? access.displayId : null) });
  });
  r.get('/api/v1/playlists', requireScope(o.policy, 'admin'), async (_req, res) => {
    res.json({ playlists: (await o.playlists?.all()) ?? {} });
  });
  const PutBody = z.strictObject({ items: PlaylistItems });
  r.put('/api/v1/playlists/:target', requireScope(o.policy, 'admin'), express.json({ limit: '8kb' }), async (req, res) => {
    if (!o.playlists) return void res.status(409).json({ error: 'playlists are off' });
    const target = req.params.target as string;
    if (target !== ALL_WALLS && !o.displayActive(target)) return void res.status(404).json({ error: `no active display ${JSON.stringify(target)} (or * for every wall without its own)` });
    const b = PutBody.safeParse(req.body ?? {});
    if (!b.success) return void res.status(400).json({ error: `${b.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')} — send {"items":[{"board":"overview","seconds":60},{"board":"push","seconds":30}]}` });
    await setPlaylist(res, target, b.data.items);
  });
  r.delete('/api/v1/playlists/:target', requireScope(o.policy, 'admin'), async (req, res) => {
    if (!o.playlists) return void res.status(409).json({ error: 'playlists are off' });
    const target = req.params.target as string;
    if (!(await o.playlists.all())[target]) return void res.status(404).json({ error: `no playlist for ${JSON.stringify(target)}` });
    await setPlaylist(res, target, null);
  });
  return r;
}
