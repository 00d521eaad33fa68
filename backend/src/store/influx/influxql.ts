/**
 * InfluxQL building blocks. Every literal goes through `quoteString`, every identifier
 * through `ident()` which accepts only names from the catalogue's allow-lists, and every
 * number is checked to be a safe integer before it is interpolated. No regex literal is
 * ever built (user input must never become a regex).
 */
import { COUNTERS, DIMENSIONS } from '@siyu-pulse/contracts/catalogue';
import { StoreError } from '../port.js';

/** Escapes as influxql's Go `QuoteString`: backslash first, then `'`, newline → `\n`. */
export function quoteString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** As influxql's `QuoteIdent`: backslash first, then `"`, newline → `\n`. */
export function quoteIdent(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export const MEASUREMENTS = ['pulse_counts', 'pulse_distinct', 'pulse_sketch', 'pulse_groups_hour', 'pulse_groups_day', 'pulse_meta', 'pulse_group_sketch', 'pulse_group_day_mark', 'pulse_group_day_top'] as const;
/** Tag and field names of pulse_distinct, pulse_sketch and the group day rankings (fixed). */
const DISTINCT_NAMES = ['granularity', 'member_set', 'channel', 'value', 'node', 'parts', 'key', 'mark', 'basis', 'groups_sketch'] as const;

const ALLOWED = new Set<string>([...COUNTERS, ...DIMENSIONS, ...MEASUREMENTS, ...DISTINCT_NAMES]);

/** A quoted identifier; refuses (non-retryable) anything that is not allow-listed. */
export function ident(name: string): string {
  if (!ALLOWED.has(name)) throw new StoreError(`identifier ${JSON.stringify(name)} is not allow-listed`, false);
  return quoteIdent(name);
}

export function isCounter(name: string): boolean {
  return COUNTERS.includes(name);
}

/** Integer milliseconds → InfluxQL duration / time literal (`123ms`). */
export function ms(n: number, what = 'time'): string {
  if (!Number.isSafeInteger(n)) throw new StoreError(`${what} ${String(n)} is not an integer of milliseconds`, false);
  return `${n}ms`;
}

/** `time >= {from}ms AND time < {to}ms` */
export function timeRange(from: number, to: number): string {
  return `time >= ${ms(from, 'from')} AND time < ${ms(to, 'to')}`;
}
