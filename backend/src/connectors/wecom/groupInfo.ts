/**
 * 社群 names and member counts from WeCom, for the groups that change. A customer group the
 * callback reports (change_external_chat: created, members joined or left, renamed) is looked up
 * with externalcontact/groupchat/get (客户群详情: `group_chat.name`, `group_chat.member_list`),
 * and its name and member count go into CommunityNames and CommunitySizes as the admin API's
 * PUT would put them. So the board, the trends search and the group alerts name the group as
 * people know it, and 退群潮 judges against the group's real size.
 *
 * Event-driven, not a daily sweep: a brand with 20,000 groups changes a few hundred of them a
 * day, while a sweep would call groupchat/get 20,000 times. A group is looked up at most once
 * per `minIntervalMs` (a busy group's join-and-leave callbacks come in bursts): a change
 * inside that interval is looked up when it ends. One call at a time; a failed lookup is
 * logged, counted, and tried again at the group's next change. A name WeCom gives that the
 * names file cannot hold (too long, a control character) is cut or left out, never the batch.
 */
import type { Logger } from 'pino';
import { MAX_NAME_LENGTH, type CommunityNames } from '../../communities/names.js';
import type { CommunitySizes } from '../../communities/sizes.js';
import { tagValueProblem } from '../../store/port.js';
import type { WeComApi } from './api.js';

export interface GroupInfoOptions {
  api: Pick<WeComApi, 'call'>;
  names: Pick<CommunityNames, 'setMany'>;
  sizes: Pick<CommunitySizes, 'setMany'>;
  logger: Logger;
  /** Default 10 minutes. */
  minIntervalMs?: number;
  now?: () => number;
}

type GroupChatAnswer = {
  errcode?: number;
  errmsg?: string;
  group_chat?: { chat_id?: unknown; name?: unknown; member_list?: unknown };
};

/** Lookups written to the names / sizes files together. */
const BATCH = 50;

export class WeComGroupInfo {
  private readonly lastLookup = new Map<string, number>();
  private readonly waiting = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  /** Calls made and failed (logs, tests). */
  lookups = 0;
  failures = 0;

  constructor(private readonly o: GroupInfoOptions) {
    this.minIntervalMs = o.minIntervalMs ?? 600_000;
    this.now = o.now ?? Date.now;
  }

  /** A group changed: look it up (now, or when its interval ends). Ids the store could not hold are ignored. */
  changed(chatId: string): void {
    if (chatId === '' || tagValueProblem(chatId)) return;
    this.waiting.add(chatId);
    this.kick();
  }

  /** Resolves when nothing is due (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting.clear();
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      this.schedule();
    });
  }

  /** Wakes up when the earliest waiting group is due. */
  private schedule(): void {
    if (this.timer || this.waiting.size === 0) return;
    const t = this.now();
    let next = Number.POSITIVE_INFINITY;
    for (const id of this.waiting) next = Math.min(next, (this.lastLookup.get(id) ?? 0) + this.minIntervalMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, Math.max(0, next - t));
    this.timer.unref();
  }

  private due(): string[] {
    const t = this.now();
    return [...this.waiting].filter((id) => t - (this.lastLookup.get(id) ?? Number.NEGATIVE_INFINITY) >= this.minIntervalMs);
  }

  private async drain(): Promise<void> {
    for (let ids = this.due(); ids.length; ids = this.due()) {
      const names: { id: string; name: string }[] = [];
      const sizes: { id: string; members: number }[] = [];
      for (const id of ids.slice(0, BATCH)) {
        this.waiting.delete(id);
        this.lastLookup.set(id, this.now());
        this.lookups++;
        try {
          const answer = await this.o.api.call<GroupChatAnswer>('externalcontact/groupchat/get', { chat_id: id, need_name: 0 });
          const chat = answer.group_chat ?? {};
          const name = typeof chat.name === 'string' ? usableName(chat.name) : null;
          if (name) names.push({ id, name });
          if (Array.isArray(chat.member_list)) sizes.push({ id, members: chat.member_list.length });
        } catch (err) {
          this.failures++;
          this.o.logger.warn({ err, chatId: id }, 'WeCom: customer group not looked up (groupchat/get); tried again at its next change');
        }
      }
      try {
        if (names.length) await this.o.names.setMany(names);
        if (sizes.length) await this.o.sizes.setMany(sizes);
      } catch (err) {
        this.o.logger.error({ err }, 'WeCom: customer group names / sizes not kept');
      }
    }
  }
}

/** A WeCom group name as the names file keeps it: no control characters, at most MAX_NAME_LENGTH; null when nothing is left. */
function usableName(raw: string): string | null {
  // eslint-disable-next-line no-control-regex
  const chars = [...raw.replace(/[\u0000-\u001f\u007f]/g, ' ').trim()];
  // Whole code points only (a cut surrogate pair is not a name), within the length the names file counts.
  while (chars.join('').length > MAX_NAME_LENGTH) chars.pop();
  const name = chars.join('').trim();
  return name === '' ? null : name;
}
