/**
 * Campaigns made through the admin API: validated by the alerts package's Calendar (the
 * one the engine reads, so a rule sees a new campaign at its next evaluation), persisted in
 * `<dataDir>/campaigns.json` and re-added at start-up. Campaigns from the calendar's YAML
 * files are listed beside them but belong to their files: the API neither replaces nor
 * deletes them.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Calendar, type Campaign, type CampaignInput } from '@siyu-pulse/alerts';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../durability/jsonFile.js';
import { tagValueProblem } from '../store/port.js';

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

const fileSchema = z.object({
  version: z.literal(1),
  campaigns: z.array(z.object({ id: z.string(), name: z.string(), start: z.number(), end: z.number(), channels: z.array(z.string()).optional() })),
});

export interface CampaignServiceOptions {
  calendar: Calendar;
  dataDir: string;
  onError?(err: unknown, message: string): void;
}

export class CampaignService {
  private readonly file: string;

  constructor(private readonly o: CampaignServiceOptions) {
    this.file = path.join(o.dataDir, 'campaigns.json');
    const raw = readJsonFile(this.file, (err, aside) => o.onError?.(err, `campaigns.json unreadable, moved to ${aside}`));
    if (raw === undefined) return;
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      o.onError?.(parsed.error, 'campaigns.json has an unexpected shape; API campaigns not loaded (the file is kept until the next change)');
      return;
    }
    for (const c of parsed.data.campaigns) {
      const owner = o.calendar.campaigns().find((x) => x.id === c.id);
      if (owner && owner.source !== API_SOURCE) {
        o.onError?.(new Error(`campaign id ${c.id} is now defined in ${owner.source}`), 'an API campaign is shadowed by a calendar file; the file wins');
        continue;
      }
      try {
        o.calendar.addCampaign(c, API_SOURCE);
      } catch (err) {
        o.onError?.(err, `campaigns.json: campaign ${c.id} refused by the calendar, skipped`);
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
  save(input: Omit<CampaignInput, 'id'> & { id?: string }): { campaign: Campaign; replaced: boolean } {
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
    this.write([...others, campaign]);
    this.o.calendar.addCampaign({ ...input, id }, API_SOURCE);
    return { campaign, replaced: existing !== undefined };
  }

  remove(id: string): Campaign {
    const existing = this.o.calendar.campaigns().find((c) => c.id === id);
    if (!existing) throw new CampaignError(`no campaign ${JSON.stringify(id)}`, 404);
    if (existing.source !== API_SOURCE) throw new CampaignError(`campaign ${JSON.stringify(id)} comes from ${path.basename(existing.source)}: remove it from that file`, 409);
    this.write(this.apiCampaigns().filter((c) => c.id !== id));
    this.o.calendar.removeCampaign(id);
    return existing;
  }

  private apiCampaigns(): Campaign[] {
    return this.o.calendar.campaigns().filter((c) => c.source === API_SOURCE);
  }

  private write(campaigns: Campaign[]): void {
    writeJsonAtomic(this.file, {
      version: 1,
      campaigns: campaigns.map(({ id, name, start, end, channels }) => ({ id, name, start, end, ...(channels ? { channels } : {}) })),
    });
  }
}
