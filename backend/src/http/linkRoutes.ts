/**
 * Signed links, admin side: mint a read-only link to a page (to paste into a chat by hand)
 * and revoke every link at once by rotating the secret. Reading through a link is auth's
 * job (http/auth.ts); these routes only need the admin token.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { LinkSigner } from '../links/signedLinks.js';
import { requireScope, type AccessPolicy } from './auth.js';

export interface LinkRouteOptions {
  policy: AccessPolicy;
  signer: LinkSigner;
  /** Whether the secret is kept in the data dir (rotatable here) rather than configured. */
  rotatable: boolean;
  baseUrl: () => string;
}

// Only the app's own pages: a link must not become an open redirect or reach the API.
const PagePath = z.string().regex(/^\/(?!\/)(?!api\/)[^\s\\]*$/, 'a page path such as /m or /alert?key=…, not the API');
const MintBody = z.strictObject({ path: PagePath, ttlDays: z.number().positive().max(365).optional() });

export function linkRouter(o: LinkRouteOptions): Router {
  const r = Router();
  const admin = requireScope(o.policy, 'admin');
  r.post('/api/v1/links', admin, express.json({ limit: '4kb' }), (req, res) => {
    const b = MintBody.safeParse(req.body);
    if (!b.success) return void res.status(400).json({ error: b.error.issues.map((i) => i.message).join('; ') });
    const ttlMs = b.data.ttlDays === undefined ? o.signer.ttlMs : b.data.ttlDays * 86_400_000;
    const token = o.signer.sign(ttlMs);
    const url = new URL(b.data.path, o.baseUrl());
    url.searchParams.set('link', token);
    res.status(201).json({ url: url.toString(), expiresAt: o.signer.verify(token).ok ? (o.signer.verify(token) as { expiresAt: number }).expiresAt : null });
  });
  r.post('/api/v1/links/rotate', admin, (_req, res) => {
    if (!o.rotatable) return void res.status(409).json({ error: 'the link secret is configured (PULSE_LINK_SECRET) or shared by a cluster\'s nodes: set a new PULSE_LINK_SECRET on every node and restart to revoke every link' });
    o.signer.rotate();
    res.json({ rotated: true, note: 'every link sent before now is refused' });
  });
  return r;
}
