/**
 * What a notifier kind is: its config schema, how it reads the one-robot environment
 * variables (if it has any), and how it builds its sender. Each kind lives in one file under
 * `senders/` with its size limit and errcode reading; adding one is that file and one line in
 * `senders/index.ts`.
 */
import { z } from 'zod';
import type { Sender } from '../types.js';

/** Fields every kind shares. */
export const notifierId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'use letters, digits, "-", "_" or "." (at most 64)');
const required = (iss: { input?: unknown }) => (iss.input === undefined ? 'required' : undefined);
export const httpUrl = z.url({ protocol: /^https?$/, error: (iss) => required(iss) ?? 'must be an http(s) URL' });
export const mobile = z.string().regex(/^\+?[0-9][0-9-]{4,19}$/, 'must be a phone number');
export const timeoutMs = z.number().int().min(100).max(120_000).optional();

/**
 * The environment form of a kind: `vars` maps config fields to variable names; `trigger` is the
 * field whose variable turns the notifier on (the others without it are an error); `lists` are
 * comma-separated. The notifier's id is the kind's type.
 */
export interface EnvForm<C> {
  trigger: keyof C & string;
  vars: Partial<Record<keyof C & string, string>>;
  lists?: (keyof C & string)[];
}

export interface NotifierKind<T extends string = string, C extends { id: string; type: T } = { id: string; type: T }> {
  type: T;
  schema: z.ZodType<C>;
  env?: EnvForm<C>;
  create(config: C): Sender;
}

/** Keeps each kind's own config type while listing kinds together. */
export function defineKind<T extends string, C extends { id: string; type: T }>(kind: NotifierKind<T, C>): NotifierKind<T, C> {
  return kind;
}
