/**
 * Daily pull of WeCom's customer-contact statistics into day-level counters (channel
 * `wecom`, one row per day at the day's start, see WECOM_STAT_COUNTERS):
 * - externalcontact/get_user_behavior_data (联系客户统计): chat_cnt, message_cnt,
 *   reply_percentage, avg_reply_time, negative_feedback_cnt, new_apply_cnt, new_contact_cnt;
 * - externalcontact/groupchat/statistic (群聊数据统计, 按群主聚合): new_chat_cnt, chat_total,
 *   chat_has_msg, new_member_cnt, member_total, member_has_msg, msg_total.
 * Both take at most 100 staff a call (the staff list comes from get_follow_user_list); the
 * behaviour API at most 30 days a call, the group API one day a call (a range is summed).
 * WeCom keeps 180 days (today included), so the first run backfills up to 179 complete days;
 * later runs re-pull the last 3 days (WeCom settles late) up to yesterday. A re-pulled day
 * replaces its counters (the store replaces a row with the same ts + tags), never adds.
 * WeCom's days are China days, whatever PULSE_TIMEZONE says.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { COUNTERS, WECOM_STAT_COUNTERS, type WeComStatCounter } from '@siyu-pulse/contracts/catalogue';
import type { CounterRow, MetricStore } from '../../store/port.js';
import { DAY, MINUTE, dayStart } from '../../time/zone.js';
import type { WeComApi } from './api.js';
import { WECOM_CHANNEL } from './events.js';

export const WECOM_TZ = 'Asia/Shanghai';
/** The writer id (InfluxDB tag `node`) of the statistics' rows in a cluster: the same whichever node pulls. */
export const WECOM_STATS_WRITER = 'wecom-stats';
/** Complete days WeCom still answers for: 180 days counting today. */
export const MAX_BACKFILL_DAYS = 179;
const REPULL_DAYS = 3;
const USERS_PER_CALL = 100;
const BEHAVIOR_DAYS_PER_CALL = 30;
const GROUP_PAGE = 1000;

type Sums = Record<WeComStatCounter, number>;
const zero = (): Sums => Object.fromEntries(WECOM_STAT_COUNTERS.map((c) => [c, 0])) as Sums;
const STAT_SET = new Set<string>(WECOM_STAT_COUNTERS);

export interface DailyStatsOptions {
  api: Pick<WeComApi, 'call'>;
  store: MetricStore;
  dataDir: string;
  backfillDays: number;
  /** Rows within this of now may still be rewritten by the collector: not touched yet. */
  bucketMs: number;
  latenessMs: number;
  /**
   * A cluster: the statistics are written under this writer id (WECOM_STATS_WRITER, the rows'
   * `node` tag), so their row never holds live events' counters: nothing is read and kept, and
   * whichever node holds the lease rewrites the same row. Else the row is shared with live
   * events of the day's first bucket (see write()).
   */
  writer?: string;
  logger: Logger;
  now?: () => number;
}

export interface PullResult {
  /** Day starts (epoch ms) written, oldest first. */
  days: number[];
  staff: number;
  calls: number;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

export class WeComDailyStats {
  private readonly now: () => number;
  private readonly stateFile: string;
  private running: Promise<PullResult> | null = null;

  constructor(private readonly o: DailyStatsOptions) {
    this.now = o.now ?? Date.now;
    this.stateFile = path.join(o.dataDir, 'connectors', 'wecom-stats.json');
  }

  /** One pull (concurrent calls share it). */
  run(): Promise<PullResult> {
    this.running ??= this.pull().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Resolves when no pull is running (shutdown waits for it before closing the store). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** The days a pull at `now` covers: [from, to] day starts. */
  range(now: number, lastDay: number | null): { from: number; to: number } | null {
    const today = dayStart(now, WECOM_TZ);
    let to = today - DAY;
    // The collector may still rewrite a row this young (lateness window): leave it to the next run.
    while (to + this.o.bucketMs + this.o.latenessMs + MINUTE > now) to -= DAY;
    const earliest = today - Math.min(this.o.backfillDays, MAX_BACKFILL_DAYS) * DAY;
    const from = lastDay === null ? earliest : Math.max(earliest, Math.min(lastDay - (REPULL_DAYS - 1) * DAY, to));
    return from <= to ? { from, to } : null;
  }

  private async pull(): Promise<PullResult> {
    const { api, logger } = this.o;
    const lastDay = this.readState();
    const span = this.range(this.now(), lastDay);
    if (!span) return { days: [], staff: 0, calls: 0 };
    let calls = 0;
    const call = <T extends Record<string, unknown>>(name: string, body?: unknown) => {
      calls++;
      return api.call<T>(name, body);
    };
    const { follow_user: staffRaw } = await call<{ follow_user?: unknown }>('externalcontact/get_follow_user_list');
    const staff = Array.isArray(staffRaw) ? staffRaw.filter((s): s is string => typeof s === 'string') : [];
    const chunks: string[][] = [];
    for (let i = 0; i < staff.length; i += USERS_PER_CALL) chunks.push(staff.slice(i, i + USERS_PER_CALL));

    const byDay = new Map<number, Sums>();
    for (let d = span.from; d <= span.to; d += DAY) byDay.set(d, zero());

    for (let start = span.from; start <= span.to; start += BEHAVIOR_DAYS_PER_CALL * DAY) {
      const end = Math.min(start + (BEHAVIOR_DAYS_PER_CALL - 1) * DAY, span.to);
      for (const userid of chunks) {
        const answer = await call<{ behavior_data?: unknown }>('externalcontact/get_user_behavior_data', { userid, start_time: start / 1000, end_time: end / 1000 });
        for (const row of Array.isArray(answer.behavior_data) ? (answer.behavior_data as Record<string, unknown>[]) : []) {
          const sums = byDay.get(dayStart(num(row.stat_time) * 1000, WECOM_TZ));
          if (sums) addBehavior(sums, row);
        }
      }
    }
    for (let day = span.from; day <= span.to; day += DAY) {
      const sums = byDay.get(day)!;
      for (const userid_list of chunks) {
        for (let offset = 0; ; ) {
          const answer = await call<{ items?: unknown; total?: unknown; next_offset?: unknown }>('externalcontact/groupchat/statistic', {
            day_begin_time: day / 1000,
            owner_filter: { userid_list },
            order_by: 1,
            order_asc: 0,
            offset,
            limit: GROUP_PAGE,
          });
          const items = Array.isArray(answer.items) ? (answer.items as { data?: Record<string, unknown> }[]) : [];
          for (const item of items) addGroups(sums, item.data ?? {});
          const next = num(answer.next_offset);
          if (items.length === 0 || next <= offset || next >= num(answer.total)) break;
          offset = next;
        }
      }
    }

    await this.write(byDay);
    this.writeState(span.to);
    const days = [...byDay.keys()];
    logger.info({ connector: 'wecom', from: new Date(span.from).toISOString(), to: new Date(span.to).toISOString(), days: days.length, staff: staff.length, calls, backfill: lastDay === null }, 'WeCom statistics pulled');
    return { days, staff: staff.length, calls };
  }

  /**
   * One row per day at (day start, channel wecom, no community / campaign). Live events can
   * share that row (the first bucket of the day), so their counters are read and kept: only
   * the statistics' own counters are replaced.
   */
  private async write(byDay: Map<number, Sums>): Promise<void> {
    const { store, bucketMs } = this.o;
    const rows: CounterRow[] = [];
    for (const [ts, sums] of byDay) {
      if (this.o.writer !== undefined) {
        rows.push({ ts, tags: { channel: WECOM_CHANNEL, community: '', campaign: '' }, counters: sums });
        continue;
      }
      const [existing] = (await store.queryCounters({ from: ts, to: ts + bucketMs, stepMs: bucketMs, offsetMs: 0, counters: COUNTERS, by: ['channel', 'community', 'campaign'], filter: { channel: WECOM_CHANNEL } }))
        .filter((s) => !s.tags.community && !s.tags.campaign)
        .flatMap((s) => s.points.filter((p) => p.ts === ts));
      const kept = Object.fromEntries(Object.entries(existing?.sums ?? {}).filter(([c]) => !STAT_SET.has(c)));
      rows.push({ ts, tags: { channel: WECOM_CHANNEL, community: '', campaign: '' }, counters: { ...kept, ...sums } });
    }
    if (rows.length) await store.writeCounters(rows, this.o.writer === undefined ? {} : { writer: this.o.writer });
  }

  private readState(): number | null {
    try {
      const parsed = JSON.parse(readFileSync(this.stateFile, 'utf8')) as { lastDay?: unknown };
      return typeof parsed.lastDay === 'number' && Number.isSafeInteger(parsed.lastDay) ? parsed.lastDay : null;
    } catch {
      return null;
    }
  }

  private writeState(lastDay: number): void {
    mkdirSync(path.dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ lastDay, lastDayIso: new Date(lastDay).toISOString() })}\n`);
    renameSync(tmp, this.stateFile);
  }
}

/**
 * reply_percentage (a percentage) and avg_reply_time (minutes) are per call, so several
 * calls (more than 100 staff) and several days are combined weighted by chat_cnt: exact for
 * one call and one day, a chat-weighted mean otherwise (WeCom gives no denominator).
 */
function addBehavior(s: Sums, row: Record<string, unknown>): void {
  const chats = num(row.chat_cnt);
  const weight = Math.max(chats, 1);
  s.wecom_chat_cnt += Math.round(chats);
  s.wecom_message_cnt += Math.round(num(row.message_cnt));
  s.wecom_negative_feedback_cnt += Math.round(num(row.negative_feedback_cnt));
  s.wecom_new_apply_cnt += Math.round(num(row.new_apply_cnt));
  s.wecom_new_contact_cnt += Math.round(num(row.new_contact_cnt));
  // Only present when there were chats / replies: absent is not 0%.
  if (typeof row.reply_percentage === 'number') {
    s.wecom_reply_num += Math.round(num(row.reply_percentage) * weight * 10);
    s.wecom_reply_den += weight * 1000;
  }
  if (typeof row.avg_reply_time === 'number') {
    s.wecom_reply_time_num_ms += Math.round(num(row.avg_reply_time) * 60_000 * weight);
    s.wecom_reply_time_den += weight;
  }
}

function addGroups(s: Sums, d: Record<string, unknown>): void {
  s.wecom_group_new_chat_cnt += Math.round(num(d.new_chat_cnt));
  s.wecom_group_chat_total += Math.round(num(d.chat_total));
  s.wecom_group_chat_has_msg += Math.round(num(d.chat_has_msg));
  s.wecom_group_new_member_cnt += Math.round(num(d.new_member_cnt));
  s.wecom_group_member_total += Math.round(num(d.member_total));
  s.wecom_group_member_has_msg += Math.round(num(d.member_has_msg));
  s.wecom_group_msg_total += Math.round(num(d.msg_total));
}
