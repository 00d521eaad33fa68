/**
 * The id ledger's cost: BENCH_LEDGER_IDS ids (default 1,000,000, 40-character ids like a
 * producer's "order-…" ids) claimed in batches of 5,000, as ingest does; prints the rate,
 * the file size per million ids and the ids held in process memory afterwards.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LmdbIdLedger } from '../ingest/idLedger.js';

export async function benchLedger(): Promise<[string, string][]> {
  const total = Number(process.env.BENCH_LEDGER_IDS ?? 1_000_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'pulse-ledger-bench-'));
  const ledger = LmdbIdLedger.open({ dir, windowMs: 48 * 3_600_000, fsync: true });
  try {
    const t0 = Date.now();
    const started = performance.now();
    for (let i = 0; i < total; i += 5_000) {
      const ids = Array.from({ length: Math.min(5_000, total - i) }, (_, k) => `order-${(i + k).toString().padStart(12, '0')}-shop-000123456789`);
      await ledger.claim(ids, t0 + i);
      await ledger.confirm(ids, t0 + i);
    }
    const seconds = (performance.now() - started) / 1000;
    // Lookups of ids seen (duplicates) and not seen.
    const lookStarted = performance.now();
    const probe = Array.from({ length: 100_000 }, (_, k) => `order-${(k * 7).toString().padStart(12, '0')}-shop-000123456789`);
    await ledger.claim(probe, t0 + total);
    const lookSeconds = (performance.now() - lookStarted) / 1000;
    const bytes = statSync(path.join(dir, 'data.mdb')).size;
    return [
      ['id ledger: claims (new ids, fsync on, batches of 5,000)', `${Math.round(total / seconds).toLocaleString('en-US')} ids/s`],
      ['id ledger: claims of already seen ids', `${Math.round(probe.length / lookSeconds).toLocaleString('en-US')} ids/s`],
      ['id ledger: file size per million ids', `${((bytes / 1048576) * (1_000_000 / total)).toFixed(1)} MiB (${total.toLocaleString('en-US')} ids)`],
      ['id ledger: ids held in memory after the run', String(ledger.inMemoryIds)],
    ];
  } finally {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
