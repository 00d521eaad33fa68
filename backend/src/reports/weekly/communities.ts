/**
 * Section 社群健康: how the week's groups fared, from per-group totals (one ranking query per
 * week over every group, the same GroupRanking the 社群 board and `/api/v1/communities/top` use):
 * - active (活跃群): at least one message in the week;
 * - silent (沉默群): messages in the week before and none this week (a normally active group
 *   gone quiet; the week before that gives last week's count for the change);
 * - shrinking (缩减群): more members left than joined over the week (net < 0);
 * - the best ten by messages (with their change on the week before and net members) and the
 *   worst ten by members lost (net, most negative first), named as people know them;
 * - when the week's groups have active members (per-group sketches: people who sent a message,
 *   interacted, joined …; communities/activeMembers.ts), each listed group's distinct active
 *   members over the week, and the group with the most of them in the finding. Left out for a
 *   week without any (producers that send no member ids, history imported without members).
 * Left out when no group had any event in either week (a business without 社群).
 */
import { GroupRanking, type GroupRow } from '../../communities/ranking.js';
import { activeMembersOf, topActiveGroups } from '../../communities/activeMembers.js';
import { dayStart } from '../../time/zone.js';
import type { ReportMetric, ReportSection } from '@siyu-pulse/contracts/reports';
import { formatKpi as formatValue, type Lang } from '@siyu-pulse/contracts/format';
import type { Week } from '../week.js';
import { lbl, relativeChange, toneOf, type Value } from './parts.js';
import type { Reader } from './reader.js';

/** Rows in each of the two lists. */
export const COMMUNITY_LIST = 10;
const COUNTERS = ['message', 'member_join', 'member_leave'] as const;

export interface CommunityWeek {
  /** Groups with any message, join or leave in the week. */
  groups: number;
  active: number;
  silent: number;
  shrinking: number;
}

export interface CommunityRankRow {
  community: string;
  messages: number;
  /** The group's messages the week before (0 when it had none). */
  previousMessages: number;
  change: Value;
  joins: number;
  leaves: number;
  net: number;
}

export interface CommunityHealth {
  week: CommunityWeek;
  previous: CommunityWeek;
  best: CommunityRankRow[];
  worst: CommunityRankRow[];
}

const byId = (a: { community: string }, b: { community: string }) => (a.community < b.community ? -1 : a.community > b.community ? 1 : 0);

function weekCounts(rows: readonly GroupRow[], before: ReadonlyMap<string, GroupRow>): CommunityWeek {
  let groups = 0;
  let active = 0;
  let shrinking = 0;
  const spoke = new Set<string>();
  for (const r of rows) {
    if (r.messages > 0 || r.joins > 0 || r.leaves > 0) groups++;
    if (r.messages > 0) {
      active++;
      spoke.add(r.community);
    }
    if (r.net < 0) shrinking++;
  }
  let silent = 0;
  for (const [id, r] of before) if (r.messages > 0 && !spoke.has(id)) silent++;
  return { groups, active, silent, shrinking };
}

/**
 * The section's numbers from per-group totals of three consecutive weeks (the report's week,
 * the one before, and the one before that, which only feeds last week's silent count).
 * Pure, so the test can hand-compute the same figures from the events it sent.
 */
export function communityHealth(week: readonly GroupRow[], prev: readonly GroupRow[], prev2: readonly GroupRow[], limit = COMMUNITY_LIST): CommunityHealth {
  const prevById = new Map(prev.map((r) => [r.community, r]));
  const prev2ById = new Map(prev2.map((r) => [r.community, r]));
  const row = (r: GroupRow): CommunityRankRow => {
    const before = prevById.get(r.community)?.messages ?? 0;
    return { community: r.community, messages: r.messages, previousMessages: before, change: relativeChange(r.messages, before), joins: r.joins, leaves: r.leaves, net: r.net };
  };
  const best = week
    .filter((r) => r.messages > 0)
    .sort((a, b) => b.messages - a.messages || byId(a, b))
    .slice(0, limit)
    .map(row);
  const worst = week
    .filter((r) => r.net < 0)
    .sort((a, b) => a.net - b.net || b.leaves - a.leaves || byId(a, b))
    .slice(0, limit)
    .map(row);
  return { week: weekCounts(week, prevById), previous: weekCounts(prev, prev2ById), best, worst };
}

async function totals(ranking: GroupRanking, w: Week): Promise<GroupRow[]> {
  return (await ranking.totals(w.from, w.to, COUNTERS)).rows;
}

const count = (n: number, lang: Lang) => formatValue(n, 'count', lang);

export async function communities(r: Reader): Promise<ReportSection | null> {
  const ranking = new GroupRanking(r.input.store, r.tz);
  const prev2: Week = { from: r.prev.from - (r.prev.to - r.prev.from), to: r.prev.from };
  const [now, before, beforeThat] = await Promise.all([totals(ranking, r.week), totals(ranking, r.prev), totals(ranking, prev2)]);
  const h = communityHealth(now, before, beforeThat);
  if (!h.week.groups && !h.previous.groups) return null;
  const name = (id: string) => r.input.communityName?.(id) ?? id;
  // Active members: the week's best group by them (kept day rankings), and each listed group's.
  const mostMembers = (await topActiveGroups(r.input.store, r.week.from, r.week.to, 1, (ts) => dayStart(ts, r.tz))).rows[0];
  const members = mostMembers ? await activeMembersOf(r.input.store, [...new Set([...h.best, ...h.worst].map((x) => x.community))], r.week.from, r.week.to) : null;

  const metric = (zh: string, en: string, key: keyof CommunityWeek, good: 'up' | 'down' | 'neutral'): ReportMetric => {
    const change = relativeChange(h.week[key], h.previous[key]);
    return { label: lbl(zh, en), unit: 'count', value: h.week[key], previous: h.previous[key], change, tone: toneOf(good, change) };
  };
  const metrics = [
    metric('活跃群（有消息）', 'Active groups (with messages)', 'active', 'up'),
    metric('沉默群（上周有消息、本周没有）', 'Silent groups (talked last week, not this week)', 'silent', 'down'),
    metric('缩减群（退群多于入群）', 'Shrinking groups (more left than joined)', 'shrinking', 'down'),
  ];
  const vsPrev = (key: keyof CommunityWeek, lang: Lang) => (lang === 'zh' ? `（上周 ${count(h.previous[key], 'zh')}）` : ` (${count(h.previous[key], 'en')} the week before)`);
  const top = h.best[0];
  const low = h.worst[0];
  const zh =
    `本周 ${count(h.week.groups, 'zh')} 个群有动态，其中活跃群 ${count(h.week.active, 'zh')} 个${vsPrev('active', 'zh')}；` +
    `沉默群 ${count(h.week.silent, 'zh')} 个${vsPrev('silent', 'zh')}；缩减群 ${count(h.week.shrinking, 'zh')} 个${vsPrev('shrinking', 'zh')}。` +
    (top ? `最活跃：${name(top.community)}，${count(top.messages, 'zh')} 条消息。` : '') +
    (mostMembers ? `活跃成员最多：${name(mostMembers.community)}，${count(mostMembers.members, 'zh')} 人。` : '') +
    (low ? `流失最多：${name(low.community)}，净减少 ${count(-low.net, 'zh')} 人。` : '');
  const en =
    `${count(h.week.groups, 'en')} groups had activity this week; ${count(h.week.active, 'en')} active${vsPrev('active', 'en')}, ` +
    `${count(h.week.silent, 'en')} silent${vsPrev('silent', 'en')}, ${count(h.week.shrinking, 'en')} shrinking${vsPrev('shrinking', 'en')}.` +
    (top ? ` Most active: ${name(top.community)}, ${count(top.messages, 'en')} messages.` : '') +
    (mostMembers ? ` Most active members: ${name(mostMembers.community)}, ${count(mostMembers.members, 'en')}.` : '') +
    (low ? ` Most members lost: ${name(low.community)}, net −${count(-low.net, 'en')}.` : '');
  // The list and the rank in one cell ("最活跃 1"): five columns (six with active members) fit a phone.
  const rows = (list: CommunityRankRow[], zhList: string) =>
    list.map((x, i) => [`${zhList} ${i + 1}`, name(x.community), x.messages, ...(members ? [members.get(x.community) ?? 0] : []), x.change, x.net]);
  return {
    id: 'communities',
    title: lbl('社群健康', 'Community health'),
    finding: lbl(zh, en),
    metrics,
    table: {
      columns: [lbl('榜单', 'List'), lbl('社群', 'Group'), lbl('消息', 'Messages'), ...(members ? [lbl('活跃成员', 'Active members')] : []), lbl('环比', 'WoW'), lbl('净增', 'Net')],
      units: ['text', 'text', 'count', ...(members ? (['count'] as const) : []), 'percent', 'count'],
      keys: ['list', 'community', 'messages', ...(members ? ['active_members'] : []), 'change', 'net'],
      // A phone shows five columns: the members column is left out there (the page's wider widths, the PDF and DingTalk keep it).
      ...(members ? { wideOnly: [false, false, false, true, false, false] } : {}),
      rows: [...rows(h.best, '最活跃'), ...rows(h.worst, '流失最多')],
    },
    link: r.link(['messages', 'new_members', 'lost_members'], top ? { community: top.community } : {}),
  };
}

