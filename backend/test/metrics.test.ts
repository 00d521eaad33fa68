/**
 * /metrics and the health endpoints. The exposition is checked by Prometheus's own
 * `promtool check metrics` (Debian package prometheus), not by a regex.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

function hasPromtool(): boolean {
  const found = spawnSync('promtool', ['--version']).status === 0;
  if (!found && process.env.CI === 'true') throw new Error('promtool not found (CI=true): install the Debian package prometheus');
  if (!found) console.warn('\n!!!! promtool not found — /metrics lint SKIPPED; install the Debian package prometheus !!!!\n');
  return found;
}

describe('/metrics, /healthz, /readyz', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse();
  });
  afterAll(() => pulse?.stopAndClean());

  it('counts accepted and rejected events by reason, and exposes the rest', async () => {
    await pulse.post(JSON.stringify([{ type: 'message', channel: 'wecom' }, { type: 'nope', channel: 'wecom' }]));
    await pulse.flushToStore();
    const r = await pulse.get('/metrics');
    expect(r.status).toBe(200);
    const text = r.json as string;
    expect(text).toMatch(/^pulse_events_accepted_total 1$/m);
    expect(text).toMatch(/^pulse_events_rejected_total\{reason="invalid"\} 1$/m);
    for (const name of ['pulse_bucket_flush_duration_seconds_bucket', 'pulse_store_write_errors_total', 'pulse_socket_clients', 'nodejs_eventloop_lag_seconds', 'process_cpu_user_seconds_total']) {
      expect(text).toContain(name);
    }
    // The embedded store's memory by tag (DuckDB's duckdb_memory()).
    expect(text).toMatch(/^pulse_store_memory_bytes\{tag="BASE_TABLE"\} \d+$/m);
    expect(text).toMatch(/^pulse_store_temporary_bytes\{tag="BASE_TABLE"\} \d+$/m);
    expect((await pulse.get('/metrics', null)).status).toBe(401);
  });

  it.runIf(hasPromtool())('passes promtool check metrics', async () => {
    const text = (await pulse.get('/metrics')).json as string;
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
  });

  it('healthz is up and readyz reports the store', async () => {
    expect((await pulse.get('/healthz', null)).json).toEqual({ status: 'ok' });
    expect((await pulse.get('/readyz', null)).json).toEqual({
      status: 'ready',
      store: 'duckdb',
      // Flushed and drained: nothing waits for the store; the journal holds the recent events.
      backlog: { spoolRows: 0, spoolBytes: 0, spoolOldestAgeSeconds: 0, journalBytes: expect.any(Number), journalSegments: expect.any(Number) },
    });
  });
});
