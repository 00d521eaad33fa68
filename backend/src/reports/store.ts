/**
 * Reports on disk: one JSON file per week, `<data dir>/reports/<id>.json`, written to a temp
 * file, fsynced and renamed over the old one, so a crash leaves the old report or the new
 * one, never half of either. Regenerating a week replaces its report but keeps the delivery
 * log (what was sent to whom stays true). Ids are ISO weeks and checked before they become
 * a path.
 *
 * In a cluster (`shared`) the reports live in Redis instead (cluster/sharedState.ts): the node
 * that evaluates makes and sends them (report requests are forwarded to it), writes each one
 * through (fenced by its lease), and a node taking over reads them again (`reload`).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ReportSummary, WeeklyReport } from '@siyu-pulse/contracts/reports';
import { WEEK_ID } from './week.js';

/** A cluster's shared reports (a fenced hash: see cluster/sharedState.ts). */
export interface SharedReports {
  load(): Promise<WeeklyReport[]>;
  put(report: WeeklyReport): Promise<void>;
}

export class ReportStore {
  readonly dir: string;
  /** Shared: every report, and the writes in call order with their first failure. */
  private readonly cache = new Map<string, WeeklyReport>();
  private writes: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(
    dataDir: string,
    private readonly shared?: SharedReports,
  ) {
    this.dir = path.join(dataDir, 'reports');
    if (!shared) mkdirSync(this.dir, { recursive: true });
  }

  /** Shared: reads every report again (this node takes the evaluation over). */
  async reload(): Promise<void> {
    if (!this.shared) return;
    await this.writes;
    const all = await this.shared.load();
    this.cache.clear();
    for (const r of all) if (ReportStore.validId(r.id)) this.cache.set(r.id, r);
  }

  /** Resolves when every report written so far is durable; rejects with a shared write's failure. */
  async persisted(): Promise<void> {
    await this.writes;
    const err = this.failure;
    this.failure = null;
    if (err) throw err;
  }

  /** Whether `id` names a report file (an ISO week; nothing else becomes a path). */
  static validId(id: string): boolean {
    return WEEK_ID.test(id);
  }

  get(id: string): WeeklyReport | null {
    if (!ReportStore.validId(id)) return null;
    if (this.shared) return this.cache.get(id) ?? null;
    const file = this.file(id);
    if (!existsSync(file)) return null;
    return JSON.parse(readFileSync(file, 'utf8')) as WeeklyReport;
  }

  has(id: string): boolean {
    if (this.shared) return this.cache.has(id);
    return ReportStore.validId(id) && existsSync(this.file(id));
  }

  /** Saves a report, replacing the week's previous one; earlier deliveries come first in the log. */
  save(report: WeeklyReport): WeeklyReport {
    if (!ReportStore.validId(report.id)) throw new Error(`report id must be an ISO week such as 2026-W47, got ${JSON.stringify(report.id)}`);
    const earlier = this.get(report.id)?.delivery ?? [];
    const saved = { ...report, delivery: [...earlier, ...report.delivery] };
    this.write(saved);
    return saved;
  }

  /** Appends delivery results to a stored report; null when it is not there. */
  addDelivery(id: string, entries: WeeklyReport['delivery']): WeeklyReport | null {
    const report = this.get(id);
    if (!report) return null;
    const updated = { ...report, delivery: [...report.delivery, ...entries] };
    this.write(updated);
    return updated;
  }

  /** Summaries, newest week first. Unreadable files are skipped. */
  list(): ReportSummary[] {
    const out: ReportSummary[] = [];
    const ids = this.shared ? [...this.cache.keys()].map((id) => `${id}.json`) : readdirSync(this.dir);
    for (const name of ids) {
      const id = name.endsWith('.json') ? name.slice(0, -5) : '';
      if (!ReportStore.validId(id)) continue;
      try {
        const r = this.get(id);
        if (r) out.push({ id: r.id, week: r.week, generatedAt: r.generatedAt, trigger: r.trigger, partial: r.partial });
      } catch {
        // A file damaged outside the program: the rest of the list is still useful.
      }
    }
    return out.sort((a, b) => b.week.from - a.week.from);
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  private write(report: WeeklyReport): void {
    const shared = this.shared;
    if (shared) {
      this.cache.set(report.id, report);
      this.writes = this.writes.then(() => shared.put(report)).catch((err: unknown) => {
        this.failure ??= err;
      });
      return;
    }
    const file = this.file(report.id);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(report));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  }
}
