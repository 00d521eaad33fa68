/**
 * PULSE_CHANNEL_NAMES: the names a team gives its own channel ids, read at start-up.
 * Two spellings, so it fits an env line and the YAML config file alike:
 *   taobao=淘宝店|Taobao, live=直播间          (id=中文名, optionally |English name)
 *   {"taobao": "淘宝店", "live": {"zh": "直播间", "en": "Live"}}   (JSON / a YAML mapping;
 *                                               needed for ids containing , = or |)
 * A name without an English form is used for both languages.
 */
import { z } from 'zod';
import type { Label } from '@siyu-pulse/contracts/catalogue';
import { MAX_NAME_COLUMNS, nameColumns } from '@siyu-pulse/contracts/catalogue';
import { tagValueProblem } from '../store/port.js';

// A wider name would not fit the wall's channel column.
const name = z
  .string()
  .trim()
  .min(1, 'a name must not be empty')
  .refine((v) => nameColumns(v) <= MAX_NAME_COLUMNS, `a name may be at most 8 Chinese or ${MAX_NAME_COLUMNS} Latin characters wide (the wall's channel column)`);
const entry = z.union([name, z.strictObject({ zh: name, en: name.optional() })]);
const jsonForm = z.record(z.string(), entry);

function checkId(id: string): string | null {
  if (id === '') return 'an empty channel id';
  const p = tagValueProblem(id);
  return p ? `channel id ${JSON.stringify(id)}: ${p}` : null;
}

/** Parses the setting; the problems name the entry at fault. */
export function parseChannelNames(text: string): { names: Record<string, Label>; problems: string[] } {
  const names = Object.create(null) as Record<string, Label>;
  const problems: string[] = [];
  const add = (id: string, zh: string, en: string | undefined) => {
    const bad = checkId(id);
    if (bad) return void problems.push(bad);
    if (Object.hasOwn(names, id)) return void problems.push(`channel id ${JSON.stringify(id)} is named twice`);
    names[id] = { zh, en: en ?? zh };
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let raw: unknown;
    try {
      raw = JSON.parse(trimmed);
    } catch (err) {
      return { names, problems: [`not valid JSON: ${(err as Error).message}`] };
    }
    const parsed = jsonForm.safeParse(raw);
    if (!parsed.success) {
      return { names, problems: parsed.error.issues.map((i) => `${i.path.length ? `${JSON.stringify(String(i.path[0]))}: ` : ''}${i.message}`) };
    }
    for (const [id, v] of Object.entries(parsed.data)) add(id, typeof v === 'string' ? v : v.zh, typeof v === 'string' ? undefined : v.en);
    return { names, problems };
  }
  for (const part of trimmed.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) {
      problems.push(`"${item}": write id=名称 or id=名称|English`);
      continue;
    }
    const id = item.slice(0, eq).trim();
    const [zh = '', en, ...extra] = item.slice(eq + 1).split('|').map((s) => s.trim());
    const checked = z.tuple([name, name.optional()]).safeParse(en === undefined ? [zh] : [zh, en]);
    if (extra.length) problems.push(`"${item}": at most one | (中文名|English)`);
    else if (!checked.success) problems.push(`"${item}": ${checked.error.issues[0]?.message ?? 'bad name'}`);
    else add(id, checked.data[0], checked.data[1]);
  }
  return { names, problems };
}
