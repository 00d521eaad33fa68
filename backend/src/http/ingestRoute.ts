/**
 * POST /api/v1/events: auth → size limit → parse (JSON array or NDJSON) → event-count
 * limit → per-key rate limit → ingest. Answers 202 {accepted, duplicates, rejected}.
 */
import express, { Router } from 'express';
import { IngestUnavailableError, type IngestService } from '../ingest/service.js';
import { UnparsableBodyError, parseEventsBody } from '../ingest/parse.js';
import type { EventRateLimiter } from '../ingest/rateLimit.js';
import { bearerToken, requireScope, type AccessPolicy } from './auth.js';

export const MAX_EVENTS_PER_REQUEST = 10_000;
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface IngestRouteOptions {
  policy: AccessPolicy;
  ingest: IngestService;
  limiter: EventRateLimiter;
  onRequestRejected(status: number): void;
  now?: () => number;
}

export function ingestRouter(opts: IngestRouteOptions): Router {
  const router = Router();
  const now = opts.now ?? Date.now;
  router.post(
    '/api/v1/events',
    requireScope(opts.policy, 'ingest'),
    // Any content type: producers send application/json, application/x-ndjson or text/plain.
    express.text({ type: () => true, limit: MAX_BODY_BYTES }),
    async (req, res) => {
      const fail = (status: number, error: string, headers: Record<string, string> = {}) => {
        opts.onRequestRejected(status);
        res.status(status).set(headers).json({ error });
      };
      const body: unknown = req.body;
      if (typeof body !== 'string') return fail(400, 'empty body: send a JSON array of events or NDJSON');
      let parsed;
      try {
        parsed = parseEventsBody(body);
      } catch (err) {
        if (err instanceof UnparsableBodyError) return fail(400, err.message);
        throw err;
      }
      const count = parsed.items.length;
      if (count > MAX_EVENTS_PER_REQUEST) {
        return fail(413, `batch has ${count} events; the limit is ${MAX_EVENTS_PER_REQUEST} a request: split it`);
      }
      const wait = opts.limiter.take(bearerToken(req, false) ?? '', count, now());
      if (wait > 0) {
        return fail(429, `over this ingest key's rate; retry after ${wait} s`, { 'Retry-After': String(wait) });
      }
      try {
        res.status(202).json(await opts.ingest.accept(parsed.items, parsed.lineErrors));
      } catch (err) {
        // The journal could not keep the batch (disk full, I/O error, journal full): nothing
        // of it was counted; the producer should retry later.
        if (err instanceof IngestUnavailableError) return fail(503, err.message, { 'Retry-After': '5' });
        throw err;
      }
    },
  );
  return router;
}
