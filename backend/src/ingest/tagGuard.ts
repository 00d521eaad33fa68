/**
 * Tag cardinality guard: each dimension admits at most N distinct values; later values
 * are counted under OVERFLOW_TAG so a producer bug (a member id sent as `community`) cannot
 * explode the store's series count. Known values are seeded from the store on start.
 *
 * The community cap is sized for real brands (default 20,000 groups, up to 100,000): a
 * brand's groups fit, a producer sending a random community per event still hits the cap.
 * When a dimension first overflows, `onCapReached` fires once (the server logs it with the
 * setting to raise); every folded event counts in `onOverflow` (pulse_tag_overflow_total).
 */
import type { Dimension } from '@siyu-pulse/contracts/catalogue';

export const OVERFLOW_TAG = '(other)';

export interface TagGuardHooks {
  /** Every event whose value was folded into OVERFLOW_TAG. */
  onOverflow?(dim: Dimension): void;
  /** Once per dimension per process: the first value refused because the cap is full. */
  onCapReached?(dim: Dimension, limit: number, refusedValue: string): void;
}

export class TagGuard {
  private readonly known: Record<Dimension, Set<string>> = { channel: new Set(), community: new Set(), campaign: new Set() };
  private readonly capReported = new Set<Dimension>();
  private readonly hooks: TagGuardHooks;

  constructor(
    private readonly limits: Record<Dimension, number>,
    hooks: TagGuardHooks | ((dim: Dimension) => void) = {},
  ) {
    this.hooks = typeof hooks === 'function' ? { onOverflow: hooks } : hooks;
  }

  seed(dim: Dimension, values: Iterable<string>): void {
    for (const v of values) if (v !== '' && v !== OVERFLOW_TAG && this.known[dim].size < this.limits[dim]) this.known[dim].add(v);
  }

  /** The value to store for `value` ('' stays '' = not given). */
  admit(dim: Dimension, value: string): string {
    if (value === '') return value;
    const known = this.known[dim];
    if (known.has(value)) return value;
    if (known.size < this.limits[dim]) {
      known.add(value);
      return value;
    }
    if (!this.capReported.has(dim)) {
      this.capReported.add(dim);
      this.hooks.onCapReached?.(dim, this.limits[dim], value);
    }
    this.hooks.onOverflow?.(dim);
    return OVERFLOW_TAG;
  }

  /** Admitted values of a dimension (names search, community lists). */
  values(dim: Dimension): ReadonlySet<string> {
    return this.known[dim];
  }

  /** Admitted values and the cap, for /metrics. */
  usage(dim: Dimension): { values: number; limit: number } {
    return { values: this.known[dim].size, limit: this.limits[dim] };
  }
}
