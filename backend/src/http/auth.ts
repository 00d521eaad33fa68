/**
 * Scopes: ingest (producers), read (wall, analysts), admin. Tokens are compared in
 * constant time over their SHA-256 digests (equal length, no early exit).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export type Scope = 'ingest' | 'read' | 'admin';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class TokenSet {
  private readonly digests: Buffer[];
  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }
  has(token: string | undefined): boolean {
    if (!token) return false;
    const d = digest(token);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(known, d) || found;
    return found;
  }
}

export interface AccessPolicy {
  ingest: TokenSet;
  /** null: reading is open (loopback demo). */
  read: TokenSet | null;
  /** null: admin routes are disabled. */
  admin: TokenSet | null;
}

export function bearerToken(req: Request, allowQuery: boolean): string | undefined {
  const header = req.get('authorization');
  if (header) {
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    return m ? m[1] : undefined;
  }
  if (allowQuery && typeof req.query.token === 'string') return req.query.token;
  return undefined;
}

export function mayRead(policy: AccessPolicy, token: string | undefined): boolean {
  return policy.read === null || policy.read.has(token) || (policy.admin?.has(token) ?? false);
}

/** Express middleware requiring `scope`. Read tokens may come in `?token=` (wall URLs). */
export function requireScope(policy: AccessPolicy, scope: Scope) {
  return (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req, scope === 'read');
    let ok: boolean;
    if (scope === 'ingest') ok = policy.ingest.has(token);
    else if (scope === 'read') ok = mayRead(policy, token);
    else ok = policy.admin?.has(token) ?? false;
    if (ok) return next();
    if (scope === 'admin' && policy.admin === null) {
      res.status(403).json({ error: 'admin API disabled: set PULSE_ADMIN_TOKEN' });
      return;
    }
    const what = scope === 'ingest' ? 'an ingest key (Authorization: Bearer <key>)' : scope === 'read' ? 'a read token' : 'the admin token';
    res.status(401).json({ error: token ? `invalid token: ${what} is required` : `missing token: ${what} is required` });
  };
}
