/**
 * Prometheus metrics (prom-client): one registry per process, exposed at /metrics.
 * Modules get narrow callback interfaces (IngestMetrics, CollectorMetrics) rather than
 * prom-client objects, so they stay testable and do not depend on the metrics library.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CollectorMetrics } from '../collector/collector.js';
import type { DurabilityState } from '../durability/durability.js';
import type { SpoolMetrics } from '../durability/spool.js';
import type { IngestMetrics, RejectReason } from '../ingest/service.js';
import type { StoreMemory } from '../store/port.js';

export interface PulseMetrics {
  registry: Registry;
  ingest: IngestMetrics;
  collector: CollectorMetrics;
  spool: SpoolMetrics;
  /** Gauges read at scrape time: the spool backlog and the journal's size. */
  watchDurability(read: () => DurabilityState): void;
  /** Gauges read at scrape time: the embedded store's memory by tag (DuckDB's duckdb_memory()). */
  watchStoreMemory(read: () => Promise<StoreMemory[]>): void;
  socketClients(n: number): void;
  tagOverflow(dimension: string): void;
  /** Gauges read at scrape time: admitted values per dimension and the cap. */
  watchTags(read: (dimension: 'channel' | 'community' | 'campaign') => { values: number; limit: number }): void;
  httpRejected(status: number): void;
  delivery: { sent(notifierId: string, n: number): void; failed(notifierId: string, code: string): void; throttled(notifierId: string): void };
}

export function createMetrics(): PulseMetrics {
  const registry = new Registry();
  // Defaults include nodejs_eventloop_lag_seconds and friends.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  // prom-client names these gauges *_total, which `promtool check metrics` rejects
  // (only counters may end in _total); they add little, so they are left out.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  const accepted = new Counter({ name: 'pulse_events_accepted_total', help: 'Events accepted by ingest', registers: [registry] });
  const duplicates = new Counter({ name: 'pulse_events_duplicate_total', help: 'Events skipped because their id was seen within the dedup window (PULSE_DEDUP_HOURS)', registers: [registry] });
  const rejected = new Counter({ name: 'pulse_events_rejected_total', help: 'Events rejected by ingest, by reason', labelNames: ['reason'], registers: [registry] });
  const requestsRejected = new Counter({ name: 'pulse_ingest_requests_rejected_total', help: 'Ingest requests refused whole, by HTTP status', labelNames: ['status'], registers: [registry] });
  const flush = new Histogram({
    name: 'pulse_bucket_flush_duration_seconds',
    help: 'Time to write dirty buckets and distinct counts to the store',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const writeErrors = new Counter({ name: 'pulse_store_write_errors_total', help: 'Failed store writes (rows stay in the spool and are retried)', labelNames: ['kind'], registers: [registry] });
  const rowsWritten = new Counter({ name: 'pulse_store_rows_written_total', help: 'Rows written to the store (drained from the spool)', labelNames: ['kind'], registers: [registry] });
  const rowsSpooled = new Counter({ name: 'pulse_rows_spooled_total', help: 'Rows flushed to the durable spool', labelNames: ['kind'], registers: [registry] });
  let durability: (() => DurabilityState) | undefined;
  const gauge = (name: string, help: string, pick: (d: DurabilityState) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        if (durability) this.set(pick(durability()));
      },
    });
  gauge('pulse_spool_rows', 'Rows waiting in the spool for the store (the backlog)', (d) => d.spoolRows);
  gauge('pulse_spool_bytes', 'Size of the spool file on disk', (d) => d.spoolBytes);
  gauge('pulse_spool_oldest_age_seconds', 'Age of the oldest row waiting in the spool (0 when empty)', (d) => (d.spoolOldestAt === null ? 0 : (Date.now() - d.spoolOldestAt) / 1000));
  gauge('pulse_journal_bytes', 'Size of the ingest journal on disk', (d) => d.journalBytes);
  gauge('pulse_journal_segments', 'Ingest journal segment files retained', (d) => d.journalSegments);
  let storeMemory: (() => Promise<StoreMemory[]>) | undefined;
  const storeGauge = (name: string, help: string, pick: (m: StoreMemory) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['tag'],
      registers: [registry],
      async collect() {
        if (!storeMemory) return;
        this.reset();
        for (const m of await storeMemory()) this.set({ tag: m.tag }, pick(m));
      },
    });
  storeGauge('pulse_store_memory_bytes', 'Memory held by the embedded store (DuckDB buffer pool) in this process, by tag', (m) => m.memoryBytes);
  storeGauge('pulse_store_temporary_bytes', "Bytes the embedded store spilled to its temporary directory, by tag", (m) => m.temporaryBytes);
  const clients = new Gauge({ name: 'pulse_socket_clients', help: 'Connected live (wall) clients', registers: [registry] });
  let tags: ((d: 'channel' | 'community' | 'campaign') => { values: number; limit: number }) | undefined;
  for (const [name, help, pick] of [
    ['pulse_tag_values', 'Distinct values admitted per dimension by the cardinality guard', (u: { values: number }) => u.values],
    ['pulse_tag_limit', 'Cardinality cap per dimension (PULSE_MAX_CHANNELS / _COMMUNITIES / _CAMPAIGNS)', (u: { limit: number }) => u.limit],
  ] as const) {
    new Gauge({
      name,
      help,
      labelNames: ['dimension'],
      registers: [registry],
      collect() {
        if (!tags) return;
        for (const d of ['channel', 'community', 'campaign'] as const) this.set({ dimension: d }, pick(tags(d)));
      },
    });
  }
  const overflow = new Counter({ name: 'pulse_tag_overflow_total', help: 'Events whose tag value was folded into "(other)" by the cardinality guard', labelNames: ['dimension'], registers: [registry] });
  const notificationsSent = new Counter({ name: 'pulse_notifications_sent_total', help: 'Notifications confirmed delivered (errcode 0 / 2xx), by notifier', labelNames: ['notifier'], registers: [registry] });
  const deliveryFailures = new Counter({ name: 'pulse_notification_failures_total', help: 'Failed delivery attempts by notifier and DingTalk / WeCom errcode', labelNames: ['notifier', 'code'], registers: [registry] });
  const throttled = new Counter({ name: 'pulse_notifier_throttled_total', help: 'Times a robot answered with its rate-limit code', labelNames: ['notifier'], registers: [registry] });
  for (const reason of ['parse', 'invalid', 'too_late', 'future', 'scope'] satisfies RejectReason[]) rejected.inc({ reason }, 0);
  for (const kind of ['counters', 'distinct']) {
    writeErrors.inc({ kind }, 0);
    rowsWritten.inc({ kind }, 0);
    rowsSpooled.inc({ kind }, 0);
  }
  return {
    registry,
    ingest: {
      accepted: (n) => accepted.inc(n),
      duplicate: (n) => duplicates.inc(n),
      rejected: (reason, n) => rejected.inc({ reason }, n),
    },
    collector: {
      flushDuration: (s) => flush.observe(s),
      rowsWritten: (kind, n) => rowsSpooled.inc({ kind }, n),
    },
    spool: {
      rowsWritten: (kind, n) => rowsWritten.inc({ kind }, n),
      writeError: (kind) => writeErrors.inc({ kind }),
    },
    watchDurability: (read) => {
      durability = read;
    },
    watchStoreMemory: (read) => {
      storeMemory = read;
    },
    socketClients: (n) => clients.set(n),
    tagOverflow: (dimension) => overflow.inc({ dimension }),
    watchTags: (read) => {
      tags = read;
    },
    httpRejected: (status) => requestsRejected.inc({ status: String(status) }),
    delivery: {
      sent: (notifier, n) => notificationsSent.inc({ notifier }, n),
      failed: (notifier, code) => deliveryFailures.inc({ notifier, code }),
      throttled: (notifier) => throttled.inc({ notifier }),
    },
  };
}
