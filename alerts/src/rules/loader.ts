/**
 * Rules as code: every `*.yaml` / `*.yml` in a directory, validated at start-up and on
 * change (fs.watch + debounce, with a polling fallback for file systems without events).
 *
 * Each file keeps its last good version: a file that fails validation is reported (file,
 * line, rule id, field) and its PREVIOUS rules stay in force, while other files' edits
 * apply. Deleting a file removes its rules. A rule id defined in two files is an error
 * charged to the later file (by name), which keeps its previous version.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { KpiInfo } from '../contract.js';
import type { Rule } from './schema.js';
import type { MinuteAligned } from './validate.js';
import { formatProblem, parseRuleDocument, templatesOf, type RuleProblem } from './parse.js';

/** Structurally a subset of pino's logger. */
export interface LoaderLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What the engine needs from a rule source. */
export interface RuleProvider {
  rules(): Rule[];
  problems(): RuleProblem[];
}

export interface RulesLoaderOptions {
  dir: string;
  /** The KpiSource's catalogue (a function so a reload sees a changed catalogue). */
  catalogue: readonly KpiInfo[] | (() => readonly KpiInfo[]);
  minuteAligned?: MinuteAligned;
  /** Configured notifier ids (the dispatcher's); when given, unknown `notify` ids are refused. */
  notifiers?: readonly string[] | (() => readonly string[]);
  /** Quiet time after the last fs event before re-reading (editors write in bursts). */
  debounceMs?: number;
  /** Polling fallback period; 0 turns it off. */
  pollMs?: number;
  /** Use fs.watch events (default true); polling alone when false. */
  fsEvents?: boolean;
  logger?: LoaderLogger;
  /** Called after a reload that changed the rules in force. */
  onChange?: (rules: Rule[]) => void;
}

const RULE_FILE = /^[^.].*\.ya?ml$/i;

export class RulesLoader implements RuleProvider {
  private inForce: Rule[] = [];
  private problemList: RuleProblem[] = [];
  private lastGood = new Map<string, Rule[]>();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private pollSignature = '';
  private running: Promise<void> | undefined;
  private again = false;
  private gen = 0;

  constructor(private readonly opts: RulesLoaderOptions) {}

  rules(): Rule[] {
    return this.inForce;
  }

  problems(): RuleProblem[] {
    return this.problemList;
  }

  /** The first problem of the last reload, formatted; null when every file is valid. */
  get lastError(): string | null {
    const p = this.problemList[0];
    return p ? formatProblem(p) : null;
  }

  /** Increments whenever the rules in force change. */
  get generation(): number {
    return this.gen;
  }

  /** Load once and keep watching (watching first, so an edit during the load is not missed). */
  async start(): Promise<void> {
    this.watch();
    await this.reload();
  }

  /** Re-read every file. Concurrent calls coalesce into one more pass. */
  reload(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.readAll();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  watch(): void {
    const { dir, pollMs = 5_000, fsEvents = true } = this.opts;
    if (fsEvents && !this.watcher) {
      try {
        this.watcher = watch(dir, { persistent: false }, () => this.schedule());
        this.watcher.on('error', (err) => {
          this.opts.logger?.warn({ err, dir }, 'rules: fs.watch failed, relying on polling');
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch (err) {
        this.opts.logger?.warn({ err, dir }, 'rules: fs.watch unavailable, relying on polling');
      }
    }
    if (pollMs > 0 && !this.poller) {
      this.poller = setInterval(() => void this.poll(), pollMs);
      this.poller.unref();
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.poller) clearInterval(this.poller);
    this.debounce = undefined;
    this.poller = undefined;
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reload();
    }, this.opts.debounceMs ?? 150);
    this.debounce.unref();
  }

  /** Cheap change detection: names, sizes and mtimes. */
  private async poll(): Promise<void> {
    const sig = await this.signature().catch(() => 'unreadable');
    if (sig !== this.pollSignature) void this.reload();
  }

  private async signature(): Promise<string> {
    const files = (await readdir(this.opts.dir)).filter((f) => RULE_FILE.test(f)).sort();
    const parts = await Promise.all(
      files.map(async (f) => {
        const s = await stat(join(this.opts.dir, f));
        return `${f}:${s.size}:${s.mtimeMs}`;
      }),
    );
    return parts.join('|');
  }

  private async readAll(): Promise<void> {
    const { dir } = this.opts;
    this.pollSignature = await this.signature().catch(() => 'unreadable');
    let files: string[];
    try {
      files = (await readdir(dir)).filter((f) => RULE_FILE.test(f)).sort();
    } catch (err) {
      this.problemList = [{ file: dir, path: [], message: `cannot read the rules directory: ${(err as Error).message}` }];
      this.opts.logger?.warn({ dir, problems: this.problemList.map(formatProblem) }, 'rules: directory unreadable, previous rules kept');
      return;
    }
    const catalogue = new Map(
      (typeof this.opts.catalogue === 'function' ? this.opts.catalogue() : this.opts.catalogue).map((k) => [k.id, k]),
    );

    // Templates (generic.yaml's count_default / level_default) are shared by every file.
    const templates = new Map<string, Record<string, unknown>>();
    for (const file of files) {
      try {
        const doc = parseDocument(await readFile(join(dir, file), 'utf8'));
        if (!doc.errors.length) for (const [id, t] of templatesOf(doc.toJS())) if (!templates.has(id)) templates.set(id, t);
      } catch {
        // Unreadable now: reported by the pass below.
      }
    }

    const problems: RuleProblem[] = [];
    const fresh = new Map<string, Rule[]>();
    for (const file of files) {
      const parsed = await this.readFile(file, catalogue, templates);
      if (parsed.problems.length) problems.push(...parsed.problems);
      else fresh.set(file, parsed.rules);
    }

    // Merge in file-name order; an id already owned by an earlier file invalidates the later one.
    const owner = new Map<string, string>();
    const merged: Rule[] = [];
    const nextGood = new Map<string, Rule[]>();
    for (const file of files) {
      let rules = fresh.get(file);
      const dups = rules?.filter((r) => owner.has(r.id)) ?? [];
      for (const d of dups) {
        problems.push({ file, ruleId: d.id, field: 'id', path: [], message: `duplicate rule id (already defined in ${owner.get(d.id)})` });
      }
      if (!rules || dups.length) rules = (this.lastGood.get(file) ?? []).filter((r) => !owner.has(r.id));
      else nextGood.set(file, rules);
      if (!nextGood.has(file) && this.lastGood.has(file)) nextGood.set(file, this.lastGood.get(file) ?? []);
      for (const r of rules) owner.set(r.id, file);
      merged.push(...rules);
    }
    this.lastGood = nextGood;
    this.problemList = problems;

    if (problems.length) {
      this.opts.logger?.warn({ dir, problems: problems.map(formatProblem) }, 'rules: invalid rule files, their previous versions stay in force');
    }
    if (JSON.stringify(merged) !== JSON.stringify(this.inForce)) {
      this.inForce = merged;
      this.gen++;
      this.opts.logger?.info({ dir, rules: merged.length, generation: this.gen }, 'rules: loaded');
      this.opts.onChange?.(merged);
    }
  }

  private async readFile(
    file: string,
    catalogue: ReadonlyMap<string, KpiInfo>,
    templates: ReadonlyMap<string, Record<string, unknown>>,
  ): Promise<{ rules: Rule[]; problems: RuleProblem[] }> {
    let text: string;
    try {
      text = await readFile(join(this.opts.dir, file), 'utf8');
    } catch (err) {
      // Deleted between readdir and read: the next event reloads.
      return { rules: [], problems: [{ file, path: [], message: `cannot read: ${(err as Error).message}` }] };
    }
    // A save caught between truncate and write reads as empty: never take that as "no rules".
    if (text.trim() === '') {
      return { rules: [], problems: [{ file, path: [], message: 'empty file (write `rules: []` for a file without rules)' }] };
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
    if (doc.errors.length) {
      return {
        rules: [],
        problems: doc.errors.map((e) => ({
          file,
          path: [],
          ...(e.linePos ? { line: e.linePos[0].line } : {}),
          message: `YAML: ${e.message.split('\n')[0] ?? e.code}`,
        })),
      };
    }
    const { minuteAligned, notifiers } = this.opts;
    const parsed = parseRuleDocument(doc.toJS(), {
      file,
      catalogue,
      templates,
      ...(minuteAligned ? { minuteAligned } : {}),
      ...(notifiers ? { notifiers: new Set(typeof notifiers === 'function' ? notifiers() : notifiers) } : {}),
    });
    for (const p of parsed.problems) {
      // The deepest node that exists on the path (a missing field points at its rule).
      for (let n = p.path.length; n >= 0; n--) {
        const node: unknown = doc.getIn(p.path.slice(0, n), true);
        if (isNode(node) && node.range) {
          p.line = lines.linePos(node.range[0]).line;
          break;
        }
      }
    }
    return parsed;
  }
}
