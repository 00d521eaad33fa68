/**
 * What `npm start` prints and keeps, on the built server (backend/dist/server.js) as a user
 * runs it: the banner is one block after the start-up log lines; the generated demo key and
 * admin token are the same after a restart; the banner's production advice starts a server
 * when followed; with a robot configured and no PULSE_PUBLIC_URL, a warning says where the
 * links will point.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../frontend/e2e/harness.js';

const DEMO_ENV = {
  // Demo mode: no keys or tokens configured (the harness would set its own).
  PULSE_INGEST_KEYS: undefined,
  PULSE_READ_TOKEN: undefined,
  PULSE_ADMIN_TOKEN: undefined,
  PULSE_SIMULATOR: 'off',
  PULSE_PUBLIC_URL: undefined,
  PULSE_WEEKLY_REPORT_CRON: 'off',
  // Nothing is sent to it (no rule fires without events); it only makes a notifier configured.
  DINGTALK_WEBHOOK: 'http://127.0.0.1:9/robot/send?access_token=startup-test',
};

async function banner(b: Backend): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (/Send events:.*\n.*member\.join/.test(b.logTail())) return b.logTail().split('\n');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no banner:\n${b.logTail()}`);
}

const field = (lines: string[], name: string) => {
  const line = lines.find((l) => l.trimStart().startsWith(`${name}:`));
  return line?.split(/\s+/).filter(Boolean)[name.split(' ').length];
};

const post = (b: { url: string }, key: string, body: unknown) =>
  fetch(`${b.url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('npm start: banner, kept demo secrets, advice that works', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-startup-'));
  const started: Backend[] = [];
  afterAll(async () => {
    for (const b of started) await b.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let first: { ingestKey: string; adminToken: string; lines: string[] };

  it('prints the banner as one block after the start-up log lines, with the link warning', async () => {
    const b = await startBackend(DEMO_ENV, { dataDir });
    started.push(b);
    const lines = await banner(b);
    const top = lines.findIndex((l) => l.includes('私域脉搏 Siyu Pulse'));
    const bottom = lines.findIndex((l) => l.includes('Send events:'));
    expect(top).toBeGreaterThan(-1);
    expect(bottom).toBeGreaterThan(top);
    // No JSON log line inside the banner…
    expect(lines.slice(top, bottom + 2).filter((l) => l.startsWith('{'))).toEqual([]);
    // …and what start-up logged (rules loaded, the link warning) comes before it.
    const logged = (msg: string) => lines.findIndex((l) => l.startsWith('{') && l.includes(msg));
    expect(logged('rules: loaded')).toBeGreaterThan(-1);
    expect(logged('rules: loaded')).toBeLessThan(top);
    const warning = lines[logged('PULSE_PUBLIC_URL is not set')];
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, links: b.url, notifiers: ['dingtalk'] });
    expect(lines.find((l) => l.trimStart().startsWith('Links:'))).toContain('PULSE_PUBLIC_URL');

    const ingestKey = field(lines, 'Ingest key');
    const adminToken = field(lines, 'Admin token');
    expect(ingestKey).toMatch(/^[\w-]{16,}$/);
    expect(adminToken).toMatch(/^[\w-]{16,}$/);
    first = { ingestKey: ingestKey!, adminToken: adminToken!, lines };
    expect((await post(b, ingestKey!, [{ type: 'member.join', channel: 'wecom' }])).status).toBe(202);
    // Kept like the salt: readable by the owner only.
    expect(statSync(path.join(dataDir, 'demo-secrets.json')).mode & 0o077).toBe(0);
    await b.stop();
  });

  it('keeps the generated ingest key and admin token across a restart', async () => {
    const b = await startBackend(DEMO_ENV, { dataDir });
    started.push(b);
    const lines = await banner(b);
    expect(field(lines, 'Ingest key')).toBe(first.ingestKey);
    expect(field(lines, 'Admin token')).toBe(first.adminToken);
    expect((await post(b, first.ingestKey, [{ type: 'member.join', channel: 'wecom' }])).status).toBe(202);
    const admin = await fetch(`${b.url}/api/v1/displays`, { headers: { authorization: `Bearer ${first.adminToken}` } });
    expect(admin.status).toBe(200);
    await b.stop();
  });

  it("starts when the banner's production advice is followed", async () => {
    const advice = first.lines.find((l) => l.trimStart().startsWith('Production:'));
    expect(advice).toBeDefined();
    const readToken = randomBytes(18).toString('base64url');
    // Fill the placeholders the way a user would and take every VAR=value the advice names.
    const filled = advice!.replace('<key ≥16 chars>', first.ingestKey).replace('<token ≥16 chars>', readToken);
    const env = Object.fromEntries([...filled.matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(env).sort()).toEqual(['PULSE_INGEST_KEYS', 'PULSE_READ_TOKEN']);
    const b = await startBackend({ ...DEMO_ENV, ...env, PULSE_ADMIN_TOKEN: undefined }, { dataDir });
    started.push(b);
    const lines = await banner(b);
    expect(lines.some((l) => l.includes('演示模式'))).toBe(false);
    expect((await post(b, first.ingestKey, [{ type: 'member.join', channel: 'wecom' }])).status).toBe(202);
    const read = await fetch(`${b.url}/api/v1/snapshot`, { headers: { authorization: `Bearer ${readToken}` } });
    expect(read.status).toBe(200);
    expect((await fetch(`${b.url}/api/v1/snapshot`)).status).toBe(401);
  });
});
