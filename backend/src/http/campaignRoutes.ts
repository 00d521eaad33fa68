/**
 * Campaigns (大促 / 活动): `GET /api/v1/campaigns` (read; the trends chart and the wall draw
 * them as bands) lists the calendar's campaigns, from its YAML files and from this API;
 * `POST` creates or replaces and `DELETE` removes the API's own (admin). Times are epoch ms,
 * ISO 8601 with a zone, or 'YYYY-MM-DD[ HH:MM]' in Beijing time.
 */
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import { CampaignError, type CampaignService } from '../calendar/campaigns.js';
import { requireScope, type AccessPolicy } from './auth.js';

export interface CampaignRouteOptions {
  policy: AccessPolicy;
  campaigns: CampaignService;
}

/** An ISO 8601 instant with its zone becomes epoch ms; local 'YYYY-MM-DD HH:MM' goes to the calendar as Beijing time. */
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?$/;
const time = z.union([z.number().int(), z.string().trim().min(1)]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const local = LOCAL.exec(v);
  if (local) {
    // Checked here so a 13th month is named as such (the calendar takes the text as it is).
    const [, y, mo, d, h = 0, mi = 0] = local.map((x) => (x === undefined ? undefined : Number(x)));
    const day = new Date(Date.UTC(y!, mo! - 1, d!));
    if (day.getUTCMonth() !== mo! - 1 || day.getUTCDate() !== d || h! > 23 || mi! > 59) {
      ctx.addIssue({ code: 'custom', message: `not a time 'YYYY-MM-DD HH:MM' (Beijing time): ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return v;
  }
  const t = /T.*(Z|[+-]\d{2}:?\d{2})$/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: 'custom', message: `not a time: epoch ms, ISO 8601 with a zone, or 'YYYY-MM-DD HH:MM' (Beijing time), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return t;
});
const CampaignBody = z.strictObject({
  id: z.string().min(1).max(80).optional(),
  name: z.string().trim().min(1, 'give the campaign a name').max(60),
  start: time,
  end: time,
  channels: z.array(z.string().min(1)).min(1).max(50).optional(),
});
const queryTime = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return undefined;
    const t = /^\d{1,15}$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(t)) {
      ctx.addIssue({ code: 'custom', message: 'epoch ms or ISO 8601' });
      return z.NEVER;
    }
    return t;
  });
const ListQuery = z.strictObject({ from: queryTime, to: queryTime, channel: z.string().min(1).optional(), token: z.string().optional() });

function invalid(res: Response, error: z.ZodError): void {
  res.status(400).json({ error: error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
}

function refused(res: Response, err: unknown): void {
  if (err instanceof CampaignError) res.status(err.status).json({ error: err.message });
  else throw err;
}

export function campaignRouter(o: CampaignRouteOptions): Router {
  const r = Router();
  const read = requireScope(o.policy, 'read');
  const admin = requireScope(o.policy, 'admin');

  r.get('/api/v1/campaigns', read, (req, res) => {
    const q = ListQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const { from, to, channel } = q.data;
    if (from !== undefined && to !== undefined && from >= to) return void res.status(400).json({ error: 'from must be before to' });
    res.json({ campaigns: o.campaigns.list({ ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(channel ? { channel } : {}) }) });
  });
  r.post('/api/v1/campaigns', admin, express.json({ limit: '8kb' }), async (req, res) => {
    const b = CampaignBody.safeParse(req.body);
    if (!b.success) return invalid(res, b.error);
    try {
      const { campaign, replaced } = await o.campaigns.save(b.data);
      res.status(replaced ? 200 : 201).json({ campaign, replaced });
    } catch (err) {
      refused(res, err);
    }
  });
  r.delete('/api/v1/campaigns/:id', admin, async (req, res) => {
    try {
      res.json({ campaign: await o.campaigns.remove(req.params.id as string) });
    } catch (err) {
      refused(res, err);
    }
  });
  return r;
}
