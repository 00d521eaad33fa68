/**
 * The store as a background reader sees it: its counter, distinct and sketch reads run one at
 * a time, in call order; everything else is the store's own.
 *
 * Why: the embedded DuckDB store has two read connections and sends each read to the one with
 * fewer waiting (store/duckdb/adapter.ts). The alert engine reads in bursts (every rule, its
 * seasonal baselines over 4 weeks, each split), and during the demo's 30-day fill or a big
 * import those reads are slow and fill both connections: the 30-day trends query waited
 * behind them for 2–7 s (measured; the event loop itself answered /healthz in ≤ 1.2 s, and
 * with no rules loaded the same query's p95 was 0.9 s). With the engine's reads one at a
 * time, one connection is always free for the API, the wall and the reports.
 */
import { oneAtATime } from '../time/turns.js';
import type { MetricStore } from './port.js';

export function oneReadAtATime(store: MetricStore): MetricStore {
  const serial = oneAtATime(<T>(read: () => Promise<T>) => read());
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (prop === 'queryCounters' || prop === 'queryDistinct' || prop === 'querySketches') {
        return (...args: unknown[]) => serial(() => Promise.resolve(fn.apply(target, args)));
      }
      return fn.bind(target);
    },
  });
}
