/**
 * The wall's "today vs yesterday at the same time" when memory does not reach back to
 * yesterday's midnight (a server restarted after ~02:00: every deploy; memory is seeded with
 * the last ~26 h). Yesterday is in the store, so the tiles compare with it instead of saying
 * 无昨日数据可比 all day. Real DuckDB
 * on a temp file, a real collector holding nothing of yesterday, a fixed clock (14:05
 * Beijing time), so the path does not depend on when the test runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import { Collector } from '../src/collector/collector.js';
import { SnapshotService } from '../src/live/snapshot.js';
import { YesterdaySoFar } from '../src/live/yesterdaySoFar.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import type { CounterRow, MetricStore } from '../src/store/port.js';
import { DAY, MINUTE } from '../src/time/zone.js';

const TZ = 'Asia/Shanghai';
// Yesterday = 2026-11-30 (Beijing), now = 2026-12-01 14:05:30 Beijing.
const NOW = Date.parse('2026-12-01T14:05:30+08:00');
const YESTERDAY = Date.parse('2026-11-30T00:00:00+08:00');

describe("today vs yesterday from the store when memory starts after yesterday's midnight", () => {
  let dir = '';
  let store: MetricStore;
  let collector: Collector;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pulse-yesterday-'));
    store = await createDuckDbStore({ file: path.join(dir, 'p.duckdb') });
    await store.init();
    // Yesterday: 2 messages a minute on wecom, 1 on sms, all day; 5 paid orders an hour on wecom.
    const rows: CounterRow[] = [];
    for (let ts = YESTERDAY; ts < YESTERDAY + DAY; ts += MINUTE) {
      for (const [channel, messages] of [['wecom', 2], ['sms', 1]] as const) {
        const counters: Record<string, number> = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
        counters.message = messages;
        if (channel === 'wecom' && ts % (60 * MINUTE) === 0) counters.order_paid = 5;
        rows.push({ ts, tags: { channel, community: '', campaign: '' }, counters });
      }
    }
    for (let i = 0; i < rows.length; i += 2000) await store.writeCounters(rows.slice(i, i + 2000));
    collector = new Collector({
      bucketMs: 10_000,
      latenessMs: 5 * MINUTE,
      flushMs: 60_000,
      timezone: TZ,
      pushCapPerDay: 3,
      store,
      sink: { async append() {} },
      logger: pino({ level: 'silent' }),
      metrics: { flushDuration: () => {}, rowsWritten: () => {} },
      now: () => NOW,
    });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('compares the tiles with yesterday up to the same minute, read from the store', async () => {
    const yesterday = new YesterdaySoFar(store, TZ, (err) => {
      throw err;
    }, () => NOW);
    // Memory seeded from the store over the last 26 h (a restart at 14:05): today is whole, yesterday's morning is not.
    const snapshot = (withStore: boolean, coverageSince = NOW - 26 * 60 * MINUTE) =>
      new SnapshotService({ source: collector, timezone: TZ, demo: false, businessName: 't', coverageSince, now: () => NOW, ...(withStore ? { yesterdayFromStore: (f: number, t: number) => yesterday.sums(f, t) } : {}) }).snapshot();
    // Without it (before): nothing to compare with.
    expect(snapshot(false).windows.today.kpis.messages!.previous).toBeNull();
    await yesterday.refresh();
    const today = snapshot(true).windows.today;
    // 00:00–14:05 yesterday = 845 minutes × 3 messages; paid orders at 00:00 … 14:00 = 15 hours × 5.
    expect(today.kpis.messages!.previous).toBe(845 * 3);
    expect(today.kpis.paid_orders!.previous).toBe(15 * 5);
    // A distinct count at yesterday's same minute is not stored: still no comparison.
    expect(today.kpis.active_members!.previous).toBeNull();
    // Memory holding only the last hour (a first start: today is not whole): no comparison
    // with a full yesterday, which would read as a 100% drop.
    expect(snapshot(true, NOW - 60 * MINUTE).windows.today.kpis.messages!.previous).toBeNull();
  });
});
