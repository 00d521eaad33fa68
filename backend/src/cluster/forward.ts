/**
 * Cluster mode: the alert engine runs on the lease holder only, so a request about its
 * state (alerts, rules, silences, acks, notifiers, feedback) that the load balancer sent to
 * a standby node is forwarded to the holder and its answer passed back unchanged. The alert
 * center then shows the same thing whichever node serves the page, and a silence set
 * through any node reaches the node that evaluates.
 *
 * The state behind these paths is in Redis (sharedState.ts): the holder writes it (fenced by
 * its lease) and a node that takes over reads it again, so nothing is lost with the holder.
 *
 * A forwarded request carries `x-pulse-forwarded`; a node never forwards such a request
 * again (a holder that lost the lease in between answers 503, and the caller retries).
 * Written as a small fetch pass-through rather than with a proxy library: one upstream
 * chosen per request from Redis, bodies of a few KB, no websockets or streaming.
 */
import { Readable } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';

const FORWARDED = 'x-pulse-forwarded';
/**
 * Paths the engine answers (prefix match); also the weekly reports and the morning brief, which
 * the evaluating node makes and sends (its outbox is the one that delivers).
 */
export const LEADER_PATHS = ['/api/v1/alerts', '/api/v1/rules', '/api/v1/silences', '/api/v1/notifiers', '/api/v1/feedback', '/api/v1/reports', '/api/v1/briefs'];
/** Request headers passed on (authorization for the token, the rest for the body and language). */
const PASSED = ['authorization', 'content-type', 'accept', 'accept-language'];
/** Answer headers passed back. */
const RETURNED = ['content-type', 'retry-after', 'cache-control', 'content-disposition'];

export interface LeaderDirectory {
  /** Whether this node holds the lease. */
  readonly leader: boolean;
  /** The holder's base URL (PULSE_CLUSTER_ADVERTISE_URL of that node), or null during an election. */
  leaderUrl(): Promise<string | null>;
}

export function forwardToLeader(dir: LeaderDirectory, timeoutMs = 15_000) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (dir.leader || !LEADER_PATHS.some((p) => req.path === p || req.path.startsWith(`${p}/`))) return next();
    const retry = (why: string) => void res.status(503).set('retry-after', '5').json({ error: `the node that evaluates alerts cannot be reached (${why}); retry in a few seconds` });
    if (req.headers[FORWARDED]) return retry('a leader change is in progress');
    const base = await dir.leaderUrl().catch(() => null);
    if (!base) return retry('no node holds the lease right now');
    const headers: Record<string, string> = { [FORWARDED]: '1' };
    for (const h of PASSED) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    try {
      const answer = await fetch(new URL(req.originalUrl, base), {
        method: req.method,
        headers,
        body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
        // Required by fetch for a streamed request body.
        ...(hasBody ? { duplex: 'half' } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      } as RequestInit);
      res.status(answer.status);
      for (const h of RETURNED) {
        const v = answer.headers.get(h);
        if (v !== null) res.set(h, v);
      }
      res.send(Buffer.from(await answer.arrayBuffer()));
    } catch (err) {
      retry((err as Error).message);
    }
  };
}
