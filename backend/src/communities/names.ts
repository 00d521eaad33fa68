/**
 * 社群 names: groups as people know them ("北京望京店 VIP 1 群") for community ids as producers
 * send them (a WeCom ChatId, "bj-wj-vip-01"). Two sources, one lookup:
 *  - a mapping file the operator keeps (PULSE_COMMUNITY_NAMES_FILE, YAML or JSON, `id: name`),
 *    read at start;
 *  - the admin API (PUT /api/v1/communities/names), which a connector (WeCom's group name on
 *    change_external_chat) or a person feeds; kept in the data dir (in a cluster: in Redis,
 *    keptRecords.ts), and it wins over the file because it carries the newest rename.
 * Search is a linear scan over ids and names (NFKC-folded per call): simpler and exact; the
 * bench (npm run bench:communities) measured 102 ms for 20,000 groups on a heavily loaded
 * 2-core box (6 ms for 2,000). Pre-folding the labels is the next step if that matters.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { SharedRecords } from '../cluster/sharedRecords.js';
import { tagValueProblem } from '../store/port.js';
import { KeptRecords } from './keptRecords.js';

export const MAX_NAME_LENGTH = 60;

const NameMap = z.record(z.string(), z.string());

export class CommunityNameError extends Error {
  constructor(message: string) {
    super(message);
  }
}

export interface CommunityMatch {
  id: string;
  name: string | null;
}

export interface CommunityNamesOptions {
  dataDir: string;
  /** Operator-kept mapping file; missing → API names only. */
  file?: string;
  onError?(err: unknown, message: string): void;
}

/** Lower-case, full-width ASCII folded to half-width, so "ＶＩＰ" finds "vip". */
function fold(s: string): string {
  return s.normalize('NFKC').toLowerCase();
}

export class CommunityNames {
  private readonly fromFile = new Map<string, string>();
  private readonly api: KeptRecords<string>;

  constructor(private readonly opts: CommunityNamesOptions) {
    if (opts.file) this.loadFile(opts.file);
    this.api = new KeptRecords({ file: path.join(opts.dataDir, 'community-names.json'), record: z.string(), what: 'community names', ...(opts.onError ? { onError: opts.onError } : {}) });
  }

  private get fromApi(): ReadonlyMap<string, string> {
    return this.api.map;
  }

  /** Cluster mode: the API names are the cluster's (see KeptRecords.useShared). */
  useShared(shared: SharedRecords): Promise<void> {
    return this.api.useShared(shared);
  }

  close(): void {
    this.api.close();
  }

  /** Reads the operator's mapping file; a bad entry names the id and the reason. */
  private loadFile(file: string): void {
    let doc: unknown;
    try {
      const text = readFileSync(file, 'utf8');
      doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new CommunityNameError(`PULSE_COMMUNITY_NAMES_FILE ${file}: ${(err as Error).message}`);
    }
    const parsed = NameMap.safeParse(doc ?? {});
    if (!parsed.success) throw new CommunityNameError(`PULSE_COMMUNITY_NAMES_FILE ${file}: expected a map of community id → name (id: "名称")`);
    for (const [id, name] of Object.entries(parsed.data)) {
      const problem = entryProblem(id, name);
      if (problem) throw new CommunityNameError(`PULSE_COMMUNITY_NAMES_FILE ${file}: ${JSON.stringify(id)}: ${problem}`);
      this.fromFile.set(id, name.trim());
    }
  }

  name(id: string): string | null {
    return this.fromApi.get(id) ?? this.fromFile.get(id) ?? null;
  }

  /** Display label: the name, or the id when no name is known. */
  label(id: string): string {
    return this.name(id) ?? id;
  }

  get size(): number {
    const ids = new Set([...this.fromFile.keys(), ...this.fromApi.keys()]);
    return ids.size;
  }

  /**
   * Sets names (from the API). All entries are checked first: one bad entry refuses the
   * whole request with its reason and changes nothing. An empty name removes the API name.
   */
  async setMany(entries: readonly { id: string; name: string }[]): Promise<{ set: number; removed: number }> {
    for (const e of entries) {
      const problem = e.name.trim() === '' ? tagValueProblem(e.id) : entryProblem(e.id, e.name);
      if (problem) throw new CommunityNameError(`${JSON.stringify(e.id)}: ${problem}`);
    }
    // The last entry for an id wins, as when they were set one by one.
    const put = new Map<string, string>();
    const removed = new Set<string>();
    for (const e of entries) {
      const name = e.name.trim();
      if (name === '') {
        put.delete(e.id);
        removed.add(e.id);
      } else {
        removed.delete(e.id);
        put.set(e.id, name);
      }
    }
    const had = [...removed].filter((id) => this.fromApi.has(id));
    await this.api.apply(put, had);
    return { set: entries.filter((e) => e.name.trim() !== '').length, removed: had.length };
  }

  /**
   * Type-ahead: ids (from `ids`, the admitted community values, plus every named id) whose id
   * or name contains `q` (case- and width-insensitive). Exact and prefix matches first, then
   * shorter labels; at most `limit`, with the total count.
   */
  search(q: string, ids: Iterable<string>, limit: number): { items: CommunityMatch[]; total: number } {
    const needle = fold(q.trim());
    const seen = new Set<string>();
    const hits: { id: string; name: string | null; rank: number; label: string }[] = [];
    const consider = (id: string): void => {
      if (seen.has(id) || id === '') return;
      seen.add(id);
      const name = this.name(id);
      const fid = fold(id);
      const fname = name === null ? '' : fold(name);
      let rank: number;
      if (needle === '') rank = 3;
      else if (fid === needle || fname === needle) rank = 0;
      else if (fid.startsWith(needle) || fname.startsWith(needle)) rank = 1;
      else if (fid.includes(needle) || fname.includes(needle)) rank = 2;
      else return;
      hits.push({ id, name, rank, label: name ?? id });
    };
    for (const id of ids) consider(id);
    for (const id of this.fromApi.keys()) consider(id);
    for (const id of this.fromFile.keys()) consider(id);
    hits.sort((a, b) => a.rank - b.rank || a.label.length - b.label.length || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    return { items: hits.slice(0, limit).map(({ id, name }) => ({ id, name })), total: hits.length };
  }
}

function entryProblem(id: string, name: string): string | null {
  const idProblem = tagValueProblem(id);
  if (idProblem) return `id ${idProblem}`;
  if (id === '') return 'empty id';
  const n = name.trim();
  if (n === '') return 'empty name';
  if (n.length > MAX_NAME_LENGTH) return `name longer than ${MAX_NAME_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(n)) return 'name contains a control character';
  return null;
}
