import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemberHasher, rememberingHasher } from '../src/ingest/memberHash.js';
import { IngestService } from '../src/ingest/service.js';
import type { IdLedger } from '../src/ingest/idLedger.js';
import { TagGuard } from '../src/ingest/tagGuard.js';

const reference = (salt: string, id: string) => createHmac('sha256', salt).update(id, 'utf8').digest().subarray(0, 12).toString('base64url');

describe('member hash', () => {
  it('is HMAC-SHA256 truncated to 96 bits, for short, block-sized and long salts and any id', () => {
    for (const salt of ['s', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), '盐'.repeat(40), 'a6f3c1d2e4b5a6f3c1d2e4b5a6f3c1d2']) {
      const h = createMemberHasher(salt);
      for (const id of ['u1', '', '用户_123', 'x'.repeat(300), '\u{1F600}', 'a\u0000b']) expect(h(id)).toBe(reference(salt, id));
    }
  });

  it('remembering the last ids gives the same hashes, holds at most its bound and keeps the members that recur', () => {
    let computed = 0;
    const plain = createMemberHasher('remember-salt');
    // Two generations of 2 entries.
    const h = rememberingHasher((id) => (computed++, plain(id)), 4);
    for (const id of ['a', 'b', 'a', 'c', 'a']) expect(h(id)).toBe(reference('remember-salt', id));
    expect(computed).toBe(3); // 'a' from the older generation, carried into the current one
    expect(h.size).toBeLessThanOrEqual(4);
    expect(h('d')).toBe(reference('remember-salt', 'd')); // a new generation: {a, b} is dropped, {c, a} is the older one
    expect(computed).toBe(4);
    expect(h('b')).toBe(reference('remember-salt', 'b')); // forgotten: hashed again
    expect(computed).toBe(5);
    expect(h('a')).toBe(reference('remember-salt', 'a')); // recurring: still known, never hashed again
    expect(computed).toBe(5);
    for (const id of ['e', 'f', 'g', 'h', 'i']) h(id);
    expect(h.size).toBeLessThanOrEqual(4);
  });

  it('live batches hash a member once a minute at most, and forget the ids after a minute', async () => {
    let computed = 0;
    const plain = createMemberHasher('live-salt');
    let now = Date.UTC(2026, 11, 7, 4, 0, 0);
    const hashes: (string | undefined)[] = [];
    const service = new IngestService({
      log: { append: (items) => (hashes.push(...items.map((i) => i.event.member)), Promise.resolve()) },
      hashMember: (id) => (computed++, plain(id)),
      ledger: {} as IdLedger, // no event ids: never asked
      tagGuard: new TagGuard({ channel: 50, community: 100, campaign: 100 }),
      historyMs: 86_400_000,
      futureSkewMs: 60_000,
      metrics: { accepted: () => {}, duplicate: () => {}, rejected: () => {} },
      now: () => now,
    });
    const send = (...members: string[]) => service.accept(members.map((member) => ({ type: 'message', channel: 'wecom', member })));
    await send('a', 'b', 'a');
    await send('b', 'c');
    expect(computed).toBe(3);
    now += 59_999;
    await send('a');
    expect(computed).toBe(3);
    now += 1;
    await send('a', 'b');
    expect(computed).toBe(5);
    expect(hashes).toEqual(['a', 'b', 'a', 'b', 'c', 'a', 'a', 'b'].map((id) => reference('live-salt', id)));
  });
});
