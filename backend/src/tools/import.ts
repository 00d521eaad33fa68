/**
 * `npm run import -- <file>`: imports history (NDJSON, or CSV with a header) into the
 * running server through its import API (http/importRoutes.ts).
 *
 * - Lines are validated here with the ingest schema (bad ones go to the error report with
 *   line, field and reason; the good ones are sent) and again by the server.
 * - The file is cut into batches of a fixed number of records; (content hash, batch number)
 *   is counted at most once by the server's ledger, so a second run or a resume after
 *   Ctrl-C / a crash sends only what is missing, and counts nothing twice.
 * - Ctrl-C: no new batch is sent, the ones in flight are answered, the report is written,
 *   and the same command resumes. A second Ctrl-C quits at once (the server still applies
 *   or refuses an in-flight batch as a whole).
 * - The progress bar is `cli-progress` (rate and ETA), on stderr; the summary on stdout.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, openSync, readFileSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ImportFileError, formatOf, readCsv, readNdjson, type FileRecord, type Problem } from '../import/read.js';
import { MAX_IMPORT_EVENTS } from '../import/service.js';

export interface ImportOptions {
  file: string;
  url: string;
  token: string;
  batchLines: number;
  report: string;
  /** Batches in flight at once (the CLI reads the next while the server applies one). */
  concurrency: number;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Progress bar output interval (non-TTY: a line every this many ms). */
  progressMs: number;
  /** Set by Ctrl-C: stop sending batches. */
  signal: { stopped: boolean };
}

export interface ImportSummary {
  importId: string;
  records: number;
  invalidLines: number;
  accepted: number;
  duplicates: number;
  refusedByServer: number;
  batches: number;
  batchesAlreadyDone: number;
  interrupted: boolean;
  seconds: number;
  eventsPerSecond: number;
  store: string;
  report: string;
}

class ServerError extends Error {}

const fmt = (n: number) => n.toLocaleString('en-US');

async function fileHash(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex').slice(0, 32);
}

/** The reason's field: "amount: must be …" → amount; "ts 2026-… is older …" → ts. */
function fieldOf(error: string): { field: string; reason: string } {
  const m = /^([a-z_]+(?:\.[a-z_0-9]+)*): (.*)$/s.exec(error);
  if (m) return { field: m[1]!, reason: m[2]! };
  if (error.startsWith('ts ')) return { field: 'ts', reason: error };
  return { field: '(event)', reason: error };
}

export async function runImport(o: ImportOptions): Promise<ImportSummary> {
  if (!existsSync(o.file)) throw new ImportFileError(`no such file: ${o.file}`);
  const size = statSync(o.file).size;
  if (size === 0) throw new ImportFileError(`${o.file} is empty`);
  const head = Buffer.alloc(Math.min(size, 4096));
  const fd = openSync(o.file, 'r');
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const format = formatOf(o.file, head.toString('utf8'));
  const importId = await fileHash(o.file);
  const base = o.url.replace(/\/$/, '');
  const headers = { authorization: `Bearer ${o.token}` };

  const call = async (method: string, p: string, body?: string): Promise<Record<string, unknown>> => {
    let lastError = '';
    for (let attempt = 0; attempt < 6; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      let res: Response;
      try {
        res = await fetch(`${base}${p}`, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body !== undefined ? { body } : {}) });
      } catch (err) {
        lastError = `cannot reach ${base}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`;
        continue;
      }
      const text = await res.text();
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = { error: text.slice(0, 200) };
      }
      if (res.ok) return json;
      lastError = `${method} ${p}: ${res.status} ${String(json.error ?? '')}`;
      // Bad token, bad batch size, bad body: retrying will not help.
      if (res.status < 500 && res.status !== 429 && res.status !== 408) throw new ServerError(lastError);
    }
    throw new ServerError(`${lastError} (gave up after 6 attempts; run the same command again to resume)`);
  };

  // Resume: what the server already counted of this file, and with which batch size.
  const state = await call('GET', `/api/v1/imports/${importId}`);
  let batchLines = o.batchLines;
  if (typeof state.batchLines === 'number' && state.batchLines !== batchLines) {
    o.err.write(`Resuming import ${importId} with its original ${fmt(state.batchLines)} lines per batch.\n`);
    batchLines = state.batchLines;
  }
  const done = new Map<number, { accepted: number; duplicates: number; rejected: { index: number; error: string }[] }>();
  for (const d of (state.done ?? []) as { seq: number; accepted: number; duplicates: number; rejected: { index: number; error: string }[] }[]) done.set(d.seq, d);
  const store = String(state.store ?? 'store');
  if (done.size) o.err.write(`This file (${importId}) was imported before: ${fmt(done.size)} batches are counted already and will not be sent again.\n`);

  const problems: Problem[] = [];
  let bytes = 0;
  let records = 0;
  let invalidLines = 0;
  let accepted = 0;
  let duplicates = 0;
  let refusedByServer = 0;
  let batches = 0;
  let interrupted = false;
  const started = performance.now();
  let sentEvents = 0;

  const bar = new cliProgress.SingleBar(
    {
      format: '导入 Importing |{bar}| {percentage}% | {records} lines | {rate} events/s | ETA {eta_formatted}',
      stream: o.err,
      noTTYOutput: true,
      notTTYSchedule: o.progressMs,
      fps: 5,
      etaBuffer: 50,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = () => ({ records: fmt(records), rate: fmt(Math.round((accepted + duplicates) / Math.max(0.001, (performance.now() - started) / 1000))) });
  bar.start(size, 0, payload());

  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  const send = (seq: number, lines: string[], lineNos: number[]) => {
    const p = (async () => {
      // A JSON array: one JSON.parse on the server instead of one per line.
      const r = await call('POST', `/api/v1/imports/${importId}/batches/${seq}?lines=${batchLines}&name=${encodeURIComponent(path.basename(o.file))}`, `[${lines.join(',')}]`);
      accepted += Number(r.accepted ?? 0);
      duplicates += Number(r.duplicates ?? 0);
      for (const rej of (r.rejected ?? []) as { index: number; error: string }[]) {
        refusedByServer++;
        problems.push({ line: lineNos[rej.index] ?? 0, ...fieldOf(rej.error) });
      }
      sentEvents += lines.length;
    })()
      .catch((err: unknown) => {
        failure ??= err as Error;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const reader = format === 'csv' ? readCsv(o.file, (n) => (bytes += n)) : readNdjson(o.file, (n) => (bytes += n));
  let seq = 0;
  let lines: string[] = [];
  let lineNos: number[] = [];
  let inBatch = 0;
  const closeBatch = async () => {
    const prior = done.get(seq);
    if (prior) {
      // Counted in an earlier run: report what the server refused then, send nothing.
      for (const rej of prior.rejected) problems.push({ line: lineNos[rej.index] ?? 0, ...fieldOf(rej.error) });
    } else if (lines.length) {
      while (inFlight.size >= o.concurrency) await Promise.race(inFlight);
      if (failure) return;
      send(seq, lines, lineNos);
      batches++;
    }
    seq++;
    lines = [];
    lineNos = [];
    inBatch = 0;
  };
  try {
    for await (const rec of reader as AsyncGenerator<FileRecord>) {
      if (o.signal.stopped || failure) {
        interrupted = o.signal.stopped;
        break;
      }
      records++;
      inBatch++;
      if ('json' in rec) {
        lines.push(rec.json);
        lineNos.push(rec.line);
      } else {
        invalidLines++;
        problems.push(...rec.problems);
      }
      if (inBatch === batchLines) await closeBatch();
      if ((records & 1023) === 0) bar.update(bytes, payload());
    }
    if (!interrupted && !failure && inBatch > 0) await closeBatch();
  } finally {
    await Promise.all(inFlight);
    bar.update(interrupted ? bytes : size, payload());
    bar.stop();
  }
  if (failure) throw failure;
  // The rate counts until the store holds the events (the server flushes on `finish`).
  if (!interrupted && batches > 0) await call('POST', `/api/v1/imports/${importId}/finish`);
  const seconds = (performance.now() - started) / 1000;

  problems.sort((a, b) => a.line - b.line);
  const esc = (s: string) => s.replace(/[\t\r\n]+/g, ' ');
  writeFileSync(o.report, `line\tfield\treason\n${problems.map((p) => `${p.line}\t${esc(p.field)}\t${esc(p.reason)}`).join('\n')}${problems.length ? '\n' : ''}`);

  const summary: ImportSummary = {
    importId,
    records,
    invalidLines,
    accepted,
    duplicates,
    refusedByServer,
    batches,
    batchesAlreadyDone: done.size,
    interrupted,
    seconds,
    eventsPerSecond: sentEvents / Math.max(seconds, 0.001),
    store,
    report: o.report,
  };
  o.out.write(summaryText(summary, o.file));
  return summary;
}

export function summaryText(s: ImportSummary, file: string): string {
  const out = [
    '',
    s.interrupted ? `Interrupted: ${path.basename(file)} is partly imported. Run the same command again to resume (nothing is counted twice).` : `Imported ${path.basename(file)} (import ${s.importId}).`,
    `  lines read:        ${fmt(s.records)}`,
    `  events counted:    ${fmt(s.accepted)}${s.duplicates ? `   (${fmt(s.duplicates)} duplicate ids counted once)` : ''}`,
    `  lines with errors: ${fmt(s.invalidLines + s.refusedByServer)}${s.refusedByServer ? ` (${fmt(s.refusedByServer)} refused by the server)` : ''}${s.invalidLines + s.refusedByServer ? ` → ${s.report}` : ''}`,
  ];
  if (s.batchesAlreadyDone) out.push(`  already imported:  ${fmt(s.batchesAlreadyDone)} batches from an earlier run (not sent again)`);
  out.push(
    s.batches
      ? `  rate:              ${fmt(Math.round(s.eventsPerSecond))} events/s into ${s.store === 'duckdb' ? 'DuckDB' : s.store === 'influx' ? 'InfluxDB' : s.store} (${s.seconds.toFixed(1)} s, stored)`
      : `  nothing new to send${s.batchesAlreadyDone ? ': this file was imported before' : ''}`,
    '',
  );
  return out.join('\n');
}

function defaultToken(): string | undefined {
  if (process.env.PULSE_ADMIN_TOKEN) return process.env.PULSE_ADMIN_TOKEN;
  // Demo mode: the generated admin token kept beside the data.
  const kept = path.join(process.env.PULSE_DATA_DIR ?? 'data', 'demo-secrets.json');
  try {
    return (JSON.parse(readFileSync(kept, 'utf8')) as { adminToken?: string }).adminToken;
  } catch {
    return undefined;
  }
}

const USAGE = `Usage: npm run import -- <file.ndjson|file.csv> [--url http://127.0.0.1:8080] [--token <admin token>]
                      [--report <path>] [--batch 20000]
  The server must be running (npm start). Token: --token, PULSE_ADMIN_TOKEN, or the demo's
  data/demo-secrets.json. Errors go to <file>.errors.tsv (line, field, reason).`;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { url: { type: 'string' }, token: { type: 'string' }, report: { type: 'string' }, batch: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help || args.positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return args.values.help ? 0 : 2;
  }
  const file = path.resolve(args.positionals[0]!);
  const token = args.values.token ?? defaultToken();
  if (!token) {
    process.stderr.write('No admin token: pass --token or set PULSE_ADMIN_TOKEN (in demo mode it is read from data/demo-secrets.json).\n');
    return 2;
  }
  const batchLines = Number(args.values.batch ?? 20_000);
  if (!Number.isInteger(batchLines) || batchLines < 1 || batchLines > MAX_IMPORT_EVENTS) {
    process.stderr.write(`--batch must be an integer between 1 and ${MAX_IMPORT_EVENTS}\n`);
    return 2;
  }
  const signal = { stopped: false };
  process.on('SIGINT', () => {
    if (signal.stopped) process.exit(130);
    signal.stopped = true;
    process.stderr.write('\nStopping: waiting for the batches in flight (Ctrl-C again to quit now; nothing is counted twice either way)…\n');
  });
  try {
    const s = await runImport({
      file,
      url: args.values.url ?? process.env.PULSE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`,
      token,
      batchLines,
      report: path.resolve(args.values.report ?? `${file}.errors.tsv`),
      concurrency: 3,
      out: process.stdout,
      err: process.stderr,
      progressMs: 2000,
      signal,
    });
    return s.interrupted ? 130 : 0;
  } catch (err) {
    if (err instanceof ImportFileError || err instanceof ServerError) {
      process.stderr.write(`Import failed: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (process.argv[1] && /tools[/\\]import\.js$/.test(process.argv[1])) {
  void main().then((code) => process.exit(code));
}
