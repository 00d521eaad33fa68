/**
 * 社群 member counts (群成员数): the latest snapshot per group, which the 退群潮 rule
 * (alerts kind group_exodus) divides a day's net loss by. Joins and leaves are events; a
 * group's size is not — a group older than the data has members nobody saw join — so it comes
 * as a snapshot: `PUT /api/v1/communities/sizes` from a person or a connector (WeCom's
 * externalcontact/groupchat/get answers a group's member_list; its length is the size).
 * Kept in `<dataDir>/community-sizes.json` with the time of each group's snapshot.
 */
import path from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../durability/jsonFile.js';
import { tagValueProblem } from '../store/port.js';

export class CommunitySizeError extends Error {}

const Saved = z.record(z.string(), z.strictObject({ members: z.number().int().min(0), at: z.number() }));

export class CommunitySizes {
  private readonly sizes = new Map<string, { members: number; at: number }>();
  private readonly file: string;

  constructor(private readonly o: { dataDir: string; now?: () => number; onError?(err: unknown, message: string): void }) {
    this.file = path.join(o.dataDir, 'community-sizes.json');
    const saved = readJsonFile(this.file, (err, aside) => o.onError?.(err, `community sizes file was unreadable; moved to ${aside}`));
    if (saved === undefined) return;
    const parsed = Saved.safeParse(saved);
    if (parsed.success) for (const [id, s] of Object.entries(parsed.data)) this.sizes.set(id, s);
    else o.onError?.(parsed.error, `${this.file}: not an object of id → {members, at}; ignored`);
  }

  /** Members per group (latest snapshot). */
  all(): Record<string, number> {
    const out: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const [id, s] of this.sizes) out[id] = s.members;
    return out;
  }

  get size(): number {
    return this.sizes.size;
  }

  /** Sets member counts; one bad entry refuses the whole request and changes nothing. */
  setMany(entries: readonly { id: string; members: number }[]): { set: number } {
    for (const e of entries) {
      const problem = e.id === '' ? 'empty id' : tagValueProblem(e.id);
      if (problem) throw new CommunitySizeError(`${JSON.stringify(e.id)}: id ${problem}`);
      if (!Number.isInteger(e.members) || e.members < 0) throw new CommunitySizeError(`${JSON.stringify(e.id)}: members must be a whole number ≥ 0, got ${JSON.stringify(e.members)}`);
    }
    const at = (this.o.now ?? Date.now)();
    for (const e of entries) this.sizes.set(e.id, { members: e.members, at });
    writeJsonAtomic(this.file, Object.fromEntries(this.sizes));
    return { set: entries.length };
  }
}
