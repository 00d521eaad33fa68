/**
 * Tag cardinality guard: each dimension admits at most N distinct values; later values
 * are counted under OVERFLOW_TAG so a producer bug (a member id sent as `community`) cannot
 * explode the store's series count. Known values are seeded from the store on start.
 */
import type { Dimension } from '../catalogue/events.js';

export const OVERFLOW_TAG = '(other)';

export class TagGuard {
  private readonly known: Record<Dimension, Set<string>> = { channel: new Set(), community: new Set(), campaign: new Set() };

  constructor(
    private readonly limits: Record<Dimension, number>,
    private readonly onOverflow: (dim: Dimension) => void = () => {},
  ) {}

  seed(dim: Dimension, values: Iterable<string>): void {
    for (const v of values) if (v !== '' && this.known[dim].size < this.limits[dim]) this.known[dim].add(v);
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
    this.onOverflow(dim);
    return OVERFLOW_TAG;
  }
}
