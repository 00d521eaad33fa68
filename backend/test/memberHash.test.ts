import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemberHasher, rememberingHasher } from '../src/ingest/memberHash.js';

const reference = (salt: string, id: string) => createHmac('sha256', salt).update(id, 'utf8').digest().subarray(0, 12).toString('base64url');

describe('member hash', () => {
  it('is HMAC-SHA256 truncated to 96 bits, for short, block-sized and long salts and any id', () => {
    for (const salt of ['s', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), '盐'.repeat(40), 'a6f3c1d2e4b5a6f3c1d2e4b5a6f3c1d2']) {
      const h = createMemberHasher(salt);
      for (const id of ['u1', '', '用户_123', 'x'.repeat(300), '\u{1F600}', 'a\u0000b']) expect(h(id)).toBe(reference(salt, id));
    }
  });

  it('remembering the last ids gives the same hashes and holds at most its bound', () => {
    let computed = 0;
    const plain = createMemberHasher('remember-salt');
    const h = rememberingHasher((id) => (computed++, plain(id)), 3);
    for (const id of ['a', 'b', 'a', 'c', 'a']) expect(h(id)).toBe(reference('remember-salt', id));
    expect(computed).toBe(3);
    expect(h.size).toBe(3);
    expect(h('d')).toBe(reference('remember-salt', 'd')); // the bound: forgets and starts again
    expect(h.size).toBe(1);
    expect(h('a')).toBe(reference('remember-salt', 'a'));
    expect(computed).toBe(5);
  });
});
