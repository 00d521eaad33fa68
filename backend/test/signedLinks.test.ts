/**
 * Signed read-only links: the token format and its checks with an injected clock (valid up
 * to the last second, expired at the expiry, any altered character or another secret is
 * refused, rotation revokes), and on a real server: a link reads but never administers, the
 * session says until when, expired / tampered links are refused with the reason, rotation
 * through the admin API revokes links already sent, and minting refuses API paths and
 * other hosts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkSigner, resolveLinkSecret } from '../src/links/signedLinks.js';
import { ADMIN_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const DAY = 86_400_000;
const SECRET = 'x'.repeat(40);

describe('LinkSigner', () => {
  it('is valid until its expiry (to the second) and expired from then on', () => {
    let now = Date.UTC(2026, 11, 1, 1, 0, 0);
    const signer = new LinkSigner({ secret: SECRET, ttlMs: 7 * DAY, now: () => now });
    const token = signer.sign();
    expect(token).toMatch(/^pl1\.r\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    const expiresAt = Date.UTC(2026, 11, 8, 1, 0, 0);
    expect(signer.verify(token)).toEqual({ ok: true, expiresAt });
    now = expiresAt - 1000;
    expect(signer.verify(token).ok).toBe(true);
    now = expiresAt;
    expect(signer.verify(token)).toEqual({ ok: false, reason: 'expired', expiresAt });
  });

  it('refuses any altered character, a longer expiry, an admin scope letter and another secret', () => {
    const now = () => Date.UTC(2026, 11, 1);
    const signer = new LinkSigner({ secret: SECRET, ttlMs: 7 * DAY, now });
    const token = signer.sign();
    let altered = 0;
    for (let i = 0; i < token.length; i++) {
      const c = token[i] === 'A' ? 'B' : 'A';
      const t = token.slice(0, i) + c + token.slice(i + 1);
      if (t !== token && !signer.verify(t).ok) altered++;
    }
    expect(altered).toBe(token.length);
    const [, , exp, mac] = token.split('.');
    const later = (parseInt(exp!, 36) + 86_400 * 365).toString(36);
    expect(signer.verify(`pl1.r.${later}.${mac}`)).toEqual({ ok: false, reason: 'tampered' });
    expect(signer.verify(`pl1.a.${exp}.${mac}`)).toEqual({ ok: false, reason: 'tampered' });
    expect(new LinkSigner({ secret: 'y'.repeat(40), ttlMs: DAY, now }).verify(token)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('rotate() revokes every link signed before it and persists the new secret', () => {
    let persisted = '';
    const signer = new LinkSigner({ secret: SECRET, ttlMs: DAY, persist: (s) => (persisted = s) });
    const before = signer.sign();
    signer.rotate();
    expect(persisted.length).toBeGreaterThanOrEqual(32);
    expect(signer.verify(before)).toEqual({ ok: false, reason: 'tampered' });
    expect(signer.verify(signer.sign()).ok).toBe(true);
  });
});

describe('signed links on a running server', () => {
  let p: TestPulse;
  beforeAll(async () => {
    p = await startTestPulse();
  });
  afterAll(async () => {
    await p.stopAndClean();
  });

  /** A signer over the server's own secret, with our own clock (the server's stays real). */
  const signerAt = (now: number) => new LinkSigner({ secret: resolveLinkSecret(null, p.dataDir).secret, ttlMs: 7 * DAY, now: () => now });
  const admin = (method: string, route: string, body?: unknown) =>
    fetch(`${p.url}${route}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it('keeps its secret in the data dir (0600)', async () => {
    const { statSync } = await import('node:fs');
    const file = path.join(p.dataDir, 'link-secret');
    expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a link reads (also in ?token=) and the session says read only, until when', async () => {
    const token = p.links.sign();
    expect((await p.get('/api/v1/kpis', token)).status).toBe(200);
    expect((await p.get(`/api/v1/snapshot?token=${encodeURIComponent(token)}`, null)).status).toBe(200);
    const session = await p.get('/api/v1/session', token);
    expect(session.status).toBe(200);
    const s = session.json as { scopes: string[]; linkExpiresAt: number };
    expect(s.scopes).toEqual(['read']);
    expect(Math.abs(s.linkExpiresAt - (Date.now() + 7 * DAY))).toBeLessThan(5_000);
  });

  it('a link never administers', async () => {
    const token = p.links.sign();
    for (const [method, route, body] of [
      ['POST', '/api/v1/silences', { matchers: { ruleId: 'x' }, durationMinutes: 5, by: 'a', reason: 'b' }],
      ['POST', '/api/v1/alerts/ack', { alertKey: 'x|total', by: 'a', reason: 'b' }],
      ['POST', '/api/v1/links', { path: '/m' }],
      ['POST', '/api/v1/links/rotate', undefined],
      ['POST', '/api/v1/displays', { name: 'x' }],
    ] as const) {
      const res = await fetch(`${p.url}${route}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      expect(res.status, `${method} ${route}`).toBe(401);
    }
  });

  it('an expired link is refused with the reason, on the session and on reads', async () => {
    const expired = signerAt(Date.now() - 8 * DAY).sign();
    for (const route of ['/api/v1/session', '/api/v1/kpis']) {
      const r = await p.get(route, expired);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ link: 'expired' });
      expect((r.json as { error: string }).error).toContain('链接已过期');
    }
    // Signed six days ago: still fine.
    expect((await p.get('/api/v1/kpis', signerAt(Date.now() - 6 * DAY).sign())).status).toBe(200);
  });

  it('a tampered link is refused with the reason', async () => {
    const token = p.links.sign();
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    const r = await p.get('/api/v1/session', tampered);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ link: 'tampered' });
    expect((r.json as { error: string }).error).toContain('链接无效');
  });

  it('the admin mints links to pages only, and rotating revokes every link sent', async () => {
    const minted = await admin('POST', '/api/v1/links', { path: '/m' });
    expect(minted.status).toBe(201);
    const { url } = (await minted.json()) as { url: string };
    expect(url.startsWith(`${p.url}/m?link=pl1.r.`)).toBe(true);
    const token = new URL(url).searchParams.get('link')!;
    expect((await p.get('/api/v1/kpis', token)).status).toBe(200);
    for (const bad of ['/api/v1/kpis', '//evil.example/x', 'https://evil.example/']) expect((await admin('POST', '/api/v1/links', { path: bad })).status, bad).toBe(400);

    expect((await admin('POST', '/api/v1/links/rotate')).status).toBe(200);
    const after = await p.get('/api/v1/kpis', token);
    expect(after.status).toBe(401);
    expect(after.json).toMatchObject({ link: 'tampered' });
    expect((await p.get('/api/v1/kpis', p.links.sign())).status).toBe(200);
  });
});
