/**
 * MetricStore on InfluxDB through the v1 HTTP API (1.x, 2.x compat, 3 Core).
 *
 * pulse_counts   tags channel / community / campaign ('' → tag omitted), and in a cluster
 *                `node` (the writing node: each node rewrites only its own rows and every
 *                query sums over nodes, so nodes add up instead of overwriting each other);
 *                one integer field per counter of COUNTERS. A row is written with its non-zero
 *                counters, the catalogue's first counter (every row has it: tagValues counts
 *                it) and an explicit 0 for every counter this store ever wrote non-zero to
 *                the same series, so a rewrite of (ts, tags) still replaces the row in full
 *                instead of leaving a stale field (see sparseFields).
 * pulse_groups_hour, pulse_groups_day: the per-group rollups (store/rollups.ts), laid out as
 *                pulse_counts (tags channel / community / node, sparse fields).
 * pulse_meta     the rollups' completeness mark (tag key=rollups_from, field value, at 0).
 * pulse_distinct tags granularity / member_set / channel ('' → omitted = all channels);
 *                integer field value. One point per period start and channel.
 * pulse_sketch   tags granularity / member_set / channel / node; the base64 sketch split into
 *                string fields s0, s1, … (1.x caps a string field at 64 KB) and `parts`.
 * pulse_group_sketch: a group's sketches (per-group active members), as pulse_sketch with
 *                the tag community in place of channel.
 * pulse_group_day_mark: string field mark at each day's start, a new one with every write
 *                of a group's day sketch (after the sketch's lines); one series.
 * pulse_group_day_top: a day's ranking of the groups (port.ts GroupDayTop): string fields
 *                basis ('' = none), the base64 of its JSON in s0, s1, … (`parts`, as sketches)
 *                and groups_sketch, at the day's start; one series.
 */
import { randomBytes } from 'node:crypto';
import { COUNTERS, type Dimension } from '@siyu-pulse/contracts/catalogue';
import type {
  CounterQuery,
  CounterRow,
  CounterSeries,
  DistinctQuery,
  DistinctRow,
  DistinctSeries,
  GroupDayTop,
  MetricStore,
  SketchQuery,
  SketchRow,
  WriteCountersOptions,
} from '../port.js';
import { StoreError, tagValueProblem } from '../port.js';
import { InfluxClient, type InfluxClientOptions } from './client.js';
import { ident, ms, quoteIdent, quoteString, timeRange } from './influxql.js';
import { alertQuery, decodeAlerts, encodeAlert } from './alerts.js';
import { encodePoint } from './lineProtocol.js';
import { SHANGHAI_DAY_OFFSET_MS, derivedRollupRows, planCounterQuery, rawRowKey, readPlanned, rollupModeOf, rollupStart, rollupsOf, type CounterSource, type Rollup, type RollupOptions, type Segment } from '../rollups.js';
import {
  checkDimension,
  checkRange,
  compareStrings,
  compareTagLists,
  normalizeCounterQuery,
  normalizeCounterRows,
  normalizeDistinctQuery,
  normalizeDistinctRows,
  normalizeSketchQuery,
  normalizeSketchRows,
  type NormalizedCounterQuery,
  type NormalizedCounterRow,
} from '../validate.js';

/** Characters per sketch string field (InfluxDB 1.x refuses string fields over 64 KB). */
const SKETCH_PART = 60_000;
/**
 * Sketch lines per POST /write: at most this many bytes of them (a dense sketch is ~100 KB,
 * a group's sparse one a few dozen bytes: 20,000 groups' hour and day sketches would be
 * ~800 requests at a fixed 50 lines), and at most WRITE_CHUNK lines.
 */
const SKETCH_CHUNK_BYTES = 5_000_000;
/** Server runs (uptime/uptime.ts): tag run, integer fields started_at and last_seen. */
const UPTIME = 'pulse_uptime';

/** Lines per POST /write: the batch size InfluxData recommends for 1.x and 2.x. */
const WRITE_CHUNK = 5000;
/** 10 s rows per derived write: with an hour and a day row each, they fit one request. */
const DERIVE_ROWS = Math.floor(WRITE_CHUNK / 3);

export interface InfluxStoreOptions extends InfluxClientOptions {
  /** Cluster mode: this node's id, written as the `node` tag of its counter rows. */
  writerNode?: string;
  /** Day rollups' alignment (store/rollups.ts); Asia/Shanghai's midnight by default. */
  rollups?: RollupOptions;
}

/** The measurement of a counter source. */
const MEASUREMENT: Record<CounterSource, string> = { raw: 'pulse_counts', hour: 'pulse_groups_hour', day: 'pulse_groups_day' };
const META = 'pulse_meta';
/** Per-group sketches (SketchRow.community): tags granularity / member_set / community / node, fields as pulse_sketch. */
const GROUP_SKETCH = 'pulse_group_sketch';
const GROUP_DAY_MARK = 'pulse_group_day_mark';
const GROUP_DAY_TOP = 'pulse_group_day_top';

export function createInfluxStore(opts: InfluxStoreOptions): MetricStore {
  const client = new InfluxClient(opts);
  const fieldsOf = new SparseFields();
  const rollupOpts: RollupOptions = opts.rollups ?? { dayOffsetMs: SHANGHAI_DAY_OFFSET_MS };
  /** Rollups answer for periods from here on (the pulse_meta mark, read by init; none before). */
  let rollupsFrom = Number.POSITIVE_INFINITY;

  /**
   * The rollups' mark: 0 for a database without groups when the rollups arrived (they hold
   * everything), else the first day boundary after that moment (no backfill on InfluxDB: the
   * periods before it are read from the 10 s rows).
   */
  async function readRollupMark(): Promise<number> {
    const found = await client.query(`SELECT ${ident('value')} FROM ${ident(META)} WHERE ${ident('key')} = 'rollups_from'`);
    const v = found[0]?.values?.[0]?.[found[0].columns.indexOf('value')];
    if (typeof v === 'number') return v;
    let hadGroups = true;
    try {
      const tags = await client.query(`SHOW TAG VALUES FROM ${ident('pulse_counts')} WITH KEY = ${ident('community')} LIMIT 1`);
      hadGroups = tags.some((t) => t.values.length > 0);
    } catch {
      // A version without SHOW TAG VALUES: assume groups were there (rollups from tomorrow on).
    }
    const now = Date.now();
    const off = rollupOpts.dayOffsetMs ?? 0;
    const mark = hadGroups ? Math.ceil((now - off) / 86_400_000) * 86_400_000 + off : 0;
    await writeLines([encodePoint({ measurement: META, tags: { key: 'rollups_from' }, fields: { value: mark }, ts: 0 })]);
    return mark;
  }

  /** One measurement's sums over a segment of the query (ungrouped: rows without a community only). */
  async function queryMeasurement(q: NormalizedCounterQuery, seg: Segment): Promise<CounterSeries[]> {
    // Rows carry only some counters (SparseFields): the first counter, which every row has,
    // is read along so a bucket with rows but none of the asked counters still reads as 0.
    const presence = COUNTERS[0]!;
    const read = q.counters.includes(presence) ? q.counters : [...q.counters, presence];
    const select = read.map((c) => `sum(${ident(c)}) AS ${ident(c)}`).join(', ');
    const where = [timeRange(seg.from, seg.to), ...q.filter.map(([dim, v]) => `${ident(dim)} = ${quoteString(v)}`)];
    if (seg.ungrouped) where.push(`${ident('community')} = ''`);
    if (q.ownRowsOnly && opts.writerNode !== undefined) where.push(`${ident('node')} = ${quoteString(opts.writerNode)}`);
    const groupBy = [`time(${ms(q.stepMs, 'stepMs')}, ${ms(q.offsetMs, 'offsetMs')})`, ...q.by.map((d) => ident(d))];
    const series = await client.query(
      `SELECT ${select} FROM ${ident(MEASUREMENT[seg.source])} WHERE ${where.join(' AND ')} GROUP BY ${groupBy.join(', ')} fill(none)`,
    );
    const out: CounterSeries[] = [];
    for (const s of series) {
      const cols = read.map((c) => s.columns.indexOf(c));
      const timeCol = s.columns.indexOf('time');
      const points: CounterSeries['points'] = [];
      for (const row of s.values) {
        // With GROUP BY time, 1.x can return buckets whose every sum is null: no data.
        if (cols.every((ci) => ci < 0 || row[ci] === null || row[ci] === undefined)) continue;
        const sums: Record<string, number> = {};
        q.counters.forEach((c, i) => {
          const v = row[cols[i] ?? -1];
          sums[c] = typeof v === 'number' ? v : 0;
        });
        points.push({ ts: Number(row[timeCol]), sums });
      }
      if (points.length === 0) continue;
      points.sort((a, b) => a.ts - b.ts);
      const tags: Partial<Record<Dimension, string>> = {};
      for (const d of q.by) tags[d] = s.tags?.[d] ?? '';
      out.push({ tags, points });
    }
    return out;
  }

  /**
   * The stored rows of a measurement in [from, to] (this node's only, in a cluster), as
   * COUNTERS-ordered values by `keyOf(ts, tags)`; groups' rows only.
   */
  async function storedRows(measurement: string, from: number, to: number, keyOf: (ts: number, t: Record<string, string>) => string, node: string | undefined): Promise<Map<string, number[]>> {
    const where = [timeRange(from, to + 1), `${ident('community')} != ''`];
    if (node !== undefined) where.push(`${ident('node')} = ${quoteString(node)}`);
    const series = await client.query(`SELECT * FROM ${ident(measurement)} WHERE ${where.join(' AND ')} GROUP BY ${['channel', 'community', 'campaign'].map(ident).join(', ')}`);
    const out = new Map<string, number[]>();
    for (const s of series) {
      const timeCol = s.columns.indexOf('time');
      const cols = COUNTERS.map((c) => s.columns.indexOf(c));
      const tags = { channel: s.tags?.channel ?? '', community: s.tags?.community ?? '', campaign: s.tags?.campaign ?? '' };
      for (const row of s.values) {
        const values = cols.map((ci) => (ci >= 0 && typeof row[ci] === 'number' ? (row[ci] as number) : 0));
        out.set(keyOf(Number(row[timeCol]), tags), values);
      }
    }
    return out;
  }

  /**
   * writeCounters' 'derive' mode: the rollup rows the batch's group 10 s rows leave behind
   * (stored rollup + Σ new − stored 10 s row), read and computed inside the write queue so no
   * other write of this store lands between the read and the write. They go out in the same
   * request as the 10 s rows (one POST for up to WRITE_CHUNK lines).
   */
  async function derivedLines(batch: readonly NormalizedCounterRow[], node: string | undefined): Promise<string[]> {
    const grouped = batch.filter((r) => r.tags.community !== '');
    if (grouped.length === 0) return [];
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of grouped) {
      lo = Math.min(lo, r.ts);
      hi = Math.max(hi, r.ts);
    }
    const raw = await storedRows(MEASUREMENT.raw, lo, hi, (ts, t) => rawRowKey(ts, t.channel!, t.community!, t.campaign!), node);
    const rolled = new Map<string, number[]>();
    for (const rollup of rollupsOf(rollupOpts)) {
      const found = await storedRows(MEASUREMENT[rollup], rollupStart(rollup, lo, rollupOpts.dayOffsetMs), hi, (ts, t) => `${rollup}\u0000${rawRowKey(ts, t.channel!, t.community!, '')}`, node);
      for (const [k, v] of found) rolled.set(k, v);
    }
    const rows = derivedRollupRows(
      grouped,
      (ts, channel, community, campaign) => raw.get(rawRowKey(ts, channel, community, campaign)),
      (rollup: Rollup, ts, channel, community) => rolled.get(`${rollup}\u0000${rawRowKey(ts, channel, community, '')}`),
      rollupOpts,
    );
    return rows.map((row) => {
      const tags = node === undefined ? row.tags : { ...row.tags, node };
      const measurement = MEASUREMENT[row.rollup!];
      // What was stored non-zero is written too (0 when it is now): a rewrite merges fields.
      const stored = rolled.get(`${row.rollup}\u0000${rawRowKey(row.ts, row.tags.channel, row.tags.community, '')}`);
      if (stored) fieldsOf.of(measurement, tags, stored);
      return encodePoint({ measurement, tags, fields: fieldsOf.of(measurement, tags, row.values), ts: row.ts });
    });
  }

  // One write request in flight per store. Call order is then apply order, so a later
  // rewrite of a bucket always wins over an earlier one (concurrent requests may land in
  // any order). See the report on influxd 1.6.7 and concurrent writes.
  let writeQueue: Promise<unknown> = Promise.resolve();

  function writeLines(lines: string[], derivedFrom?: { rows: readonly NormalizedCounterRow[]; node: string | undefined }): Promise<void> {
    const run = writeQueue.then(async () => {
      if (derivedFrom) lines = [...lines, ...(await derivedLines(derivedFrom.rows, derivedFrom.node))];
      // Sequential chunks: a failed chunk stops the call; earlier chunks stay written, which
      // is harmless because every row is a full replace (retrying the call is idempotent).
      for (let i = 0; i < lines.length; i += WRITE_CHUNK) await client.write(lines.slice(i, i + WRITE_CHUNK));
    });
    writeQueue = run.catch(() => undefined);
    return run;
  }

  return {
    kind: 'influx',

    async init() {
      let createError: StoreError | null = null;
      try {
        // Idempotent on 1.x. 2.x/3.x refuse InfluxQL DDL (bucket / database is provisioned
        // there, or auto-created on first write on 3.x), so a failure is not fatal by itself.
        await client.command(`CREATE DATABASE ${quoteIdent(opts.db)}`);
      } catch (err) {
        createError = err instanceof StoreError ? err : new StoreError(String(err), true);
      }
      // …but a real connectivity or auth problem must surface here, clearly.
      try {
        await client.ping();
        await client.query('SHOW MEASUREMENTS LIMIT 1');
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        // 3.x creates the database on the first write: a missing database is fine there.
        if (createError && /database not found/i.test(msg)) return;
        const retryable = err instanceof StoreError ? err.retryable : true;
        const extra = createError ? ` (CREATE DATABASE also failed: ${createError.message})` : '';
        throw new StoreError(`InfluxDB at ${opts.url} (db ${opts.db}) is not usable: ${msg}${extra}`, retryable);
      }
      rollupsFrom = await readRollupMark();
    },

    async writeCounters(rows: readonly CounterRow[], writeOpts?: WriteCountersOptions) {
      // Validate and encode everything before the first byte is sent: a bad row refuses
      // the whole call and nothing is written.
      const batch = normalizeCounterRows(rows);
      const derive = rollupModeOf(batch, writeOpts) === 'derive' && batch.some((r) => r.tags.community !== '');
      // Only a cluster's rows carry a writer (a single node's have no node tag).
      const node = opts.writerNode === undefined ? undefined : (writeOpts?.writer ?? opts.writerNode);
      const lines = batch.map((row) => {
        const tags = node === undefined ? row.tags : { ...row.tags, node };
        const measurement = MEASUREMENT[row.rollup ?? 'raw'];
        return encodePoint({ measurement, tags, fields: fieldsOf.of(measurement, tags, row.values), ts: row.ts });
      });
      if (!derive) return writeLines(lines);
      // Derived rollups: each part's 10 s rows and rollup rows go out in ONE request, so a
      // failure leaves a part all written or not at all, and the retry of a written part
      // derives a change of 0 (its 10 s rows are stored by then): retrying stays exact.
      for (let i = 0; i < batch.length; i += DERIVE_ROWS) await writeLines(lines.slice(i, i + DERIVE_ROWS), { rows: batch.slice(i, i + DERIVE_ROWS), node });
    },

    async writeDistinct(rows: readonly DistinctRow[]) {
      const lines = normalizeDistinctRows(rows).map((row) =>
        encodePoint({
          measurement: 'pulse_distinct',
          tags: { granularity: row.granularity, member_set: row.set, channel: row.channel },
          fields: { value: row.value },
          ts: row.ts,
        }),
      );
      await writeLines(lines);
    },

    async writeSketches(rows: readonly SketchRow[]) {
      const batch = normalizeSketchRows(rows);
      const lines = batch.map((row) => {
        const fields: Record<string, number | string> = {};
        let parts = 0;
        for (let i = 0; i < row.sketch.length; i += SKETCH_PART) fields[`s${parts++}`] = row.sketch.slice(i, i + SKETCH_PART);
        fields.parts = parts;
        // A group's sketch (per-group active members) has its own measurement, tagged by group.
        const groups = row.community !== undefined;
        return encodePoint({
          measurement: groups ? GROUP_SKETCH : 'pulse_sketch',
          tags: groups
            ? { granularity: row.granularity, member_set: row.set, community: row.community!, node: row.node }
            : { granularity: row.granularity, member_set: row.set, channel: row.channel, node: row.node },
          fields,
          ts: row.ts,
        });
      });
      let chunk: string[] = [];
      let bytes = 0;
      for (const line of lines) {
        if (chunk.length && (bytes + line.length > SKETCH_CHUNK_BYTES || chunk.length >= WRITE_CHUNK)) {
          await writeLines(chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(line);
        bytes += line.length;
      }
      if (chunk.length) await writeLines(chunk);
      // The days of group day sketches get new marks once the sketches are stored (a kept day
      // ranking computed before is stale from here on; one read before it sees the new sketches).
      const days = [...new Set(batch.filter((r) => r.community !== undefined && r.granularity === 'day').map((r) => r.ts))];
      if (days.length) await writeLines(days.map((ts) => encodePoint({ measurement: GROUP_DAY_MARK, tags: {}, fields: { mark: randomBytes(12).toString('base64') }, ts })));
    },

    async groupDayTops(from: number, to: number) {
      checkRange(from, to);
      const [marks, tops] = await Promise.all([
        client.query(`SELECT ${ident('mark')} FROM ${ident(GROUP_DAY_MARK)} WHERE ${timeRange(from, to)}`),
        client.query(`SELECT * FROM ${ident(GROUP_DAY_TOP)} WHERE ${timeRange(from, to)}`),
      ]);
      const out = { marks: new Map<number, string>(), tops: new Map<number, GroupDayTop>() };
      for (const s of marks) for (const v of s.values) out.marks.set(Number(v[s.columns.indexOf('time')]), String(v[s.columns.indexOf('mark')]));
      for (const s of tops) {
        for (const v of s.values) {
          const day = Number(v[s.columns.indexOf('time')]);
          const basis = String(v[s.columns.indexOf('basis')] ?? '');
          let text = '';
          for (let i = 0; i < Number(v[s.columns.indexOf('parts')]); i++) text += String(v[s.columns.indexOf(`s${i}`)] ?? '');
          const body = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Omit<GroupDayTop, 'day' | 'basis' | 'groupsSketch'>;
          out.tops.set(day, { ...body, day, basis: basis === '' ? null : basis, groupsSketch: String(v[s.columns.indexOf('groups_sketch')] ?? '') });
        }
      }
      return out;
    },

    async writeGroupDayTop(top: GroupDayTop) {
      const { day, basis, groupsSketch, ...body } = top;
      checkRange(day, day);
      // 1.x caps a string field at 64 KB: a day's sketch of 20,000 groups' ids is ~25 KB deflated; a larger one is left out (the range's group count then reads the sketches).
      // String fields hold base64 only (lineProtocol.ts): the body's JSON is written as base64, in parts (64 KB a field).
      const text = Buffer.from(JSON.stringify(body)).toString('base64');
      const fields: Record<string, string | number> = { basis: basis ?? '' };
      let parts = 0;
      for (let i = 0; i < text.length; i += SKETCH_PART) fields[`s${parts++}`] = text.slice(i, i + SKETCH_PART);
      fields.parts = parts;
      if (groupsSketch.length <= SKETCH_PART) fields.groups_sketch = groupsSketch;
      await writeLines([encodePoint({ measurement: GROUP_DAY_TOP, tags: {}, fields, ts: day })]);
    },

    async querySketches(query: SketchQuery): Promise<SketchRow[]> {
      const q = normalizeSketchQuery(query);
      if (q.impossible || q.from >= q.to) return [];
      const groups = q.community !== undefined;
      const who = groups ? 'community' : 'channel';
      const where = [
        timeRange(q.from, q.to),
        `${ident('granularity')} = ${quoteString(q.granularity)}`,
        `${ident('member_set')} = ${quoteString(q.set)}`,
        ...(typeof q.community === 'string' ? [`${ident('community')} = ${quoteString(q.community)}`] : []),
        ...(Array.isArray(q.community) ? [`(${q.community.map((c) => `${ident('community')} = ${quoteString(c)}`).join(' OR ')})`] : []),
        ...(!groups && q.channel !== undefined ? [`${ident('channel')} = ${quoteString(q.channel)}`] : []),
      ];
      const series = await client.query(`SELECT * FROM ${ident(groups ? GROUP_SKETCH : 'pulse_sketch')} WHERE ${where.join(' AND ')} GROUP BY ${ident(who)}, ${ident('node')}`);
      const out: SketchRow[] = [];
      for (const s of series) {
        const timeCol = s.columns.indexOf('time');
        const partsCol = s.columns.indexOf('parts');
        for (const row of s.values) {
          const parts = Number(row[partsCol]);
          if (!Number.isSafeInteger(parts) || parts < 1) continue;
          let sketch = '';
          for (let i = 0; i < parts; i++) sketch += String(row[s.columns.indexOf(`s${i}`)] ?? '');
          const base = { ts: Number(row[timeCol]), granularity: q.granularity, set: q.set, node: s.tags?.node ?? '', sketch };
          out.push(groups ? { ...base, channel: '', community: s.tags?.community ?? '' } : { ...base, channel: s.tags?.channel ?? '' });
        }
      }
      return out.sort((a, b) => a.ts - b.ts || compareStrings(a.community ?? a.channel, b.community ?? b.channel) || compareStrings(a.node, b.node));
    },

    async queryCounters(query: CounterQuery): Promise<CounterSeries[]> {
      const q = normalizeCounterQuery(query);
      if (q.impossible || q.from >= q.to) return [];
      const plan = planCounterQuery(q, query.source, { ...rollupOpts, completeFrom: rollupsFrom });
      const key = (s: CounterSeries) => q.by.map((d) => s.tags[d] ?? '');
      return readPlanned(q, plan, (seg) => queryMeasurement(q, seg), (a, b) => compareTagLists(key(a), key(b)));
    },

    async queryDistinct(query: DistinctQuery): Promise<DistinctSeries[]> {
      const q = normalizeDistinctQuery(query);
      if (q.impossible || q.from >= q.to) return [];
      const where = [
        timeRange(q.from, q.to),
        `${ident('granularity')} = ${quoteString(q.granularity)}`,
        `${ident('member_set')} = ${quoteString(q.set)}`,
        q.mode === 'total'
          ? `${ident('channel')} = ''`
          : q.mode === 'byChannel'
            ? `${ident('channel')} != ''`
            : `${ident('channel')} = ${quoteString(q.channel)}`,
      ];
      // Raw points: each is already the distinct count of one period (ts = period start),
      // so there is nothing to aggregate.
      const series = await client.query(
        `SELECT ${ident('value')} FROM ${ident('pulse_distinct')} WHERE ${where.join(' AND ')}` +
          (q.mode === 'total' ? '' : ` GROUP BY ${ident('channel')}`),
      );
      const out: DistinctSeries[] = [];
      for (const s of series) {
        const timeCol = s.columns.indexOf('time');
        const valueCol = s.columns.indexOf('value');
        const points = s.values
          .filter((row) => typeof row[valueCol] === 'number')
          .map((row) => ({ ts: Number(row[timeCol]), value: Number(row[valueCol]) }))
          .sort((a, b) => a.ts - b.ts);
        if (points.length === 0) continue;
        out.push(q.mode === 'total' ? { points } : { channel: s.tags?.channel ?? '', points });
      }
      return out.sort((a, b) => compareStrings(a.channel ?? '', b.channel ?? ''));
    },

    async writeAlertEvents(rows) {
      if (rows.length) await writeLines(rows.map(encodeAlert));
    },

    async queryAlertEvents(q) {
      // Alert tags are written only when tagValueProblem accepts them, so a filter it refuses
      // matches nothing; some of those characters (NUL) InfluxQL cannot carry at all.
      if ([q.ruleId, q.kpi, q.state].some((v) => v !== undefined && tagValueProblem(v) !== null)) return [];
      return decodeAlerts(await client.query(alertQuery(q)));
    },

    async writeUptime(span) {
      checkRange(span.startedAt, span.lastSeenAt);
      // One point per run at its start time: a heartbeat rewrites the same point (same
      // series, same timestamp), so last_seen moves on and nothing accumulates.
      await writeLines([encodePoint({ measurement: UPTIME, tags: { run: span.runId }, fields: { started_at: span.startedAt, last_seen: span.lastSeenAt }, ts: span.startedAt })]);
    },

    async queryUptime(from, to) {
      checkRange(from, to);
      // A handful of runs: read those started before `to`, keep those seen since `from`.
      const series = await client.query(`SELECT ${quoteIdent('started_at')}, ${quoteIdent('last_seen')} FROM ${quoteIdent(UPTIME)} WHERE time < ${ms(to, 'to')} GROUP BY ${quoteIdent('run')}`);
      const out: { runId: string; startedAt: number; lastSeenAt: number }[] = [];
      for (const s of series) {
        const iStart = s.columns.indexOf('started_at');
        const iSeen = s.columns.indexOf('last_seen');
        for (const v of s.values ?? []) {
          const span = { runId: s.tags?.run ?? '', startedAt: Number(v[iStart]), lastSeenAt: Number(v[iSeen]) };
          if (span.lastSeenAt >= from) out.push(span);
        }
      }
      return out.sort((a, b) => a.startedAt - b.startedAt || compareStrings(a.runId, b.runId));
    },

    async tagValues(dim, from, to) {
      checkDimension(dim);
      checkRange(from, to);
      if (from >= to) return [];
      // Not `SHOW TAG VALUES … WHERE time …`: 1.6.7 ignores the time condition there (it
      // answers from the index). A count grouped by the tag honours [from, to) on every
      // version. Every row carries every counter (see writeCounters), so counting the
      // catalogue's first, oldest counter sees every row.
      const first = COUNTERS[0];
      if (!first) return [];
      const series = await client.query(
        `SELECT count(${ident(first)}) FROM ${ident('pulse_counts')} WHERE ${timeRange(from, to)} GROUP BY ${ident(dim)}`,
      );
      const values = new Set<string>();
      for (const s of series) {
        const v = s.tags?.[dim] ?? '';
        if (v !== '') values.add(v);
      }
      return [...values].sort(compareStrings);
    },

    async ping() {
      await client.ping();
      // /ping needs no credentials; a query shows auth and database problems too.
      await client.query('SHOW MEASUREMENTS LIMIT 1');
    },

    async close() {
      // Stateless HTTP; nothing to release.
    },
  };
}

/**
 * The fields of a pulse_counts row. InfluxDB 1.x pays per series and field on every write,
 * compaction and query cursor, and a row of 10 s activity has a few of the catalogue's ~54
 * counters set (a group's row: messages, perhaps a join): writing all of them made the
 * store ~10× bigger and its writes ~10× slower (measured: 20,000 group rows in ~50 s on
 * influxd 1.6.7). So a row carries its non-zero counters, the first counter (always, the
 * row's presence: tagValues counts it), and 0 for every counter this store has written
 * non-zero to the same series before — a point rewritten at the same time merges fields in
 * InfluxDB, so those explicit zeros are what keeps "a rewrite replaces the row in full".
 *
 * A rewrite after a restart needs no memory: the collector never writes a bucket row smaller
 * than the stored one (it seeds or adds the stored counters first, collector/flushBuckets.ts),
 * so every field stored non-zero is non-zero in the rewrite. Memory: one byte per counter per
 * series written (20,000 group series: ~1.2 MB).
 */
export class SparseFields {
  private readonly seen = new Map<string, Uint8Array>();

  of(measurement: string, tags: Readonly<Record<string, string>>, values: readonly number[]): Record<string, number> {
    const key = `${measurement}\u0000${Object.keys(tags).sort().map((k) => `${k}=${tags[k]}`).join('\u0000')}`;
    let seen = this.seen.get(key);
    if (!seen) this.seen.set(key, (seen = new Uint8Array(COUNTERS.length)));
    const fields: Record<string, number> = {};
    COUNTERS.forEach((c, i) => {
      const v = values[i] ?? 0;
      if (v !== 0) seen[i] = 1;
      if (v !== 0 || seen[i] || i === 0) fields[c] = v;
    });
    return fields;
  }
}
