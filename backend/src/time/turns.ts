/**
 * Long loops on the server's one JavaScript thread (an import batch's checks and
 * aggregation, the demo's history generation) give the event loop a turn every few
 * milliseconds, so HTTP reads, the wall's socket and the alert engine are answered between
 * slices instead of after the whole batch: the demo's 30-day fill stalled the trends query
 * 7–55 s with one synchronous batch after another (docs/dev-notes/2026-12-07c/h12mem.md).
 *
 * `setImmediate` runs after the I/O callbacks that are ready, so a waiting request is
 * served at the next slice; a timer of 0 would not let I/O in first. The check of the
 * clock is amortised over `every` calls, because the loops run per event.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** A pause: resolves at once (no turn) or after the event loop had a turn. */
export type Pause = () => Promise<void> | undefined;

/** Default slice: the longest stretch of work between two turns (ms). */
export const SLICE_MS = 8;

/**
 * A pause that gives the loop a turn once `sliceMs` of wall time passed since the last one,
 * looking at the clock every `every` calls. Call it as `const p = pause(); if (p) await p;`
 * so a loop pays no promise per item between turns.
 */
export function slicer(sliceMs = SLICE_MS, every = 256): Pause {
  let calls = 0;
  let since = performance.now();
  return () => {
    if (++calls < every) return undefined;
    calls = 0;
    const now = performance.now();
    if (now - since < sliceMs) return undefined;
    return nextTurn().then(() => {
      since = performance.now();
    });
  };
}

/** Never gives a turn (tests, callers that want one synchronous run). */
export const noPause: Pause = () => undefined;

/**
 * `run` for one call at a time, in call order (a failed call does not stop the next ones).
 * Used where a burst of work would otherwise hold its memory while waiting: an import batch
 * aggregated early holds its rows while the store's write slot is busy (three 50,000-line
 * batches in flight ran the server's 256 MiB heap out: docs/dev-notes/2026-12-07c/h12imp.md),
 * and the background reads of the demo fill. Seven lines, so not a queue library.
 */
export function oneAtATime<A extends unknown[], R>(run: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let turn: Promise<unknown> = Promise.resolve();
  return (...args) => {
    const result = turn.then(() => run(...args));
    turn = result.catch(() => undefined);
    return result;
  };
}
