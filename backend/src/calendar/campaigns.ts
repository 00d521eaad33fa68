/**
 * Campaigns made through the admin API: validated by the alerts package's Calendar (the
 * one the engine reads, so a rule sees a new campaign at its next evaluation), persisted in
 * `<dataDir>/campaigns.json` and re-added at start-up. Campaigns from the calendar's YAML
 * files are listed beside them but belong to their files: the API neither replaces nor
 * deletes them.
 *
 * In a cluster (`useShared`) the API campaigns live in Redis instead (cluster/sharedRecords.ts,
 * `<prefix>campaigns`), one record per campaign: one made through any node is written there
 * before the answer and announced, and every node's calendar (the evaluator's included) takes
 * the shared list at once, and every few seconds regardless.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Calendar, type Campaign, type CampaignInput } from '@siyu-pulse/alerts';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../durability/jsonFile.js';
import { tagValueProblem } from '../store/port.js';
import { followShared, type SharedRecords } from '../cluster/sharedRecords.js';

export const API_SOURCE = 'api';
/** Enough for a year of a team's own campaigns; the file is rewritten whole on each change. */
const MAX_API_CAMPAIGNS = 500;

export class CampaignError extends Error {
  constructor(
    message: string,
    /** 400 bad input, 404 unknown id, 409 owned by a YAML file or too many. */
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
    this.name = 'CampaignError';
  }
}

const storedSchema = z.object({ id: z.string(), name: z.string(), start: z.number(), end: z.number(), channels: z.array(z.string()).optional() });
const fileSchema = z.object({
  version: z.literal(1),
  campaigns: z.array(storedSchema),
});
type Stored = z.infer<typeof storedSchema>;
const stored = ({ id, name, start, end, channels }: Campaign): Stored => ({ id, name, start, end, ...(channels ? { channels } : {}) });

export interface CampaignServiceOptions {
  calendar: Calendar;
  dataDir: string;
  onError?(err: unknown, message: string): void;
}

export class CampaignService {
  private readonly file: string;
  private shared: SharedRecords | null = null;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: CampaignServiceOptions) {
    this.file = path.join(o.dataDir, 'campaigns.json');
    const raw = readJsonFile(this.file, (err, aside) => o.onError?.(err, `campaigns.json unreadable, moved to ${aside}`));
    if (raw === undefined) return;
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      o.onError?.(parsed.error, 'campaigns.json has an unexpected shape; API campaigns not loaded (the file is kept until the next change)');
      return;
    }
    this.take(parsed.data.campaigns, 'campaigns.json');
  }

  /**
   * Cluster mode: the API campaigns are `shared` from now on. This node's file campaigns the
   * cluster does not have yet are added (a single node joining keeps them), then the shared
   * list is in force, read again on every change and every `refreshMs`.
   */
  async useShared(shared: SharedRecords, refreshMs = 5_000): Promise<void> {
    for (const c of this.apiCampaigns()) await shared.seed(c.id, JSON.stringify(stored(c)));
    this.shared = shared;
    this.refreshTimer = await followShared(shared, () => this.refresh(), refreshMs);
  }

  /** Shared: the calendar's API campaigns become the shared list. */
  async refresh(): Promise<void> {
    if (!this.shared) return;
    let all: Map<string, string>;
    try {
      all = await this.shared.load();
    } catch (err) {
      return this.o.onError?.(err, 'the shared campaigns could not be read (the last list stays)');
    }
    const list: Stored[] = [];
    for (const [id, raw] of all) {
      const parsed = storedSchema.safeParse(JSON.parse(raw));
      if (parsed.success) list.push(parsed.data);
      else this.o.onError?.(parsed.error, `shared campaign ${id} unreadable; skipped`);
    }
    const keep = new Set(list.map((c) => c.id));
    for (const c of this.apiCampaigns()) if (!keep.has(c.id)) this.o.calendar.removeCampaign(c.id);
    this.take(list, 'the shared campaigns');
  }

  close(): void {
    clearInterval(this.refreshTimer);
  }

  private take(campaigns: Stored[], where: string): void {
    for (const c of campaigns) {
      const owner = this.o.calendar.campaigns().find((x) => x.id === c.id);
      if (owner && owner.source !== API_SOURCE) {
        this.o.onError?.(new Error(`campaign id ${c.id} is now defined in ${owner.source}`), 'an API campaign is shadowed by a calendar file; the file wins');
        continue;
      }
      try {
        this.o.calendar.addCampaign(c, API_SOURCE);
      } catch (err) {
        this.o.onError?.(err, `${where}: campaign ${c.id} refused by the calendar, skipped`);
      }
    }
  }

  /** Every campaign (files and API), or those overlapping [from, to) on `channel`. */
  list(q: { from?: number; to?: number; channel?: string } = {}): Campaign[] {
    if (q.from === undefined && q.to === undefined && q.channel === undefined) return this.o.calendar.campaigns();
    return this.o.calendar.campaignsBetween(q.from ?? -Infinity, q.to ?? Infinity, q.channel);
  }

  /**
   * Creates (no id: one is made) or replaces an API campaign. The calendar checks it first
   * on a scratch calendar, the file is written next, and only then is it in force: a refused
   * campaign or a failed write changes nothing.
   */
  async save(input: Omit<CampaignInput, 'id'> & { id?: string }): Promise<{ campaign: Campaign; replaced: boolean }> {
    const id = input.id ?? `c-${randomBytes(5).toString('hex')}`;
    const existing = this.o.calendar.campaigns().find((c) => c.id === id);
    if (existing && existing.source !== API_SOURCE) {
      throw new CampaignError(`campaign ${JSON.stringify(id)} comes from ${path.basename(existing.source)}: change it in that file, or use another id`, 409);
    }
    for (const ch of input.channels ?? []) {
      const problem = tagValueProblem(ch);
      if (problem) throw new CampaignError(`channels: ${JSON.stringify(ch)} ${problem}`, 400);
    }
    if (input.channels && new Set(input.channels).size !== input.channels.length) throw new CampaignError('channels: a channel is listed twice', 400);
    let campaign: Campaign;
    try {
      campaign = new Calendar().addCampaign({ ...input, id }, API_SOURCE);
    } catch (err) {
      throw new CampaignError((err as Error).message, 400);
    }
    const others = this.apiCampaigns().filter((c) => c.id !== id);
    if (!existing && others.length >= MAX_API_CAMPAIGNS) throw new CampaignError(`at most ${MAX_API_CAMPAIGNS} campaigns can be made through the API; delete old ones first`, 409);
    if (this.shared) await this.shared.put(id, JSON.stringify(stored(campaign)));
    else this.write([...others, campaign]);
    this.o.calendar.addCampaign({ ...input, id }, API_SOURCE);
    return { campaign, replaced: existing !== undefined };
  }

  async remove(id: string): Promise<Campaign> {
    const existing = this.o.calendar.campaigns().find((c) => c.id === id);
    if (!existing) throw new CampaignError(`no campaign ${JSON.stringify(id)}`, 404);
    if (existing.source !== API_SOURCE) throw new CampaignError(`campaign ${JSON.stringify(id)} comes from ${path.basename(existing.source)}: remove it from that file`, 409);
    if (this.shared) await this.shared.remove(id);
    else this.write(this.apiCampaigns().filter((c) => c.id !== id));
    this.o.calendar.removeCampaign(id);
    return existing;
  }

  private apiCampaigns(): Campaign[] {
    return this.o.calendar.campaigns().filter((c) => c.source === API_SOURCE);
  }

  private write(campaigns: Campaign[]): void {
    writeJsonAtomic(this.file, {
      version: 1,
      campaigns: campaigns.map(stored),
    });
  }
}
