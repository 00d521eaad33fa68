/**
 * Morning brief, admin side: `POST /api/v1/briefs/morning` sends yesterday's brief now to
 * every subscribed robot (the same path as the schedule: outbox, limiter, signing) and
 * answers what was queued with its numbers; `GET /api/v1/briefs/morning` previews the
 * numbers and texts without sending (read).
 */
import { Router } from 'express';
import type { MorningBrief } from '../brief/morningBrief.js';
import { requireScope, type AccessPolicy } from './auth.js';

export function briefRouter(o: { policy: AccessPolicy; brief: MorningBrief }): Router {
  const r = Router();
  r.get('/api/v1/briefs/morning', requireScope(o.policy, 'read'), async (_req, res) => {
    const subs = o.brief.subscriptionList();
    const out = [];
    for (const s of subs) {
      const brief = await o.brief.build(s.kpis);
      out.push({ notifier: s.notifier, brief, message: o.brief.render(brief, s.notifier) });
    }
    res.json({ briefs: out });
  });
  r.post('/api/v1/briefs/morning', requireScope(o.policy, 'admin'), async (_req, res) => {
    const sent = await o.brief.send();
    if (!sent.length) return void res.status(409).json({ error: 'no morning brief subscription names a configured notifier (PULSE_BRIEF_SUBSCRIPTIONS)' });
    res.status(202).json({ briefs: sent });
  });
  return r;
}
