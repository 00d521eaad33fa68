/**
 * Body parsing for POST /api/v1/events: a JSON array, or NDJSON (one event per line).
 * A JSON array that does not parse is unparsable as a whole (400). NDJSON is judged line by
 * line: one broken line is rejected with its index, the others still count.
 */
export class UnparsableBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnparsableBodyError';
  }
}

export interface ParsedBody {
  /** One entry per event position; `undefined` where the line did not parse. */
  items: unknown[];
  /** index → reason, for NDJSON lines that did not parse. */
  lineErrors: Map<number, string>;
}

export function parseEventsBody(text: string): ParsedBody {
  const trimmed = text.trimStart();
  if (trimmed.length === 0) throw new UnparsableBodyError('empty body: send a JSON array of events or NDJSON');
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new UnparsableBodyError(`body is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new UnparsableBodyError('body must be a JSON array of events');
    return { items: parsed, lineErrors: new Map() };
  }
  const items: unknown[] = [];
  const lineErrors = new Map<number, string>();
  let parsedAny = false;
  const lines = text.split('\n');
  for (let lineNo = 0; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo]!.trim();
    if (line.length === 0) continue;
    const index = items.length;
    try {
      items.push(JSON.parse(line));
      parsedAny = true;
    } catch (err) {
      items.push(undefined);
      lineErrors.set(index, `line ${lineNo + 1}: not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!parsedAny) {
    throw new UnparsableBodyError(`body is neither a JSON array nor NDJSON: ${lineErrors.get(0) ?? 'no events'}`);
  }
  return { items, lineErrors };
}
