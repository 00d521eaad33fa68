/**
 * The benchmark's load generator, run as its own process (a fork of this file), so that
 * building and sending batches does not share a thread with the side that measures (the
 * latency probes' socket, the JSON.parse reference) and the server's CPU time can be read
 * on its own. Two modes:
 *
 * - `max`: `batches` prepared bodies (built before the clock starts) sent by `concurrency`
 *   senders as fast as the server answers; reports events accepted and seconds;
 * - `rate`: a steady `eventsPerSecond` in batches of 500 (a batch every 500 / rate s, at most
 *   `maxInFlight` requests open: a server that falls behind is not buried) until stopped;
 *   reports the rate actually accepted.
 *
 * Parent side: `startLoad(plan)` → `ready` (bodies built) → `go()` → `done` (max) or `stop()` (rate).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BATCH, batch, postBatch } from './batches.js';

/** Event times (none: stamped on arrival, i.e. live): event n at `base + ⌊n / perMs⌋`. */
export interface LoadTimes {
  base: number;
  perMs: number;
}

export type LoadPlan =
  | { kind: 'max'; base: string; batches: number; concurrency: number; idPrefix: string; ts?: LoadTimes }
  | { kind: 'rate'; base: string; eventsPerSecond: number; idPrefix: string; maxInFlight?: number };

const timesOf = (t: LoadTimes | undefined) => (t ? (n: number) => t.base + Math.floor(n / t.perMs) : undefined);

export interface LoadResult {
  accepted: number;
  seconds: number;
  /** Requests that failed (connection error or non-202); none expected. */
  failed: number;
}

type ToChild = { go: true } | { stop: true };
type FromChild = { ready: true } | { done: LoadResult } | { error: string };

const CHILD_FLAG = '--pulse-loadgen';

export interface RunningLoad {
  /** Resolves when the generator has built its bodies and waits for go(). */
  ready: Promise<void>;
  go(): void;
  /** `max`: resolves when every batch was answered; `rate`: after stop(). */
  done: Promise<LoadResult>;
  stop(): void;
  /** Ends the process (always call, also after done). */
  kill(): void;
}

export function startLoad(plan: LoadPlan): RunningLoad {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((readyResolve = res), (readyReject = rej)));
  const done = new Promise<LoadResult>((resolve, reject) => {
    child.on('message', (m: FromChild) => {
      if ('ready' in m) readyResolve();
      else if ('done' in m) resolve(m.done);
      else {
        const err = new Error(`load generator: ${m.error}`);
        readyReject(err);
        reject(err);
      }
    });
    child.once('exit', (code) => {
      const err = new Error(`load generator exited (${code}) before it finished`);
      readyReject(err);
      reject(err);
    });
  });
  // Unobserved rejections of `ready` after done are not errors of the caller's.
  ready.catch(() => undefined);
  child.send(plan);
  const send = (m: ToChild) => {
    if (child.connected) child.send(m);
  };
  return {
    ready,
    go: () => send({ go: true }),
    done,
    stop: () => send({ stop: true }),
    kill: () => {
      if (child.exitCode === null) child.kill();
    },
  };
}

// ---- the child ---------------------------------------------------------------------

async function runMax(plan: Extract<LoadPlan, { kind: 'max' }>, go: Promise<void>): Promise<LoadResult> {
  const bodies = Array.from({ length: plan.batches }, (_, i) => batch(i, timesOf(plan.ts), plan.idPrefix));
  process.send!({ ready: true } satisfies FromChild);
  await go;
  let next = 0;
  let accepted = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        try {
          // Not `accepted += await …`: that reads `accepted` before the await and loses the other senders' additions.
          const n = await postBatch(plan.base, body);
          accepted += n;
        } catch {
          failed++;
        }
      }
    }),
  );
  return { accepted, seconds: (performance.now() - started) / 1000, failed };
}

async function runRate(plan: Extract<LoadPlan, { kind: 'rate' }>, go: Promise<void>, stopped: Promise<void>): Promise<LoadResult> {
  process.send!({ ready: true } satisfies FromChild);
  await go;
  const everyMs = (BATCH / plan.eventsPerSecond) * 1000;
  const maxInFlight = plan.maxInFlight ?? 8;
  let stop = false;
  void stopped.then(() => (stop = true));
  let sent = 0;
  let inFlight = 0;
  let accepted = 0;
  let failed = 0;
  const started = performance.now();
  const open = new Set<Promise<void>>();
  while (!stop) {
    // Batches due by now (the schedule catches up after a slow turn, within maxInFlight).
    const due = Math.floor((performance.now() - started) / everyMs) + 1;
    while (sent < due && inFlight < maxInFlight) {
      const body = batch(sent++, undefined, plan.idPrefix);
      inFlight++;
      const p = postBatch(plan.base, body)
        .then((n) => void (accepted += n), () => void failed++)
        .finally(() => {
          inFlight--;
          open.delete(p);
        });
      open.add(p);
    }
    // Skipped slots are not sent later in a burst beyond maxInFlight: the schedule moves on.
    if (sent < due) sent = due;
    const nextAt = started + sent * everyMs;
    await new Promise((r) => setTimeout(r, Math.max(1, nextAt - performance.now())));
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(open);
  return { accepted, seconds, failed };
}

if (process.argv[2] === CHILD_FLAG && process.send) {
  let goResolve!: () => void;
  let stopResolve!: () => void;
  const go = new Promise<void>((r) => (goResolve = r));
  const stopped = new Promise<void>((r) => (stopResolve = r));
  process.on('message', (m: LoadPlan | ToChild) => {
    if ('go' in m) goResolve();
    else if ('stop' in m) stopResolve();
    else {
      const run = m.kind === 'max' ? runMax(m, go) : runRate(m, go, stopped);
      run.then(
        (done) => process.send!({ done } satisfies FromChild, () => process.exit(0)),
        (err: unknown) => process.send!({ error: (err as Error).message } satisfies FromChild, () => process.exit(1)),
      );
    }
  });
}
