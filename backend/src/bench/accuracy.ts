/**
 * Accuracy of the distinct-member sketch: true vs reported at 10², 10⁴, 10⁶ and 10⁷ members
 * (BENCH_ACCURACY_MAX caps the largest), hashed as ingest hashes them, one sketch each and a
 * merge of two overlapping halves (what a restart or a second node does).
 */
import { randomBytes } from 'node:crypto';
import { createMemberHasher } from '../ingest/memberHash.js';
import { Hll, sketchKeyOf } from '../sketch/hll.js';

export function benchAccuracy(): [string, string][] {
  const max = Number(process.env.BENCH_ACCURACY_MAX ?? 10_000_000);
  const hash = createMemberHasher(randomBytes(16).toString('hex'));
  const rows: [string, string][] = [];
  for (const n of [100, 10_000, 1_000_000, 10_000_000].filter((x) => x <= max)) {
    const whole = new Hll();
    const a = new Hll();
    const b = new Hll();
    for (let i = 0; i < n; i++) {
      const k = sketchKeyOf(hash(`member-${i}`));
      whole.add(k);
      // Two writers: the first 60 % and the last 60 % (20 % seen by both).
      if (i < n * 0.6) a.add(k);
      if (i >= n * 0.4) b.add(k);
    }
    a.merge(b);
    const err = (v: number) => `${(((v - n) / n) * 100).toFixed(3)} %`;
    rows.push([`accuracy: ${n.toLocaleString('en-US')} members`, `reported ${whole.estimate().toLocaleString('en-US')} (${err(whole.estimate())}); merged halves ${a.estimate().toLocaleString('en-US')} (${err(a.estimate())})`]);
  }
  return rows;
}
