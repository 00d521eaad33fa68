/**
 * Units under the import path: the ingest schema's fast path decides exactly as zod does,
 * an import batch cut short in the journal is dropped (never acknowledged) while a complete
 * one is reported, and the ledger takes a batch from the journal when its own line was lost.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '@siyu-pulse/contracts/catalogue';
import type { CountableEvent } from '../src/collector/counters.js';
import { Journal } from '../src/durability/journal.js';
import { ImportLedger } from '../src/import/ledger.js';
import { EventSchema, validateEvent } from '../src/ingest/schema.js';

describe('validateEvent (fast path + zod)', () => {
  it('gives the same verdict and the same event as EventSchema on random events', () => {
    const tag = fc.oneof(fc.constantFrom('wecom', '上海群', ' x', 'x ', 'a\\', 'a\nb', '\ud800', ''), fc.string({ maxLength: 130 }));
    const event = fc.record(
      {
        id: fc.oneof(fc.string({ maxLength: 130 }), fc.integer()),
        type: fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.constantFrom('messages', '', 'ORDER.PAID')),
        ts: fc.oneof(fc.integer({ min: -5, max: 8_640_000_000_005 }), fc.double(), fc.constant('2026-11-23T20:00:00+08:00'), fc.constant('2026-11-23')),
        member: fc.oneof(fc.string({ maxLength: 260 }), fc.constant('a\udc00'), fc.integer()),
        channel: tag,
        community: tag,
        campaign: tag,
        source: fc.string({ maxLength: 130 }),
        amount: fc.oneof(fc.integer({ min: -1, max: 1_000_000_000_001 }), fc.double(), fc.constant('199')),
        duration_ms: fc.oneof(fc.integer({ min: -1, max: 7 * 86_400_000 + 1 }), fc.double()),
        ammount: fc.integer(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(event, (e) => {
        const fast = validateEvent(e);
        const slow = EventSchema.safeParse(e);
        expect(fast.success).toBe(slow.success);
        if (fast.success && slow.success) expect(fast.data).toEqual(slow.data);
      }),
      { numRuns: 20_000, seed: 12 },
    );
  });
});

const ev = (ts: number): CountableEvent => ({ type: 'message', ts, tags: { channel: 'wecom', community: '', campaign: '' } });

describe('import batches in the journal and the ledger', () => {
  it('a batch torn by a crash is dropped, a complete one is reported and taken into the ledger', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-import-journal-'));
    try {
      const opts = { dir: path.join(dir, 'journal'), fsync: true, fsyncMs: 0, segmentBytes: 1 << 20, maxBytes: 1 << 30 };
      const applied: unknown[] = [];
      const { journal } = Journal.open(opts, (p) => applied.push(...p), 0);
      const batch = (mark: string, n: number) => Array.from({ length: n }, (_, i) => ({ receivedAt: 1, id: undefined, event: ev(1000 + i), mark: `${mark}/${n}` }));
      await journal.append(batch('aaaaaaaaaaaaaaaa/0', 3));
      await journal.append([{ receivedAt: 1, id: 'p1', event: ev(5) }]);
      await journal.append(batch('aaaaaaaaaaaaaaaa/1', 4));
      await journal.close();
      expect(applied).toHaveLength(8);
      // A crash while batch 1 was being written: its last line never made it.
      const seg = path.join(opts.dir, readdirSync(opts.dir)[0]!);
      const lines = readFileSync(seg, 'utf8').trim().split('\n');
      writeFileSync(seg, `${lines.slice(0, -1).join('\n')}\n`);
      appendFileSync(seg, lines[lines.length - 1]!.slice(0, 10));
      const reopened = Journal.open(opts, () => undefined, 0);
      expect(reopened.tornLines).toBe(1);
      expect(reopened.importedBatches).toEqual(['aaaaaaaaaaaaaaaa/0']);
      // Batch 0 (3 events) and the producer's event are replayed; batch 1's surviving 3 lines are not.
      expect(reopened.events.map((e) => e.mark ?? e.id)).toEqual(['aaaaaaaaaaaaaaaa/0/3', 'aaaaaaaaaaaaaaaa/0/3', 'aaaaaaaaaaaaaaaa/0/3', 'p1']);
      await reopened.journal.close();

      const ledger = ImportLedger.open(dir, reopened.importedBatches);
      expect(ledger.isDone('aaaaaaaaaaaaaaaa', 0)).toBe(true);
      expect(ledger.isDone('aaaaaaaaaaaaaaaa', 1)).toBe(false);
      expect(ledger.register('aaaaaaaaaaaaaaaa', 500, 'f.ndjson')).toBeNull();
      expect(ledger.register('aaaaaaaaaaaaaaaa', 400, 'f.ndjson')).toMatch(/started with 500 lines per batch/);
      ledger.recordBatch('aaaaaaaaaaaaaaaa', { seq: 1, accepted: 4, duplicates: 0, rejected: [], at: 2 });
      ledger.close();
      // Kept across a restart, and the journal's copy of batch 0 does not add a second line.
      const again = ImportLedger.open(dir, ['aaaaaaaaaaaaaaaa/0']);
      expect([...again.get('aaaaaaaaaaaaaaaa')!.batches.keys()].sort()).toEqual([0, 1]);
      expect(again.get('aaaaaaaaaaaaaaaa')!.batchLines).toBe(500);
      again.close();
      expect(readFileSync(path.join(dir, 'imports/ledger.ndjson'), 'utf8').trim().split('\n')).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
