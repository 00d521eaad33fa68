/**
 * The DuckDB store answers reads on a connection of its own: a long write (an import batch,
 * the demo's history fill) does not hold up the API's queries, and a read sees every write
 * that resolved before it started. Real DuckDB on a temp file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import type { CounterQuery, CounterRow, MetricStore } from '../src/store/port.js';

const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
const q = (from: number, to: number): CounterQuery => ({ from, to, stepMs: DAY, offsetMs: 0, counters: ['message'], by: [], filter: {} });
const rowsAt = (from: number, n: number): CounterRow[] =>
  Array.from({ length: n }, (_, i) => ({ ts: from + i * 10_000, tags: { channel: `ch${i % 7}`, community: `社群${i % 200}`, campaign: '' }, counters: { message: 1 } as CounterRow['counters'] }));

describe('DuckDB store reads', () => {
  let dir = '';
  let store: MetricStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-duckreads-'));
    store = createDuckDbStore({ file: join(dir, 'r.duckdb') });
    await store.init();
    await store.writeCounters(rowsAt(T0, 100));
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answer while a long write runs, from what was committed', async () => {
    const order: string[] = [];
    const write = store.writeCounters(rowsAt(T0 + DAY, 30_000)).then(() => order.push('write'));
    const read = store.queryCounters(q(T0, T0 + 5 * DAY)).then((series) => {
      order.push('read');
      return series;
    });
    const [series] = await Promise.all([read, write]);
    // One lane for both would answer the read only after the write.
    expect(order).toEqual(['read', 'write']);
    // The 100 rows written before; none or all of the 30,000 (one statement, one transaction).
    const total = series[0]!.points.reduce((s, p) => s + p.sums.message, 0);
    expect([100, 30_100]).toContain(total);
    // A read after the write resolved sees it.
    const after = await store.queryCounters(q(T0, T0 + 5 * DAY));
    expect(after[0]!.points.reduce((s, p) => s + p.sums.message, 0)).toBe(30_100);
  });
});
