/**
 * The wall's 社群 board: most active groups today, fastest growing, losing members, and
 * 沉默群 (groups that talked in the week before the last N days and sent nothing since).
 * Each entry carries its daily trend (14 days) for a sparkline. "Most active" ranks by the
 * day's distinct active members (per-group sketches, communities/activeMembers.ts: people,
 * so three members posting a thousand messages do not lead), or by messages when no group
 * has members today (producers that send no member ids); the other lists come from the
 * ranking's counter totals. Cached for a minute so several walls polling do not each scan
 * 20,000 groups.
 */
import { DAY, HOUR, dayStart } from '../time/zone.js';
import type { GroupMeasure, GroupRanking, GroupRow } from './ranking.js';
import type { CommunityNames } from './names.js';
import type { MetricStore } from '../store/port.js';
import { groupsActiveSeries, topActiveGroups } from './activeMembers.js';
import type { CommunityBoard } from '@siyu-pulse/contracts/communities';

const SPARK_DAYS = 14;
const CACHE_MS = 60_000;

export class CommunityBoardService {
  private cache: { at: number; limit: number; board: Promise<CommunityBoard> } | null = null;

  constructor(
    private readonly o: { store: MetricStore; ranking: GroupRanking; names: CommunityNames; timezone: string; silentDays: number; now?: () => number },
  ) {}

  board(limit: number): Promise<CommunityBoard> {
    const now = (this.o.now ?? Date.now)();
    if (this.cache && this.cache.limit >= limit && now - this.cache.at < CACHE_MS) return this.cache.board.then((b) => trim(b, limit));
    const board = this.build(now, limit);
    this.cache = { at: now, limit, board };
    board.catch(() => {
      if (this.cache?.board === board) this.cache = null;
    });
    return board;
  }

  private async build(now: number, limit: number): Promise<CommunityBoard> {
    const { ranking, timezone: tz, silentDays } = this.o;
    const today = dayStart(now, tz);
    const quietFrom = today - (silentDays - 1) * DAY;
    const [members, growing, losing, before, recent, month] = await Promise.all([
      topActiveGroups(this.o.store, today, dayStart(today + 27 * HOUR, tz), limit, (ts) => dayStart(ts, tz)),
      ranking.rank({ from: today, to: now, by: 'net', order: 'desc', limit }),
      ranking.rank({ from: today, to: now, by: 'net', order: 'asc', limit }),
      ranking.totals(quietFrom - 7 * DAY, quietFrom, ['message']),
      ranking.totals(quietFrom, now, ['message']),
      ranking.totals(today - 29 * DAY, now, ['message']),
    ]);
    const spoke = new Set(recent.rows.filter((r) => r.messages > 0).map((r) => r.community));
    const silent = before.rows
      .filter((r) => r.messages > 0 && !spoke.has(r.community))
      .sort((a, b) => b.messages - a.messages || (a.community < b.community ? -1 : 1))
      .slice(0, limit);
    const entries = (rows: GroupRow[], measure: GroupMeasure, keep: (r: GroupRow) => boolean) =>
      Promise.all(rows.filter(keep).map(async (r) => ({ community: r.community, name: this.o.names.name(r.community), value: r[measure], spark: await this.spark(r.community, measure, today) })));
    const byMembers = members.rows.length > 0;
    return {
      generatedAt: now,
      silentDays,
      groups: month.rows.length,
      activeBy: byMembers ? 'members' : 'messages',
      lists: {
        active: byMembers
          ? await this.memberEntries(members.rows, today)
          : // Only producers that send no member ids get here: rank by messages then.
            await entries((await ranking.rank({ from: today, to: now, by: 'messages', order: 'desc', limit })).rows, 'messages', (r) => r.messages > 0),
        growing: await entries(growing.rows, 'net', (r) => r.net > 0),
        losing: await entries(losing.rows, 'net', (r) => r.net < 0),
        silent: await entries(silent, 'messages', () => true),
      },
    };
  }

  /** The most active groups with their active members per local day over the last 14 days (one sketch query for all). */
  private async memberEntries(rows: readonly { community: string; members: number }[], today: number): Promise<CommunityBoard['lists']['active']> {
    const tz = this.o.timezone;
    const days: number[] = [today];
    while (days.length < SPARK_DAYS) days.unshift(dayStart(days[0]! - 12 * HOUR, tz));
    const series = await groupsActiveSeries(this.o.store, rows.map((r) => r.community), 'day', days[0]!, dayStart(today + 27 * HOUR, tz));
    return rows.map((r) => {
      const byTs = new Map((series.get(r.community) ?? []).map((p) => [p.ts, p.members]));
      return { community: r.community, name: this.o.names.name(r.community), value: r.members, spark: days.map((d) => byTs.get(d) ?? 0) };
    });
  }

  /** The measure per local day over the last 14 days for one group (one small query). */
  private async spark(community: string, measure: GroupMeasure, today: number): Promise<number[]> {
    const from = today - (SPARK_DAYS - 1) * DAY;
    const counters = measure === 'net' ? ['member_join', 'member_leave'] : ['message'];
    const [s] = await this.o.store.queryCounters({ from, to: today + DAY, stepMs: DAY, offsetMs: from % DAY, counters, by: [], filter: { community } });
    const byTs = new Map((s?.points ?? []).map((p) => [p.ts, p.sums]));
    return Array.from({ length: SPARK_DAYS }, (_, i) => {
      const sums = byTs.get(from + i * DAY) ?? {};
      return measure === 'net' ? (sums.member_join ?? 0) - (sums.member_leave ?? 0) : (sums.message ?? 0);
    });
  }
}

function trim(b: CommunityBoard, limit: number): CommunityBoard {
  return { ...b, lists: Object.fromEntries(Object.entries(b.lists).map(([k, v]) => [k, v.slice(0, limit)])) as CommunityBoard['lists'] };
}
