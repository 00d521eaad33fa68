/**
 * MetricStore: the storage port. Two adapters implement it (InfluxDB via the v1 HTTP API,
 * DuckDB embedded) and one conformance suite (backend/test/store.conformance.test.ts)
 * runs against both. The store holds aggregates only: counter sums per bucket and tag set,
 * distinct counts and member sketches at fixed granularities, and alert events. Never
 * member ids or their hashes (a sketch holds register maxima, from which no id can be read).
 *
 * Time is UTC epoch milliseconds everywhere. Tag value `''` means "no value" (InfluxDB
 * omits the tag; DuckDB stores the empty string).
 */
import type { CounterName, Dimension, Granularity, MemberSetId, Tags } from '@siyu-pulse/contracts/catalogue';
import type { AlertRow } from '@siyu-pulse/contracts/alerts';
import type { CounterSource, Rollup } from './rollups.js';
export type { AlertRow };

/** One bucket of one tag set. Writing it again with the same ts + tags replaces it in full. */
export interface CounterRow {
  ts: number;
  tags: Tags;
  /** Non-negative integers. A counter that is absent is 0. */
  counters: Record<CounterName, number>;
  /**
   * A per-group rollup row (store/rollups.ts): the group's counters of the hour or local day
   * starting at `ts` (tags channel + community, campaign ''). Absent: a 10 s bucket row.
   */
  rollup?: Rollup;
}

/** A distinct member count for the period starting at `ts`. Rewritten as the period fills up. */
export interface DistinctRow {
  ts: number;
  granularity: Granularity;
  set: MemberSetId;
  /** '' = all channels. */
  channel: string;
  value: number;
}

/**
 * A distinct-member sketch (HyperLogLog, see sketch/hll.ts) of one period, member set,
 * channel ('' = all channels) and writing node. Rewritten in full as the period fills up;
 * a node's row only ever grows (its sketch is the merge of what it loaded and what it
 * counted). Readers merge the rows of every node, so several writers add up.
 */
export interface SketchRow {
  ts: number;
  granularity: Granularity;
  set: MemberSetId;
  channel: string;
  /** Writer id ('main' for a single node). */
  node: string;
  /** base64 of the versioned binary sketch. */
  sketch: string;
  /**
   * A group's sketch (per-group active members, collector/groupMembers.ts): the members of
   * `set` seen in this 社群 in the period, over all channels (channel ''), hour and day only.
   * Kept apart from the channel sketches (DuckDB pulse_group_sketch, InfluxDB measurement of
   * the same name). Absent: the channel-wide sketch of `set`.
   */
  community?: string;
}

export interface SketchQuery {
  /** Period starts in [from, to). */
  from: number;
  to: number;
  granularity: Granularity;
  set: MemberSetId;
  /** Only this channel ('' = the all-channels sketch); every channel when absent. */
  channel?: string;
  /**
   * Group sketches instead (SketchRow.community): one group's rows, the rows of a list of
   * groups, or with `true` every group's rows of the range (a ranking). `channel` does not apply.
   */
  community?: string | readonly string[] | true;
}

/**
 * A local day's ranking of the groups by active members (communities/activeMembers.ts), kept
 * beside the group sketches so a ranking over many days reads one small row per day instead
 * of every group's day sketches. Valid while `basis` equals the day's mark: every write of a
 * group's day sketch gives its day a new mark (MetricStore.groupDayTops), so a late event, an
 * import or another node's write makes the kept row stale and the next reader computes it again.
 */
export interface GroupDayTop {
  /** The day sketches' period start. */
  day: number;
  /** The day's mark read before the sketches it was computed from (null: the day had none). */
  basis: string | null;
  /** Groups with an active member that day. */
  groups: number;
  /** The day's best groups by active members, descending (ties: community ascending). */
  top: { community: string; members: number }[];
  /** Active members of the best group not in `top` (0: every group of the day is in it). */
  rest: number;
  /** base64 sketch of the day's groups (their ids' hashes): the union over days counts a range's groups. */
  groupsSketch: string;
}

export interface CounterQuery {
  /** Inclusive, aligned to `stepMs` + `offsetMs` by the caller. */
  from: number;
  /** Exclusive. */
  to: number;
  stepMs: number;
  /** Bucket boundaries are at `offsetMs + k × stepMs` (time-zone alignment of hours / days). */
  offsetMs: number;
  /** Allow-listed counter names to sum. */
  counters: readonly CounterName[];
  /** Split: one series per distinct value combination of these dimensions. */
  by: readonly Dimension[];
  /** Equality filters. */
  filter: Partial<Tags>;
  /**
   * Only the rows this writer wrote (cluster: each node writes its own rows, which readers
   * add up). Used where a node rewrites what it read (late buckets); a store with a single
   * writer ignores it.
   */
  ownRowsOnly?: boolean;
  /**
   * Where to read (store/rollups.ts): 'auto' (default) routes a query about groups with a
   * step of whole hours through the hour / day rollups; 'raw' reads the 10 s rows only;
   * 'hour' / 'day' read that rollup's rows only (the collector loading a stored rollup row).
   */
  source?: 'auto' | CounterSource;
}

export interface CounterSeries {
  /** Values of the `by` dimensions for this series ('' for rows without the tag). */
  tags: Partial<Tags>;
  /** Ascending by ts; only buckets that had data. */
  points: { ts: number; sums: Record<CounterName, number> }[];
}

export interface DistinctQuery {
  from: number;
  to: number;
  granularity: Granularity;
  set: MemberSetId;
  /** true: one series per channel (channel != ''); false: the all-channels total. */
  byChannel: boolean;
  /** Only this channel (implies a per-channel row). */
  channel?: string;
}

export interface DistinctSeries {
  /** Present when byChannel or channel was given. */
  channel?: string;
  points: { ts: number; value: number }[];
}


export interface AlertQuery {
  from: number;
  to: number;
  ruleId?: string;
  kpi?: string;
  state?: string;
  /** One event by its id (feedback on a firing). */
  id?: string;
  /** Newest first, at most this many. */
  limit: number;
}

/**
 * One run of the server, from start-up to its last heartbeat (uptime/uptime.ts). Buckets
 * outside every run and without stored data read as gaps (null), not as zero activity.
 */
export interface UptimeSpan {
  runId: string;
  startedAt: number;
  lastSeenAt: number;
}

/**
 * An import batch of history, aggregated (import/aggregate.ts): counter deltas to ADD to the
 * stored rows, and the sketch ranges whose stored rows `complete` merges into the sketch
 * and count rows to write. Applied with the batch's mark, atomically and at most once.
 */
export interface AdditiveBatch {
  importId: string;
  seq: number;
  /** Deltas: absent counters are 0. Unique per ts + tags. */
  counters: CounterRow[];
  /** Stored sketch rows (every channel and node) of these ranges are handed to `complete`. */
  sketchRanges: { set: MemberSetId; granularity: Granularity; from: number; to: number }[];
  /**
   * Per-group active members (SketchRow.community): the stored group sketch rows (every node)
   * of these groups and ranges are handed to `complete` too, and the group rows it returns
   * are merged sketches that replace or add to them.
   */
  groupSketches?: { set: MemberSetId; communities: string[]; ranges: { granularity: Granularity; from: number; to: number }[] };
  /**
   * Runs inside the store's write slot: the rows to write, or null to write nothing (a
   * conflict). It may give the event loop turns while it merges (a promise), but decides
   * the conflict with none left before it resolves.
   */
  complete(stored: readonly SketchRow[]): Promise<{ sketches: SketchRow[]; distinct: DistinctRow[] } | null>;
}

/** One kind of an embedded store's memory (e.g. DuckDB's BASE_TABLE, ART_INDEX). */
export interface StoreMemory {
  tag: string;
  memoryBytes: number;
  /** Spilled to the store's temporary directory. */
  temporaryBytes: number;
}

export interface WriteCountersOptions {
  /** Who keeps the groups' hour / day rollups (see MetricStore.writeCounters); 'derive' by default. */
  rollups?: 'derive' | 'given';
  /**
   * Writes the rows under this writer id instead of this node's: on a cluster's InfluxDB the
   * rows' `node` tag, so a duty the lease holder does for all (the WeCom statistics) has one
   * row whichever node writes it, and never shares a row with a node's live counters. A store
   * with one writer (DuckDB, a single node's InfluxDB) ignores it.
   */
  writer?: string;
}

export interface MetricStore {
  readonly kind: 'duckdb' | 'influx';
  /** Create database / tables as needed. Idempotent. */
  init(): Promise<void>;
  /**
   * Replaces each (ts, tags[, rollup]) row in full. The groups' hour / day rollups
   * (store/rollups.ts), which reads of a group's hours and days come from, stay consistent
   * whoever writes:
   * - by default (`rollups: 'derive'`) the store adds each group 10 s row's change (the new
   *   row minus the stored one) to its hour and day rows itself, in the same write; a row
   *   carrying `rollup` is refused (only a writer that keeps the rollups itself may send them);
   * - `rollups: 'given'`: the caller writes every group's rollup rows itself, as whole rows
   *   (the collector through the spool, which holds each open hour and day in memory; a bulk
   *   load of whole periods with rollupRowsOf). The store derives nothing.
   */
  writeCounters(rows: readonly CounterRow[], opts?: WriteCountersOptions): Promise<void>;
  writeDistinct(rows: readonly DistinctRow[]): Promise<void>;
  /** Replaces each (ts, granularity, set, channel, node) row in full. */
  writeSketches(rows: readonly SketchRow[]): Promise<void>;
  /** Every stored sketch row of the query's periods (all nodes), ascending by ts. */
  querySketches(q: SketchQuery): Promise<SketchRow[]>;
  /**
   * The days in [from, to) as far as the group day rankings go: each day's current mark (a
   * new one with every write of a group's day sketch, by writeSketches or applyAdditive, after
   * the sketch is stored) and its kept ranking, if any (GroupDayTop; stale when its basis is
   * not the day's mark).
   */
  groupDayTops(from: number, to: number): Promise<{ marks: Map<number, string>; tops: Map<number, GroupDayTop> }>;
  /** Keeps a day's ranking (replaces the day's row). */
  writeGroupDayTop(top: GroupDayTop): Promise<void>;
  queryCounters(q: CounterQuery): Promise<CounterSeries[]>;
  queryDistinct(q: DistinctQuery): Promise<DistinctSeries[]>;
  writeAlertEvents(rows: readonly AlertRow[]): Promise<void>;
  /** Newest first. */
  queryAlertEvents(q: AlertQuery): Promise<AlertRow[]>;
  /** Records this run's span (an upsert by runId): at start-up and on every heartbeat. */
  writeUptime(span: UptimeSpan): Promise<void>;
  /** Runs that started before `to` and were last seen at or after `from`, oldest first. */
  queryUptime(from: number, to: number): Promise<UptimeSpan[]>;
  /** Known values of a dimension in [from, to) (filters, cardinality guard). */
  tagValues(dim: Dimension, from: number, to: number): Promise<string[]>;
  /**
   * Optional (DuckDB): applies an aggregated import batch and records its mark in one
   * transaction. 'done': the mark was already there (nothing written); 'conflict':
   * `complete` refused (nothing written).
   */
  applyAdditive?(batch: AdditiveBatch): Promise<'applied' | 'done' | 'conflict'>;
  /** Optional, with applyAdditive: the marks (`<importId>/<seq>`) of every batch applied that way. */
  importMarks?(): Promise<string[]>;
  /**
   * Optional (embedded stores): the store's own memory in this process, by kind (DuckDB:
   * duckdb_memory(), memory and temporary-file bytes per tag). For /metrics.
   */
  memory?(): Promise<StoreMemory[]>;
  /** Resolves when the store answers; rejects with a reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Tag values must survive every InfluxDB version's line protocol exactly. Backslash
 * escaping differs between versions (1.6 keeps `\\` as two characters, later versions
 * unescape it) and a trailing backslash cannot be written at all, so a backslash is allowed
 * only before an ordinary character. Newlines and other control characters are refused, and
 * so are lone UTF-16 surrogates: they have no UTF-8 form, so the store would keep U+FFFD and
 * different values would merge and none read back as sent.
 * Returns a reason, or null when the value is fine.
 */
export function tagValueProblem(value: string): string | null {
  if (value.length > 128) return 'longer than 128 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'contains a control character (newline, tab, …)';
  if (/\\($|[\\ ,=])/.test(value)) return 'a backslash may not end the value or precede another backslash, a space, "," or "="';
  if (value !== value.trim()) return 'leading or trailing spaces';
  if (LONE_SURROGATE.test(value)) return 'not well-formed Unicode (a lone surrogate half)';
  return null;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export class StoreError extends Error {
  constructor(
    message: string,
    /** false: retrying the same write will fail again (bad data, auth, missing db). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
