/**
 * Notifier configuration: a YAML file (`notifiers: [{id, type, …}]`) and/or the one-robot
 * environment variables (DINGTALK_WEBHOOK …, WECOM_WEBHOOK …). String values in the file may
 * reference the environment as `${NAME}` so secrets need not live in the file. Errors name
 * the file, the notifier and the field — never a value, since values hold tokens and secrets.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ANY_KINDS, kindOf, type NotifierConfig } from './senders/index.js';

export class NotifierConfigError extends Error {
  override name = 'NotifierConfigError';
}

const required = (iss: { input?: unknown }) => (iss.input === undefined ? 'required' : undefined);
const TYPES = ANY_KINDS.map((k) => k.type);

/** Validates one notifier; `where` prefixes errors, `field` maps a field to how the user wrote it. */
function validate(raw: unknown, where: string, field: (path: string) => string = (p) => `field "${p}"`): NotifierConfig {
  const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const type = obj.type;
  const kind = typeof type === 'string' ? kindOf(type) : undefined;
  if (!kind) throw new NotifierConfigError(`${where}: ${field('type')}: must be one of ${TYPES.join(', ')}`);
  const result = kind.schema.safeParse(obj, { error: required });
  // The kind's schema checked `type`, so the result is that kind's config.
  if (result.success) return result.data as NotifierConfig;
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

/** The common one-robot setup from the environment: each kind with an environment form. */
function fromEnv(env: Record<string, string | undefined>): NotifierConfig[] {
  const out: NotifierConfig[] = [];
  for (const kind of ANY_KINDS) {
    const form = kind.env;
    if (!form) continue;
    const vars = form.vars as Record<string, string>;
    const triggerVar = vars[form.trigger]!;
    if (!opt(env[triggerVar])) {
      const stray = Object.values(vars).filter((name) => name !== triggerVar && opt(env[name]));
      if (stray.length) throw new NotifierConfigError(`environment: ${stray.join(', ')} set but ${triggerVar} is not`);
      continue;
    }
    const raw: Record<string, unknown> = { id: kind.type, type: kind.type };
    for (const [fieldName, name] of Object.entries(vars)) {
      const value = env[name];
      raw[fieldName] = (form.lists as string[] | undefined)?.includes(fieldName) ? (value ? list(value) : undefined) : opt(value);
    }
    out.push(validate(raw, 'environment', (p) => envName(vars, p)));
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
