/**
 * Input checks shared by both MetricStore adapters (so the conformance suite sees the same
 * refusals from each). Every refusal is a non-retryable StoreError: retrying bad data fails
 * again. Writes validate the whole batch before anything is written, so a refused call
 * writes nothing.
 */
import {
  COUNTERS,
  DIMENSIONS,
  GRANULARITIES,
  MEMBER_SET_IDS,
  type Dimension,
  type Tags,
} from '@siyu-pulse/contracts/catalogue';
import {
  StoreError,
  tagValueProblem,
  type CounterQuery,
  type CounterRow,
  type DistinctQuery,
  type DistinctRow,
  type SketchQuery,
  type SketchRow,
} from './port.js';
import type { Rollup } from './rollups.js';

const COUNTER_SET = new Set(COUNTERS);
const COUNTER_INDEX = new Map<string, number>(COUNTERS.map((c, i) => [c, i]));
const MEMBER_SET_ID_SET = new Set<string>(MEMBER_SET_IDS);
/** A map key of several values ('\u0000' cannot occur in a checked tag value, a granularity or a set id). */
const keyOf = (...parts: (string | number)[]) => parts.join('\u0000');
const DIMENSION_SET = new Set<string>(DIMENSIONS);

function fail(message: string): never {
  throw new StoreError(message, false);
}

/** `what` may be a function: row labels are built only for a refusal (bulk writes check millions of values). */
function checkInt(n: unknown, what: string | (() => string), min = Number.MIN_SAFE_INTEGER): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) fail(`${typeof what === 'function' ? what() : what} must be an integer${min === 0 ? ' ≥ 0' : ''}, got ${String(n)}`);
  return n;
}

export function checkCounterName(name: string): void {
  if (!COUNTER_SET.has(name)) fail(`counter ${JSON.stringify(name)} is not in the catalogue`);
}

export function checkDimension(dim: string): asserts dim is Dimension {
  if (!DIMENSION_SET.has(dim)) fail(`dimension ${JSON.stringify(dim)} is not in the catalogue`);
}

/** Values that passed tagValueProblem (its regexes were a third of a bulk write's validation); bounded. */
const GOOD_TAGS = new Set<string>();

/** '' is allowed (no value); anything else must pass tagValueProblem. */
export function checkTag(key: string, value: unknown): string {
  if (typeof value !== 'string') fail(`tag ${key} must be a string`);
  if (value === '' || GOOD_TAGS.has(value)) return value;
  const problem = tagValueProblem(value);
  if (problem) fail(`tag ${key}=${JSON.stringify(value)} refused: ${problem}`);
  if (GOOD_TAGS.size >= 50_000) GOOD_TAGS.clear();
  GOOD_TAGS.add(value);
  return value;
}

/** A full tag set: every dimension present ('' when missing), no unknown keys. */
export function normalizeTags(tags: Partial<Tags>): Tags {
  for (const key of Object.keys(tags)) checkDimension(key);
  const out = {} as Tags;
  for (const dim of DIMENSIONS) out[dim] = checkTag(dim, tags[dim] ?? '');
  return out;
}

export interface NormalizedCounterRow {
  ts: number;
  tags: Tags;
  /** A rollup row (its own table / measurement), or undefined for a 10 s row. */
  rollup: Rollup | undefined;
  /** Value for every counter of COUNTERS, in COUNTERS order (absent = 0). */
  values: number[];
}

/**
 * A row's counter: its index in COUNTERS, after checking the name is the catalogue's and the
 * value a non-negative safe integer (throws with the row and counter named). A plain function,
 * no closure per value: bulk writes check millions.
 */
function counterSlot(name: string, value: unknown, i: number): number {
  const k = COUNTER_INDEX.get(name);
  if (k === undefined) checkCounterName(name);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) checkInt(value, `row ${i}: counter ${name}`, 0);
  return k!;
}

/**
 * Checks the whole batch and returns one row per (ts, tags), the last one winning (as in
 * InfluxDB, where a later point with the same series and time overwrites the earlier one).
 */
export function normalizeCounterRows(rows: readonly CounterRow[]): NormalizedCounterRow[] {
  const byKey = new Map<string, NormalizedCounterRow>();
  rows.forEach((row, i) => {
    const ts = checkInt(row.ts, () => `row ${i}: ts`);
    const tags = normalizeTags(row.tags);
    const counters = row.counters as Record<string, unknown>;
    // Only the row's own counters are looked at (a row of history sets a few of the catalogue's).
    const values = new Array<number>(COUNTERS.length).fill(0);
    for (const name in counters) {
      if (!Object.hasOwn(counters, name)) continue;
      values[counterSlot(name, counters[name], i)] = counters[name] as number;
    }
    const rollup = row.rollup;
    if (rollup !== undefined) {
      if (rollup !== 'hour' && rollup !== 'day') fail(`row ${i}: unknown rollup ${JSON.stringify(rollup)}`);
      if (tags.community === '' || tags.campaign !== '') fail(`row ${i}: a rollup row is a group's (community set, campaign '')`);
    }
    const key = keyOf(ts, tags.channel, tags.community, tags.campaign, rollup ?? '');
    if (byKey.has(key)) byKey.delete(key); // keep insertion order = order of the last write
    byKey.set(key, { ts, tags, values, rollup });
  });
  return [...byKey.values()];
}

/**
 * A counter delta row of an additive import batch (MetricStore.applyAdditive), checked as
 * normalizeCounterRows checks it but kept sparse: `slots` holds (counter index in COUNTERS,
 * value) pairs of its non-zero counters. A row of history sets one to three of the 54
 * counters, and a dense vector per row was most of an import's allocation.
 */
export interface SparseCounterRow {
  ts: number;
  tags: Tags;
  slots: number[];
}

/** Shared, frozen tag objects already checked (collector/tagSets.ts): one check per tag set, not per row. */
const CHECKED_TAGS = new WeakSet<object>();

function checkedTags(tags: Partial<Tags>): Tags {
  if (CHECKED_TAGS.has(tags)) return tags as Tags;
  const out = normalizeTags(tags);
  if (Object.isFrozen(tags) && Object.keys(tags).length === DIMENSIONS.length && DIMENSIONS.every((d) => tags[d] === out[d])) {
    CHECKED_TAGS.add(tags);
    return tags as Tags;
  }
  return out;
}

/**
 * normalizeCounterRows for 10 s delta rows (no rollup rows), sparse: one row per (ts, tags),
 * the last one winning, keys found through maps (ts → channel → community → campaign), not
 * a key string per row.
 */
export function normalizeSparseCounterRows(rows: readonly CounterRow[]): SparseCounterRow[] {
  const out: SparseCounterRow[] = [];
  const at = new Map<number, Map<string, Map<string, Map<string, number>>>>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const ts = checkInt(row.ts, () => `row ${i}: ts`);
    const tags = checkedTags(row.tags);
    if (row.rollup !== undefined) fail(`row ${i}: an additive batch holds 10 s rows only (got a ${String(row.rollup)} rollup row)`);
    const counters = row.counters as Record<string, unknown>;
    const slots: number[] = [];
    for (const name in counters) {
      if (!Object.hasOwn(counters, name)) continue;
      const value = counters[name] as number;
      const k = counterSlot(name, value, i);
      if (value !== 0) slots.push(k, value);
    }
    let byChannel = at.get(ts);
    if (!byChannel) at.set(ts, (byChannel = new Map()));
    let byCommunity = byChannel.get(tags.channel);
    if (!byCommunity) byChannel.set(tags.channel, (byCommunity = new Map()));
    let byCampaign = byCommunity.get(tags.community);
    if (!byCampaign) byCommunity.set(tags.community, (byCampaign = new Map()));
    const seen = byCampaign.get(tags.campaign);
    const r = { ts, tags, slots };
    if (seen === undefined) {
      byCampaign.set(tags.campaign, out.length);
      out.push(r);
    } else out[seen] = r;
  }
  return out;
}

export function normalizeDistinctRows(rows: readonly DistinctRow[]): DistinctRow[] {
  const byKey = new Map<string, DistinctRow>();
  rows.forEach((row, i) => {
    const ts = checkInt(row.ts, () => `row ${i}: ts`);
    if (!Object.hasOwn(GRANULARITIES, row.granularity)) fail(`row ${i}: unknown granularity ${JSON.stringify(row.granularity)}`);
    if (!MEMBER_SET_ID_SET.has(row.set)) fail(`row ${i}: unknown member set ${JSON.stringify(row.set)}`);
    const channel = checkTag('channel', row.channel);
    const value = checkInt(row.value, () => `row ${i}: value`, 0);
    const key = keyOf(ts, row.granularity, row.set, channel);
    if (byKey.has(key)) byKey.delete(key);
    byKey.set(key, { ts, granularity: row.granularity, set: row.set, channel, value });
  });
  return [...byKey.values()];
}

/** Sketch text: base64 only, bounded (a dense sketch deflated is < 70 KB; its base64 < 96 KB). */
const SKETCH_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;
export const MAX_SKETCH_CHARS = 200_000;

export function normalizeSketchRows(rows: readonly SketchRow[]): SketchRow[] {
  const byKey = new Map<string, SketchRow>();
  rows.forEach((row, i) => {
    const ts = checkInt(row.ts, () => `row ${i}: ts`);
    if (!Object.hasOwn(GRANULARITIES, row.granularity)) fail(`row ${i}: unknown granularity ${JSON.stringify(row.granularity)}`);
    if (!MEMBER_SET_ID_SET.has(row.set)) fail(`row ${i}: unknown member set ${JSON.stringify(row.set)}`);
    const channel = checkTag('channel', row.channel);
    const node = checkTag('node', row.node);
    if (node === '') fail(`row ${i}: node must not be empty`);
    if (typeof row.sketch !== 'string' || row.sketch.length === 0 || row.sketch.length > MAX_SKETCH_CHARS || !SKETCH_TEXT.test(row.sketch)) {
      fail(`row ${i}: sketch must be non-empty base64 of at most ${MAX_SKETCH_CHARS} characters`);
    }
    const community = row.community === undefined ? undefined : checkTag('community', row.community);
    if (community !== undefined) {
      if (community === '') fail(`row ${i}: a group sketch needs a community`);
      if (channel !== '' || row.granularity === 'minute') fail(`row ${i}: a group sketch is over all channels (channel ''), by hour or day`);
    }
    const key = keyOf(ts, row.granularity, row.set, channel, node, community ?? '');
    if (byKey.has(key)) byKey.delete(key);
    byKey.set(key, { ts, granularity: row.granularity, set: row.set, channel, node, sketch: row.sketch, ...(community !== undefined ? { community } : {}) });
  });
  return [...byKey.values()];
}

export function normalizeSketchQuery(q: SketchQuery): SketchQuery & { impossible: boolean } {
  const from = checkInt(q.from, 'from');
  const to = checkInt(q.to, 'to');
  if (!Object.hasOwn(GRANULARITIES, q.granularity)) fail(`unknown granularity ${JSON.stringify(q.granularity)}`);
  if (!MEMBER_SET_IDS.includes(q.set)) fail(`unknown member set ${JSON.stringify(q.set)}`);
  if (q.channel !== undefined && typeof q.channel !== 'string') fail('channel must be a string');
  if (q.community !== undefined && q.community !== true && typeof q.community !== 'string' && !(Array.isArray(q.community) && q.community.every((c) => typeof c === 'string')))
    fail('community must be a string, a list of strings or true');
  const badGroup = (c: string) => c === '' || tagValueProblem(c) !== null;
  // A list keeps its possible groups (an empty list, or one of impossible groups only, reads nothing).
  const community = Array.isArray(q.community) ? [...new Set(q.community.filter((c) => !badGroup(c)))].sort(compareStrings) : q.community;
  const impossible =
    (q.channel !== undefined && q.channel !== '' && tagValueProblem(q.channel) !== null) ||
    (typeof community === 'string' && badGroup(community)) ||
    (Array.isArray(community) && community.length === 0);
  return {
    from,
    to,
    granularity: q.granularity,
    set: q.set,
    ...(q.channel !== undefined ? { channel: q.channel } : {}),
    ...(community !== undefined ? { community } : {}),
    impossible,
  };
}

export interface NormalizedCounterQuery {
  from: number;
  to: number;
  stepMs: number;
  /** In [0, stepMs). */
  offsetMs: number;
  counters: string[];
  by: Dimension[];
  filter: [Dimension, string][];
  /** A filter value that no stored row can have (refused by tagValueProblem): the answer is []. */
  impossible: boolean;
  ownRowsOnly: boolean;
}

export function normalizeCounterQuery(q: CounterQuery): NormalizedCounterQuery {
  const from = checkInt(q.from, 'from');
  const to = checkInt(q.to, 'to');
  const stepMs = checkInt(q.stepMs, 'stepMs', 1);
  const offsetMs = ((checkInt(q.offsetMs, 'offsetMs') % stepMs) + stepMs) % stepMs;
  if (q.counters.length === 0) fail('at least one counter is needed');
  const counters = [...new Set(q.counters)];
  counters.forEach(checkCounterName);
  const by = [...new Set(q.by)];
  by.forEach(checkDimension);
  let impossible = false;
  const filter: [Dimension, string][] = [];
  for (const [dim, value] of Object.entries(q.filter)) {
    checkDimension(dim);
    if (value === undefined) continue;
    if (typeof value !== 'string') fail(`filter ${dim} must be a string`);
    // Never written, so never matched; short-circuit instead of sending it anywhere.
    if (value !== '' && tagValueProblem(value)) impossible = true;
    filter.push([dim, value]);
  }
  return { from, to, stepMs, offsetMs, counters, by, filter, impossible, ownRowsOnly: q.ownRowsOnly === true };
}

export interface NormalizedDistinctQuery {
  from: number;
  to: number;
  granularity: DistinctQuery['granularity'];
  set: DistinctQuery['set'];
  /** 'total': channel ''; 'byChannel': every channel != ''; 'one': only `channel`. */
  mode: 'total' | 'byChannel' | 'one';
  channel: string;
  impossible: boolean;
}

/** A non-empty `channel` wins over `byChannel`; `channel: ''` is the same as not giving one. */
export function normalizeDistinctQuery(q: DistinctQuery): NormalizedDistinctQuery {
  const from = checkInt(q.from, 'from');
  const to = checkInt(q.to, 'to');
  if (!Object.hasOwn(GRANULARITIES, q.granularity)) fail(`unknown granularity ${JSON.stringify(q.granularity)}`);
  if (!MEMBER_SET_IDS.includes(q.set)) fail(`unknown member set ${JSON.stringify(q.set)}`);
  if (q.channel !== undefined && typeof q.channel !== 'string') fail('channel must be a string');
  const channel = q.channel ?? '';
  const mode = channel !== '' ? 'one' : q.byChannel ? 'byChannel' : 'total';
  const impossible = channel !== '' && tagValueProblem(channel) !== null;
  return { from, to, granularity: q.granularity, set: q.set, mode, channel, impossible };
}

export function checkRange(from: number, to: number): void {
  checkInt(from, 'from');
  checkInt(to, 'to');
}

/** Stable ordering of series and tag values, identical in both adapters (UTF-16 code units). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareTagLists(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareStrings(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}
