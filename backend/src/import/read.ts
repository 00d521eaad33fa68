/**
 * Reads an import file (NDJSON, or CSV with a header of the ingest contract's fields) as
 * records with their line numbers, validated with the ingest schema itself, so a file is
 * judged by exactly the rules a producer's batch is. A bad line becomes a problem record
 * (line, field, reason); it never stops the lines after it.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { validateEvent } from '../ingest/schema.js';

export const CONTRACT_FIELDS = ['id', 'type', 'ts', 'member', 'channel', 'community', 'campaign', 'source', 'amount', 'duration_ms'] as const;
const NUMERIC = new Set(['ts', 'amount', 'duration_ms']);
const NUMBER_TEXT = /^-?\d+(\.\d+)?$/;

export interface Problem {
  line: number;
  field: string;
  reason: string;
}

/** One data record of the file: a valid event (as NDJSON text) or its problems. */
export type FileRecord = { line: number; json: string } | { line: number; problems: Problem[] };

export class ImportFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

export type FileFormat = 'ndjson' | 'csv';

export function formatOf(file: string, firstBytes: string): FileFormat {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(nd)?jsonl?$/i.test(file)) return 'ndjson';
  return firstBytes.trimStart().startsWith('{') ? 'ndjson' : 'csv';
}

function problemsOf(line: number, raw: unknown): FileRecord {
  const r = validateEvent(raw);
  if (r.success) return { line, json: JSON.stringify(r.data) };
  return {
    line,
    problems: r.error.issues.map((i) => ({ line, field: i.path.length ? i.path.join('.') : i.code === 'unrecognized_keys' ? i.keys.join(',') : '(event)', reason: i.message })),
  };
}

/** `onBytes`: bytes read so far (progress). */
export async function* readNdjson(file: string, onBytes: (n: number) => void): AsyncGenerator<FileRecord> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  stream.on('data', (chunk) => onBytes(chunk.length));
  let lineNo = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    lineNo++;
    const line = text.trim();
    if (!line) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      yield { line: lineNo, problems: [{ line: lineNo, field: '(line)', reason: `not valid JSON: ${(err as Error).message}` }] };
      continue;
    }
    const r = validateEvent(raw);
    // Valid lines are sent as they are in the file (already JSON), not re-serialised.
    yield r.success ? { line: lineNo, json: line } : problemsOf(lineNo, raw);
  }
}

/** CSV: the header names contract fields (any order, unknown ones refused); empty cells are absent fields. */
export async function* readCsv(file: string, onBytes: (n: number) => void): AsyncGenerator<FileRecord> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  stream.on('data', (chunk) => onBytes(chunk.length));
  const skipped: Problem[] = [];
  const parser = stream.pipe(parseCsv({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true, skip_records_with_error: true, trim: true }));
  parser.on('skip', (err: Error & { lines?: number }) => skipped.push({ line: err.lines ?? 0, field: '(line)', reason: `not valid CSV: ${err.message}` }));
  let header: string[] | undefined;
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    while (skipped.length) yield { line: skipped[0]!.line, problems: [skipped.shift()!] };
    const line = info.lines;
    if (!header) {
      const unknown = record.filter((c) => !(CONTRACT_FIELDS as readonly string[]).includes(c));
      if (unknown.length) throw new ImportFileError(`CSV header (line ${line}): unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `'${c}'`).join(', ')}; columns are the ingest contract's fields: ${CONTRACT_FIELDS.join(', ')}`);
      const dup = record.find((c, i) => record.indexOf(c) !== i);
      if (dup) throw new ImportFileError(`CSV header (line ${line}): column '${dup}' appears twice`);
      if (!record.includes('type') || !record.includes('channel')) throw new ImportFileError(`CSV header (line ${line}): 'type' and 'channel' columns are required (found: ${record.join(', ')})`);
      header = record;
      continue;
    }
    if (record.length !== header.length) {
      yield { line, problems: [{ line, field: '(line)', reason: `has ${record.length} fields, the header has ${header.length}` }] };
      continue;
    }
    const event: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) {
      const v = record[i]!;
      if (v === '') continue;
      event[header[i]!] = NUMERIC.has(header[i]!) && NUMBER_TEXT.test(v) ? Number(v) : v;
    }
    yield problemsOf(line, event);
  }
  while (skipped.length) yield { line: skipped[0]!.line, problems: [skipped.shift()!] };
  if (!header) throw new ImportFileError('CSV file is empty: expected a header line naming the ingest contract fields');
}
