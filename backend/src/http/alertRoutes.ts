/**
 * Alert API: active alerts, history, rules with their last evaluation, silences, acks,
 * notifier delivery status and the test button. Reads need the read scope; anything that
 * changes state needs the admin token, and records who (the `by` field) and why.
 */
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AlertEngine, Dispatcher } from '@siyu-pulse/alerts';
import { LandingError, buildLanding, type LandingDeps } from '../alerting/landing.js';
import type { AlertQuery, MetricStore } from '../store/port.js';
import { requireScope, type AccessPolicy } from './auth.js';

export interface AlertRouteOptions {
  policy: AccessPolicy;
  engine: AlertEngine;
  dispatcher: Dispatcher;
  store: MetricStore;
  /** Verdicts on firings (有效 / 误报), shown on the active list and in history. */
  feedback?: {
    forEvent(eventId: string): object | undefined;
    /** The stored firing event of an open alert. */
    firingOf(alertKey: string): { eventId: string } | undefined;
  };
  /** The phone landing's answer (GET /api/v1/alerts/landing); absent: route off. */
  landing?: Omit<LandingDeps, 'engine' | 'store'>;
}
const LandingQuery = z.strictObject({
  key: z.string().min(3).max(400),
  at: z.coerce.number().int().positive().optional(),
  token: z.string().optional(),
});

const who = z.string().trim().min(1, 'say who you are (by)').max(64);
const why = z.string().trim().min(1, 'give a reason').max(500);
const NewNormalBody = z.strictObject({ alertKey: z.string().min(1).max(400), by: who });
const SilenceBody = z.strictObject({
  matchers: z
    .strictObject({
      ruleId: z.string().min(1).optional(),
      kpi: z.string().min(1).optional(),
      dim: z.enum(['channel', 'community', 'campaign']).optional(),
      value: z.string().min(1).optional(),
    })
    .refine((m) => Object.keys(m).length > 0, 'at least one matcher (ruleId, kpi, dim + value) is required'),
  durationMinutes: z.number().positive().max(60 * 24 * 30).optional(),
  until: z.number().int().positive().optional(),
  by: who,
  reason: why,
}).refine((b) => (b.durationMinutes === undefined) !== (b.until === undefined), 'give either durationMinutes or until (epoch ms)');
const AckBody = z.strictObject({ alertKey: z.string().min(1), by: who, reason: why });
const HistoryQuery = z.strictObject({
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().positive().optional(),
  rule: z.string().min(1).optional(),
  kpi: z.string().min(1).optional(),
  state: z.enum(['ok', 'pending', 'firing', 'resolved', 'flapping']).optional(),
  limit: z.coerce.number().int().min(1).max(5000).optional(),
  token: z.string().optional(),
});

function invalid(res: Response, error: z.ZodError): void {
  res.status(400).json({ error: error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
}

export function alertRouter(o: AlertRouteOptions): Router {
  const r = Router();
  const read = requireScope(o.policy, 'read');
  const admin = requireScope(o.policy, 'admin');
  const json = express.json({ limit: '32kb' });

  r.get('/api/v1/alerts', read, (_req, res) => {
    const fb = o.feedback;
    if (!fb) return void res.json({ alerts: o.engine.active() });
    res.json({
      alerts: o.engine.active().map((a) => {
        const eventId = fb.firingOf(a.alertKey)?.eventId;
        const feedback = eventId ? fb.forEvent(eventId) : undefined;
        return { ...a, ...(eventId ? { eventId } : {}), ...(feedback ? { feedback } : {}) };
      }),
    });
  });
  r.get('/api/v1/alerts/history', read, async (req: Request, res: Response) => {
    const q = HistoryQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const to = q.data.to ?? Date.now();
    const from = q.data.from ?? to - 7 * 86_400_000;
    if (from >= to) return void res.status(400).json({ error: 'from must be before to' });
    const query: AlertQuery = { from, to, ruleId: q.data.rule, kpi: q.data.kpi, state: q.data.state, limit: q.data.limit ?? 500 };
    const events = await o.store.queryAlertEvents(query);
    const fb = o.feedback;
    res.json({ from, to, events: fb ? events.map((e) => ({ ...e, ...(fb.forEvent(e.id) ? { feedback: fb.forEvent(e.id) } : {}) })) : events });
  });
  r.get('/api/v1/alerts/landing', read, async (req: Request, res: Response) => {
    if (!o.landing) return void res.status(404).json({ error: 'no such API route' });
    const q = LandingQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    try {
      const landing = await buildLanding({ ...o.landing, engine: o.engine, store: o.store }, q.data.key, q.data.at);
      res.json({ ...landing, feedback: landing.firing ? (o.feedback?.forEvent(landing.firing.id) ?? null) : null });
    } catch (err) {
      if (err instanceof LandingError) return void res.status(err.status).json({ error: err.message });
      throw err;
    }
  });
  r.get('/api/v1/rules', read, (_req, res) => {
    res.json(o.engine.status());
  });
  r.get('/api/v1/silences', read, (req, res) => {
    res.json({ silences: o.engine.silences({ includeEnded: req.query.all === 'true' }), acks: o.engine.acks() });
  });
  // Answered once the change is persisted (a cluster: in Redis, where the next evaluator reads it).
  const persisted = async (res: Response): Promise<boolean> => {
    try {
      await o.engine.persisted();
      return true;
    } catch (err) {
      res.status(503).set('retry-after', '5').json({ error: `not saved: ${(err as Error).message}; retry in a few seconds` });
      return false;
    }
  };
  r.post('/api/v1/silences', admin, json, async (req, res) => {
    const b = SilenceBody.safeParse(req.body);
    if (!b.success) return invalid(res, b.error);
    const until = b.data.until ?? Date.now() + b.data.durationMinutes! * 60_000;
    if (until <= Date.now()) return void res.status(400).json({ error: 'until is in the past' });
    const silence = o.engine.silence({ matchers: b.data.matchers, until, by: b.data.by, reason: b.data.reason });
    if (await persisted(res)) res.status(201).json({ silence });
  });
  r.delete('/api/v1/silences/:id', admin, async (req, res) => {
    const by = typeof req.query.by === 'string' && req.query.by.trim() ? req.query.by.trim() : 'admin';
    const ended = o.engine.unsilence(req.params.id as string, by);
    if (!ended) return void res.status(404).json({ error: 'no such silence' });
    if (await persisted(res)) res.json({ silence: ended });
  });
  r.post('/api/v1/alerts/ack', admin, json, async (req, res) => {
    const b = AckBody.safeParse(req.body);
    if (!b.success) return invalid(res, b.error);
    let ack;
    try {
      ack = o.engine.ack(b.data.alertKey, b.data.by, b.data.reason);
    } catch (err) {
      return void res.status(409).json({ error: (err as Error).message });
    }
    if (await persisted(res)) res.status(201).json({ ack });
  });
  // 新常态: a seasonal rule's firing alert resolves at the next evaluation and its level becomes the baseline.
  r.post('/api/v1/alerts/new-normal', admin, json, (req, res) => {
    const b = NewNormalBody.safeParse(req.body);
    if (!b.success) return invalid(res, b.error);
    try {
      o.engine.markNewNormal(b.data.alertKey, b.data.by);
      res.status(202).json({ alertKey: b.data.alertKey, by: b.data.by });
    } catch (err) {
      res.status(409).json({ error: (err as Error).message });
    }
  });
  r.get('/api/v1/notifiers', read, (_req, res) => {
    res.json({ notifiers: o.dispatcher.status() });
  });
  r.post('/api/v1/notifiers/:id/test', admin, async (req, res) => {
    const id = req.params.id as string;
    if (!o.dispatcher.status().some((n) => n.id === id)) return void res.status(404).json({ error: `no notifier ${JSON.stringify(id)}` });
    const result = await o.dispatcher.testSend(id);
    if (result.ok) return void res.json({ ok: true, explanation: '已送达 / delivered (errcode 0)' });
    // 502: the robot refused or could not be reached; `error` says what it answered, in words.
    const failed = result as { code?: string; message?: string; explanation?: string };
    const error = [failed.code ? `errcode ${failed.code}` : null, failed.message, failed.explanation].filter(Boolean).join(' · ');
    res.status(502).json({ ...result, error: error || 'delivery failed' });
  });
  return r;
}
