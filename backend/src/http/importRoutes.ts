/**
 * The import API (admin token), used by `npm run import`:
 *   GET  /api/v1/imports/:importId                  → which batches are counted (resume)
 *   POST /api/v1/imports/:importId/batches/:seq?lines=N&name=…  NDJSON events → counted once
 *   POST /api/v1/imports/:importId/finish           → buckets written to the store
 *
 * Why an endpoint and not a CLI writing the store itself: DuckDB takes one writer, so the
 * CLI cannot open the file the running server holds; through the server an imported event
 * takes the producers' path (same rules, journal, collector, either store, later several
 * nodes) and the answer comes once the batch is durable, so nothing acknowledged is lost.
 */
import express, { Router } from 'express';
import { UnparsableBodyError, parseEventsBody } from '../ingest/parse.js';
import { IngestUnavailableError } from '../ingest/service.js';
import { MAX_IMPORT_EVENTS, type ImportService } from '../import/service.js';
import { requireScope, type AccessPolicy } from './auth.js';

export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

export interface ImportRouteOptions {
  policy: AccessPolicy;
  imports: ImportService;
  /** 'duckdb' | 'influx', named in the answers so the CLI can say where events went. */
  storeKind: string;
}

export function importRouter(o: ImportRouteOptions): Router {
  const r = Router();
  const admin = requireScope(o.policy, 'admin');
  const badId = (id: string) => (/^[0-9a-f]{16,64}$/.test(id) ? null : 'import id must be 16–64 lowercase hex characters (the file content hash)');

  r.get('/api/v1/imports/:importId', admin, (req, res) => {
    const id = String(req.params.importId);
    const problem = badId(id);
    if (problem) return void res.status(400).json({ error: problem });
    const info = o.imports.ledger.get(id);
    res.json({
      importId: id,
      store: o.storeKind,
      batchLines: info?.batchLines ?? null,
      done: info ? [...info.batches.values()].sort((a, b) => a.seq - b.seq) : [],
      // Batches this server run applied aggregated (one store transaction each) or through the journal.
      paths: o.imports.paths,
    });
  });

  r.post('/api/v1/imports/:importId/batches/:seq', admin, express.text({ type: () => true, limit: MAX_IMPORT_BYTES }), async (req, res) => {
    const id = String(req.params.importId);
    const seq = Number(req.params.seq);
    const lines = Number(req.query.lines);
    if (!Number.isInteger(seq) || seq < 0) return void res.status(400).json({ error: 'seq must be a non-negative integer' });
    const problem = badId(id) ?? o.imports.begin(id, lines, typeof req.query.name === 'string' ? req.query.name.slice(0, 256) : '');
    if (problem) return void res.status(problem.includes('was started with') ? 409 : 400).json({ error: problem });
    const body: unknown = req.body;
    let parsed: ReturnType<typeof parseEventsBody> = { items: [], lineErrors: new Map() };
    if (typeof body === 'string' && body.trim().length) {
      try {
        parsed = parseEventsBody(body);
      } catch (err) {
        if (err instanceof UnparsableBodyError) return void res.status(400).json({ error: err.message });
        throw err;
      }
    }
    if (parsed.items.length > MAX_IMPORT_EVENTS) return void res.status(413).json({ error: `batch has ${parsed.items.length} events; the limit is ${MAX_IMPORT_EVENTS}` });
    try {
      res.json(await o.imports.apply(id, seq, parsed.items, parsed.lineErrors));
    } catch (err) {
      if (err instanceof IngestUnavailableError) return void res.status(503).set('Retry-After', '5').json({ error: err.message });
      throw err;
    }
  });

  r.post('/api/v1/imports/:importId/finish', admin, async (req, res) => {
    const problem = badId(String(req.params.importId));
    if (problem) return void res.status(400).json({ error: problem });
    await o.imports.finish();
    res.json({ stored: true, store: o.storeKind });
  });
  return r;
}
