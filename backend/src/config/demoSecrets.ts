/**
 * Secrets the demo generates (ingest key, admin token, read token) are kept in the data dir
 * (`demo-secrets.json`, 0600), like the salt, so a restart does not invalidate the curl
 * command, the producer or the bookmark the user set up with the first run's values.
 * Only generated secrets are touched: a configured one always wins and is never written.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

export const DEMO_SECRETS_FILE = 'demo-secrets.json';

interface Kept {
  ingestKey?: string;
  readToken?: string;
  adminToken?: string;
}

function read(file: string): Kept {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); delete it to get new demo keys`, { cause: err });
  }
  const out: Kept = {};
  if (parsed && typeof parsed === 'object') {
    for (const k of ['ingestKey', 'readToken', 'adminToken'] as const) {
      const v = (parsed as Record<string, unknown>)[k];
      if (typeof v === 'string' && v.length >= 16) out[k] = v;
    }
  }
  return out;
}

/** The config with each generated secret replaced by the one kept from an earlier run (kept now if new). */
export function keepDemoSecrets(config: Config): Config {
  const g = config.generated;
  if (!g.ingestKey && !g.readToken && !g.adminToken) return config;
  const file = path.join(config.dataDir, DEMO_SECRETS_FILE);
  const kept = read(file);
  const next: Kept = { ...kept };
  const ingestKeys = g.ingestKey ? [(next.ingestKey ??= config.ingestKeys[0]!)] : config.ingestKeys;
  const readToken = g.readToken && config.readToken ? (next.readToken ??= config.readToken) : config.readToken;
  const adminToken = g.adminToken && config.adminToken ? (next.adminToken ??= config.adminToken) : config.adminToken;
  if (JSON.stringify(next) !== JSON.stringify(kept)) {
    mkdirSync(config.dataDir, { recursive: true });
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  }
  return { ...config, ingestKeys, readToken, adminToken };
}
