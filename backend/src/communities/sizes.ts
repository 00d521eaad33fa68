/**
 * 社群 member counts (群成员数): the latest snapshot per group, which the 退群潮 rule
 * (alerts kind group_exodus) divides a day's net loss by. Joins and leaves are events; a
 * group's size is not — a group older than the data has members nobody saw join — so it comes
 * as a snapshot: `PUT /api/v1/communities/sizes` from a person or a connector (WeCom's
 * externalcontact/groupchat/get answers a group's member_list; its length is the size).
 * Kept in `<dataDir>/community-sizes.json` (in a cluster: in Redis, keptRecords.ts) with the
 * time of each group's snapshot.
 */
import path from 'node:path';
import { z } from 'zod';
import type { SharedRecords } from '../cluster/sharedRecords.js';
import { tagValueProblem } from '../store/port.js';
import { KeptRecords } from './keptRecords.js';

export class CommunitySizeError extends Error {}

const Size = z.strictObject({ members: z.number().int().min(0), at: z.number() });

export class CommunitySizes {
  private readonly kept: KeptRecords<{ members: number; at: number }>;

  constructor(private readonly o: { dataDir: string; now?: () => number; onError?(err: unknown, message: string): void }) {
    this.kept = new KeptRecords({ file: path.join(o.dataDir, 'community-sizes.json'), record: Size, what: 'community sizes', ...(o.onError ? { onError: o.onError } : {}) });
  }

  private get sizes(): ReadonlyMap<string, { members: number; at: number }> {
    return this.kept.map;
  }

  /** Cluster mode: the sizes are the cluster's (see KeptRecords.useShared). */
  useShared(shared: SharedRecords): Promise<void> {
    return this.kept.useShared(shared);
  }

  close(): void {
    this.kept.close();
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
  async setMany(entries: readonly { id: string; members: number }[]): Promise<{ set: number }> {
    for (const e of entries) {
      const problem = e.id === '' ? 'empty id' : tagValueProblem(e.id);
      if (problem) throw new CommunitySizeError(`${JSON.stringify(e.id)}: id ${problem}`);
      if (!Number.isInteger(e.members) || e.members < 0) throw new CommunitySizeError(`${JSON.stringify(e.id)}: members must be a whole number ≥ 0, got ${JSON.stringify(e.members)}`);
    }
    const at = (this.o.now ?? Date.now)();
    await this.kept.apply(new Map(entries.map((e) => [e.id, { members: e.members, at }])), []);
    return { set: entries.length };
  }
}
