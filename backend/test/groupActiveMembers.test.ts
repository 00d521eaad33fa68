/**
 * Per-group active members (collector/groupMembers.ts → group sketches → communities/
 * activeMembers.ts), on DuckDB and a real influxd. A skewed population of groups (a few
 * lively with hundreds of members, a long tail with a handful; members in several groups)
 * sends two days of events through the collector: active ones (messages, interactions,
 * joins) and others that do not make a member active (leaves, pushes). Then a restarted
 * process takes late events in an hour and a day the first one wrote (members new and old),
 * and a second node counts members in a group period the first one holds too. Every group's
 * active members per hour and per day, and over the span for the top-10, equal the distinct
 * members sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventType } from '@siyu-pulse/contracts/catalogue';
import type { CountableEvent } from '../src/collector/counters.js';
import { groupActiveSeries, topActiveGroups } from '../src/communities/activeMembers.js';
import { groupPopulation } from '../src/communities/population.js';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import { mulberry32 } from '../src/simulator/random.js';
import { DAY, HOUR, MINUTE, dayStart, floorTo } from '../src/time/zone.js';
import { openGroupStore, type GroupStore } from './harness/groupStore.js';
import { collectorWritingTo } from './harness/collector.js';
import { influxdOrSkip } from './harness/influxd.js';

const TZ = 'Asia/Shanghai';
const GROUPS = 300;
const ACTIVE: EventType[] = ['message', 'interaction', 'member.join'];
const hasher = createMemberHasher('group-active-test');

// A fixed instant: 10:25 Beijing time, so "today" has whole hours before it.
const NOW = dayStart(Date.now(), TZ) - 2 * DAY + 10 * HOUR + 25 * MINUTE;
const YESTERDAY = dayStart(NOW, TZ) - DAY;
const TODAY = YESTERDAY + DAY;

/** Expected: group → period start → member ids. */
type Members = Map<string, Map<number, Set<string>>>;
function note(m: Members, group: string, period: number, member: string): void {
  let g = m.get(group);
  if (!g) m.set(group, (g = new Map()));
  let p = g.get(period);
  if (!p) g.set(period, (p = new Set()));
  p.add(member);
}

interface Sent {
  event: CountableEvent;
  id: string;
}

/** Two days of events: group i draws its members from its own pool (sized by its activity) and a shared one. */
function events(): Sent[] {
  const rnd = mulberry32(1717);
  const out: Sent[] = [];
  for (const [i, g] of groupPopulation(GROUPS, 31, 400).entries()) {
    const tags = { channel: i % 3 ? 'wechat_group' : 'wecom', community: g.id, campaign: '' };
    const pool = Math.max(3, Math.round(g.messages * 0.8));
    for (const [day, end] of [[YESTERDAY, TODAY], [TODAY, NOW - MINUTE]] as const) {
      const n = g.messages + g.interactions + g.joins;
      for (let k = 0; k < n + 4; k++) {
        // One member in ten also sits in other groups (a shared pool).
        const id = rnd() < 0.1 ? `shared-${Math.floor(rnd() * 200)}` : `${g.id}-m${Math.floor(rnd() * pool)}`;
        const type: EventType = k >= n ? (k % 2 ? 'member.leave' : 'push.sent') : ACTIVE[k % ACTIVE.length]!;
        out.push({ id, event: { type, ts: day + Math.floor(rnd() * (end - day)), tags, member: hasher(id) } });
      }
    }
  }
  return out.sort((a, b) => a.event.ts - b.event.ts);
}

for (const kind of ['duckdb', 'influx'] as const) {
  const runIt = kind === 'duckdb' || influxdOrSkip('per-group active members (influx)');
  describe.runIf(runIt)(`per-group active members (${kind})`, () => {
    let g: GroupStore;
    const byHour: Members = new Map();
    const byDay: Members = new Map();
    const all = events();
    const at = (id: string, type: EventType, ts: number, community: string): Sent => ({ id, event: { type, ts, tags: { channel: 'wechat_group', community, campaign: '' }, member: hasher(id) } });
    // After the restart: yesterday 03:xx of a tail group (long closed, evicted) with a new and a known member,
    // today's current hour of the top group with a new member; a second node in the top group's hour too.
    const lateQuiet = all.find((s) => s.event.tags.community === 'g00299' && s.event.ts < TODAY && s.event.type === 'message')!;
    const restarted = [
      at('late-new', 'message', floorTo(lateQuiet.event.ts, HOUR) + 59 * 1000, 'g00299'),
      at(lateQuiet.id, 'interaction', floorTo(lateQuiet.event.ts, HOUR) + 58 * 1000, 'g00299'),
      at('restart-new', 'message', NOW + 2 * MINUTE, 'g00000'),
      at('restart-leaver', 'member.leave', NOW + 2 * MINUTE, 'g00000'),
    ];
    const otherNode = [at('node2-new', 'message', NOW + 3 * MINUTE, 'g00000'), at(all.find((s) => s.event.tags.community === 'g00000' && s.event.ts >= floorTo(NOW, HOUR) && ACTIVE.includes(s.event.type))?.id ?? 'x', 'message', NOW + 3 * MINUTE, 'g00000')];

    beforeAll(async () => {
      g = await openGroupStore(kind, 'pulse-group-active-', 30_000);
      const first = collectorWritingTo(g.store, () => NOW);
      await first.seedFromStore();
      for (const s of all) first.add(s.event, NOW);
      await first.flush();
      // A restarted process, 10 minutes later.
      const second = collectorWritingTo(g.store, () => NOW + 10 * MINUTE);
      await second.seedFromStore();
      for (const s of restarted) second.add(s.event, NOW + 10 * MINUTE);
      await second.flush();
      // Another node of a cluster, writing its own rows of the same group periods.
      const node2 = collectorWritingTo(g.store, () => NOW + 10 * MINUTE, TZ, 'node-2');
      for (const s of otherNode) node2.add(s.event, NOW + 10 * MINUTE);
      await node2.flush();
      for (const s of [...all, ...restarted, ...otherNode]) {
        if (!ACTIVE.includes(s.event.type)) continue;
        note(byHour, s.event.tags.community, floorTo(s.event.ts, HOUR), s.id);
        note(byDay, s.event.tags.community, dayStart(s.event.ts, TZ), s.id);
      }
    }, 120_000);
    afterAll(async () => {
      await g?.stop();
    });

    const sizes = (m: Map<number, Set<string>> | undefined) => [...(m ?? new Map<number, Set<string>>()).entries()].sort((a, b) => a[0] - b[0]).map(([ts, s]) => ({ ts, members: s.size }));

    it('every group’s active members per hour and per day equal the distinct members sent', async () => {
      expect(byDay.size).toBe(GROUPS);
      expect(byDay.get('g00000')!.get(TODAY)!.size).toBeGreaterThan(100); // a lively group
      for (const [id, days] of byDay) {
        expect(await groupActiveSeries(g.store, id, 'day', YESTERDAY, TODAY + DAY), `${id} by day`).toEqual(sizes(days));
      }
      for (const id of ['g00000', 'g00001', 'g00017', 'g00150', 'g00299']) {
        expect(await groupActiveSeries(g.store, id, 'hour', YESTERDAY, TODAY + DAY), `${id} by hour`).toEqual(sizes(byHour.get(id)));
      }
      // The restarted process's late events merged into what the first one wrote (one new member, one known).
      const hour = floorTo(lateQuiet.event.ts, HOUR);
      expect(byHour.get('g00299')!.get(hour)!.has('late-new')).toBe(true);
      // Leaves and pushes make nobody active: a group's members never exceed who was active.
      expect(byDay.get('g00000')!.get(TODAY)!.has('restart-leaver')).toBe(false);
    });

    it('the top-10 by active members over a day and over the span rank as the members sent', async () => {
      const span = (from: number, to: number) => {
        const out: [string, number][] = [];
        for (const [id, days] of byDay) {
          const u = new Set<string>();
          for (const [ts, s] of days) if (ts >= from && ts < to) for (const m of s) u.add(m);
          if (u.size) out.push([id, u.size]);
        }
        return out.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      };
      const dayStartOf = (ts: number) => dayStart(ts, TZ);
      for (const [from, to] of [[YESTERDAY, TODAY], [YESTERDAY, TODAY + DAY]] as const) {
        const expected = span(from, to);
        const top = await topActiveGroups(g.store, from, to, 10, dayStartOf);
        expect(top.groups).toBe(expected.length);
        expect(top.rows.map((r) => [r.community, r.members])).toEqual(expected.slice(0, 10));
      }
      // A range of hours reads the hour sketches: today until the top of the current hour.
      const hours = await topActiveGroups(g.store, TODAY, floorTo(NOW, HOUR), 3, dayStartOf);
      const expectedHours = [...byHour]
        .map(([id, h]) => {
          const u = new Set<string>();
          for (const [ts, s] of h) if (ts >= TODAY && ts < floorTo(NOW, HOUR)) for (const m of s) u.add(m);
          return [id, u.size] as [string, number];
        })
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      expect(hours.rows.map((r) => [r.community, r.members])).toEqual(expectedHours.slice(0, 3));
    });
  });
}
