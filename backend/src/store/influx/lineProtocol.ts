/**
 * InfluxDB line protocol encoder (the subset Siyu Pulse writes: integer fields, base64 strings,
 * millisecond timestamps). Escaping per the line-protocol reference: measurement escapes
 * comma and space; tag keys, tag values and field keys escape comma, equals sign and space.
 * Backslashes are NOT escaped: 1.6.7 keeps `\\` as two characters while later versions
 * unescape it, so tag values are restricted by `tagValueProblem()` (a backslash only before
 * an ordinary character, which every version keeps literally) and validated here.
 */
import { StoreError, tagValueProblem } from '../port.js';

export function escapeMeasurement(name: string): string {
  return name.replace(/[, ]/g, (c) => `\\${c}`);
}

/** Tag keys, tag values and field keys. */
export function escapeKey(s: string): string {
  return s.replace(/[,= ]/g, (c) => `\\${c}`);
}

export interface Point {
  measurement: string;
  /** '' values are omitted (line protocol has no empty tag values). */
  tags: Readonly<Record<string, string>>;
  /** Integer fields (written with the `i` suffix), or strings (only base64 sketch parts). */
  fields: Readonly<Record<string, number | string>>;
  /** Epoch milliseconds (write with precision=ms). */
  ts: number;
}

/** Throws a non-retryable StoreError when a tag value cannot survive the round trip. */
export function checkTagValue(key: string, value: string): void {
  const problem = tagValueProblem(value);
  if (problem) throw new StoreError(`tag ${key}=${JSON.stringify(value)} refused: ${problem}`, false);
}

export function encodePoint(p: Point): string {
  if (!Number.isSafeInteger(p.ts)) throw new StoreError(`timestamp ${p.ts} is not an integer of milliseconds`, false);
  let line = escapeMeasurement(p.measurement);
  // Tags sorted by key: the order InfluxDB stores them in (documented as faster to ingest).
  for (const key of Object.keys(p.tags).sort()) {
    const value = p.tags[key] ?? '';
    if (value === '') continue;
    checkTagValue(key, value);
    line += `,${escapeKey(key)}=${escapeKey(value)}`;
  }
  const fields: string[] = [];
  for (const [key, value] of Object.entries(p.fields)) {
    if (typeof value === 'string') {
      // Only base64 reaches here (validated sketches): nothing to escape, but refuse anything else.
      if (!/^[A-Za-z0-9+/=]*$/.test(value)) throw new StoreError(`string field ${key} is not base64`, false);
      fields.push(`${escapeKey(key)}="${value}"`);
      continue;
    }
    if (!Number.isSafeInteger(value)) throw new StoreError(`field ${key}=${value} is not an integer`, false);
    fields.push(`${escapeKey(key)}=${value}i`);
  }
  if (fields.length === 0) throw new StoreError(`point for ${p.measurement} has no fields`, false);
  return `${line} ${fields.join(',')} ${p.ts}`;
}
