/**
 * Feedback on firings: an admin marks one stored firing event 有效 (valid) or 误报 (false
 * alarm), and each rule's precision over the last 30 days is 有效 ÷ marked. One verdict per
 * event (marking again replaces it; clearing removes it). Kept in
 * `<dataDir>/feedback.json` (atomic writes), so it survives a restart on either store.
 *
 * In a cluster (`shared`) the verdicts are one document in Redis instead (cluster/sharedState.ts),
 * written by the node that evaluates (the alert center's requests are forwarded to it) and read
 * again by the node that takes over after a failover (`reload`).
 *
 * Each record carries what it is about (rule, KPI, split, when it fired), so precision is
 * computed from this file alone, without re-reading alert history.
 */
import path from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../durability/jsonFile.js';

export const VERDICTS = ['valid', 'false_alarm'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface Feedback {
  /** The alert event (pulse_alerts row) that was marked: a firing. */
  eventId: string;
  alertKey: string;
  ruleId: string;
  kpi: string;
  split: { dim: string; value: string } | null;
  /** When the event fired (its ts). */
  firedAt: number;
  verdict: Verdict;
  note?: string;
  by: string;
  /** When the verdict was given (last change). */
  at: number;
}

export interface RulePrecision {
  ruleId: string;
  valid: number;
  falseAlarm: number;
  marked: number;
  /** valid ÷ marked; null when nothing was marked. */
  precision: number | null;
}

/** Verdicts on firings older than this are dropped: precision looks back 30 days, history a year. */
const KEEP_MS = 400 * 86_400_000;

const recordSchema = z.object({
  eventId: z.string(),
  alertKey: z.string(),
  ruleId: z.string(),
  kpi: z.string(),
  split: z.object({ dim: z.string(), value: z.string() }).nullable(),
  firedAt: z.number(),
  verdict: z.enum(VERDICTS),
  note: z.string().optional(),
  by: z.string(),
  at: z.number(),
});
const fileSchema = z.object({ version: z.literal(1), feedback: z.array(recordSchema) });

/** Where a cluster keeps the verdicts (a fenced document: see cluster/sharedState.ts). */
export interface SharedFeedback {
  read(): Promise<unknown>;
  write(json: string): Promise<void>;
}

export interface FeedbackStoreOptions {
  dataDir: string;
  /** Keep the verdicts here instead of in `<dataDir>/feedback.json` (empty until `reload`). */
  shared?: SharedFeedback;
  now?: () => number;
  onError?(err: unknown, message: string): void;
}

export class FeedbackStore {
  private readonly file: string;
  private readonly now: () => number;
  private byEvent = new Map<string, Feedback>();

  constructor(private readonly opts: FeedbackStoreOptions) {
    this.file = path.join(opts.dataDir, 'feedback.json');
    this.now = opts.now ?? Date.now;
    if (opts.shared) return;
    const raw = readJsonFile(this.file, (err, aside) => opts.onError?.(err, `feedback.json unreadable, moved to ${aside}`), this.now());
    this.take(raw, 'feedback.json');
  }

  /** A cluster: reads the shared verdicts again (this node takes the evaluation over). */
  async reload(): Promise<void> {
    if (!this.opts.shared) return;
    this.byEvent = new Map();
    this.take(await this.opts.shared.read(), 'the shared feedback');
  }

  private take(raw: unknown, what: string): void {
    if (raw === undefined) return;
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      this.opts.onError?.(parsed.error, `${what} has an unexpected shape; starting without it (left as it is until the next verdict)`);
      return;
    }
    this.byEvent = new Map(parsed.data.feedback.map((f) => [f.eventId, f as Feedback]));
  }

  /** Records (or replaces) the verdict on one firing. Written before it resolves. */
  async mark(input: Omit<Feedback, 'at'>): Promise<Feedback> {
    const record: Feedback = { ...input, at: this.now() };
    const next = new Map(this.byEvent);
    next.set(record.eventId, record);
    await this.persist(next);
    return record;
  }

  /** Removes the verdict on one event; resolves with it, or undefined when there was none. */
  async clear(eventId: string): Promise<Feedback | undefined> {
    const had = this.byEvent.get(eventId);
    if (!had) return undefined;
    const next = new Map(this.byEvent);
    next.delete(eventId);
    await this.persist(next);
    return had;
  }

  get(eventId: string): Feedback | undefined {
    return this.byEvent.get(eventId);
  }

  /** Verdicts on firings in [from, to), newest firing first, optionally for one rule. */
  list(q: { from: number; to: number; ruleId?: string }): Feedback[] {
    return [...this.byEvent.values()]
      .filter((f) => f.firedAt >= q.from && f.firedAt < q.to && (q.ruleId === undefined || f.ruleId === q.ruleId))
      .sort((a, b) => b.firedAt - a.firedAt || a.eventId.localeCompare(b.eventId));
  }

  /** Per rule: valid ÷ marked over firings in [from, to). Rules named in `ruleIds` appear even when unmarked. */
  precision(q: { from: number; to: number; ruleIds?: readonly string[] }): RulePrecision[] {
    const out = new Map<string, RulePrecision>();
    const row = (ruleId: string) => {
      let r = out.get(ruleId);
      if (!r) out.set(ruleId, (r = { ruleId, valid: 0, falseAlarm: 0, marked: 0, precision: null }));
      return r;
    };
    for (const id of q.ruleIds ?? []) row(id);
    for (const f of this.list(q)) {
      const r = row(f.ruleId);
      r.marked++;
      if (f.verdict === 'valid') r.valid++;
      else r.falseAlarm++;
    }
    for (const r of out.values()) r.precision = r.marked ? r.valid / r.marked : null;
    return [...out.values()].sort((a, b) => a.ruleId.localeCompare(b.ruleId));
  }

  /** Writes first, then swaps: a failed write leaves memory and disk as they were. */
  private async persist(next: Map<string, Feedback>): Promise<void> {
    const cutoff = this.now() - KEEP_MS;
    for (const [k, f] of next) if (f.firedAt < cutoff) next.delete(k);
    const doc = { version: 1, feedback: [...next.values()] };
    if (this.opts.shared) await this.opts.shared.write(JSON.stringify(doc));
    else writeJsonAtomic(this.file, doc);
    this.byEvent = next;
  }
}
