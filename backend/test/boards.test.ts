/**
 * Boards: the built-in layouts, a custom YAML file (adds boards, replaces a built-in by
 * id, picks the default), and start-up errors that name the file and the field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILT_IN_BOARDS, loadBoards } from '../src/boards/boards.js';
import { KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import { loadConfig } from '../src/config/config.js';
import type { BoardsResponse } from '@siyu-pulse/contracts/live';
import { request } from './harness/http.js';
import { READ_TOKEN, startTestPulse } from './harness/pulse.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pulse-boards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function boardsFile(name: string, yaml: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

const OVERVIEW = {
  id: 'overview',
  title: { zh: '今日概览', en: 'Today at a glance' },
  tiles: ['gmv', 'paid_conversion', 'push_open_rate', 'active_members', 'new_members', 'churn_rate'],
  panels: ['trend_messages', 'trend_open_rate', 'trend_conversion', 'funnel', 'channels', 'alerts'],
};
const PUSH = {
  id: 'push',
  title: { zh: '推送与互动', en: 'Push and engagement' },
  tiles: ['push_open_rate', 'push_click_rate', 'push_over_cap_share', 'messages', 'interactions', 'lost_members'],
  panels: ['trend_open_rate', 'trend_messages', 'channels', 'alerts'],
};

const CUSTOM = `
default: store
boards:
  - id: store
    title: { zh: 门店引流, en: Store traffic }
    tiles: [gmv, paid_orders, new_members]
    panels: [funnel, channels]
  - id: push
    title: { zh: 推送, en: Push }
    tiles: [push_open_rate]
    panels: []
`;

const WECOM = BUILT_IN_BOARDS.find((b) => b.id === 'wecom');
const COMMUNITIES = BUILT_IN_BOARDS.find((b) => b.id === 'communities');
const RETENTION = BUILT_IN_BOARDS.find((b) => b.id === 'retention');

describe('boards', () => {
  it('serves the built-in overview, push, wecom, 社群 and 月活与留存 boards by default (read scope)', async () => {
    const pulse = await startTestPulse();
    try {
      const r = await request(pulse.url, 'GET', '/api/v1/boards', { token: READ_TOKEN });
      expect(r).toEqual({ status: 200, json: { default: 'overview', boards: [OVERVIEW, PUSH, WECOM, COMMUNITIES, RETENTION] } });
      expect((await request(pulse.url, 'GET', '/api/v1/boards')).status).toBe(401);
    } finally {
      await pulse.stopAndClean();
    }
  });

  it('every built-in tile is a catalogue KPI', () => {
    for (const b of BUILT_IN_BOARDS) for (const t of b.tiles) expect(KPI_BY_ID.has(t), `${b.id}: ${t}`).toBe(true);
  });

  it('a boards file adds boards, replaces a built-in with the same id and picks the default', async () => {
    const file = boardsFile('custom.yaml', CUSTOM);
    expect(loadConfig({ PULSE_DEMO: 'on', PULSE_BOARDS_FILE: file }).boardsFile).toBe(file);
    const pulse = await startTestPulse({ env: { PULSE_BOARDS_FILE: file } });
    try {
      const body = (await request(pulse.url, 'GET', '/api/v1/boards', { token: READ_TOKEN })).json as BoardsResponse;
      expect(body).toEqual({
        default: 'store',
        boards: [
          OVERVIEW,
          { id: 'push', title: { zh: '推送', en: 'Push' }, tiles: ['push_open_rate'], panels: [] },
          WECOM,
          COMMUNITIES,
          RETENTION,
          { id: 'store', title: { zh: '门店引流', en: 'Store traffic' }, tiles: ['gmv', 'paid_orders', 'new_members'], panels: ['funnel', 'channels'] },
        ],
      });
    } finally {
      await pulse.stopAndClean();
    }
  });

  it('a bad boards file stops start-up, naming the file and the field', async () => {
    const file = boardsFile('typo.yaml', CUSTOM.replace('paid_orders', 'paid_order'));
    await expect(startTestPulse({ env: { PULSE_BOARDS_FILE: file } })).rejects.toThrow(
      `PULSE_BOARDS_FILE ${file}:\n  - boards.0.tiles.1: unknown KPI "paid_order" (see GET /api/v1/kpis for the ids)`,
    );
  });

  it.each([
    ['an unknown field', CUSTOM.replace('panels: [funnel, channels]', 'panel: [funnel, channels]'), /boards\.0: Unrecognized key: "panel"/],
    ['an unknown panel', CUSTOM.replace('[funnel, channels]', '[funnel, map]'), /boards\.0\.panels\.1: Invalid option/],
    ['a repeated tile', CUSTOM.replace('[gmv, paid_orders, new_members]', '[gmv, gmv]'), /boards\.0\.tiles: a KPI is listed twice/],
    ['no tiles', CUSTOM.replace('[gmv, paid_orders, new_members]', '[]'), /boards\.0\.tiles: at least one tile/],
    ['a bad id', CUSTOM.replace('id: store', 'id: Store Wall'), /boards\.0\.id: lower-case letters/],
    ['a missing title', CUSTOM.replace('{ zh: 推送, en: Push }', '{ zh: 推送 }'), /boards\.1\.title\.en: /],
    ['an unknown default', CUSTOM.replace('default: store', 'default: lobby'), /default: no board "lobby" \(boards: overview, push, wecom, communities, retention, store\)/],
    ['a board listed twice', CUSTOM.replace('id: push', 'id: store'), /boards\.1\.id: board "store" is listed twice/],
    ['no boards', 'default: overview\n', /boards: /],
    ['not YAML', 'boards: [', /not valid YAML/],
  ])('refuses %s', (_what, yaml, message) => {
    const file = boardsFile('bad.yaml', yaml);
    expect(() => loadBoards(file)).toThrow(message);
    expect(() => loadBoards(file)).toThrow(`PULSE_BOARDS_FILE ${file}:`);
  });

  it('refuses a file it cannot read', () => {
    expect(() => loadBoards(path.join(dir, 'missing.yaml'))).toThrow(/missing\.yaml:\n {2}- cannot read it: ENOENT/);
  });
});
