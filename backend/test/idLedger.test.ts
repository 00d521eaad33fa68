/**
 * The disk id ledger (LmdbIdLedger): duplicates inside one call and across calls, the window
 * edge, release, remember, and that process memory does not grow with the number of ids
 * (only commits in flight are held) while expired partitions are dropped whole; the filters
 * in front of the disk lookups never hide an id (before, during and after their start-up fill).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdFilter } from '../src/ingest/idFilter.js';
import { LmdbIdLedger } from '../src/ingest/idLedger.js';

const HOUR = 3_600_000;

describe('LmdbIdLedger', () => {
  let dir = '';
  let ledger: LmdbIdLedger;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pulse-ids-'));
    ledger = LmdbIdLedger.open({ dir, windowMs: 48 * HOUR, fsync: false });
  });
  afterEach(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers per id: repeated inside a call, seen before, the window edge', async () => {
    const t = 1_800_000_000_000;
    expect(await ledger.claim(['a', 'b', 'a'], t)).toEqual([false, false, true]);
    await ledger.confirm(['a', 'b'], t);
    expect(ledger.inMemoryIds).toBe(0);
    expect(await ledger.claim(['b', 'c'], t + 48 * HOUR)).toEqual([true, false]);
    expect(await ledger.claim(['a'], t + 48 * HOUR + 1)).toEqual([false]);
  });

  it('a claim reserves until confirmed or released; a reopened ledger knows the confirmed ids only; remember marks without answering', async () => {
    const t = 1_800_000_000_000;
    await ledger.claim(['x', 'y', 'w'], t);
    // Reserved: a concurrent claim sees them.
    expect(await ledger.claim(['x', 'y'], t + 1)).toEqual([true, true]);
    await ledger.release(['x'], t);
    await ledger.confirm(['y'], t);
    expect(await ledger.claim(['x', 'y'], t + 1)).toEqual([false, true]);
    await ledger.confirm(['x'], t + 1);
    // 'w' was claimed but never confirmed (the process died before its journal write): not on disk.
    await ledger.close();
    ledger = LmdbIdLedger.open({ dir, windowMs: 48 * HOUR, fsync: false });
    expect(await ledger.claim(['x', 'y', 'w'], t + 2)).toEqual([true, true, false]);
    expect(await ledger.markReplayed([['z', t - HOUR]])).toEqual([true]);
    expect(await ledger.claim(['z'], t)).toEqual([true]);
  });

  it('holds no id in memory after its commit, and drops expired partitions: 300,000 ids over 6 days', async () => {
    const t0 = 1_800_000_000_000;
    const heapBefore = process.memoryUsage().heapUsed;
    let n = 0;
    for (let day = 0; day < 6; day++) {
      for (let b = 0; b < 10; b++) {
        const at = t0 + day * 24 * HOUR + b * HOUR;
        const ids = Array.from({ length: 5_000 }, () => `order-${(n++).toString(36)}-some-producer-prefix`);
        expect((await ledger.claim(ids, at)).some(Boolean)).toBe(false);
        await ledger.confirm(ids, at);
        expect(ledger.inMemoryIds).toBe(0);
      }
      await ledger.sweep(t0 + day * 24 * HOUR + 10 * HOUR);
      // A window of 48 h in partitions of 24 h: never more than three are kept.
      expect(ledger.partitionCount).toBeLessThanOrEqual(3);
    }
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    const fileBytes = statSync(path.join(dir, 'data.mdb')).size;
    console.info(`[idLedger] ${n} ids: heap growth ${(heapGrowth / 1048576).toFixed(1)} MiB (garbage included), file ${(fileBytes / 1048576).toFixed(1)} MiB`);
    // The last day's ids are still duplicates; the first day's fell out of the window.
    expect(await ledger.claim([`order-${(n - 1).toString(36)}-some-producer-prefix`, 'order-0-some-producer-prefix'], t0 + 5 * 24 * HOUR + 11 * HOUR)).toEqual([true, false]);
  }, 60_000);

  it('a reopened ledger knows every id while its filters fill and after (45,000 ids, several fill chunks)', async () => {
    const t = 1_800_000_000_000;
    const ids = Array.from({ length: 45_000 }, (_, i) => `evt-${i}-数据-${(i * 7919).toString(36)}`);
    expect((await ledger.claim(ids, t)).some(Boolean)).toBe(false);
    await ledger.confirm(ids, t);
    await ledger.close();
    ledger = LmdbIdLedger.open({ dir, windowMs: 48 * HOUR, fsync: false });
    // Before the fill is done: looked up on disk.
    expect((await ledger.claim(ids.slice(0, 1000), t + 1)).every(Boolean)).toBe(true);
    // New ids confirmed during the fill go into the filter too.
    expect(await ledger.claim(['during-fill'], t + 1)).toEqual([false]);
    await ledger.confirm(['during-fill'], t + 1);
    await ledger.filtersFilled;
    const again = await ledger.claim([...ids, 'during-fill'], t + 2);
    expect(again.filter((seen) => !seen)).toHaveLength(0);
    expect(await ledger.claim(['never-sent-1', 'never-sent-2'], t + 2)).toEqual([false, false]);
  });
});

describe('IdFilter', () => {
  it('never answers "certainly not" for an added id, and rarely "perhaps" for another', () => {
    const f = new IdFilter();
    const n = 200_000;
    for (let i = 0; i < n; i++) f.add(`order-${i}-shop`);
    let missed = 0;
    for (let i = 0; i < n; i++) if (!f.mayHave(`order-${i}-shop`)) missed++;
    expect(missed).toBe(0);
    let perhaps = 0;
    for (let i = 0; i < n; i++) if (f.mayHave(`order-${i}-shoq`)) perhaps++;
    // 200,000 ids in 2^24 bits with 4 probes: ~0.002 % expected.
    expect(perhaps / n).toBeLessThan(0.001);
  });
});
