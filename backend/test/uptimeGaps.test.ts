/**
 * Downtime is a gap, not zero (uptime/uptime.ts): a bucket outside every recorded run of
 * the server and without stored data reads null in /api/v1/series (and so in the charts,
 * CSV and reports that read it); a bucket the server was up without events stays 0; a
 * bucket with stored data (a late event, an import) is never nulled. Also: the wall's
 * trend has gaps, not zeros, for the minutes before the first start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import { HEARTBEAT_MS, mergeSpans } from '../src/uptime/uptime.js';
import { MINUTE, floorTo } from '../src/time/zone.js';
import { READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

describe('downtime reads as a gap', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-uptime-'));
  let pulse: TestPulse | undefined;
  afterAll(async () => {
    await pulse?.stopAndClean();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('merges runs and clips them to the range', () => {
    expect(mergeSpans([[5, 8], [1, 3], [2, 4], [10, Infinity]], 0, 12)).toEqual([[1, 4], [5, 8], [10, 12]]);
  });

  it('series: null where nothing ran and nothing is stored, 0 where the server was up, data always shown', async () => {
    const S = Date.now();
    // An earlier run, 60 to 40 minutes before this start (then the server was down).
    const store = createDuckDbStore({ file: path.join(dataDir, 'pulse.duckdb') });
    await store.init();
    await store.writeUptime({ runId: 'earlier', startedAt: S - 60 * MINUTE, lastSeenAt: S - 40 * MINUTE });
    await store.close();

    pulse = await startTestPulse({ dataDir, env: { PULSE_LATENESS_SECONDS: '3600' } });
    // A late event from the downtime (as an import would bring): its bucket is data, not a gap.
    const lateAt = floorTo(S, MINUTE) - 20 * MINUTE + 5_000;
    expect((await pulse.post(JSON.stringify([{ type: 'message', channel: 'wecom', ts: lateAt }]))).status).toBe(202);
    await pulse.flushToStore();

    const from = floorTo(S, MINUTE) - 90 * MINUTE;
    const to = floorTo(S, MINUTE) + MINUTE;
    const r = await pulse.get(`/api/v1/series?kpi=messages&from=${from}&to=${to}&step=1m`);
    expect(r.status).toBe(200);
    const points = (r.json as { series: { points: [number, number | null][] }[] }).series[0]!.points;
    const at = (ts: number) => points.find((p) => p[0] === floorTo(ts, MINUTE))?.[1];
    expect(at(S - 80 * MINUTE)).toBeNull(); // before any run: a gap, not a flat zero line
    expect(at(S - 50 * MINUTE)).toBe(0); // the earlier run was up, no events: 0
    // The earlier run's last heartbeat counts for one more interval (crash uncertainty).
    expect(at(S - 40 * MINUTE + HEARTBEAT_MS - 1)).toBe(0);
    expect(at(S - 30 * MINUTE)).toBeNull(); // down
    expect(at(lateAt)).toBe(1); // stored data in the downtime is shown
    expect(at(S)).toBe(0); // this run is up
    const nulls = points.filter((p) => p[1] === null).length;
    console.log(`messages, 1m, last 90 min: ${nulls} gap buckets of ${points.length}`);

    // Ratios and splits follow the same rule; a filter to a channel too.
    const byChannel = await pulse.get(`/api/v1/series?kpi=messages&from=${from}&to=${to}&step=1m&by=channel`);
    const wecom = (byChannel.json as { series: { tags: { channel: string }; points: [number, number | null][] }[] }).series.find((s) => s.tags.channel === 'wecom')!;
    expect(wecom.points.find((p) => p[0] === floorTo(S - 30 * MINUTE, MINUTE))?.[1]).toBeNull();
    expect(wecom.points.find((p) => p[0] === floorTo(lateAt, MINUTE))?.[1]).toBe(1);
    const rate = await pulse.get(`/api/v1/series?kpi=push_open_rate&from=${from}&to=${to}&step=1h`);
    expect(rate.status).toBe(200);
  });

  it('the wall: minutes before the first start are gaps in the trend, the running minutes values', async () => {
    const snap = (await pulse!.get('/api/v1/snapshot', READ_TOKEN)).json as { trend: { ts: number; values: Record<string, number | null> }[]; serverTime: number };
    const first = snap.trend[0]!;
    const last = snap.trend.at(-1)!;
    // The trend covers the last hour: its start was in the downtime before this run (−60 … −40 min was up).
    const downMinute = snap.trend.find((p) => p.ts >= snap.serverTime - 35 * MINUTE && p.ts < snap.serverTime - 25 * MINUTE && p.ts !== floorTo(snap.serverTime - 20 * MINUTE, MINUTE))!;
    expect(first).toBeDefined();
    expect(downMinute.values.messages).toBeNull();
    expect(last.values.messages).toBe(0);
  });
});
