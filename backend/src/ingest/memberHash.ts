/**
 * Member ids are pseudonymised on ingest (PIPL): HMAC-SHA256 with the secret salt,
 * truncated to 96 bits (collisions stay negligible at hundreds of millions of members).
 * Only these hashes live in memory; neither ids nor hashes are written anywhere.
 */
import { createHmac } from 'node:crypto';

export type MemberHasher = (memberId: string) => string;

export function createMemberHasher(salt: string): MemberHasher {
  return (memberId) => createHmac('sha256', salt).update(memberId, 'utf8').digest().subarray(0, 12).toString('base64url');
}
