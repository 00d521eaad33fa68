/**
 * Signed read-only links: what every DingTalk / WeCom message carries so a manager's phone
 * opens the alert landing (and the trends view it links to) without typing a token.
 *
 * A link token is `pl1.r.<expiry, epoch seconds base36>.<HMAC-SHA256 base64url>`, the MAC
 * taken over `siyu-pulse link v1|r|<expiry>` with a server secret (PULSE_LINK_SECRET, or
 * generated into `<data dir>/link-secret`, 0600). The scope letter is always `r` (read):
 * nothing here can mint an admin link, and auth never treats a link as admin. Rotating the
 * secret (admin API or a new PULSE_LINK_SECRET) refuses every link signed before it.
 * Node's crypto does the HMAC; the format is ours because a JWT library would bring
 * algorithm negotiation (the `alg: none` class of bugs) for a token that needs one field.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const LINK_PREFIX = 'pl1.';
/** The query parameter a signed link travels in. */
export const LINK_PARAM = 'link';
export const DEFAULT_LINK_TTL_DAYS = 7;

export type LinkCheck =
  | { ok: true; expiresAt: number }
  | { ok: false; reason: 'expired'; expiresAt: number }
  | { ok: false; reason: 'tampered' };

export function isLinkToken(token: string | undefined): token is string {
  return typeof token === 'string' && token.startsWith(LINK_PREFIX);
}

/** Why a link was refused, for the page a phone shows (Chinese first, as on the wall). */
export const LINK_REFUSALS: Record<'expired' | 'tampered', string> = {
  expired: '链接已过期 / this link has expired: ask for a fresh message or sign in with a token',
  tampered: '链接无效 / this link is not valid (altered, or signed before the link secret was rotated): sign in with a token',
};

export interface LinkSignerOptions {
  secret: string;
  ttlMs: number;
  now?: () => number;
  /** Called with a new secret when rotate() runs (persist it). */
  persist?: (secret: string) => void;
}

export class LinkSigner {
  private secret: string;
  readonly ttlMs: number;
  private readonly now: () => number;
  private readonly persist?: (secret: string) => void;

  constructor(o: LinkSignerOptions) {
    if (o.secret.length < 32) throw new Error('the link secret must be at least 32 characters');
    this.secret = o.secret;
    this.ttlMs = o.ttlMs;
    this.now = o.now ?? Date.now;
    this.persist = o.persist;
  }

  private mac(exp: string): Buffer {
    return createHmac('sha256', this.secret).update(`siyu-pulse link v1|r|${exp}`, 'utf8').digest();
  }

  /** A read-only link token valid for `ttlMs` (default: the configured expiry) from now. */
  sign(ttlMs = this.ttlMs): string {
    const exp = Math.floor((this.now() + ttlMs) / 1000).toString(36);
    return `${LINK_PREFIX}r.${exp}.${this.mac(exp).toString('base64url')}`;
  }

  verify(token: string): LinkCheck {
    const m = /^pl1\.r\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return { ok: false, reason: 'tampered' };
    const given = Buffer.from(m[2]!, 'base64url');
    const want = this.mac(m[1]!);
    if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, reason: 'tampered' };
    const expiresAt = parseInt(m[1]!, 36) * 1000;
    if (this.now() >= expiresAt) return { ok: false, reason: 'expired', expiresAt };
    return { ok: true, expiresAt };
  }

  /** `url` with a fresh signed link token added (`?link=` / `&link=`). */
  withLink(url: string): string {
    const u = new URL(url);
    u.searchParams.set(LINK_PARAM, this.sign());
    return u.toString();
  }

  /** Revokes every link signed so far: a new random secret, persisted. */
  rotate(): void {
    const next = newLinkSecret();
    this.persist?.(next);
    this.secret = next;
  }
}

export const newLinkSecret = () => randomBytes(32).toString('base64url');

/**
 * The configured secret, or the one kept in `<dataDir>/link-secret` (created on first start),
 * and how to persist a rotated one (null when configured: rotate by changing the setting).
 */
export function resolveLinkSecret(configured: string | null, dataDir: string): { secret: string; persist: ((s: string) => void) | null } {
  if (configured) return { secret: configured, persist: null };
  const file = path.join(dataDir, 'link-secret');
  const persist = (s: string) => {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${s}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  };
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 32) throw new Error(`${file} holds a link secret shorter than 32 characters; delete it (every signed link stops working) or set PULSE_LINK_SECRET`);
    return { secret, persist };
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = newLinkSecret();
  persist(secret);
  return { secret, persist };
}
