/**
 * Delivery: notifications go to the durable outbox first, then a run loop sends what is due
 * to each notifier within its limiter — one message per rule group of what is due together
 * (a single notification reads as itself, several as a digest) — and retries by the sender's classification:
 * 'throttled' waits out the throttle window, 'backoff' retries with exponential backoff and
 * jitter, 'never' is recorded as failed and surfaced. Only `errcode 0` / 2xx counts as sent.
 * A crash between the robot's answer and the outbox write can repeat that one message on
 * restart (at least once); a clean close() waits for sends in flight, so nothing repeats.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isPlainMessage, type Notification, type PlainMessage } from '../contract.js';
import { formatDigest, formatNotification, formatTime, type MessageStyle } from './format.js';
import { DEFAULT_THROTTLE_MS, DEFAULT_WINDOW_MS, SlidingWindowLimiter, ThrottleCircuit } from './limiter.js';
import { Outbox, type OutboxEntry, type OutboxStorage } from './outbox.js';
import { createSender, type NotifierConfig } from './senders/index.js';
import type { OutboundMessage, SendFailure, SendResult, Sender } from './types.js';
import type { CarriedItem, DeliveryAttempt, NotifierStatus } from '@siyu-pulse/contracts/alertCenter';

// What the alert center's API answers: the shapes live in the contracts package.
export type { CarriedItem, DeliveryAttempt, NotifierStatus };

/** The backend maps these to prom-client counters. */
export interface DeliveryMetrics {
  /** `n` notifications confirmed delivered (a digest counts each notification in it). */
  sent(notifierId: string, n: number): void;
  /** One failed attempt ('backoff' or 'never'), or `expired` when a delivery is given up. */
  failed(notifierId: string, code: string): void;
  throttled(notifierId: string): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The subset of pino used here. */
export interface Logger {
  warn(obj: object, msg?: string): void;
}

export interface DispatcherOptions {
  outboxDir: string;
  /**
   * A cluster's shared outbox (instead of `<outboxDir>/outbox.jsonl`): only the node holding
   * the evaluator lease delivers (`start` / `pause`), after `reload()`ing what is owed.
   */
  outboxStorage?: OutboxStorage;
  notifiers: NotifierConfig[];
  /** Senders to use instead of the ones built from `notifiers` (custom channels, tests). */
  senders?: Sender[];
  now?: () => number;
  timers?: Timers;
  /** Run-loop period. */
  tickMs?: number;
  /** Limiter window (the budget is each sender's `maxPerMinute` per window). */
  windowMs?: number;
  /** How long a robot is left alone after a throttle answer. */
  throttleMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Jitter source, [0, 1). */
  random?: () => number;
  /** A delivery still failing after this long is given up (`expired`). */
  giveUpAfterMs?: number;
  /** Attempts kept per notifier for status(). */
  logSize?: number;
  /**
   * Where the delivery log is kept across restarts (JSON, rewritten after each attempt;
   * at most `logSize` rows per notifier, so a few tens of KB). Absent: memory only.
   */
  logFile?: string;
  /**
   * A cluster: the delivery log in storage every node sees (instead of `logFile`), written
   * after each attempt and read again by `reload()`, so the node that takes the lease over
   * shows the attempts of the one before it under 通知渠道.
   */
  logStorage?: { read(): Promise<unknown>; write(json: string): Promise<void> };
  /** Link put into test messages (the wall's URL). */
  wallUrl?: string;
  /** Display names of split values and the demo label, for every message. */
  style?: MessageStyle;
  metrics?: DeliveryMetrics;
  logger?: Logger;
}

/** A delivery that reached its end: delivered, or given up (refused for good, or expired). */
export interface DeliveryOutcome {
  notifierId: string;
  key: string;
  kind: Notification['kind'];
  ok: boolean;
  at: number;
  code?: string;
  message?: string;
  explanation?: string;
}

export interface EnqueueResult {
  queued: number;
  duplicates: number;
  unknownTargets: string[];
}

interface Runtime {
  sender: Sender;
  window: SlidingWindowLimiter;
  circuit: ThrottleCircuit;
  /** The delivery pass in progress, if any. */
  inFlight: Promise<void> | null;
  pausedUntil: number;
  consecutiveFailures: number;
  log: DeliveryAttempt[];
  counters: NotifierStatus['counters'];
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

const silentLogger: Logger = { warn: () => {} };
const noMetrics: DeliveryMetrics = { sent: () => {}, failed: () => {}, throttled: () => {} };

export class Dispatcher {
  private readonly outbox: Outbox;
  private readonly runtimes = new Map<string, Runtime>();
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly metrics: DeliveryMetrics;
  private readonly logger: Logger;
  private readonly wallUrl: string;
  private readonly style: MessageStyle;
  private readonly opts: Required<Pick<DispatcherOptions, 'tickMs' | 'backoffBaseMs' | 'backoffCapMs' | 'giveUpAfterMs' | 'logSize'>>;
  private timer: unknown = null;
  private closed = false;
  private paused = false;
  private readonly outcomeListeners = new Set<(o: DeliveryOutcome) => void>();
  private readonly logFile: string | null;
  private readonly logStorage: DispatcherOptions['logStorage'] | null;

  constructor(options: DispatcherOptions) {
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? defaultTimers;
    this.random = options.random ?? Math.random;
    this.metrics = options.metrics ?? noMetrics;
    this.logger = options.logger ?? silentLogger;
    this.opts = {
      tickMs: options.tickMs ?? 1000,
      backoffBaseMs: options.backoffBaseMs ?? 5000,
      backoffCapMs: options.backoffCapMs ?? 5 * 60_000,
      giveUpAfterMs: options.giveUpAfterMs ?? 24 * 3600_000,
      logSize: options.logSize ?? 50,
    };
    this.wallUrl = options.wallUrl ?? '';
    this.style = options.style ?? {};
    this.outbox = new Outbox({ dir: options.outboxDir, now: this.now, ...(options.outboxStorage ? { storage: options.outboxStorage } : {}) });
    this.logFile = options.logStorage ? null : (options.logFile ?? null);
    this.logStorage = options.logStorage ?? null;
    const kept = this.readLog();
    const senders = options.senders ?? options.notifiers.map(createSender);
    for (const sender of senders) {
      if (this.runtimes.has(sender.id)) throw new Error(`duplicate notifier id "${sender.id}"`);
      this.runtimes.set(sender.id, {
        sender,
        window: new SlidingWindowLimiter(sender.maxPerMinute, options.windowMs ?? DEFAULT_WINDOW_MS, this.now),
        circuit: new ThrottleCircuit(options.throttleMs ?? DEFAULT_THROTTLE_MS, this.now),
        inFlight: null,
        pausedUntil: 0,
        consecutiveFailures: 0,
        log: (kept[sender.id] ?? []).slice(0, this.opts.logSize),
        counters: { attempts: 0, messagesSent: 0, notificationsSent: 0, failedAttempts: 0, throttled: 0 },
      });
    }
  }

  /** The log kept by an earlier run; an unreadable file is reported and starts an empty log. */
  private readLog(): Record<string, DeliveryAttempt[]> {
    if (!this.logFile || !existsSync(this.logFile)) return {};
    try {
      const parsed = JSON.parse(readFileSync(this.logFile, 'utf8')) as { notifiers?: Record<string, DeliveryAttempt[]> };
      return parsed.notifiers && typeof parsed.notifiers === 'object' ? parsed.notifiers : {};
    } catch (err) {
      this.logger.warn({ err, file: this.logFile }, 'notify: delivery log unreadable, starting a new one');
      return {};
    }
  }

  private writeLog(): void {
    const notifiers = Object.fromEntries([...this.runtimes.values()].map((r) => [r.sender.id, r.log]));
    if (this.logStorage) {
      this.logStorage.write(JSON.stringify({ version: 1, notifiers })).catch((err: unknown) => this.logger.warn({ err }, 'notify: delivery log not saved to the shared storage'));
      return;
    }
    if (!this.logFile) return;
    try {
      // Write-then-rename: a crash mid-write leaves the previous log, never half a file.
      const tmp = `${this.logFile}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: 1, notifiers }));
      renameSync(tmp, this.logFile);
    } catch (err) {
      this.logger.warn({ err, file: this.logFile }, 'notify: delivery log not saved');
    }
  }

  /** Records each (notification, target) in the outbox (fsynced) before anything is sent. */
  enqueue(notifications: Notification[]): EnqueueResult {
    if (this.closed) throw new Error('dispatcher is closed');
    const items: { notifierId: string; notification: Notification }[] = [];
    const unknown = new Set<string>();
    for (const notification of notifications) {
      for (const notifierId of new Set(notification.targets)) {
        if (this.runtimes.has(notifierId)) items.push({ notifierId, notification });
        else unknown.add(notifierId);
      }
    }
    if (unknown.size) this.logger.warn({ unknownTargets: [...unknown] }, 'notifications addressed to unknown notifiers');
    const added = this.outbox.add(items);
    return { queued: added.length, duplicates: items.length - added.length, unknownTargets: [...unknown] };
  }

  /**
   * Calls `listener` for every delivery that reaches its end, so a sender of its own
   * messages (the weekly report) can record the outcome. Returns the unsubscribe function.
   */
  onOutcome(listener: (o: DeliveryOutcome) => void): () => void {
    this.outcomeListeners.add(listener);
    return () => this.outcomeListeners.delete(listener);
  }

  start(): void {
    this.paused = false;
    if (this.closed || this.timer) return;
    this.schedule();
  }

  /**
   * Resolves when every notification enqueued so far is durable in the outbox (at once with
   * the file outbox); rejects when a shared outbox refused or failed a write.
   */
  flushed(): Promise<void> {
    return this.outbox.flushed();
  }

  /** Stops delivering (a cluster node that no longer holds the lease) and waits for sends in flight; `start` resumes. */
  async pause(): Promise<void> {
    this.paused = true;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.runtimes.values()].map((r) => r.inFlight));
  }

  /** A shared outbox: read what is owed again before delivering (a node taking delivery over). */
  async reload(): Promise<void> {
    await this.outbox.reload();
    if (!this.logStorage) return;
    const doc = (await this.logStorage.read()) as { notifiers?: Record<string, DeliveryAttempt[]> } | undefined;
    const kept = doc?.notifiers && typeof doc.notifiers === 'object' ? doc.notifiers : {};
    for (const r of this.runtimes.values()) if (Array.isArray(kept[r.sender.id])) r.log = kept[r.sender.id]!.slice(0, this.opts.logSize);
  }

  /**
   * One pass over every notifier that is not busy; resolves when all passes in flight are
   * done. Per notifier, so a robot that hangs until its timeout does not hold up the others.
   */
  async tick(): Promise<void> {
    for (const r of this.runtimes.values()) {
      if (!r.inFlight && !this.closed && !this.paused) {
        r.inFlight = this.drain(r).finally(() => {
          r.inFlight = null;
        });
      }
    }
    await Promise.all([...this.runtimes.values()].map((r) => r.inFlight));
  }

  /** Stops the loop and waits for sends in flight, so their outcome is recorded. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.runtimes.values()].map((r) => r.inFlight));
    this.outbox.close();
  }

  /**
   * Sends a test message now, bypassing the outbox but not the throttle circuit or the
   * limiter (a test must not get the robot blocked). Returns the classified answer.
   */
  async testSend(notifierId: string): Promise<SendResult> {
    const r = this.runtimes.get(notifierId);
    if (!r) {
      return { ok: false, retry: 'never', code: 'unknown_notifier', message: notifierId, explanation: `没有 id 为 "${notifierId}" 的通知渠道 / no notifier with this id` };
    }
    const held = this.holdReason(r);
    if (held) return held;
    const ts = this.now();
    const n = testNotification(notifierId, ts, this.wallUrl);
    const result = await this.send(r, [n], { test: true });
    if (!result.ok && result.retry === 'throttled') r.circuit.trip(result.retryAfterMs);
    return result;
  }

  status(): NotifierStatus[] {
    return [...this.runtimes.values()].map((r) => {
      const id = r.sender.id;
      const failedEntries = this.outbox.list(id, 'failed').sort((a, b) => b.updatedAt - a.updatedAt);
      const lastError = r.log.find((a) => !a.ok) ?? null;
      return {
        id,
        type: r.sender.type,
        target: r.sender.target,
        maxPerMinute: r.sender.maxPerMinute,
        pending: this.outbox.pending(id).length,
        failed: failedEntries.length,
        throttledUntil: r.circuit.openUntil(),
        backoffUntil: r.pausedUntil > this.now() ? r.pausedUntil : null,
        counters: { ...r.counters },
        lastError,
        failures: failedEntries.slice(0, 20).map((e) => ({
          key: e.key,
          at: e.updatedAt,
          code: e.lastError?.code ?? '',
          message: e.lastError?.message ?? '',
          explanation: e.lastError?.explanation ?? '',
        })),
        log: [...r.log],
      };
    });
  }

  private schedule(): void {
    const handle = this.timers.setTimeout(() => {
      // Paused meanwhile (pause() cleared this timer, or replaced it after a restart).
      if (this.timer !== handle) return;
      this.timer = null;
      // Not awaited: tick() skips notifiers still busy, so a slow robot does not stall the loop.
      this.tick().catch((err: unknown) => this.logger.warn({ err }, 'notify: delivery pass failed'));
      if (!this.closed) this.schedule();
    }, this.opts.tickMs);
    this.timer = handle;
  }

  /** Why nothing may be sent to this notifier right now, as a failure to hand back. */
  private holdReason(r: Runtime): SendFailure | null {
    const until = r.circuit.openUntil();
    if (until !== null) {
      return {
        ok: false,
        retry: 'throttled',
        code: 'throttled',
        message: `throttled until ${new Date(until).toISOString()}`,
        explanation: `机器人被限流中，${formatTime(until)} 之后再试 / the robot is throttled; nothing is sent to it until then`,
      };
    }
    if (r.window.available() === 0) {
      return {
        ok: false,
        retry: 'throttled',
        code: 'rate_limited',
        message: `${r.sender.maxPerMinute} messages in the last minute`,
        explanation: '已达到每分钟发送上限 / this minute\'s sending budget is used up; try again shortly',
      };
    }
    return null;
  }

  private async drain(r: Runtime): Promise<void> {
    if (this.closed || r.circuit.isOpen() || this.now() < r.pausedUntil) return;
    const due = this.expire(r, this.outbox.pending(r.sender.id, this.now()));
    const budget = r.window.available();
    if (!due.length || budget === 0) return;
    // Notifications of one rule group that are due together go out as one message (one
    // message listing five dipping channels, not five); under a storm or after a throttle
    // that also keeps the robot within its budget.
    const batches = byGroup(due).slice(0, budget);
    for (const batch of batches) {
      if (this.closed) return;
      const ok = await this.deliver(r, batch);
      if (!ok) return; // the robot is failing or throttled: the rest waits
    }
  }

  /** Sends one batch and records the outcome; true when the loop may go on with this notifier. */
  private async deliver(r: Runtime, batch: OutboxEntry[]): Promise<boolean> {
    try {
      // Nothing is sent before its entry is durable, nor by a node that lost the lease (a
      // shared outbox: the node that took over delivers it).
      await this.outbox.flushed();
      await this.outbox.mayDeliver();
    } catch (err) {
      this.logger.warn({ err, notifier: r.sender.id }, 'notify: not delivering (the outbox is not writable by this node now)');
      return false;
    }
    // Closed or paused while checking: the next holder of the outbox sends it.
    if (this.closed || this.paused) return false;
    const result = await this.send(r, batch.map((e) => e.notification), { test: false });
    const t = this.now();
    const id = r.sender.id;
    const attempts = (e: OutboxEntry) => e.attempts + 1;
    if (result.ok) {
      this.outbox.save(batch.map(({ lastError: _drop, ...e }) => ({ ...e, attempts: attempts(e), state: 'delivered', updatedAt: t })));
      // The mark is durable before the next send (a shared outbox writes it through).
      await this.outbox.flushed().catch((err: unknown) => this.logger.warn({ err, notifier: id }, 'notify: delivered, but the outbox could not record it (it may be sent again)'));
      r.circuit.delivered();
      r.consecutiveFailures = 0;
      r.counters.notificationsSent += batch.length;
      this.metrics.sent(id, batch.length);
      this.settled(id, batch, t);
      return true;
    }
    const lastError = { retry: result.retry, code: result.code, message: result.message, explanation: result.explanation };
    if (result.retry === 'throttled') {
      const until = r.circuit.trip(result.retryAfterMs);
      this.outbox.save(batch.map((e) => ({ ...e, attempts: attempts(e), notBefore: until, updatedAt: t, lastError })));
      this.metrics.throttled(id);
      this.logger.warn({ notifier: id, code: result.code, until }, 'notify: robot throttled');
      return false;
    }
    r.counters.failedAttempts++;
    this.metrics.failed(id, result.code);
    if (result.retry === 'backoff') {
      r.consecutiveFailures++;
      r.pausedUntil = t + this.backoff(r.consecutiveFailures);
      this.outbox.save(batch.map((e) => ({ ...e, attempts: attempts(e), notBefore: r.pausedUntil, updatedAt: t, lastError })));
      return false;
    }
    this.outbox.save(batch.map((e) => ({ ...e, attempts: attempts(e), state: 'failed', updatedAt: t, lastError })));
    this.settled(id, batch, t, lastError);
    this.logger.warn({ notifier: id, code: result.code, errmsg: result.message, explanation: result.explanation }, 'notify: delivery failed, not retried');
    return true; // a content/config error of this message says nothing about the next one
  }

  /** Formats, counts against the limiter, sends and logs one message. */
  private async send(r: Runtime, ns: Notification[], { test }: { test: boolean }): Promise<SendResult> {
    const [first] = ns;
    const single = ns.length === 1 && first;
    const message: OutboundMessage = {
      ...(single ? formatNotification(first, this.style) : formatDigest(ns, this.style)),
      kind: single ? first.kind : 'digest',
      notifications: ns,
    };
    r.window.record();
    r.counters.attempts++;
    let result: SendResult;
    try {
      result = await r.sender.send(message);
    } catch (err) {
      // A sender bug is not a delivery.
      const detail = err instanceof Error ? err.message : String(err);
      result = { ok: false, retry: 'backoff', code: 'internal', message: detail, explanation: `发送程序出错 / sender error: ${detail}` };
    }
    if (result.ok) r.counters.messagesSent++;
    if (!result.ok && result.retry === 'throttled') r.counters.throttled++;
    const attempt: DeliveryAttempt = { ts: this.now(), keys: ns.map((n) => n.key), title: message.title, carried: ns.map(carriedItem), digest: ns.length > 1, test, ok: result.ok };
    if (!result.ok) Object.assign(attempt, { retry: result.retry, code: result.code, message: result.message, explanation: result.explanation });
    r.log.unshift(attempt);
    if (r.log.length > this.opts.logSize) r.log.length = this.opts.logSize;
    this.writeLog();
    return result;
  }

  /** Gives up on deliveries older than `giveUpAfterMs`; returns the rest. */
  private expire(r: Runtime, due: OutboxEntry[]): OutboxEntry[] {
    const t = this.now();
    const [old, fresh] = partition(due, (e) => t - e.createdAt > this.opts.giveUpAfterMs);
    if (old.length) {
      const hours = Math.round(this.opts.giveUpAfterMs / 3600_000);
      const lastError = {
        retry: 'never' as const,
        code: 'expired',
        message: old[0]?.lastError?.message ?? '',
        explanation: `超过 ${hours} 小时仍未送达，已放弃 / gave up: not delivered within ${hours} h (last error: ${old[0]?.lastError?.code ?? 'none'})`,
      };
      this.outbox.save(old.map((e) => ({ ...e, state: 'failed', updatedAt: t, lastError })));
      for (let i = 0; i < old.length; i++) this.metrics.failed(r.sender.id, 'expired');
      this.settled(r.sender.id, old, t, lastError);
    }
    return fresh;
  }

  private settled(notifierId: string, entries: OutboxEntry[], at: number, failure?: { code: string; message: string; explanation: string }): void {
    if (!this.outcomeListeners.size) return;
    for (const e of entries) {
      const o: DeliveryOutcome = { notifierId, key: e.key, kind: e.notification.kind, ok: !failure, at };
      if (failure) Object.assign(o, { code: failure.code, message: failure.message, explanation: failure.explanation });
      for (const listener of this.outcomeListeners) {
        try {
          listener(o);
        } catch (err) {
          this.logger.warn({ err }, 'notify: outcome listener failed');
        }
      }
    }
  }

  /** Exponential backoff with equal jitter: half fixed, half random. */
  private backoff(failures: number): number {
    const exp = Math.min(this.opts.backoffCapMs, this.opts.backoffBaseMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(exp / 2 + (this.random() * exp) / 2);
  }
}

function carriedItem(n: Notification): CarriedItem {
  // A plain message names itself by its title (数据周报 …, 日报 …).
  if (isPlainMessage(n)) return { key: n.key, kind: n.kind, ruleId: PLAIN_IDS[n.kind], ruleName: n.title };
  return { key: n.key, kind: n.kind, ruleId: n.ruleId, ruleName: n.ruleName, alertKey: n.split ? `${n.ruleId}|${n.split.dim}=${n.split.value}` : `${n.ruleId}|total` };
}

const PLAIN_IDS: Record<PlainMessage['kind'], string> = { report: 'weekly_report', brief: 'morning_brief', test: 'test' };

function byGroup(entries: OutboxEntry[]): OutboxEntry[][] {
  const groups = new Map<string, OutboxEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.notification.group);
    if (g) g.push(e);
    else groups.set(e.notification.group, [e]);
  }
  return [...groups.values()];
}

function partition<T>(xs: T[], p: (x: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const x of xs) (p(x) ? yes : no).push(x);
  return [yes, no];
}

function testNotification(notifierId: string, ts: number, link: string): PlainMessage {
  const title = '【测试】私域脉搏告警通道';
  const text = [`### ${title}`, '这是一条测试消息：收到即表示该通知渠道配置正确。', '', `- 时间：${formatTime(ts)}`, ...(link ? ['', `[打开大屏](${link})`] : [])].join('\n');
  return { key: `test|${notifierId}|${ts}`, kind: 'test', group: 'test', title, text, links: link ? [{ label: '打开大屏', url: link }] : [], targets: [notifierId], ts };
}
