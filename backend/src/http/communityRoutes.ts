/**
 * 社群 API:
 *  - GET /api/v1/communities/search?q=望京&limit=20 (read): type-ahead over every admitted
 *    community id and every named one, by part of the id or the name; `{items:[{id,name}], total}`.
 *  - GET /api/v1/communities/names?ids=a,b (read): names for ids (labels of split series).
 *  - PUT /api/v1/communities/names (admin): `{names:{id:name}}` or `{names:[{id,name}]}`;
 *    an empty name removes it. Fed by a person or a connector (WeCom group names).
 *  - GET /api/v1/communities/sizes?ids=a,b (read): latest member count per group, null when none.
 *  - PUT /api/v1/communities/sizes (admin): `{sizes:{id:members}}` or `{sizes:[{id,members}]}`:
 *    member-count snapshots (the 退群潮 rule divides a day's net loss by them).
 *  - GET /api/v1/communities/top?by=messages&range=today|24h|7d|30d&order=desc&limit=10 (read):
 *    per-group totals ranked on one measure, with names and the number of groups.
 *  - GET /api/v1/communities/active?range=today|yesterday|24h|7d|30d&limit=10 (read): groups
 *    ranked by distinct active members over the range (ActiveMembersTop); with
 *    `community=<id>&granularity=hour|day` that group's active members per period instead.
 *  - GET /api/v1/communities/board?limit=15 (read): the wall's 社群 board (most active today,
 *    fastest growing, losing members, 沉默群), each entry with a 14-day sparkline.
 */
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { CommunityNames } from '../communities/names.js';
import { CommunityNameError } from '../communities/names.js';
import { GROUP_MEASURES, type GroupRanking } from '../communities/ranking.js';
import type { CommunityBoardService } from '../communities/board.js';
import { CommunitySizeError, type CommunitySizes } from '../communities/sizes.js';
import { DAY, HOUR, dayStart } from '../time/zone.js';
import type { ActiveMembersSeries, ActiveMembersTop } from '@siyu-pulse/contracts/communities';
import { groupActiveSeries, topActiveGroups } from '../communities/activeMembers.js';
import type { MetricStore } from '../store/port.js';
import { requireScope, type AccessPolicy } from './auth.js';

export interface CommunityRouteOptions {
  policy: AccessPolicy;
  names: CommunityNames;
  /** Member-count snapshots; absent: the sizes route is not served. */
  sizes?: CommunitySizes;
  /** Admitted community values (the cardinality guard's set). */
  knownIds(): Iterable<string>;
  ranking: GroupRanking;
  board: CommunityBoardService;
  /** Where the per-group active members' sketches are read (communities/activeMembers.ts). */
  store: MetricStore;
  timezone: string;
  now?: () => number;
}

const MAX_PUT = 100_000;
const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);
const SearchQuery = z.object({ q: z.string().max(60).default(''), limit: limit(50, 20), token: z.string().optional() }).strict();
const NamesQuery = z.object({ ids: z.string().max(20_000), token: z.string().optional() }).strict();
const PutBody = z.strictObject({
  names: z.union([
    z.record(z.string(), z.string()),
    z.array(z.strictObject({ id: z.string(), name: z.string() })),
  ]),
});
const SizesBody = z.strictObject({
  sizes: z.union([z.record(z.string(), z.number()), z.array(z.strictObject({ id: z.string(), members: z.number() }))]),
});
const RANGES = ['today', 'yesterday', '24h', '7d', '30d'] as const;
const TopQuery = z
  .object({
    by: z.enum(GROUP_MEASURES).default('messages'),
    order: z.enum(['desc', 'asc']).default('desc'),
    range: z.enum(RANGES).default('today'),
    limit: limit(100, 10),
    channel: z.string().min(1).max(128).optional(),
    token: z.string().optional(),
  })
  .strict();

const ActiveQuery = z
  .object({
    range: z.enum(RANGES).default('today'),
    limit: limit(100, 10),
    community: z.string().min(1).max(128).optional(),
    granularity: z.enum(['hour', 'day']).default('hour'),
    token: z.string().optional(),
  })
  .strict();

function invalid(res: Response, error: z.ZodError): void {
  res.status(400).json({ error: error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
}

/** [from, to) of a named range in the business time zone. */
export function rangeBounds(range: (typeof RANGES)[number], now: number, tz: string): { from: number; to: number } {
  const today = dayStart(now, tz);
  switch (range) {
    case 'today':
      return { from: today, to: now };
    case 'yesterday':
      return { from: dayStart(today - HOUR, tz), to: today };
    case '24h':
      return { from: now - DAY, to: now };
    case '7d':
      return { from: dayStart(today - 6 * DAY + 2 * HOUR, tz), to: now };
    case '30d':
      return { from: dayStart(today - 29 * DAY + 2 * HOUR, tz), to: now };
  }
}

export function communityRouter(o: CommunityRouteOptions): Router {
  const r = Router();
  const read = requireScope(o.policy, 'read');
  const admin = requireScope(o.policy, 'admin');
  const now = o.now ?? Date.now;

  r.get('/api/v1/communities/search', read, (req, res) => {
    const q = SearchQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    res.json(o.names.search(q.data.q, o.knownIds(), q.data.limit));
  });
  r.get('/api/v1/communities/names', read, (req, res) => {
    const q = NamesQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const ids = q.data.ids.split(',').filter(Boolean).slice(0, 1000);
    res.json({ names: Object.fromEntries(ids.map((id) => [id, o.names.name(id)])) });
  });
  r.get('/api/v1/communities/sizes', read, (req, res) => {
    if (!o.sizes) return void res.status(404).json({ error: 'community sizes are not kept by this server' });
    const q = NamesQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const all = o.sizes.all();
    const ids = q.data.ids.split(',').filter(Boolean).slice(0, 1000);
    res.json({ sizes: Object.fromEntries(ids.map((id) => [id, all[id] ?? null])) });
  });
  r.put('/api/v1/communities/names', admin, express.json({ limit: '8mb' }), async (req, res) => {
    const b = PutBody.safeParse(req.body);
    if (!b.success) return invalid(res, b.error);
    const entries = Array.isArray(b.data.names) ? b.data.names : Object.entries(b.data.names).map(([id, name]) => ({ id, name }));
    if (entries.length > MAX_PUT) return void res.status(413).json({ error: `at most ${MAX_PUT} names per request, got ${entries.length}` });
    try {
      res.json({ ...(await o.names.setMany(entries)), named: o.names.size });
    } catch (err) {
      if (err instanceof CommunityNameError) res.status(400).json({ error: err.message });
      else throw err;
    }
  });
  r.put('/api/v1/communities/sizes', admin, express.json({ limit: '8mb' }), async (req, res) => {
    if (!o.sizes) return void res.status(404).json({ error: 'community sizes are not kept by this server' });
    const b = SizesBody.safeParse(req.body);
    if (!b.success) return invalid(res, b.error);
    const entries = Array.isArray(b.data.sizes) ? b.data.sizes : Object.entries(b.data.sizes).map(([id, members]) => ({ id, members }));
    if (entries.length > MAX_PUT) return void res.status(413).json({ error: `at most ${MAX_PUT} sizes per request, got ${entries.length}` });
    try {
      res.json({ ...(await o.sizes.setMany(entries)), groups: o.sizes.size });
    } catch (err) {
      if (err instanceof CommunitySizeError) res.status(400).json({ error: err.message });
      else throw err;
    }
  });
  r.get('/api/v1/communities/top', read, async (req, res) => {
    const q = TopQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const { from, to } = rangeBounds(q.data.range, now(), o.timezone);
    const result = await o.ranking.rank({ from, to, by: q.data.by, order: q.data.order, limit: q.data.limit, ...(q.data.channel ? { channel: q.data.channel } : {}) });
    res.json({ ...result, range: q.data.range, rows: result.rows.map((row) => ({ ...row, name: o.names.name(row.community) })) });
  });
  r.get('/api/v1/communities/active', read, async (req, res) => {
    const q = ActiveQuery.safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    const t = now();
    const { from, to } = rangeBounds(q.data.range, t, o.timezone);
    const day = (ts: number) => dayStart(ts, o.timezone);
    if (q.data.community !== undefined) {
      // Period starts in [from, to): the period holding `to` (now) is the open one, included.
      const g = q.data.granularity;
      const f = g === 'day' ? day(from) : Math.floor(from / HOUR) * HOUR;
      const points = await groupActiveSeries(o.store, q.data.community, g, f, to + 1);
      const body: ActiveMembersSeries = { community: q.data.community, name: o.names.name(q.data.community), granularity: g, points };
      return void res.json(body);
    }
    // A range that runs to now reads whole days up to the end of today (nothing later is stored).
    const end = to === t && q.data.range !== '24h' ? day(t) + DAY : to;
    const top = await topActiveGroups(o.store, from, end, q.data.limit, day);
    const body: ActiveMembersTop = { range: q.data.range, from, to, groups: top.groups, rows: top.rows.map((r) => ({ ...r, name: o.names.name(r.community) })) };
    res.json(body);
  });
  r.get('/api/v1/communities/board', read, async (req, res) => {
    const q = z.object({ limit: limit(30, 15), token: z.string().optional() }).strict().safeParse(req.query);
    if (!q.success) return invalid(res, q.error);
    res.json(await o.board.board(q.data.limit));
  });
  return r;
}
