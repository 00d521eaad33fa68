/**
 * Member ids are pseudonymised on ingest (PIPL): HMAC-SHA256 with the secret salt,
 * truncated to 96 bits (collisions stay negligible at hundreds of millions of members).
 * Only these hashes live in memory; neither ids nor hashes are written anywhere.
 *
 * HMAC is computed from its definition (RFC 2104: H(K⊕opad ‖ H(K⊕ipad ‖ m))) with the
 * one-shot `crypto.hash`, because `createHmac` builds two objects per call and was the
 * largest cost of an import (measured 1.4× faster here); the output is the same bytes
 * (memberHash.test.ts compares it with createHmac).
 */
import { createHash, hash } from 'node:crypto';

export type MemberHasher = (memberId: string) => string;

const BLOCK = 64;

export function createMemberHasher(salt: string): MemberHasher {
  let key = Buffer.from(salt, 'utf8');
  if (key.length > BLOCK) key = createHash('sha256').update(key).digest();
  const ipad = Buffer.alloc(BLOCK, 0x36);
  const opad = Buffer.alloc(BLOCK, 0x5c);
  for (let i = 0; i < key.length; i++) {
    ipad[i]! ^= key[i]!;
    opad[i]! ^= key[i]!;
  }
  return (memberId) => {
    const inner = hash('sha256', Buffer.concat([ipad, Buffer.from(memberId, 'utf8')]), 'buffer');
    return hash('sha256', Buffer.concat([opad, inner]), 'buffer').subarray(0, 12).toString('base64url');
  };
}

/**
 * `hasher` with a memory of the last ids hashed, for imports: a file's batches keep meeting
 * the same members (an active core), and the HMAC was the largest cost of a dense import
 * after parsing. Bounded at `max` entries (about 150 bytes an entry), in two generations of
 * max / 2: a new generation starts when the current one is full, the one before it is
 * dropped, and a member found in the older one is carried into the current one. Frequent
 * members so stay remembered; dropping everything when full (as before) made each of them
 * miss again after every clear (on the brand month file, 200,000 members, the share of
 * events hashed again fell from 58 % to 34 % at twice the entries; h12imp6's note). The
 * hashes stay in memory only, as every member hash does.
 */
export function rememberingHasher(hasher: MemberHasher, max: number): MemberHasher & { readonly size: number } {
  const generation = Math.max(1, Math.floor(max / 2));
  let current = new Map<string, string>();
  let older = new Map<string, string>();
  const f = (memberId: string) => {
    let h = current.get(memberId);
    if (h !== undefined) return h;
    h = older.get(memberId) ?? hasher(memberId);
    if (current.size >= generation) {
      older = current;
      current = new Map();
    }
    current.set(memberId, h);
    return h;
  };
  return Object.defineProperty(f, 'size', { get: () => current.size + older.size }) as MemberHasher & { readonly size: number };
}
