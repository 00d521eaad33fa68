/**
 * The process logger. Nothing logs requests today, but errors carry objects whose shape is
 * not ours (HTTP errors, fetch causes): any credential-bearing field they might hold is
 * censored here once, so a future request log or error cannot print a token.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.query.token',
  'headers.authorization',
  'headers.Authorization',
  'err.headers.authorization',
  'err.config.headers.Authorization',
  '*.token',
  '*.password',
  '*.secret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Stdout for the log while the server starts: lines are held, then written in one go
 * followed by the start-up banner, so the banner is one block at the bottom of the terminal
 * (not split by, or buried under, JSON lines); after that, lines pass straight through.
 * Both go through process.stdout, so their order is the order of the writes.
 */
export class HeldLogOutput implements DestinationStream {
  private held: string[] | null = [];

  write(line: string): void {
    if (this.held) this.held.push(line);
    else process.stdout.write(line);
  }

  /** Writes the held lines, then `block` (the banner); from now on lines are not held. */
  release(block = ''): void {
    const held = this.held ?? [];
    this.held = null;
    const text = held.join('') + block;
    if (text) process.stdout.write(text);
  }
}
