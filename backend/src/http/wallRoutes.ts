/**
 * Wall API: the boards walls may show (read scope), and remote control (admin) — tell
 * every open wall, or one display's, to reload or switch board over the live socket.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { BoardsResponse, WallControl } from '../live/contract.js';
import { requireScope, type AccessPolicy } from './auth.js';

export interface WallRouteOptions {
  policy: AccessPolicy;
  boards: BoardsResponse;
  /** Whether a display exists and is not revoked. */
  displayActive(displayId: string): boolean;
  /** Sends to every wall (no target) or one display's sockets; returns how many sockets. */
  send(message: WallControl, targetDisplayId?: string): number;
}

const target = z.string().min(1).max(64).optional();
const ControlBody = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('reload'), target }),
  z.strictObject({ action: z.literal('board'), board: z.string().min(1), target }),
]);

export function wallRouter(o: WallRouteOptions): Router {
  const r = Router();
  const boardIds = new Set(o.boards.boards.map((b) => b.id));

  r.get('/api/v1/boards', requireScope(o.policy, 'read'), (_req, res) => {
    res.json(o.boards);
  });
  r.post('/api/v1/walls/control', requireScope(o.policy, 'admin'), express.json({ limit: '4kb' }), (req, res) => {
    const b = ControlBody.safeParse(req.body ?? {});
    if (!b.success) {
      const problems = b.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
      return void res.status(400).json({ error: `${problems.join('; ')} — send {"action":"reload"} or {"action":"board","board":"<id>"}, optionally with "target":"<display id>"` });
    }
    const { target: to, ...message } = b.data;
    if (message.action === 'board' && !boardIds.has(message.board)) {
      return void res.status(400).json({ error: `no board ${JSON.stringify(message.board)} (boards: ${[...boardIds].join(', ')})` });
    }
    if (to !== undefined && !o.displayActive(to)) return void res.status(404).json({ error: `no active display ${JSON.stringify(to)}` });
    res.json({ sent: o.send(message, to) });
  });
  return r;
}
