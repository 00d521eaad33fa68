/**
 * Display tokens API (admin): create a wall's token (shown once, inside its wall URL),
 * list displays without tokens, revoke one — which also drops its open sockets.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { Display, DisplayStore } from '../displays/store.js';
import { requireScope, type AccessPolicy } from './auth.js';

export interface DisplayRouteOptions {
  policy: AccessPolicy;
  displays: DisplayStore;
  /** Base of wall URLs (PULSE_PUBLIC_URL or the server's own). */
  baseUrl(): string;
  /** Open sockets of a display now. */
  connected(displayId: string): number;
  /** Tells a display's sockets they were revoked and disconnects them; returns how many. */
  disconnect(displayId: string): number;
}

const CreateBody = z.strictObject({ name: z.string().trim().min(1, 'name the display, e.g. "3F 运营大屏"').max(64) });

export function displayRouter(o: DisplayRouteOptions): Router {
  const r = Router();
  const admin = requireScope(o.policy, 'admin');
  const withConnected = (d: Display) => ({ ...d, connected: o.connected(d.id) });

  r.post('/api/v1/displays', admin, express.json({ limit: '4kb' }), async (req, res) => {
    const b = CreateBody.safeParse(req.body ?? {});
    if (!b.success) return void res.status(400).json({ error: b.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
    const { display, token } = await o.displays.create(b.data.name);
    res.status(201).json({
      id: display.id,
      name: display.name,
      token,
      createdAt: display.createdAt,
      url: `${o.baseUrl()}/?token=${encodeURIComponent(token)}`,
    });
  });
  r.get('/api/v1/displays', admin, (_req, res) => {
    res.json({ displays: o.displays.list().map(withConnected) });
  });
  r.delete('/api/v1/displays/:id', admin, async (req, res) => {
    const id = req.params.id as string;
    let display: Display | undefined;
    let writeError: Error | undefined;
    try {
      display = await o.displays.revoke(id);
    } catch (err) {
      // Revoked in memory all the same; the admin must learn it will not survive a restart.
      display = o.displays.get(id);
      writeError = err as Error;
    }
    if (!display) return void res.status(404).json({ error: `no display ${JSON.stringify(id)}` });
    const disconnected = o.disconnect(id);
    if (writeError) return void res.status(500).json({ error: `revoked on this node until its restart only: the display list could not be written (${writeError.message})`, disconnected });
    res.json({ display, disconnected });
  });
  return r;
}
