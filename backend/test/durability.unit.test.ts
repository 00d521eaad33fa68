/**
 * The journal and the spool on real files (and the spool against a real DuckDB store):
 * group commit order, replay after an unclean stop, a torn tail, the size limits, segment
 * release, and the spool coalescing rows and writing them once the store is back.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COUNTERS, type CounterName } from '@siyu-pulse/contracts/catalogue';
import type { CountableEvent } from '../src/collector/counters.js';
import { Journal, JournalFullError, encode } from '../src/durability/journal.js';
import { TagSets } from '../src/collector/tagSets.js';
import { Spool, SpoolFullError } from '../src/durability/spool.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import type { CounterRow, MetricStore } from '../src/store/port.js';
import { Hll, sketchKeyOf } from '../src/sketch/hll.js';

const dirs: string[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(path.join(tmpdir(), `pulse-${name}-`));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const event = (i: number, channel = 'wecom'): CountableEvent => ({ type: 'message', ts: 1_700_000_000_000 + i, tags: { channel, community: '', campaign: '' }, member: `hashed-${i}` });
const item = (i: number) => ({ receivedAt: 1_700_000_000_000 + i, id: `id-${i}`, event: event(i), payload: i });
const opts = (dir: string, over: Partial<Parameters<typeof Journal.open>[0]> = {}) => ({ dir, fsyncMs: 5, fsync: true, segmentBytes: 1 << 20, maxBytes: 1 << 24, ...over });

describe('journal', () => {
  it('writes each line as JSON.stringify of its fields would, shared tags objects or not', () => {
    const sets = new TagSets();
    const names = ['wecom', '群"1"', 'a\\b', '\u2028分\n', '', '😀', '\u0000x'];
    for (let i = 0; i < 300; i++) {
      const [channel, community, campaign] = [names[i % 7]!, names[(i * 3) % 7]!, names[(i * 5) % 7]!];
      const tags = i % 2 ? sets.of(channel, community, campaign) : { channel, community, campaign };
      const e: CountableEvent = { type: i % 3 ? 'message' : 'order.paid', ts: 1_700_000_000_000 + i, tags, ...(i % 4 ? { sketchKey: i * 7919 } : {}), ...(i % 3 ? {} : { amount: i * 100 }), ...(i % 5 ? {} : { durationMs: i }) };
      const id = i % 6 ? `id-"${names[i % 7]}"-${i}` : undefined;
      const mark = i % 9 ? undefined : `imp/${i}/3`;
      const fields = [i, 1_700_000_000_000 + i * 3, id ?? null, e.type, e.ts, channel, community, campaign, e.amount ?? null, e.durationMs ?? null, e.sketchKey ?? null];
      expect(encode(i, 1_700_000_000_000 + i * 3, id, e, mark)).toBe(JSON.stringify(mark === undefined ? fields : [...fields, mark]));
    }
  });

  it('commits concurrent appends as groups, applies them in order, and replays them without member ids', async () => {
    const dir = tmp('journal');
    const applied: number[][] = [];
    const { journal, events } = Journal.open<ReturnType<typeof item>>(opts(dir), (items) => applied.push(items.map((i) => i.payload)), 0);
    expect(events).toEqual([]);
    await Promise.all([journal.append([item(1), item(2)]), journal.append([item(3)]), journal.append([item(4), item(5)])]);
    expect(applied.flat()).toEqual([1, 2, 3, 4, 5]);
    expect(applied.length).toBe(1); // one group: one write and one fdatasync for three requests
    await journal.append([item(6)]);
    expect(applied.flat()).toEqual([1, 2, 3, 4, 5, 6]);
    // No close(): as after a SIGKILL. Reopening returns every event, in order, no member.
    const reopened = Journal.open<ReturnType<typeof item>>(opts(dir), () => undefined, 0);
    expect(reopened.events.map((e) => e.id)).toEqual(['id-1', 'id-2', 'id-3', 'id-4', 'id-5', 'id-6']);
    expect(reopened.events.map((e) => e.lsn)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reopened.events[0]!.event).toEqual({ type: 'message', ts: 1_700_000_000_001, tags: { channel: 'wecom', community: '', campaign: '' } });
    expect(readFileSync(path.join(dir, readdirSync(dir)[0]!), 'utf8')).not.toContain('hashed-');
    expect(reopened.journal.nextSequence).toBe(7);
  });

  it('ignores a torn tail and continues LSNs after the spool checkpoint', () => {
    const dir = tmp('journal-torn');
    return (async () => {
      const { journal } = Journal.open<ReturnType<typeof item>>(opts(dir), () => undefined, 0);
      await journal.append([item(1), item(2)]);
      appendFileSync(path.join(dir, readdirSync(dir)[0]!), '[3,17000000000');
      const reopened = Journal.open<ReturnType<typeof item>>(opts(dir), () => undefined, 100);
      expect(reopened.tornLines).toBe(1);
      expect(reopened.events.map((e) => e.lsn)).toEqual([1, 2]);
      expect(reopened.journal.nextSequence).toBe(101);
    })();
  });

  it('reads a segment larger than its 1 MiB read chunk: Chinese names cut across chunks come back whole', async () => {
    const dir = tmp('journal-chunks');
    const { journal } = Journal.open<ReturnType<typeof item>>(opts(dir, { segmentBytes: 64 << 20 }), () => undefined, 0);
    // ~3 MiB of lines whose community names are 3-byte characters: some cut lands inside one.
    const names = ['南京西路会员群', '上海静安咖啡社群', '杭州滨江宝妈群'];
    const items = Array.from({ length: 20_000 }, (_, i) => ({
      receivedAt: 1_700_000_000_000 + i,
      id: `id-${i}`,
      event: { type: 'message' as const, ts: 1_700_000_000_000 + i, tags: { channel: 'wecom', community: `${names[i % 3]}${'群'.repeat(i % 40)}`, campaign: '' } },
      payload: i,
    }));
    for (let i = 0; i < items.length; i += 1000) await journal.append(items.slice(i, i + 1000));
    const [segment] = readdirSync(dir);
    expect(statSync(path.join(dir, segment!)).size).toBeGreaterThan(2 << 20);
    const reopened = Journal.open<ReturnType<typeof item>>(opts(dir), () => undefined, 0);
    expect(reopened.tornLines).toBe(0);
    expect(reopened.events.map((e) => e.event.tags.community)).toEqual(items.map((it) => it.event.tags.community));
  });

  it('keeps only the unflushed events in memory at open; the flushed ones come back in chunks, in LSN order', async () => {
    const dir = tmp('journal-chunked-replay');
    const { journal } = Journal.open<ReturnType<typeof item>>(opts(dir, { segmentBytes: 4096 }), () => undefined, 0);
    for (let i = 1; i <= 2500; i += 100) await journal.append(Array.from({ length: 100 }, (_, k) => item(i + k)));
    // The spool's snapshot holds everything up to LSN 2400: only 100 events are pending.
    const reopened = Journal.open<ReturnType<typeof item>>(opts(dir, { segmentBytes: 4096 }), () => undefined, 2400);
    expect(reopened.pending.map((e) => e.lsn)).toEqual(Array.from({ length: 100 }, (_, k) => 2401 + k));
    const chunks = [...reopened.flushedChunks(1000)];
    expect(chunks.map((c) => c.length)).toEqual([1000, 1000, 400]);
    expect(chunks.flat().map((e) => e.lsn)).toEqual(Array.from({ length: 2400 }, (_, k) => k + 1));
    expect(reopened.events.map((e) => e.lsn)).toEqual(Array.from({ length: 2500 }, (_, k) => k + 1));
  });

  it('refuses appends beyond its size limit, and releases only flushed, old segments', async () => {
    const dir = tmp('journal-full');
    const { journal } = Journal.open<ReturnType<typeof item>>(opts(dir, { segmentBytes: 200, maxBytes: 1070 }), () => undefined, 0);
    for (let i = 0; i < 14; i++) await journal.append([item(i)]);
    expect(journal.segmentCount).toBeGreaterThan(3);
    const before = journal.bytes;
    expect(before).toBeGreaterThanOrEqual(1070);
    await expect(journal.append([item(99)])).rejects.toBeInstanceOf(JournalFullError);
    // Nothing flushed yet: nothing released.
    expect(journal.release(0, Date.now() + 1)).toBe(0);
    // Flushed up to LSN 6 but all received "now": the lateness rule keeps them.
    expect(journal.release(6, 0)).toBe(0);
    const released = journal.release(6, Date.now() + 1);
    expect(released).toBeGreaterThan(0);
    expect(journal.bytes).toBeLessThan(before);
    const left = Journal.open<ReturnType<typeof item>>(opts(dir), () => undefined, 0).events.map((e) => e.lsn);
    expect(Math.min(...left)).toBeLessThanOrEqual(7);
    expect(left).toContain(14);
  });
});

const row = (ts: number, messages: number, channel = 'wecom'): CounterRow => ({
  ts,
  tags: { channel, community: '', campaign: '' },
  counters: Object.fromEntries(COUNTERS.map((c) => [c, c === 'message' ? messages : 0])) as Record<CounterName, number>,
});

describe('spool', () => {
  it('keeps rows through a store outage, coalesces versions, and writes the latest when the store is back', async () => {
    const dir = tmp('spool');
    const store = createDuckDbStore({ file: path.join(dir, 'pulse.duckdb') });
    await store.init();
    let down = true;
    const flaky: MetricStore = {
      ...store,
      writeCounters: (rows, o) => (down ? Promise.reject(new Error('connection refused')) : store.writeCounters(rows, o)),
      writeDistinct: (rows) => (down ? Promise.reject(new Error('connection refused')) : store.writeDistinct(rows)),
    };
    const errors: string[] = [];
    const spool = Spool.open({ dir: path.join(dir, 'spool'), maxBytes: 1 << 20, retryMs: [20], onError: (e) => errors.push(e.message) }, COUNTERS);
    spool.startDraining(flaky);
    const T = 1_700_000_000_000;
    await spool.append({ lsn: 10, counters: [row(T, 1), row(T + 10_000, 5)], distinct: [] });
    await spool.append({ lsn: 20, counters: [row(T, 3)], distinct: [] }); // a later version of the first row
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toEqual(['connection refused']);
    expect(spool.backlog().rows).toBe(2);
    expect(spool.lsn).toBe(20);
    // A restart during the outage finds both rows again (the file is the truth).
    await spool.close();
    const again = Spool.open({ dir: path.join(dir, 'spool'), maxBytes: 1 << 20, retryMs: [20] }, COUNTERS);
    expect(again.backlog().rows).toBe(2);
    expect(again.lsn).toBe(20);
    down = false;
    await again.drainNow(flaky);
    const stored = await store.queryCounters({ from: T, to: T + 20_000, stepMs: 10_000, offsetMs: 0, counters: ['message'], by: [], filter: {} });
    expect(stored[0]!.points.map((p) => [p.ts, p.sums.message])).toEqual([
      [T, 3],
      [T + 10_000, 5],
    ]);
    expect(again.backlog()).toMatchObject({ rows: 0, bytes: 0 });
    expect(statSync(path.join(dir, 'spool', 'spool.ndjson')).size).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'spool', 'checkpoint.json'), 'utf8'))).toEqual({ lsn: 20 });
    await again.close();
    await store.close();
  });

  it('keeps a group’s 10 s row and its hour rollup row (same time and tags) apart, through a restart, each to its own table', async () => {
    const dir = tmp('spool-rollup');
    const store = createDuckDbStore({ file: path.join(dir, 'pulse.duckdb') });
    await store.init();
    const T = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
    const tags = { channel: 'wechat_group', community: '望京1群', campaign: '' };
    const spool = Spool.open({ dir: path.join(dir, 'spool'), maxBytes: 1 << 20 }, COUNTERS);
    await spool.append({ lsn: 1, counters: [{ ts: T, tags, counters: { message: 2 } }, { ts: T, tags, counters: { message: 7 }, rollup: 'hour' }], distinct: [] });
    expect(spool.pendingCounters(T, tags)?.counters.message).toBe(2);
    expect(spool.pendingCounters(T, tags, 'hour')?.counters.message).toBe(7);
    await spool.close();
    const again = Spool.open({ dir: path.join(dir, 'spool'), maxBytes: 1 << 20 }, COUNTERS);
    expect(again.backlog().rows).toBe(2);
    expect(again.pendingCounters(T, tags, 'hour')?.rollup).toBe('hour');
    await again.drainNow(store);
    const q = { from: T, to: T + 3_600_000, stepMs: 3_600_000, offsetMs: 0, counters: ['message'], by: [], filter: { community: tags.community } };
    expect((await store.queryCounters({ ...q, source: 'raw' }))[0]!.points[0]!.sums.message).toBe(2);
    expect((await store.queryCounters({ ...q, source: 'hour' }))[0]!.points[0]!.sums.message).toBe(7);
    await again.close();
    await store.close();
  });

  it('keeps a group’s sketch and the channel sketch of the same period apart, through a restart, each to its own table', async () => {
    const dir = tmp('spool-group-sketch');
    const store = createDuckDbStore({ file: path.join(dir, 'pulse.duckdb') });
    await store.init();
    const T = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
    const one = new Hll();
    one.add(sketchKeyOf('AAAAAAAAAAAA'));
    const two = one.clone();
    two.add(sketchKeyOf('BBBBBBBBBBBB'));
    const base = { ts: T, granularity: 'hour' as const, set: 'active' as const, channel: '', node: 'main' };
    const spool = Spool.open({ dir: path.join(dir, 'spool'), maxBytes: 1 << 20 }, COUNTERS);
    await spool.append({ lsn: 1, counters: [], distinct: [], sketches: [{ ...base, sketch: one.toBase64() }, { ...base, sketch: two.toBase64(), community: '望京1群' }] });
    await spool.close();
    const again = Spool.open({ dir: path.join(dir, 'spool'), maxBytes: 1 << 20 }, COUNTERS);
    expect(again.pendingSketches('active', 'hour', T).map((r) => r.community)).toEqual([undefined]);
    expect(again.pendingSketches('active', 'hour', T, true).map((r) => r.community)).toEqual(['望京1群']);
    await again.drainNow(store);
    const q = { from: T, to: T + 3_600_000, granularity: 'hour' as const, set: 'active' as const };
    expect((await store.querySketches(q)).map((r) => Hll.fromBase64(r.sketch).estimate())).toEqual([1]);
    expect((await store.querySketches({ ...q, community: '望京1群' })).map((r) => [r.community, Hll.fromBase64(r.sketch).estimate()])).toEqual([['望京1群', 2]]);
    await again.close();
    await store.close();
  });

  it('says it is full instead of dropping rows', async () => {
    const dir = tmp('spool-full');
    const spool = Spool.open({ dir, maxBytes: 2_000 }, COUNTERS);
    const many = Array.from({ length: 400 }, (_, i) => row(1_700_000_000_000 + i * 10_000, i + 1));
    await expect(spool.append({ lsn: 1, counters: many, distinct: [] })).rejects.toBeInstanceOf(SpoolFullError);
    expect(spool.backlog().rows).toBe(0);
    expect(existsSync(path.join(dir, 'spool.ndjson')) ? statSync(path.join(dir, 'spool.ndjson')).size : 0).toBe(0);
    await spool.close();
  });
});
