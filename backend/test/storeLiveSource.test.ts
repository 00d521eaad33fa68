/**
 * The cluster wall's source (cluster/storeLiveSource.ts) against a real store (DuckDB on a
 * temp file) and a clock the test moves: counters written by "other nodes" appear in the
 * windows the wall reads, stay exact as minutes leave the bucket span for the minute ring,
 * a late row hours old shows after the periodic re-read, and distinct members are the merge
 * of every node's sketches.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import { StoreLiveSource } from '../src/cluster/storeLiveSource.js';
import { toSums } from '../src/collector/counters.js';
import { Hll, sketchKeyOf } from '../src/sketch/hll.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import type { CounterRow, MetricStore } from '../src/store/port.js';
import { DAY, MINUTE } from '../src/time/zone.js';

const TZ = 'Asia/Shanghai';
const TODAY = Date.parse('2026-12-01T00:00:00+08:00');
const START = Date.parse('2026-12-01T14:05:30+08:00');
const BUCKET = 10_000;

const row = (ts: number, channel: string, messages: number): CounterRow => {
  const counters: Record<string, number> = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
  counters.message = messages;
  return { ts, tags: { channel, community: '', campaign: '' }, counters };
};
const sketchOf = (members: string[]) => {
  const h = new Hll();
  for (const m of members) h.add(sketchKeyOf(createHash('sha256').update(m).digest('hex')));
  return h.toBase64();
};

describe('the cluster wall reads every node from the store', () => {
  let dir = '';
  let store: MetricStore;
  let now = START;
  let source: StoreLiveSource;
  let written = 0;
  const messagesIn = (from: number, to: number, channel?: string) => {
    const w = source.windowSums(from, to);
    const v = channel === undefined ? w.total : w.byChannel.get(channel);
    return v ? (toSums(v).message ?? 0) : 0;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pulse-storelive-'));
    store = await createDuckDbStore({ file: path.join(dir, 'p.duckdb') });
    await store.init();
    // Yesterday 1 message a minute on wecom; today 1 per 10 s bucket on wecom and 2 a minute on sms, up to START.
    const rows: CounterRow[] = [];
    for (let ts = TODAY - DAY; ts < TODAY; ts += MINUTE) rows.push(row(ts, 'wecom', 1));
    for (let ts = TODAY; ts < START - (START % BUCKET); ts += BUCKET) {
      rows.push(row(ts, 'wecom', 1));
      written += 1;
      if (ts % MINUTE === 0) {
        rows.push(row(ts, 'sms', 2));
        written += 2;
      }
    }
    for (let i = 0; i < rows.length; i += 2000) await store.writeCounters(rows.slice(i, i + 2000));
    source = new StoreLiveSource({ store, bucketMs: BUCKET, latenessMs: 5 * MINUTE, timezone: TZ, local: { freshness: () => ({ lastEventAt: null, byChannel: {} }) }, now: () => now, onError: (err) => { throw err; } });
    await source.start();
  }, 60_000);
  afterAll(async () => {
    await source?.stop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers today, yesterday's same span and the last 5 minutes from what the store holds", () => {
    const bucketEnd = START - (START % BUCKET) + BUCKET;
    expect(messagesIn(TODAY, bucketEnd)).toBe(written);
    expect(messagesIn(TODAY, bucketEnd, 'sms')).toBe(2 * ((START - (START % MINUTE) - TODAY) / MINUTE + 1));
    expect(messagesIn(TODAY - DAY, START - (START % MINUTE) - DAY)).toBe((START - (START % MINUTE) - TODAY) / MINUTE);
    // 14:00:30 – 14:05:30: 30 wecom buckets, and sms at 14:01 … 14:05.
    const to = START - (START % BUCKET);
    expect(messagesIn(to - 5 * MINUTE, to)).toBe(30 + 2 * 5);
    expect(source.coverageSince).toBe(TODAY - DAY);
  });

  it('stays exact while minutes leave the bucket span, and rows other nodes write appear on the next read', async () => {
    // 40 minutes go by; "another node" writes 3 messages per bucket on wecom; the wall reads every 4 minutes (within the lateness window).
    const rows: CounterRow[] = [];
    const end = START + 40 * MINUTE;
    for (let ts = START - (START % BUCKET); ts < end; ts += BUCKET) rows.push({ ...row(ts, 'wecom', 3), tags: { channel: 'wecom', community: '', campaign: '' } });
    let next = 0;
    for (now = START; now < end; now += 4 * MINUTE) {
      const due: CounterRow[] = [];
      while (next < rows.length && rows[next]!.ts < now - (now % BUCKET)) due.push(rows[next++]!);
      if (due.length) await store.writeCounters(due);
      await source.refresh();
    }
    now = end;
    await store.writeCounters(rows.slice(next));
    await source.refresh();
    const bucketEnd = now - (now % BUCKET);
    const total = (await store.queryCounters({ from: TODAY, to: bucketEnd, stepMs: bucketEnd - TODAY, offsetMs: TODAY % (bucketEnd - TODAY), counters: COUNTERS, by: [], filter: {} }))[0]!.points[0]!.sums.message;
    expect(messagesIn(TODAY, bucketEnd)).toBe(total);
    // The last 5 minutes: 30 buckets × 3 (another node; this wall's own node took none).
    expect(messagesIn(bucketEnd - 5 * MINUTE, bucketEnd)).toBe(90);
  });

  it("remembers each channel's last arrival past the bucket span (deadman rules in a cluster)", () => {
    // sms last sent in the minute of START, 40 minutes ago: older than the 20-minute bucket span.
    const lastSms = START - (START % MINUTE);
    const seen = source.freshness().byChannel.sms!;
    expect(seen).toBeGreaterThanOrEqual(lastSms + BUCKET);
    expect(seen).toBeLessThanOrEqual(lastSms + MINUTE);
    expect(source.freshness().byChannel.wecom).toBe(now - (now % BUCKET));
  });

  it('a late row hours old shows after the periodic re-read of the day', async () => {
    const before = messagesIn(TODAY, now - (now % BUCKET));
    await store.writeCounters([row(TODAY + 3 * 3_600_000, 'late', 7)]);
    await source.refresh();
    expect(messagesIn(TODAY, now - (now % BUCKET)) - before).toBe(7);
  });

  it("distinct members are the merge of every node's sketches: today's day and the last minutes", async () => {
    const minute = now - (now % MINUTE) - MINUTE;
    const a = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const b = [...a.slice(0, 10), ...Array.from({ length: 15 }, (_, i) => `b${i}`)];
    await store.writeSketches([
      { ts: TODAY, granularity: 'day', set: 'active', channel: '', node: 'node-a', sketch: sketchOf(a) },
      { ts: TODAY, granularity: 'day', set: 'active', channel: '', node: 'node-b', sketch: sketchOf(b) },
      { ts: TODAY, granularity: 'day', set: 'active', channel: 'wecom', node: 'node-a', sketch: sketchOf(a) },
      { ts: TODAY, granularity: 'day', set: 'active', channel: 'wecom', node: 'node-b', sketch: sketchOf(b.slice(0, 12)) },
      { ts: minute, granularity: 'minute', set: 'active', channel: '', node: 'node-a', sketch: sketchOf(a.slice(0, 5)) },
      { ts: minute, granularity: 'minute', set: 'active', channel: '', node: 'node-b', sketch: sketchOf(b.slice(10, 13)) },
    ]);
    await source.refresh();
    const day = source.distinctPeriod('active', 'day', TODAY)!;
    expect(day.total).toBe(55);
    expect(day.byChannel.get('wecom')).toBe(42);
    expect(source.distinctPeriod('active', 'minute', minute)?.total).toBe(8);
    expect(source.distinctWindow('active', minute - 4 * MINUTE + 30_000, minute + MINUTE).total).toBe(8);
    expect(source.distinctPeriod('active', 'hour', TODAY)).toBeUndefined();
    expect(source.dayDistinctAtMinute()).toBeUndefined();
  });
});
