/**
 * Notifier configuration: a YAML file (`notifiers: [{id, type, …}]`) and/or the one-robot
 * environment variables (DINGTALK_WEBHOOK …, WECOM_WEBHOOK …). String values in the file may
 * reference the environment as `${NAME}` so secrets need not live in the file. Errors name
 * the file, the notifier and the field — never a value, since values hold tokens and secrets.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { NotifierConfig } from './types.js';

export class NotifierConfigError extends Error {
  override name = 'NotifierConfigError';
}

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'use letters, digits, "-", "_" or "." (at most 64)');
const required = (iss: { input?: unknown }) => (iss.input === undefined ? 'required' : undefined);
const httpUrl = z.url({ protocol: /^https?$/, error: (iss) => required(iss) ?? 'must be an http(s) URL' });
const mobile = z.string().regex(/^\+?[0-9][0-9-]{4,19}$/, 'must be a phone number');
const timeoutMs = z.number().int().min(100).max(120_000).optional();

const schemas = {
  dingtalk: z.strictObject({
    id,
    type: z.literal('dingtalk'),
    webhook: httpUrl,
    secret: z.string().min(1).optional(),
    keyword: z.string().min(1).optional(),
    atMobiles: z.array(mobile).optional(),
    atUserIds: z.array(z.string().min(1)).optional(),
    isAtAll: z.boolean().optional(),
    // DingTalk blocks a robot for 10 minutes above 20 a minute.
    maxPerMinute: z.number().int().min(1).max(20).optional(),
    timeoutMs,
  }),
  wecom: z.strictObject({
    id,
    type: z.literal('wecom'),
    webhook: httpUrl,
    mentionedMobiles: z.array(mobile).optional(),
    mentionedUserIds: z.array(z.string().min(1)).optional(),
    maxPerMinute: z.number().int().min(1).max(20).optional(),
    timeoutMs,
  }),
  webhook: z.strictObject({
    id,
    type: z.literal('webhook'),
    url: httpUrl,
    secret: z.string().min(1).optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a header name'), z.string()).optional(),
    maxPerMinute: z.number().int().min(1).max(10_000).optional(),
    timeoutMs,
  }),
};
const TYPES = Object.keys(schemas) as (keyof typeof schemas)[];

/** Validates one notifier; `where` prefixes errors, `field` maps a field to how the user wrote it. */
function validate(raw: unknown, where: string, field: (path: string) => string = (p) => `field "${p}"`): NotifierConfig {
  const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const type = obj.type;
  if (typeof type !== 'string' || !TYPES.includes(type as keyof typeof schemas)) {
    throw new NotifierConfigError(`${where}: ${field('type')}: must be one of ${TYPES.join(', ')}`);
  }
  const result = schemas[type as keyof typeof schemas].safeParse(obj, { error: required });
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) =>
    // An unknown key is usually a typo ("secrte"): name it.
    i.code === 'unrecognized_keys'
      ? `${where}: unknown ${i.keys.length > 1 ? 'fields' : 'field'} ${i.keys.map((k) => `"${k}"`).join(', ')}`
      : `${where}: ${field(i.path.join('.'))}: ${i.message}`,
  );
  throw new NotifierConfigError(lines.join('\n'));
}

/** Replaces `${NAME}` in every string with the environment value; a missing one is an error. */
function interpolate(value: unknown, env: Record<string, string | undefined>, onMissing: (name: string, path: string) => never, path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? onMissing(name, path));
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, onMissing, `${path}.${i}`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, onMissing, path ? `${path}.${k}` : k)]));
  }
  return value;
}

function fromFile(file: string, env: Record<string, string | undefined>): NotifierConfig[] {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new NotifierConfigError(`${file}: ${e.code === 'ENOENT' ? 'file not found' : `cannot read notifiers: ${e.message}`}`);
  }
  if (doc === null || doc === undefined) return []; // an empty file
  const list = (doc as { notifiers?: unknown }).notifiers;
  if (!Array.isArray(list)) throw new NotifierConfigError(`${file}: expected a top-level "notifiers:" list`);
  // Validate every notifier so one run reports all problems.
  const errors: string[] = [];
  const out: NotifierConfig[] = [];
  list.forEach((raw, i) => {
    const name = typeof (raw as { id?: unknown })?.id === 'string' ? `"${(raw as { id: string }).id}"` : `#${i + 1}`;
    const where = `${file}: notifier ${name}`;
    try {
      const resolved = interpolate(raw, env, (v, path) => {
        throw new NotifierConfigError(`${where}: field "${path}": environment variable ${v} is not set`);
      });
      out.push(validate(resolved, where));
    } catch (err) {
      if (!(err instanceof NotifierConfigError)) throw err;
      errors.push(err.message);
    }
  });
  if (errors.length) throw new NotifierConfigError(errors.join('\n'));
  return out;
}

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const opt = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);

/** The common one-robot setup from the environment. */
function fromEnv(env: Record<string, string | undefined>): NotifierConfig[] {
  const out: NotifierConfig[] = [];
  const ding = {
    webhook: 'DINGTALK_WEBHOOK',
    secret: 'DINGTALK_SECRET',
    keyword: 'DINGTALK_KEYWORD',
    atMobiles: 'DINGTALK_AT_MOBILES',
  } as const;
  const dingUrl = opt(env[ding.webhook]);
  if (dingUrl) {
    const raw = {
      id: 'dingtalk',
      type: 'dingtalk',
      webhook: dingUrl,
      secret: opt(env[ding.secret]),
      keyword: opt(env[ding.keyword]),
      atMobiles: env[ding.atMobiles] ? list(env[ding.atMobiles]) : undefined,
    };
    out.push(validate(raw, 'environment', (p) => envName(ding, p)));
  } else {
    const stray = [ding.secret, ding.keyword, ding.atMobiles].filter((k) => opt(env[k]));
    if (stray.length) throw new NotifierConfigError(`environment: ${stray.join(', ')} set but ${ding.webhook} is not`);
  }
  const wecom = { webhook: 'WECOM_WEBHOOK', mentionedMobiles: 'WECOM_MENTIONED_MOBILES' } as const;
  const wecomUrl = opt(env[wecom.webhook]);
  if (wecomUrl) {
    const raw = {
      id: 'wecom',
      type: 'wecom',
      webhook: wecomUrl,
      mentionedMobiles: env[wecom.mentionedMobiles] ? list(env[wecom.mentionedMobiles]) : undefined,
    };
    out.push(validate(raw, 'environment', (p) => envName(wecom, p)));
  }
  return out;
}

function envName(names: Record<string, string>, path: string): string {
  const [head, index] = path.split('.');
  const name = names[head ?? ''];
  if (!name) return `field "${path}"`;
  return index === undefined ? name : `${name} (item ${Number(index) + 1})`;
}

/**
 * All notifiers: the file's (when given) and the environment's. Ids must be unique across both.
 * Throws NotifierConfigError with every problem found in a notifier, values never included.
 */
export function loadNotifiers(opts: { file?: string; env: Record<string, string | undefined> }): NotifierConfig[] {
  const all = [...(opts.file ? fromFile(opts.file, opts.env) : []), ...fromEnv(opts.env)];
  const seen = new Set<string>();
  for (const n of all) {
    if (seen.has(n.id)) {
      throw new NotifierConfigError(`notifier id "${n.id}" is defined twice${opts.file ? ` (in ${opts.file} and/or the environment)` : ''}`);
    }
    seen.add(n.id);
  }
  return all;
}
