/**
 * Weekly report API: generate one on demand (admin), list them and read one (read scope).
 * The week is an ISO week (`2026-W47`) or the epoch ms of a Monday 00:00 in the business
 * time zone; only weeks that have ended can be reported.
 */
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { ReportService } from '../reports/service.js';
import { ReportStore } from '../reports/store.js';
import { lastCompleteWeek, parseWeek, weekId } from '../reports/week.js';
import { requireScope, type AccessPolicy } from './auth.js';

export interface ReportRouteOptions {
  policy: AccessPolicy;
  service: ReportService;
  reports: ReportStore;
  now?: () => number;
}

const GenerateBody = z.strictObject({
  week: z.union([z.string(), z.number()]).optional(),
  notify: z.boolean().optional(),
});

function invalid(res: Response, error: z.ZodError): void {
  res.status(400).json({ error: error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
}

export function reportRouter(o: ReportRouteOptions): Router {
  const r = Router();
  const read = requireScope(o.policy, 'read');
  const admin = requireScope(o.policy, 'admin');
  const json = express.json({ limit: '4kb' });
  const now = o.now ?? Date.now;
  const tz = o.service.timezone;

  r.post('/api/v1/reports/weekly', admin, json, async (req, res) => {
    // No body at all means "last week, sent as configured".
    const b = GenerateBody.safeParse(req.body ?? {});
    if (!b.success) return invalid(res, b.error);
    const t = now();
    const week = b.data.week === undefined ? lastCompleteWeek(t, tz) : parseWeek(b.data.week, tz);
    if ('error' in week) return void res.status(400).json({ error: week.error });
    if (week.to > t) {
      const last = weekId(lastCompleteWeek(t, tz).from, tz);
      return void res.status(400).json({ error: `week ${weekId(week.from, tz)} has not finished yet (it ends ${new Date(week.to).toISOString()}); the last complete week is ${last}` });
    }
    const report = await o.service.generate(week, { trigger: 'manual', notify: b.data.notify ?? true });
    res.status(201).json(report);
  });

  r.get('/api/v1/reports', read, (_req, res) => {
    res.json({ reports: o.reports.list() });
  });

  r.get('/api/v1/reports/:id', read, (req, res) => {
    const id = req.params.id as string;
    const report = ReportStore.validId(id) ? o.reports.get(id) : null;
    if (!report) return void res.status(404).json({ error: `no report ${JSON.stringify(id)}; GET /api/v1/reports lists them` });
    res.json(report);
  });
  return r;
}
