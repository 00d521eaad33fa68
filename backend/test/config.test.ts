import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEMO_SIMULATOR_RATE, loadConfig } from '../src/config/config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('the embedded demo needs nothing: loopback, simulator on, keys generated', () => {
    const c = loadConfig({});
    expect(c.demo).toBe(true);
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8080);
    expect(c.store).toEqual({ kind: 'duckdb', file: 'data/pulse.duckdb', memoryLimit: '1GB' });
    expect(c.simulator.enabled).toBe(true);
    // The demo's rate (live and its 30 days of history alike); 60/s outside the demo.
    expect(c.simulator.peakEventsPerSecond).toBe(DEMO_SIMULATOR_RATE);
    expect(c.demoHistory).toEqual({ days: 30 });
    expect(loadConfig({ PULSE_SIMULATOR_RATE: '12' }).simulator.peakEventsPerSecond).toBe(12);
    expect(loadConfig({ PULSE_DEMO: 'off', PULSE_INGEST_KEYS: 'k'.repeat(24), PULSE_READ_TOKEN: 'r'.repeat(24) }).simulator.peakEventsPerSecond).toBe(60);
    expect(c.readToken).toBeNull();
    expect(c.ingestKeys).toHaveLength(1);
    expect(c.generated).toEqual({ ingestKey: true, readToken: false, adminToken: true });
  });

  it('PULSE_DUCKDB_MEMORY_LIMIT takes a size and names itself when it is not one', () => {
    expect(loadConfig({ PULSE_DUCKDB_MEMORY_LIMIT: '512MB' }).store).toMatchObject({ kind: 'duckdb', memoryLimit: '512MB' });
    expect(problems({ PULSE_DUCKDB_MEMORY_LIMIT: 'lots' }).join('\n')).toMatch(/PULSE_DUCKDB_MEMORY_LIMIT.*512MB/);
    expect(loadConfig({ PULSE_DUCKDB_CHECKPOINT_THRESHOLD: '4MB' }).store).toMatchObject({ kind: 'duckdb', checkpointThreshold: '4MB' });
    expect(problems({ PULSE_DUCKDB_CHECKPOINT_THRESHOLD: 'soon' }).join('\n')).toMatch(/PULSE_DUCKDB_CHECKPOINT_THRESHOLD.*4MB/);
  });

  it('PULSE_HISTORY_DAYS and PULSE_DEDUP_HOURS default to 400 days and 48 h and name themselves when out of range', () => {
    const c = loadConfig({});
    expect(c.historyMs).toBe(400 * 86_400_000);
    expect(c.dedupWindowMs).toBe(48 * 3_600_000);
    expect(loadConfig({ PULSE_HISTORY_DAYS: '30', PULSE_DEDUP_HOURS: '72' })).toMatchObject({ historyMs: 30 * 86_400_000, dedupWindowMs: 72 * 3_600_000 });
    expect(problems({ PULSE_HISTORY_DAYS: '0' }).join('\n')).toMatch(/PULSE_HISTORY_DAYS.*at least 1 day/);
    expect(problems({ PULSE_HISTORY_DAYS: 'a year' }).join('\n')).toMatch(/PULSE_HISTORY_DAYS.*whole number of days/);
    expect(problems({ PULSE_DEDUP_HOURS: '12' }).join('\n')).toMatch(/PULSE_DEDUP_HOURS.*at least 24 hours/);
  });

  it('a demo bound beyond loopback gets a read token', () => {
    const c = loadConfig({ HOST: '0.0.0.0' });
    expect(c.readToken).not.toBeNull();
    expect(c.generated.readToken).toBe(true);
  });

  it('names every bad setting', () => {
    const p = problems({ PORT: 'eighty', PULSE_BUCKET_SECONDS: '7', PULSE_TIMEZONE: 'Mars/Olympus', PULSE_STORE: 'mysql' });
    expect(p.some((x) => x.startsWith('PORT:') && x.includes('"eighty"'))).toBe(true);
    expect(p.some((x) => x.startsWith('PULSE_BUCKET_SECONDS: must divide 60'))).toBe(true);
    expect(p.some((x) => x.startsWith('PULSE_TIMEZONE: not an IANA time zone'))).toBe(true);
    expect(p.some((x) => x.startsWith('PULSE_STORE:'))).toBe(true);
  });

  it('InfluxDB needs a URL and a database, and one kind of credentials', () => {
    const p = problems({ PULSE_STORE: 'influx', INFLUX_TOKEN: 't', INFLUX_USER: 'u', INFLUX_PASSWORD: 'p', PULSE_INGEST_KEYS: 'k'.repeat(16), PULSE_READ_TOKEN: 'r'.repeat(16) });
    expect(p).toEqual([
      'INFLUX_URL: required when PULSE_STORE=influx (e.g. http://127.0.0.1:8086)',
      'INFLUX_DB: required when PULSE_STORE=influx (the database, or the bucket name on 2.x)',
      'INFLUX_TOKEN: give either INFLUX_TOKEN (2.x / 3.x) or INFLUX_USER + INFLUX_PASSWORD (1.x), not both',
    ]);
  });

  it('outside the demo, keys and the read token are required and never echoed', () => {
    const p = problems({ PULSE_STORE: 'influx', INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DB: 'pulse', PULSE_READ_TOKEN: 'short' });
    expect(p).toContain('PULSE_READ_TOKEN: must be at least 16 characters');
    expect(p.join('\n')).not.toContain('short');
  });
});

describe('security settings', () => {
  const base = { PULSE_STORE: 'influx', INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DB: 'pulse' };
  const digest = `sha256:${'ab'.repeat(32)}`;

  it('tokens may be given as sha256 digests, in any of the three settings', () => {
    const c = loadConfig({ ...base, PULSE_INGEST_KEYS: `${digest},plain-key-0123456789`, PULSE_READ_TOKEN: digest.toUpperCase().replace('SHA256', 'sha256'), PULSE_ADMIN_TOKEN: digest });
    expect(c.ingestKeys).toEqual([digest, 'plain-key-0123456789']);
    expect(c.adminToken).toBe(digest);
    expect(c.generated).toEqual({ ingestKey: false, readToken: false, adminToken: false });
  });

  it('a malformed digest is refused with the setting named, and not echoed', () => {
    const p = problems({ ...base, PULSE_INGEST_KEYS: `k${'x'.repeat(20)},sha256:abc`, PULSE_READ_TOKEN: `sha256:${'g'.repeat(64)}`, PULSE_ADMIN_TOKEN: `sha256:${'a'.repeat(63)}` });
    const msg = 'a hashed token must be sha256: followed by 64 hex digits (npm run hash-token -w backend -- <token>)';
    expect(p).toEqual([`PULSE_INGEST_KEYS: ${msg}`, `PULSE_READ_TOKEN: ${msg}`, `PULSE_ADMIN_TOKEN: ${msg}`]);
    expect(p.join('\n')).not.toMatch(/ggg|aaa|abc/);
  });

  it('CORS origins must be exact origins; timeouts are bounded and consistent', () => {
    const ok = { ...base, PULSE_INGEST_KEYS: 'k'.repeat(16), PULSE_READ_TOKEN: 'r'.repeat(16) };
    expect(loadConfig(ok).http).toEqual({ headersTimeoutMs: 15_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 65_000, corsOrigins: [], trustProxy: null });
    expect(loadConfig({ ...ok, PULSE_CORS_ORIGINS: 'https://bi.example.com, http://10.0.0.5:3000' }).http.corsOrigins).toEqual(['https://bi.example.com', 'http://10.0.0.5:3000']);
    for (const bad of ['https://bi.example.com/', '*', 'bi.example.com', 'https://bi.example.com/path']) {
      expect(problems({ ...ok, PULSE_CORS_ORIGINS: bad })[0], bad).toMatch(/^PULSE_CORS_ORIGINS: must be an exact origin/);
    }
    expect(problems({ ...ok, PULSE_HTTP_HEADERS_TIMEOUT_MS: '20000', PULSE_HTTP_REQUEST_TIMEOUT_MS: '10000' })).toEqual([
      'PULSE_HTTP_HEADERS_TIMEOUT_MS: must not exceed PULSE_HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    ]);
    expect(problems({ ...ok, PULSE_HTTP_HEADERS_TIMEOUT_MS: '5' })[0]).toMatch(/^PULSE_HTTP_HEADERS_TIMEOUT_MS:/);
  });

  it('INFLUX_MAX_QUERIES: queries to InfluxDB at once, 4 unless set, bounded', () => {
    const ok = { ...base, PULSE_INGEST_KEYS: 'k'.repeat(16), PULSE_READ_TOKEN: 'r'.repeat(16) };
    expect(loadConfig(ok).store).toMatchObject({ kind: 'influx', maxQueries: 4 });
    expect(loadConfig({ ...ok, INFLUX_MAX_QUERIES: '16' }).store).toMatchObject({ maxQueries: 16 });
    for (const bad of ['0', '65', 'many']) expect(problems({ ...ok, INFLUX_MAX_QUERIES: bad })[0], bad).toMatch(/^INFLUX_MAX_QUERIES:/);
  });

  it('PULSE_CHANNEL_NAMES: id=名称|English list in the environment, a mapping in the config file', () => {
    expect(loadConfig({}).channelNames).toEqual({});
    expect(loadConfig({ PULSE_CHANNEL_NAMES: ' taobao=淘宝店|Taobao , live=直播间,' }).channelNames).toEqual({
      taobao: { zh: '淘宝店', en: 'Taobao' },
      live: { zh: '直播间', en: '直播间' },
    });
    expect(loadConfig({ PULSE_CHANNEL_NAMES: '{"a,b": "甲乙", "c": {"zh": "丙", "en": "C"}}' }).channelNames).toEqual({
      'a,b': { zh: '甲乙', en: '甲乙' },
      c: { zh: '丙', en: 'C' },
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-cfg-'));
    const file = path.join(dir, 'pulse.yaml');
    writeFileSync(file, 'PULSE_CHANNEL_NAMES:\n  taobao: 淘宝店\n  live: { zh: 直播间, en: Live }\n');
    expect(loadConfig({ PULSE_CONFIG_FILE: file }).channelNames).toEqual({
      taobao: { zh: '淘宝店', en: '淘宝店' },
      live: { zh: '直播间', en: 'Live' },
    });
  });

  it('PULSE_CHANNEL_NAMES: a bad entry stops start-up naming the setting and the entry', () => {
    const p = problems({ PULSE_CHANNEL_NAMES: 'taobao, =空, live=, x=a|b|c, y=' + '长'.repeat(30) + ', taobao=再次' });
    expect(p).toEqual([
      'PULSE_CHANNEL_NAMES: "taobao": write id=名称 or id=名称|English',
      'PULSE_CHANNEL_NAMES: an empty channel id',
      'PULSE_CHANNEL_NAMES: "live=": a name must not be empty',
      'PULSE_CHANNEL_NAMES: "x=a|b|c": at most one | (中文名|English)',
      `PULSE_CHANNEL_NAMES: "y=${'长'.repeat(30)}": a name may be at most 8 Chinese or 16 Latin characters wide (the wall's channel column)`,
    ]);
    expect(problems({ PULSE_CHANNEL_NAMES: 'a=八个汉字的名字啊, b=Sixteen letters!, c=Mixed名字 name' })).toEqual([]);
    expect(problems({ PULSE_CHANNEL_NAMES: 'a=九个汉字的名字啊啊' })).toHaveLength(1);
    expect(problems({ PULSE_CHANNEL_NAMES: '{"a": 3}' })[0]).toMatch(/^PULSE_CHANNEL_NAMES: "a": /);
    expect(problems({ PULSE_CHANNEL_NAMES: '{oops' })[0]).toMatch(/^PULSE_CHANNEL_NAMES: not valid JSON/);
    expect(problems({ PULSE_CHANNEL_NAMES: 'a\tb=x' })[0]).toMatch(/^PULSE_CHANNEL_NAMES: channel id "a\\tb": contains a control character/);
  });
});
