/**
 * Silences (time-bounded, by matchers) and acks (per firing alert), with who / when /
 * why, persisted to `<dataDir>/silences.json` so they survive a restart. Writes are
 * atomic (temp file + rename): a crash never leaves half a file. In a cluster they are one
 * shared document instead (StateDocuments 'silences'), written through and read again by
 * the node that takes the evaluation over.
 *
 * Ended and expired silences and old acks are kept for a week as an audit trail.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Dimension } from '../contract.js';
import { readJsonFile, writeJsonFile } from './jsonFile.js';
import { DocumentWriter, type StateDocuments } from './stateDocuments.js';
import type { Ack, Silence, SilenceMatchers } from '@siyu-pulse/contracts/alertCenter';

// What the alert center's API answers: the shapes live in the contracts package.
export type { Ack, Silence, SilenceMatchers };

/** What a silence is matched against. */
export interface AlertIdentity {
  ruleId: string;
  kpi: string;
  split: { dim: Dimension; value: string } | null;
}

export interface SilenceInput {
  matchers: SilenceMatchers;
  until: number;
  by: string;
  reason: string;
}

const AUDIT_MS = 7 * 86_400_000;
const ORPHAN_ACK_MS = 30 * 86_400_000;

interface FileShape {
  version: 1;
  silences: Silence[];
  acks: Ack[];
}

export function matches(m: SilenceMatchers, a: AlertIdentity): boolean {
  if (m.ruleId !== undefined && m.ruleId !== a.ruleId) return false;
  if (m.kpi !== undefined && m.kpi !== a.kpi) return false;
  if (m.dim !== undefined && a.split?.dim !== m.dim) return false;
  if (m.value !== undefined && a.split?.value !== m.value) return false;
  return true;
}

export class SilenceStore {
  private silences: Silence[] = [];
  private ackMap = new Map<string, Ack>();
  private readonly file: string | null;
  private readonly shared: DocumentWriter | null;

  /** `where`: the data dir (silences.json), or shared documents (empty until `replace`). */
  constructor(
    where: string | StateDocuments,
    private readonly now: () => number,
    private readonly onError: (err: unknown, msg: string) => void = () => {},
  ) {
    if (typeof where === 'string') {
      mkdirSync(where, { recursive: true });
      this.file = join(where, 'silences.json');
      this.shared = null;
      this.load();
    } else {
      this.file = null;
      this.shared = new DocumentWriter((json) => where.write('silences', json), (err) => this.onError(err, 'could not persist the shared silences (this node may no longer evaluate)'));
    }
  }

  /** Takes the state of a stored document (a cluster's node taking the evaluation over). */
  replace(raw: unknown): void {
    this.silences = [];
    this.ackMap = new Map();
    if (raw !== undefined) this.interpret(raw);
  }

  /** Resolves when every change so far is persisted; rejects when one could not be. */
  persisted(): Promise<void> {
    return this.shared ? this.shared.flushed() : Promise.resolve();
  }

  silence(input: SilenceInput): Silence {
    const now = this.now();
    const matchers = Object.fromEntries(
      Object.entries(input.matchers).filter(([, v]) => typeof v === 'string' && v !== ''),
    ) as SilenceMatchers;
    if (Object.keys(matchers).length === 0) throw new Error('a silence needs at least one matcher (ruleId, kpi, dim or value)');
    if (!(input.until > now)) throw new Error('silence `until` must be in the future');
    if (!input.by.trim()) throw new Error('silence needs `by` (who)');
    const s: Silence = { id: randomUUID(), matchers, createdAt: now, until: input.until, by: input.by, reason: input.reason };
    this.silences.push(s);
    this.save();
    return s;
  }

  /** Ends a silence now; returns it, or undefined when unknown or already over. */
  unsilence(id: string, by: string): Silence | undefined {
    const now = this.now();
    const s = this.silences.find((x) => x.id === id && x.endedAt === undefined && x.until > now);
    if (!s) return undefined;
    s.endedAt = now;
    s.endedBy = by;
    this.save();
    return s;
  }

  /** Active silences; with `includeEnded`, also the last week's ended / expired ones. */
  list(opts: { includeEnded?: boolean } = {}): Silence[] {
    const now = this.now();
    return this.silences.filter((s) => opts.includeEnded || this.isActive(s, now)).map((s) => ({ ...s, matchers: { ...s.matchers } }));
  }

  /** The first active silence that matches the alert. */
  match(alert: AlertIdentity, at: number = this.now()): Silence | undefined {
    return this.silences.find((s) => this.isActive(s, at) && matches(s.matchers, alert));
  }

  ack(alertKey: string, by: string, reason: string): Ack {
    if (!by.trim()) throw new Error('ack needs `by` (who)');
    const a: Ack = { alertKey, by, reason, at: this.now() };
    this.ackMap.set(alertKey, a);
    this.save();
    return a;
  }

  ackFor(alertKey: string): Ack | undefined {
    return this.ackMap.get(alertKey);
  }

  acks(): Ack[] {
    return [...this.ackMap.values()].map((a) => ({ ...a }));
  }

  /** An ack belongs to one firing episode: the engine clears it when the alert resolves. */
  clearAck(alertKey: string): void {
    if (this.ackMap.delete(alertKey)) this.save();
  }

  private isActive(s: Silence, at: number): boolean {
    return s.endedAt === undefined && s.createdAt <= at && at < s.until;
  }

  private interpret(raw: unknown): void {
    const data = raw as Partial<FileShape>;
    this.silences = Array.isArray(data.silences) ? data.silences : [];
    this.ackMap = new Map((Array.isArray(data.acks) ? data.acks : []).map((a) => [a.alertKey, a]));
  }

  private load(): void {
    if (!this.file) return;
    readJsonFile(
      this.file,
      (raw) => this.interpret(raw),
      // Start empty rather than refuse to alert.
      (err, aside) => this.onError(err, `silences.json unreadable, moved to ${aside}`),
      this.now(),
    );
  }

  private save(): void {
    const cutoff = this.now() - AUDIT_MS;
    this.silences = this.silences.filter((s) => (s.endedAt ?? s.until) > cutoff);
    // Acks end with their episode; only orphans (the alert never came back after a restart) age out.
    for (const [k, a] of this.ackMap) if (a.at <= this.now() - ORPHAN_ACK_MS) this.ackMap.delete(k);
    const data: FileShape = { version: 1, silences: this.silences, acks: [...this.ackMap.values()] };
    if (this.shared) return this.shared.save(data);
    if (!this.file) return;
    try {
      writeJsonFile(this.file, data, 2);
    } catch (err) {
      // The change holds in memory; say it will not survive a restart.
      this.onError(err, 'could not persist silences.json');
    }
  }
}
