/**
 * Ingest: validates each event, applies the lateness and future-skew rules, drops
 * duplicate ids, hashes member ids and hands the event to the collector. Used by the HTTP
 * route and by the simulator, so demo data takes exactly the producers' path.
 */
import type { Collector } from '../collector/collector.js';
import type { MemberHasher } from './memberHash.js';
import type { IdDeduplicator } from './dedup.js';
import { EventSchema, describeIssues } from './schema.js';
import type { TagGuard } from './tagGuard.js';

export interface Rejection {
  index: number;
  error: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

export type RejectReason = 'parse' | 'invalid' | 'too_late' | 'future';

export interface IngestMetrics {
  accepted(n: number): void;
  duplicate(n: number): void;
  rejected(reason: RejectReason, n: number): void;
}

export interface IngestOptions {
  collector: Collector;
  hashMember: MemberHasher;
  dedup: IdDeduplicator;
  tagGuard: TagGuard;
  latenessMs: number;
  /** Producers' clocks drift; events up to this far in the future are accepted. */
  futureSkewMs: number;
  metrics: IngestMetrics;
  now?: () => number;
}

export class IngestService {
  private readonly now: () => number;

  constructor(private readonly opts: IngestOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * @param items parsed JSON values, `undefined` at positions that did not parse
   * @param parseErrors index → reason for those positions
   */
  accept(items: readonly unknown[], parseErrors: ReadonlyMap<number, string> = new Map()): IngestResult {
    const now = this.now();
    const result: IngestResult = { accepted: 0, duplicates: 0, rejected: [] };
    const reject = (index: number, reason: RejectReason, error: string) => {
      result.rejected.push({ index, error });
      this.opts.metrics.rejected(reason, 1);
    };
    const { collector, dedup, tagGuard, latenessMs, futureSkewMs, hashMember } = this.opts;
    for (let index = 0; index < items.length; index++) {
      const parseError = parseErrors.get(index);
      if (parseError !== undefined) {
        reject(index, 'parse', parseError);
        continue;
      }
      const parsed = EventSchema.safeParse(items[index]);
      if (!parsed.success) {
        reject(index, 'invalid', describeIssues(parsed.error));
        continue;
      }
      const e = parsed.data;
      const ts = e.ts === undefined ? now : typeof e.ts === 'number' ? e.ts : Date.parse(e.ts);
      if (ts < now - latenessMs) {
        reject(index, 'too_late', `ts ${new Date(ts).toISOString()} is older than the lateness window (${latenessMs / 1000} s); events this late are not counted`);
        continue;
      }
      if (ts > now + futureSkewMs) {
        reject(index, 'future', `ts ${new Date(ts).toISOString()} is more than ${futureSkewMs / 1000} s in the future (check the producer's clock)`);
        continue;
      }
      if (e.id !== undefined && dedup.seenBefore(e.id, now)) {
        result.duplicates++;
        continue;
      }
      collector.add(
        {
          type: e.type,
          ts,
          tags: {
            channel: tagGuard.admit('channel', e.channel),
            community: tagGuard.admit('community', e.community ?? ''),
            campaign: tagGuard.admit('campaign', e.campaign ?? ''),
          },
          member: e.member === undefined ? undefined : hashMember(e.member),
          amount: e.amount,
          durationMs: e.duration_ms,
        },
        now,
      );
      result.accepted++;
    }
    this.opts.metrics.accepted(result.accepted);
    if (result.duplicates) this.opts.metrics.duplicate(result.duplicates);
    return result;
  }
}
