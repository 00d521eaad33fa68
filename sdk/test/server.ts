/** The real Siyu Pulse server for the SDK tests (in-process, real HTTP on 127.0.0.1, DuckDB on a temp dir). */
import { startTestPulse, type TestPulse } from '../../backend/test/harness/pulse.js';

export { INGEST_KEY } from '../../backend/test/harness/pulse.js';
export type { TestPulse };
export const PUBLIC_KEY = 'pk-sdk-test-0123456789abcdef';
export const APPID = 'wx0123456789abcdef';

export function startServer(env: Record<string, string>): Promise<TestPulse> {
  return startTestPulse({ env: { PULSE_PUBLIC_INGEST_KEYS: PUBLIC_KEY, ...env } });
}

/** One KPI over [from, now + 1 min) as Σ÷Σ (step=all) for one channel, after flushing to the store. */
export async function kpi(pulse: TestPulse, id: string, channel: string, from: number): Promise<number | null> {
  await pulse.flushToStore();
  const r = await pulse.get(`/api/v1/series?kpi=${id}&from=${from}&to=${Date.now() + 60_000}&step=all&channel=${encodeURIComponent(channel)}`);
  if (r.status !== 200) throw new Error(`series ${id}: ${r.status} ${JSON.stringify(r.json)}`);
  const series = (r.json as { series: { points: [number, number | null][] }[] }).series;
  return series[0]?.points[0]?.[1] ?? null;
}

/** Polls until `fn` holds, or fails naming `what`. */
export async function until(fn: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
