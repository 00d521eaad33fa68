/**
 * The weekly report's 社群健康 section in Chromium, from a report the real server generates
 * over 20,000 groups: three weeks of per-group rows are written into the server's DuckDB file
 * before it starts (ingest refuses a backfill that old), with the first 2,000 groups' active
 * members (day sketches; the table then has its 活跃成员 column), names come through the admin API,
 * and POST /api/v1/reports/weekly generates a fixed past week. The page shows the section's
 * counts and the best and worst ten by name with their numbers (as in the API's JSON), with
 * nothing clipped or wrapped per character, at 1920×1080 and on a phone (390×844); the
 * screenshots are kept for people to look at.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { groupPopulation } from '../../backend/src/communities/population';
import { writeCountersInChunks } from '../../backend/src/store/bulkWrite';
import { createDuckDbStore } from '../../backend/src/store/duckdb/adapter';
import type { CounterRow, SketchRow } from '../../backend/src/store/port';
import { Hll } from '../../backend/src/sketch/hll';
import type { WeeklyReport } from '../src/reports/types';
import { launchChromium, screenshot, startBackend, type Backend } from './harness';

const H = 3_600_000;
const DAY = 24 * H;
/** Monday 2026-11-16 00:00 Beijing time (2026-W47) and the two weeks before it. */
const WEEK = Date.parse('2026-11-16T00:00:00+08:00');
const ID = '2026-W47';
const N = 20_000;
const pop = groupPopulation(N, 17, 200);

function rows(): CounterRow[] {
  const out: CounterRow[] = [];
  for (let w = 0; w < 3; w++) {
    const from = WEEK - (2 - w) * 7 * DAY;
    for (const [i, g] of pop.entries()) {
      const m = w === 2 ? (i % 997 === 5 ? 0 : Math.max(0, g.messages + (i % 3) - 1)) : w === 1 && i % 7 === 6 ? 0 : g.messages;
      const leaves = w === 2 ? (i === 500 ? 60 : g.leaves + (i % 5 === 0 ? 1 : 0)) : w === 1 ? g.leaves : 0;
      const joins = w === 0 ? 0 : g.joins;
      const counters: Record<string, number> = {};
      if (m) counters.message = m;
      if (joins) counters.member_join = joins;
      if (leaves) counters.member_leave = leaves;
      if (Object.keys(counters).length) out.push({ ts: from + 2 * DAY + 9 * H + (i % 360) * 10_000, tags: { channel: 'wechat_group', community: g.id, campaign: '' }, counters });
    }
  }
  return out;
}

describe('weekly report 社群健康 in Chromium (20,000 groups)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let dataDir = '';
  let report: WeeklyReport;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pulse-e2e-weekly-groups-'));
    const store = createDuckDbStore({ file: join(dataDir, 'pulse.duckdb') });
    await store.init();
    const all = rows();
    // With the groups' hour and day rollups the report reads, as the collector would write them.
    await writeCountersInChunks(store, all);
    const sketches: SketchRow[] = pop.slice(0, 2000).map((g, i) => {
      const h = new Hll();
      for (let k = 0; k < 1 + (i % 300); k++) h.add((((k + 1) * 2654435761) % 2 ** 25) * 64 + 1);
      return { ts: WEEK + DAY, granularity: 'day', set: 'active', channel: '', node: 'main', sketch: h.toBase64(), community: g.id };
    });
    await store.writeSketches(sketches);
    await store.close();
    backend = await startBackend({}, { dataDir });
    const put = await fetch(`${backend.url}/api/v1/communities/names`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${backend.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ names: pop.map((g) => ({ id: g.id, name: g.name })) }),
    });
    expect(put.status).toBe(200);
    const res = await fetch(`${backend.url}/api/v1/reports/weekly`, {
      method: 'POST',
      headers: { authorization: `Bearer ${backend.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ week: ID, notify: false }),
    });
    expect(res.status).toBe(201);
    report = (await res.json()) as WeeklyReport;
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const [label, viewport] of [
    ['1080p', { width: 1920, height: 1080 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    it(`shows the section with its counts and both tens by name (${label})`, async () => {
      const section = report.sections.find((s) => s.id === 'communities')!;
      expect(section).toBeDefined();
      const context = await browser!.newContext({ viewport, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${backend!.url}/reports/${ID}`);
      await page.locator('[data-test="sign-in"]').waitFor();
      await page.fill('[data-test="token-input"]', backend!.readToken);
      await page.click('[data-test="sign-in-submit"]');
      const card = page.locator('[data-test="report-section"][data-section-id="communities"]');
      await card.waitFor({ timeout: 30_000 });
      expect(await card.locator('[data-test="section-title"]').innerText()).toBe('社群健康');
      expect((await card.locator('[data-test="section-finding"]').innerText()).replace(/\s+/g, '')).toBe(section.finding.zh.replace(/\s+/g, ''));
      const metrics = card.locator('[data-test="metric"]');
      expect(await metrics.count()).toBe(3);
      expect(await metrics.nth(0).locator('[data-test="metric-label"]').innerText()).toBe('活跃群（有消息）');
      const rowsShown = card.locator('[data-test="table-row"]');
      expect(await rowsShown.count()).toBe(section.table!.rows.length);
      expect(section.table!.rows.length).toBe(20);
      expect(section.table!.columns.map((c) => c.zh)).toContain('活跃成员');
      // The members column is shown on the wide page and left out on a phone (wideOnly).
      expect(await card.locator('[data-test="section-table"] th', { hasText: '活跃成员' }).isVisible()).toBe(label === '1080p');
      // The first row of each list names its group as the API does.
      const cells = async (r: number) => (await rowsShown.nth(r).locator('td').allInnerTexts()).map((s) => s.trim());
      expect((await cells(0)).slice(0, 2)).toEqual(['最活跃 1', String(section.table!.rows[0]![1])]);
      expect((await cells(10)).slice(0, 2)).toEqual(['流失最多 1', String(section.table!.rows[10]![1])]);
      // On a phone too the whole table is visible: no column scrolled off to the right.
      // (on phones the table is its own sideways scroller: AnalystLayout.vue)
      const table = card.locator('[data-test="section-table"]');
      expect(await table.evaluate((el) => [el.scrollWidth, el.clientWidth])).toSatisfy(([scroll, client]: number[]) => scroll! <= client! + 1);

      // Nothing wraps per character: every metric label and group name cell is at most two lines.
      const tooTall = await card.evaluate((el) => {
        const bad: string[] = [];
        for (const n of el.querySelectorAll<HTMLElement>('[data-test="metric-label"], td, th')) {
          const lh = parseFloat(getComputedStyle(n).lineHeight) || 20;
          if (n.getBoundingClientRect().height > 2.6 * lh && n.innerText.length > 1) bad.push(n.innerText);
        }
        return bad;
      });
      expect(tooTall).toEqual([]);
      // The section's top just under the sticky navigation bar.
      await card.evaluate((el) => {
        (el as HTMLElement).style.scrollMarginTop = '64px';
        el.scrollIntoView({ block: 'start' });
      });
      await screenshot(page, `weekly-communities-${label}`);
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  }
});
