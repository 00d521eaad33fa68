/**
 * Feedback on firings: `POST /api/v1/alerts/<event id>/feedback {verdict, note?, by?}`
 * (admin) marks one stored firing 有效 / 误报, `DELETE` takes the mark back, `GET
 * /api/v1/alerts/feedback` lists verdicts and `GET /api/v1/rules/precision` gives each
 * rule's 有效 ÷ marked over the last N days (read). Only firing (and flapping) events can
 * be marked: a resolved event is not a claim that something is wrong.
 */
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import { VERDICTS, type FeedbackStore } from '../feedback/store.js';
import type { MetricStore } from '../store/port.js';
import { requireScope, type AccessPolicy } from './auth.js';

export interface FeedbackRouteOptions {
  policy: AccessPolicy;
  store: MetricStore;
  feedback: FeedbackStore;
  /** Ids of the rules in force (so an unmarked rule shows in precision too). */
  ruleIds(): string[];
  now?: () => number;
}

const DAY = 86_400_000;
/** Events older than this cannot be marked (and are not looked up). */
const MARKABLE_MS = 90 * DAY;
/** Event ids are UUIDs; anything else is refused before it reaches a query. */
const EVENT_ID = /^[A-Za-z0-9-]{1,64}$/;
const MARKABLE_STATES = new Set(['firing', 'flapping']);

const FeedbackBody = z.strictObject({
  verdict: z.enum(VERDICTS, { message: `verdict must be one of ${VERDICTS.join(', ')}` }),
  note: z.string().trim().max(500).optional(),
  by: z.string().trim().min(1).max(64).optional(),
});
const ListQuery = z.strictObject({
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().positive().optional(),
  rule: z.string().min(1).optional(),
  token: z.string().optional(),
});
const PrecisionQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(365).optional(),
  token: z.string().optional(),
});

function invalid(res: Response, error: z.ZodError): void {
  res.status(400).json({ error: error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
}

export function feedbackRouter(o: FeedbackRouteOptions): Router {
  const r = Router();
  const now = o.now ?? Date.now;
  const read = requireScope(o.policy, 'read');
  const admin = requireScope(o.policy, 'admin');
  const json = express.json({ limit: '8kb' });

  r.get('/api/v1/alerts/feedback', read, (req, res) => {
    const q = ListQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const to = q.data.to ?? now() + 1;
    const from = q.data.from ?? to - 30 * DAY;
    if (from >= to) return void res.status(400).json({ error: 'from must be before to' });
    res.json({ from, to, feedback: o.feedback.list({ from, to, ...(q.data.rule ? { ruleId: q.data.rule } : {}) }) });
  });

  r.get('/api/v1/rules/precision', read, (req, res) => {
    const q = PrecisionQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const days = q.data.days ?? 30;
    const to = now() + 1;
    const from = to - days * DAY;
    res.json({ days, from, to, rules: o.feedback.precision({ from, to, ruleIds: o.ruleIds() }) });
  });

  r.post('/api/v1/alerts/:id/feedback', admin, json, async (req, res) => {
    const id = req.params.id as string;
    if (!EVENT_ID.test(id)) return void res.status(400).json({ error: 'the alert event id is a UUID (the `id` of an event in GET /api/v1/alerts/history)' });
    const b = FeedbackBody.safeParse(req.body);
    if (!b.success) return invalid(res, b.error);
    const t = now();
    const [event] = await o.store.queryAlertEvents({ from: t - MARKABLE_MS, to: t + DAY, id, limit: 1 });
    if (!event) return void res.status(404).json({ error: `no alert event ${id} in the last 90 days` });
    if (!MARKABLE_STATES.has(event.state)) {
      return void res.status(409).json({ error: `event ${id} is a change to "${event.state}", not a firing: mark the firing event of that alert` });
    }
    const feedback = await o.feedback.mark({
      eventId: event.id,
      alertKey: event.alertKey,
      ruleId: event.ruleId,
      kpi: event.kpi,
      split: event.splitDim ? { dim: event.splitDim, value: event.splitValue } : null,
      firedAt: event.ts,
      verdict: b.data.verdict,
      ...(b.data.note ? { note: b.data.note } : {}),
      by: b.data.by ?? 'admin',
    });
    res.status(201).json({ feedback });
  });

  r.delete('/api/v1/alerts/:id/feedback', admin, async (req, res) => {
    const cleared = await o.feedback.clear(req.params.id as string);
    if (!cleared) return void res.status(404).json({ error: 'no feedback on that event' });
    res.json({ feedback: cleared });
  });
  return r;
}
