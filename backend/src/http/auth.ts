/**
 * Scopes: ingest (producers), read (wall, analysts), admin. Tokens are compared in
 * constant time over their SHA-256 digests (equal length, no early exit); configured
 * tokens may be given as those digests (`sha256:<hex>`). Display tokens
 * (one per wall screen, revocable) grant the read scope only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HASHED_TOKEN } from '../config/tokens.js';
import { LINK_REFUSALS, isLinkToken, type LinkCheck } from '../links/signedLinks.js';


export type Scope = 'ingest' | 'read' | 'admin';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * A token given hashed in configuration: `sha256:` + the hex SHA-256 of the token's UTF-8
 * bytes. The config then holds nothing that works as a credential if it leaks.
 */

/** The hashed form of a token, for configuration (`npm run hash-token -w backend`). */
export function hashToken(token: string): string {
  return `sha256:${digest(token).toString('hex')}`;
}

export class TokenSet {
  private readonly digests: Buffer[];
  /** Plain tokens or `sha256:<hex>` digests (config validates the form at start-up). */
  constructor(tokens: readonly string[]) {
    this.digests = tokens.map((t) => (HASHED_TOKEN.test(t) ? Buffer.from(t.slice('sha256:'.length), 'hex') : digest(t)));
  }
  has(token: string | undefined): boolean {
    if (!token) return false;
    const d = digest(token);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(known, d) || found;
    return found;
  }
}

/** The display-token registry, as auth sees it (the displays store implements it). */
export interface DisplayTokens {
  /** The display a token belongs to, or null; must compare digests in constant time. */
  lookup(token: string): { id: string; revoked: boolean } | null;
}

export interface AccessPolicy {
  ingest: TokenSet;
  /** Public (browser / mini-program) ingest keys: a narrower ingest scope (ingest/publicScope.ts). */
  publicIngest?: TokenSet;
  /** null: reading is open (loopback demo). */
  read: TokenSet | null;
  /** null: admin routes are disabled. */
  admin: TokenSet | null;
  /** Display tokens: read scope only. */
  displays?: DisplayTokens;
  /** Signed links (`pl1.…`, links/signedLinks.ts): read scope only, until they expire. */
  links?: { verify(token: string): LinkCheck };
}

export type ReadAccess =
  | { ok: true; /** Set when a display token was used. */ displayId: string | null }
  | { ok: false; reason: 'missing' | 'invalid' | 'revoked' | 'expired' | 'tampered' };

export function bearerToken(req: Request, allowQuery: boolean): string | undefined {
  const header = req.get('authorization');
  if (header) {
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    return m ? m[1] : undefined;
  }
  if (allowQuery && typeof req.query.token === 'string') return req.query.token;
  return undefined;
}

/**
 * Whether a token may read, and as which display. A revoked display token is refused
 * even when reading is open, so the wall learns it was revoked instead of carrying on.
 */
export function readAccess(policy: AccessPolicy, token: string | undefined): ReadAccess {
  // A signed link is refused with its reason even when reading is open, so the phone says why.
  if (isLinkToken(token) && policy.links) {
    const link = policy.links.verify(token);
    return link.ok ? { ok: true, displayId: null } : { ok: false, reason: link.reason };
  }
  const display = token && policy.displays ? policy.displays.lookup(token) : null;
  if (display?.revoked) return { ok: false, reason: 'revoked' };
  if (display) return { ok: true, displayId: display.id };
  if (policy.read === null || policy.read.has(token) || (policy.admin?.has(token) ?? false)) return { ok: true, displayId: null };
  return { ok: false, reason: token ? 'invalid' : 'missing' };
}

export interface SessionInfo {
  /** What this token may do; `admin` implies `read`. */
  scopes: ('read' | 'admin')[];
  /** The display a display token belongs to. */
  displayId: string | null;
  /** Reading needs no token (loopback demo). */
  readOpen: boolean;
  /** Whether an admin token is configured at all. */
  adminEnabled: boolean;
  /** Signed in through a signed link: when it stops working. */
  linkExpiresAt?: number;
}

/**
 * What a token may do, for the sign-in form. Unlike readAccess, a token that is given but
 * not recognised is refused even when reading is open, so a mistyped admin token is
 * reported instead of silently signing in as a reader.
 */
export function sessionInfo(policy: AccessPolicy, token: string | undefined): SessionInfo | { error: 'invalid' | 'revoked' | 'missing' | 'expired' | 'tampered' } {
  const base = { readOpen: policy.read === null, adminEnabled: policy.admin !== null };
  if (isLinkToken(token) && policy.links) {
    const link = policy.links.verify(token);
    return link.ok ? { ...base, scopes: ['read'], displayId: null, linkExpiresAt: link.expiresAt } : { error: link.reason };
  }
  if (token && policy.admin?.has(token)) return { ...base, scopes: ['read', 'admin'], displayId: null };
  const display = token && policy.displays ? policy.displays.lookup(token) : null;
  if (display?.revoked) return { error: 'revoked' };
  if (display) return { ...base, scopes: ['read'], displayId: display.id };
  if (token) return policy.read?.has(token) ? { ...base, scopes: ['read'], displayId: null } : { error: 'invalid' };
  return policy.read === null ? { ...base, scopes: ['read'], displayId: null } : { error: 'missing' };
}

export function mayRead(policy: AccessPolicy, token: string | undefined): boolean {
  return readAccess(policy, token).ok;
}

export const REVOKED_MESSAGE = 'display token revoked: ask an admin for a new wall URL';

/** Express middleware requiring `scope`. Read tokens may come in `?token=` (wall URLs). */
export function requireScope(policy: AccessPolicy, scope: Scope) {
  return (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req, scope === 'read');
    let ok: boolean;
    if (scope === 'ingest') ok = policy.ingest.has(token);
    else if (scope === 'read') {
      const access = readAccess(policy, token);
      if (!access.ok && access.reason === 'revoked') {
        res.status(401).json({ error: REVOKED_MESSAGE, revoked: true });
        return;
      }
      if (!access.ok && (access.reason === 'expired' || access.reason === 'tampered')) {
        res.status(401).json({ error: LINK_REFUSALS[access.reason], link: access.reason });
        return;
      }
      ok = access.ok;
    } else ok = policy.admin?.has(token) ?? false;
    if (ok) return next();
    if (scope === 'admin' && policy.admin === null) {
      res.status(403).json({ error: 'admin API disabled: set PULSE_ADMIN_TOKEN' });
      return;
    }
    const what = scope === 'ingest' ? 'an ingest key (Authorization: Bearer <key>)' : scope === 'read' ? 'a read token' : 'the admin token';
    res.status(401).json({ error: token ? `invalid token: ${what} is required` : `missing token: ${what} is required` });
  };
}
