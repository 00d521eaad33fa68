/**
 * The member-id salt. Member ids are hashed with it on ingest and never stored; the salt
 * itself lives in the data dir (0600) when PULSE_SALT is not given, so hashes stay stable
 * across restarts (distinct counts, dedup) without a user having to invent one.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function resolveSalt(configured: string | null, dataDir: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'salt');
  if (existsSync(file)) {
    const salt = readFileSync(file, 'utf8').trim();
    if (salt.length < 16) throw new Error(`${file} holds a salt shorter than 16 characters; delete it or set PULSE_SALT`);
    return salt;
  }
  mkdirSync(dataDir, { recursive: true });
  const salt = randomBytes(32).toString('base64url');
  writeFileSync(file, `${salt}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return salt;
}
