/**
 * The process logger. Nothing logs requests today, but errors carry objects whose shape is
 * not ours (HTTP errors, fetch causes): any credential-bearing field they might hold is
 * censored here once, so a future request log or error cannot print a token.
 */
import pino, { type Logger } from 'pino';

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

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}
