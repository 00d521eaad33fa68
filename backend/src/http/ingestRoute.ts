/**
 * POST /api/v1/events: auth → (public keys: origin check) → size limit → parse (JSON array
 * or NDJSON) → event-count limit → rate limits (per IP for public keys, per key) → ingest.
 * Answers 202 {accepted, duplicates, rejected}.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { IngestUnavailableError, type IngestService } from '../ingest/service.js';
import { UnparsableBodyError, parseEventsBody } from '../ingest/parse.js';
import type { EventRateLimiter } from '../ingest/rateLimit.js';
import { clientKey, publicOriginProblem, publicTypeProblem, type PublicOriginPolicy } from '../ingest/publicScope.js';
import { bearerToken, type AccessPolicy } from './auth.js';

export const MAX_EVENTS_PER_REQUEST = 10_000;
/** A page sends small batches; a bigger one from a public key is not a page. */
export const MAX_PUBLIC_EVENTS_PER_REQUEST = 500;
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface IngestRouteOptions {
  policy: AccessPolicy;
  ingest: IngestService;
  limiter: EventRateLimiter;
  /** Public keys: allowed origins / mini-programs and the per-IP limiter. */
  publicKeys?: PublicOriginPolicy & { perIp: EventRateLimiter };
  onRequestRejected(status: number): void;
  now?: () => number;
}

interface Credential {
  key: string;
  public: boolean;
}

/**
 * The presented key. Secret keys only in `Authorization: Bearer`; public keys also in
 * `?key=`, because `navigator.sendBeacon` (flush on page hide) cannot set headers and a
 * public key is no secret. A secret key in a URL is refused, not used: URLs end up in logs.
 */
function credential(policy: AccessPolicy, req: Request): Credential | { status: number; error: string } {
  const header = bearerToken(req, false);
  const query = typeof req.query.key === 'string' ? req.query.key : undefined;
  const key = header ?? query;
  if (key === undefined) return { status: 401, error: 'missing token: an ingest key (Authorization: Bearer <key>) is required' };
  if (policy.publicIngest?.has(key)) return { key, public: true };
  if (header !== undefined && policy.ingest.has(key)) return { key, public: false };
  if (policy.ingest.has(key)) return { status: 401, error: 'a secret ingest key must be sent in Authorization: Bearer, never in a URL (only public keys may use ?key=); rotate this key, it may be in logs now' };
  return { status: 401, error: 'invalid token: an ingest key (Authorization: Bearer <key>) is required' };
}

export function ingestRouter(opts: IngestRouteOptions): Router {
  const router = Router();
  const now = opts.now ?? Date.now;
  const refuse = (res: Response, status: number, error: string, headers: Record<string, string> = {}) => {
    opts.onRequestRejected(status);
    res.status(status).set(headers).json({ error });
  };
  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    const c = credential(opts.policy, req);
    if ('error' in c) {
      // Counted as before this route knew public keys: a 401 was never a rejected request.
      res.status(c.status).json({ error: c.error });
      return;
    }
    if (c.public) {
      const problem = opts.publicKeys ? publicOriginProblem(opts.publicKeys, req.get('origin'), req.get('referer')) : 'public keys are not configured';
      if (problem) return refuse(res, 403, problem);
    }
    res.locals.credential = c;
    next();
  };
  router.post(
    '/api/v1/events',
    authenticate,
    // Any content type: producers send application/json, application/x-ndjson or text/plain
    // (the SDK's text/plain keeps a browser's cross-origin POST free of a preflight).
    express.text({ type: () => true, limit: MAX_BODY_BYTES }),
    async (req, res) => {
      const c = res.locals.credential as Credential;
      const body: unknown = req.body;
      if (typeof body !== 'string') return refuse(res, 400, 'empty body: send a JSON array of events or NDJSON');
      let parsed;
      try {
        parsed = parseEventsBody(body);
      } catch (err) {
        if (err instanceof UnparsableBodyError) return refuse(res, 400, err.message);
        throw err;
      }
      const count = parsed.items.length;
      // A public batch above the per-IP burst could never be granted: refuse it as too large.
      const max = c.public ? Math.min(MAX_PUBLIC_EVENTS_PER_REQUEST, opts.publicKeys?.perIp.burst ?? MAX_PUBLIC_EVENTS_PER_REQUEST) : MAX_EVENTS_PER_REQUEST;
      if (count > max) {
        return refuse(res, 413, `batch has ${count} events; the limit is ${max} a request${c.public ? ' for a public key' : ''}: split it`);
      }
      if (c.public && opts.publicKeys) {
        const wait = opts.publicKeys.perIp.take(clientKey(req.ip), count, now());
        if (wait > 0) return refuse(res, 429, `over the per-IP rate of public keys (PULSE_PUBLIC_RATE_PER_IP); retry after ${wait} s`, { 'Retry-After': String(wait) });
      }
      const wait = opts.limiter.take(c.key, count, now());
      if (wait > 0) {
        return refuse(res, 429, `over this ingest key's rate; retry after ${wait} s`, { 'Retry-After': String(wait) });
      }
      try {
        res.status(202).json(await opts.ingest.accept(parsed.items, parsed.lineErrors, c.public ? { typeProblem: publicTypeProblem } : undefined));
      } catch (err) {
        // The journal could not keep the batch (disk full, I/O error, journal full): nothing
        // of it was counted; the producer should retry later.
        if (err instanceof IngestUnavailableError) return refuse(res, 503, err.message, { 'Retry-After': '5' });
        throw err;
      }
    },
  );
  return router;
}
