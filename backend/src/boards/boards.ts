/**
 * Boards: which headline tiles and panels a wall shows, so two walls can show different
 * things. Two are built in; `PULSE_BOARDS_FILE` (YAML) adds boards or replaces a built-in
 * one with the same id. The file is validated at start-up against the KPI catalogue: a
 * typo stops the server with the file and the field named, rather than a blank tile.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import { BOARD_PANELS as PANELS, MAX_TILES, type Board, type BoardsResponse } from '@siyu-pulse/contracts/live';

export const BUILT_IN_BOARDS: readonly Board[] = [
  {
    id: 'overview',
    title: { zh: '今日概览', en: 'Today at a glance' },
    tiles: ['gmv', 'paid_conversion', 'push_open_rate', 'active_members', 'new_members', 'churn_rate'],
    panels: ['trend_messages', 'trend_open_rate', 'trend_conversion', 'funnel', 'channels', 'alerts'],
  },
  {
    id: 'push',
    title: { zh: '推送与互动', en: 'Push and engagement' },
    // 超频触达占比 took 新增成员's place (it is on the overview): a seventh tile switches the
    // wall to two tile rows, where the tiles lose their sparklines and overflow.
    tiles: ['push_open_rate', 'push_click_rate', 'push_over_cap_share', 'messages', 'interactions', 'lost_members'],
    panels: ['trend_open_rate', 'trend_messages', 'channels', 'alerts'],
  },
  {
    // Filled by the WeCom 客户联系 connector's callbacks (connectors/wecom): joins by 联系我 code,
    // customers who deleted their staff member (the sharpest churn signal), customer groups.
    id: 'wecom',
    title: { zh: '企业微信客户联系', en: 'WeCom customer contact' },
    tiles: ['new_members', 'lost_members', 'deleted_by_customer', 'net_growth', 'groups_created', 'active_members'],
    panels: ['trend_messages', 'channels', 'alerts'],
  },
  {
    // 社群: the morning look at thousands of groups (most active, growing, losing, silent).
    id: 'communities',
    title: { zh: '社群运营', en: 'Communities' },
    tiles: ['messages', 'interactions', 'new_members', 'lost_members', 'net_growth', 'active_members'],
    panels: ['communities'],
  },
  {
    // Month-level KPIs (unions of stored day sketches, live/monthLive.ts): the seed's 月活,
    // 人均互动频次 ≥ 12 次/月, 留存率 ≥ 85% and 复购率, beside today's active members.
    id: 'retention',
    title: { zh: '月活与留存', en: 'Monthly activity and retention' },
    tiles: ['active_members_30d', 'interactions_per_member_month', 'retention_7d', 'retention_30d', 'repeat_purchase_rate', 'active_members'],
    panels: ['trend_messages', 'channels', 'alerts'],
  },
];
const BUILT_IN_DEFAULT = 'overview';

const unique = (xs: readonly string[]) => new Set(xs).size === xs.length;

const BoardSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'lower-case letters, digits, _ and - (at most 40), e.g. "store_ops"'),
  title: z.strictObject({ zh: z.string().trim().min(1).max(40), en: z.string().trim().min(1).max(60) }),
  tiles: z
    .array(z.string().refine((id) => KPI_BY_ID.has(id), { error: (i) => `unknown KPI ${JSON.stringify(i.input)} (see GET /api/v1/kpis for the ids)` }))
    .min(1, 'at least one tile')
    .max(MAX_TILES, `at most ${MAX_TILES} tiles fit on a 1920×1080 wall`)
    .refine(unique, 'a KPI is listed twice'),
  panels: z.array(z.enum(PANELS)).refine(unique, 'a panel is listed twice'),
});

const FileSchema = z.strictObject({
  default: z.string().min(1).optional(),
  boards: z.array(BoardSchema).min(1, 'list at least one board'),
});

export class BoardsFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`PULSE_BOARDS_FILE ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BoardsFileError';
  }
}

/** The boards walls may show: built-ins, then the file's (same id replaces). */
export function loadBoards(file: string | null): BoardsResponse {
  if (file === null) return { default: BUILT_IN_DEFAULT, boards: structuredClone([...BUILT_IN_BOARDS]) };
  let text: string;
  let parsed: unknown;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BoardsFileError(file, [`cannot read it: ${(err as Error).message}`]);
  }
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new BoardsFileError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  const result = FileSchema.safeParse(parsed);
  if (!result.success) {
    throw new BoardsFileError(
      file,
      result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`),
    );
  }
  const byId = new Map(BUILT_IN_BOARDS.map((b) => [b.id, structuredClone(b)]));
  const seen = new Set<string>();
  const problems: string[] = [];
  result.data.boards.forEach((b, i) => {
    if (seen.has(b.id)) problems.push(`boards.${i}.id: board ${JSON.stringify(b.id)} is listed twice`);
    seen.add(b.id);
    byId.set(b.id, b);
  });
  const def = result.data.default ?? BUILT_IN_DEFAULT;
  if (!byId.has(def)) problems.push(`default: no board ${JSON.stringify(def)} (boards: ${[...byId.keys()].join(', ')})`);
  if (problems.length) throw new BoardsFileError(file, problems);
  return { default: def, boards: [...byId.values()] };
}
