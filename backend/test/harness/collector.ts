/**
 * A Collector that flushes straight to a store (no spool, no journal), on a test's clock:
 * for suites about what reaches the store (late merges, rollups). The spool's part is
 * covered by the durability tests.
 */
import pino from 'pino';
import { Collector } from '../../src/collector/collector.js';
import type { MetricStore } from '../../src/store/port.js';
import { MINUTE } from '../../src/time/zone.js';

export function collectorWritingTo(store: MetricStore, now: () => number, timezone = 'Asia/Shanghai', node?: string): Collector {
  return new Collector({
    bucketMs: 10_000,
    latenessMs: 5 * MINUTE,
    flushMs: 60_000,
    timezone,
    pushCapPerDay: 3,
    store,
    sink: {
      async append(s) {
        await store.writeSketches(s.sketches ?? []);
        await store.writeCounters(s.counters, { rollups: 'given' }); // the collector keeps its groups' rollups itself
        await store.writeDistinct(s.distinct);
      },
    },
    logger: pino({ level: 'silent' }),
    metrics: { flushDuration: () => {}, rowsWritten: () => {} },
    now,
    ...(node !== undefined ? { node } : {}),
  });
}
