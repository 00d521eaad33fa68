import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';

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
    expect(c.store).toEqual({ kind: 'duckdb', file: 'data/pulse.duckdb' });
    expect(c.simulator.enabled).toBe(true);
    expect(c.readToken).toBeNull();
    expect(c.ingestKeys).toHaveLength(1);
    expect(c.generated).toEqual({ ingestKey: true, readToken: false, adminToken: true });
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
