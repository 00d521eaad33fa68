/**
 * The Express application: every HTTP route, each behind the scope it needs, plus the
 * built wall (frontend/dist) as static files. Wiring of the services happens in server.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import { GROUPS } from '@siyu-pulse/contracts/catalogue';
import { channelNames } from '@siyu-pulse/contracts/catalogue';
import type { TargetedKpi } from '../catalogue/targets.js';
import { DIMENSIONS, type Dimension } from '@siyu-pulse/contracts/catalogue';
import type { IngestService } from '../ingest/service.js';
import type { EventRateLimiter } from '../ingest/rateLimit.js';
import type { SnapshotService } from '../live/snapshot.js';
import type { DemoHistoryAnswer, DemoHistoryFill } from '@siyu-pulse/contracts/live';
import type { PulseMetrics } from '../observability/metrics.js';
import { QueryError, type SeriesService } from '../query/series.js';
import type { MetricStore } from '../store/port.js';
import { REVOKED_MESSAGE, bearerToken, requireScope, sessionInfo, type AccessPolicy } from './auth.js';
import { LINK_REFUSALS } from '../links/signedLinks.js';
import { ingestRouter, type IngestRouteOptions } from './ingestRoute.js';
import { securityMiddleware, type SecurityOptions } from './security.js';

import type { SimulatorControl } from '../simulator/control.js';
export type { SimulatorControl } from '../simulator/control.js';

export interface AppDeps {
  policy: AccessPolicy;
  ingest: IngestService;
  limiter: EventRateLimiter;
  series: SeriesService;
  snapshots: SnapshotService;
  store: MetricStore;
  metrics: PulseMetrics;
  logger: Logger;
  staticDir: string | null;
  /** The KPI catalogue with the configured targets. */
  kpis: readonly TargetedKpi[];
  /** The business time zone (day boundaries, times shown on the pages). */
  timezone: string;
  simulator: SimulatorControl | null;
  /** Embedded demo (simulated traffic): the session answer says so, and every page shows 演示数据. */
  demo?: boolean;
  /** Demo: the history fill's progress while it runs (GET /api/v1/demo/history); null otherwise. */
  demoHistory?: () => DemoHistoryFill | null;
  /** Last store write problem, surfaced by /readyz. */
  storeWriteProblem(): string | null;
  /** Spool and journal sizes, shown by /readyz. */
  backlog?(): { spoolRows: number; spoolBytes: number; spoolOldestAgeSeconds: number; journalBytes: number; journalSegments: number };
  /** Cluster mode: this node and whether it holds the lease for the one-node duties (alerts). */
  cluster?(): { node: string; leader: boolean } | null;
  /** Further API routers (alerts), mounted before the API 404. */
  routers?: Router[];
  /** Cluster mode: runs before the API routers (forwards alert-engine requests to the lease holder). */
  beforeApi?: RequestHandler;
  /** Headers, CORS and URL bound; default: plain http, CORS off. */
  security?: SecurityOptions;
  /** Public (browser / mini-program) ingest keys' origins and per-IP limiter. */
  publicKeys?: IngestRouteOptions['publicKeys'];
  /** Express `trust proxy`, so req.ip is the client behind a reverse proxy; default off. */
  trustProxy?: number | string[] | null;
}

const SERIES_PARAMS = new Set(['kpi', 'from', 'to', 'step', 'by', 'token', ...DIMENSIONS]);

export function createApp(d: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  if (d.trustProxy !== undefined && d.trustProxy !== null) app.set('trust proxy', d.trustProxy);
  app.use(securityMiddleware(d.security ?? { https: false, corsOrigins: [] }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    // The backlog is shown either way: rows waiting in the spool for the store, and the journal's size.
    const backlog = d.backlog?.();
    const cluster = d.cluster?.() ?? undefined;
    try {
      await d.store.ping();
      const writeProblem = d.storeWriteProblem();
      res.status(writeProblem ? 503 : 200).json({ status: writeProblem ? 'degraded' : 'ready', store: d.store.kind, ...(writeProblem ? { error: writeProblem } : {}), ...(backlog ? { backlog } : {}), ...(cluster ? { cluster } : {}) });
    } catch (err) {
      res.status(503).json({ status: 'unavailable', store: d.store.kind, error: (err as Error).message, ...(backlog ? { backlog } : {}) });
    }
  });
  app.get('/metrics', requireScope(d.policy, 'read'), async (_req, res) => {
    res.type(d.metrics.registry.contentType).send(await d.metrics.registry.metrics());
  });

  if (d.beforeApi) app.use(d.beforeApi);
  app.use(ingestRouter({ policy: d.policy, ingest: d.ingest, limiter: d.limiter, publicKeys: d.publicKeys, onRequestRejected: d.metrics.httpRejected }));

  // Sign-in: what the presented token may do. Never echoes the token.
  app.get('/api/v1/session', (req, res) => {
    const info = sessionInfo(d.policy, bearerToken(req, false));
    if (!('error' in info)) return void res.json({ ...info, timezone: d.timezone, demo: d.demo ?? false });
    const message = { invalid: 'token not recognised: use a read token or the admin token', revoked: REVOKED_MESSAGE, missing: 'sign in with a read token or the admin token', ...LINK_REFUSALS }[info.error];
    const detail = info.error === 'revoked' ? { revoked: true } : info.error === 'expired' || info.error === 'tampered' ? { link: info.error } : {};
    res.status(401).json({ error: message, ...detail });
  });

  const read = requireScope(d.policy, 'read');
  app.get('/api/v1/kpis', read, (_req, res) => {
    res.json({ groups: GROUPS, kpis: d.kpis, dimensions: DIMENSIONS, channels: channelNames() });
  });
  app.get('/api/v1/snapshot', read, (_req, res) => {
    res.json(d.snapshots.snapshot());
  });
  // The demo history fill's progress: the pages' 演示历史填充中 x/y 天 (null: none running).
  app.get('/api/v1/demo/history', read, (_req, res) => {
    const answer: DemoHistoryAnswer = { fill: d.demoHistory?.() ?? null };
    res.json(answer);
  });

  app.get('/api/v1/series', read, async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const unknown = Object.keys(q).filter((k) => !SERIES_PARAMS.has(k));
    if (unknown.length) {
      res.status(400).json({ error: `unknown parameter ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${[...SERIES_PARAMS].filter((p) => p !== 'token').join(', ')}` });
      return;
    }
    for (const [k, v] of Object.entries(q)) {
      if (typeof v !== 'string') {
        res.status(400).json({ error: `parameter ${JSON.stringify(k)} must be given once` });
        return;
      }
    }
    const str = (k: string) => q[k] as string | undefined;
    const filter: Partial<Record<Dimension, string>> = {};
    for (const dim of DIMENSIONS) {
      const v = str(dim);
      if (v !== undefined) filter[dim] = v;
    }
    const kpi = str('kpi');
    if (!kpi) {
      res.status(400).json({ error: 'kpi is required, e.g. /api/v1/series?kpi=push_open_rate' });
      return;
    }
    try {
      res.json(await d.series.series({ kpi, from: str('from'), to: str('to'), step: str('step'), by: str('by'), filter }));
    } catch (err) {
      if (err instanceof QueryError) res.status(400).json({ error: err.message });
      else throw err;
    }
  });

  const admin = requireScope(d.policy, 'admin');
  app.get('/api/v1/simulator/swings', admin, (_req, res) => {
    if (!d.simulator) return void res.status(409).json({ error: 'the simulator is off (PULSE_SIMULATOR=off)' });
    res.json({ swings: d.simulator.activeSwings() });
  });
  app.post('/api/v1/simulator/swings', admin, express.json({ limit: '16kb' }), (req, res) => {
    if (!d.simulator) return void res.status(409).json({ error: 'the simulator is off (PULSE_SIMULATOR=off)' });
    const b = (req.body ?? {}) as Record<string, unknown>;
    const swing = { kpi: b.kpi, channel: b.channel, factor: b.factor, durationMs: b.durationSeconds === undefined ? undefined : Number(b.durationSeconds) * 1000 };
    const problem = d.simulator.swingProblem(swing);
    if (problem) return void res.status(400).json({ error: problem });
    res.status(201).json({ swing: d.simulator.injectSwing(swing as Parameters<SimulatorControl['injectSwing']>[0]) });
  });
  app.delete('/api/v1/simulator/swings', admin, (_req, res) => {
    if (!d.simulator) return void res.status(409).json({ error: 'the simulator is off (PULSE_SIMULATOR=off)' });
    d.simulator.clearSwings();
    res.status(204).end();
  });

  for (const router of d.routers ?? []) app.use(router);

  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'no such API route' });
  });

  if (d.staticDir && existsSync(path.join(d.staticDir, 'index.html'))) {
    const index = path.join(d.staticDir, 'index.html');
    app.use(express.static(d.staticDir, { index: false, maxAge: '1h' }));
    // The wall is a single page; index.html is never cached so a reload picks up a new build.
    app.get(/^\/(?!api\/|socket\.io\/).*/, (_req, res) => res.set('Cache-Control', 'no-cache').sendFile(index));
  } else {
    app.get('/', (_req, res) => {
      res.status(503).type('text/plain; charset=utf-8').send('The wall is not built yet: run `npm run build` (npm start does it on first run).\n');
    });
  }

  const onError: ErrorRequestHandler = (err: { type?: string; status?: number; message?: string }, _req, res, _next) => {
    if (err.type === 'entity.too.large') {
      d.metrics.httpRejected(413);
      res.status(413).json({ error: 'body larger than the limit (5 MB for events); split the batch' });
      return;
    }
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      res.status(err.status).json({ error: err.message ?? 'bad request' });
      return;
    }
    d.logger.error({ err }, 'unhandled error in request');
    res.status(500).json({ error: 'internal error' });
  };
  app.use(onError);
  return app;
}
