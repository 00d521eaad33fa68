/**
 * Prints the hashed form of a token for PULSE_READ_TOKEN / PULSE_ADMIN_TOKEN /
 * PULSE_INGEST_KEYS, so the configuration never holds a working credential:
 *
 *   npm run hash-token -w backend -- '<token>'     →  sha256:…
 *
 * Reads the token from stdin when no argument is given (keeps it out of shell history:
 * `read -s T && printf %s "$T" | npm run -s hash-token -w backend`).
 */
import { readFileSync } from 'node:fs';
import { hashToken } from '../http/auth.js';

const MIN_LENGTH = 16;

function main(): number {
  const arg = process.argv[2];
  // Stdin: take the first line as it is (a trailing newline from echo is not part of it).
  const token = arg ?? readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
  if (token.length === 0) {
    process.stderr.write('usage: hashToken <token>   (or the token on stdin)\n');
    return 2;
  }
  if (token.length < MIN_LENGTH) {
    // The same rule config applies to plain tokens; a hashed short token would slip past it.
    process.stderr.write(`token is shorter than ${MIN_LENGTH} characters: choose a longer one (e.g. openssl rand -base64 24)\n`);
    return 2;
  }
  process.stdout.write(`${hashToken(token)}\n`);
  return 0;
}

process.exitCode = main();
