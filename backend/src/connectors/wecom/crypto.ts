/**
 * WeCom's callback encryption (加解密方案): msg_signature = SHA1 of the sorted concatenation
 * of token, timestamp, nonce and the encrypted text; AES-256-CBC, key = base64(EncodingAESKey
 * + "="), IV = its first 16 bytes, PKCS#7 padding to a multiple of 32 bytes; plaintext =
 * 16 random bytes · 4-byte big-endian length · message · receive id.
 *
 * The cipher is the official @wecom/crypto package: it passes WeCom's published vector and
 * strips the 32-byte padding itself (Node's automatic padding check would reject it). What
 * it leaves to the caller is done here: a constant-time signature comparison, a refusal
 * (not garbage) for undecryptable input, and the receive id check.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { decrypt, encrypt } from '@wecom/crypto';

/** A callback WeCom did not send (or sent for another corp): refused, logged, never counted. */
export class CallbackRefusal extends Error {
  constructor(
    readonly reason: 'signature' | 'decrypt' | 'receive_id' | 'stale' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'CallbackRefusal';
  }
}

/** Why a string cannot be an EncodingAESKey, or null. */
export function aesKeyProblem(key: string): string | null {
  if (key.length !== 43) return `must be the 43-character EncodingAESKey from the WeCom admin console (got ${key.length} characters)`;
  if (!/^[A-Za-z0-9+/]{43}$/.test(key)) return 'must contain only base64 characters (A–Z, a–z, 0–9, + and /)';
  return null;
}

export function msgSignature(token: string, timestamp: string, nonce: string, encrypted: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');
}

export function signatureMatches(token: string, timestamp: string, nonce: string, encrypted: string, given: string): boolean {
  const want = Buffer.from(msgSignature(token, timestamp, nonce, encrypted), 'utf8');
  const got = Buffer.from(given.toLowerCase(), 'utf8');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Decrypts and checks the receive id; throws CallbackRefusal. */
export function openMessage(aesKey: string, receiveId: string, encrypted: string): string {
  let opened: { message: string; id: string };
  try {
    // Base64 of whole AES blocks only; anything else is not WeCom's.
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encrypted) || Buffer.from(encrypted, 'base64').length % 32 !== 0) throw new Error('not base64 of whole 32-byte blocks');
    opened = decrypt(aesKey, encrypted);
  } catch (err) {
    throw new CallbackRefusal('decrypt', `cannot decrypt (${(err as Error).message}): check WECOM_CALLBACK_AES_KEY`);
  }
  if (opened.id !== receiveId) {
    // A wrong key also ends here (garbage plaintext): the check that catches both.
    throw new CallbackRefusal('receive_id', `receive id does not match WECOM_CORP_ID (wrong corp, or a wrong WECOM_CALLBACK_AES_KEY)`);
  }
  return opened.message;
}

/** Encrypts as WeCom does (the fake WeCom in the tests, and passive replies if ever needed). */
export function sealMessage(aesKey: string, receiveId: string, message: string, random?: Buffer): string {
  return encrypt(aesKey, message, receiveId, random);
}
