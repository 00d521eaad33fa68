/**
 * The weekly report pages in Chromium against the real backend and report API, with a fake
 * DingTalk robot on loopback. An admin signs in on the page, generates last week's report,
 * finds it in the list and opens it: every section renders in order, and every figure,
 * change, target and table cell on the page is the API's JSON (GET /api/v1/reports/:id)
 * formatted by the wall's rules. The DingTalk link path `/reports/<id>` opens the report
 * straight after sign-in in a fresh tab. Printing gives a clean A4 PDF: two pages or more,
 * the report's text in it, the week and generation time atop every page, no navigation.
 *
 * On a fresh backend last week is mostly empty: the page must say so (partial warning, "—").
 * On Mondays yesterday still belongs to last week and lies inside a 24 h lateness window,
 * so the test posts a realistic Sunday evening first and the report has real numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot';
import { changeText } from '../src/alertCenter/kpiText';
import { formatKpi } from '@siyu-pulse/contracts/format';
import { chartIsEmpty } from '../src/reports/chartOption';
import { formatValue } from '../src/reports/present';
import type { ReportMetric, ReportSummary, WeeklyReport } from '../src/reports/types';
import { ARTIFACTS_DIR, eventually, freePort, getJson, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';

const H = 3_600_000;
const DAY = 24 * H;
const TZ_OFFSET = 8 * H; // Asia/Shanghai, no DST
const SECRET = 'SECtest-weekly-report-secret';
const NAV_TEXTS = ['告警中心', '趋势分析', '管理员', 'English', '生成上周周报', '打印 / 导出 PDF', '全部周报'];

/** Monday 00:00 Beijing time of the week before the one holding `now`. */
function lastWeek(now: number): { from: number; to: number } {
  const local = now + TZ_OFFSET;
  const dow = (new Date(local).getUTCDay() + 6) % 7; // Monday = 0
  const thisMonday = Math.floor(local / DAY) * DAY - dow * DAY - TZ_OFFSET;
  return { from: thisMonday - 7 * DAY, to: thisMonday };
}

/**
 * A Sunday evening of three channels, spread over [from, to): joins and leaves, messages and
 * interactions, pushes (sent → delivered → opened → clicked), the shop funnel with paid
 * orders in fen, ad spend, activities and service.
 */
function sundayEvening(from: number, to: number): PulseEvent[] {
  const ev: PulseEvent[] = [];
  const span = to - from;
  const channels = [
    { ch: 'wecom', scale: 1 },
    { ch: 'miniprogram', scale: 0.7 },
    { ch: 'sms', scale: 0.3 },
  ];
  let n = 0;
  const at = (i: number, count: number) => from + Math.floor(((i + 0.5) / count) * span);
  const add = (type: string, ch: string, count: number, extra: (i: number) => Partial<PulseEvent> = () => ({})) => {
    for (let i = 0; i < count; i++) ev.push({ id: `rep-${n++}`, type, ts: at(i, count), channel: ch, member: `${ch}-m${i % 180}`, ...extra(i) });
  };
  for (const { ch, scale } of channels) {
    const k = (x: number) => Math.round(x * scale);
    add('member.join', ch, k(120));
    add('member.leave', ch, k(12));
    add('message', ch, k(600));
    add('interaction', ch, k(300));
    add('push.sent', ch, k(800));
    add('push.delivered', ch, k(760));
    add('push.open', ch, ch === 'sms' ? k(40) : k(190));
    add('push.click', ch, k(45));
    add('page.view', ch, k(500));
    add('cart.add', ch, k(110));
    add('order.create', ch, k(48));
    add('order.paid', ch, k(40), (i) => ({ amount: 9_900 + (i % 7) * 3_000 }));
    add('spend', ch, 4, () => ({ amount: k(250_000) }));
    add('activity.reach', ch, k(200));
    add('activity.join', ch, k(36));
    add('service.request', ch, k(30));
    add('service.reply', ch, k(28), () => ({ duration_ms: 95_000 }));
    add('service.resolve', ch, k(24));
  }
  return ev;
}

// ── a minimal PDF reader: page count and text (through each font's ToUnicode map) ─────────

interface PdfObject {
  dict: string;
  data: string | null;
}

/**
 * Chromium (Skia) writes text as hex glyph codes shown with `Tj`/`TJ` in a font named by
 * `Tf`; each font carries a ToUnicode CMap. A glyph shared by two characters (心 and the
 * radical ⼼) is wrapped in a marked span whose ActualText is the real one. Enough to read
 * back what a PDF says, without a PDF library.
 */
function pdfText(buf: Buffer): { pages: number; text: string } {
  const src = buf.toString('latin1');
  const objs = new Map<number, PdfObject>();
  for (const m of src.matchAll(/(\d+) 0 obj([\s\S]*?)endobj/g)) {
    const body = m[2]!;
    const s = /stream\r?\n/.exec(body);
    let dict = body;
    let data: string | null = null;
    if (s) {
      dict = body.slice(0, s.index);
      const raw = Buffer.from(body.slice(s.index + s[0].length, body.lastIndexOf('endstream')), 'latin1');
      try {
        data = /FlateDecode/.test(dict) ? inflateSync(raw).toString('latin1') : raw.toString('latin1');
      } catch {
        data = null;
      }
    }
    objs.set(Number(m[1]), { dict, data });
  }
  const pages = [...objs.values()].filter((o) => /\/Type\s*\/Page(?![s\w])/.test(o.dict));
  const fontRefs = new Map<string, number>();
  for (const o of objs.values()) for (const m of o.dict.matchAll(/\/(F\w*)\s+(\d+) 0 R/g)) fontRefs.set(m[1]!, Number(m[2]));
  const cmaps = new Map<number, { width: number; map: Map<string, string> }>();
  const utf16 = (hex: string) => String.fromCharCode(...(hex.match(/.{4}/g) ?? []).map((h) => parseInt(h, 16)));
  const cmapOf = (fontObj: number) => {
    let c = cmaps.get(fontObj);
    if (c) return c;
    const ref = /\/ToUnicode (\d+) 0 R/.exec(objs.get(fontObj)?.dict ?? '');
    const cm = ref ? (objs.get(Number(ref[1]))?.data ?? '') : '';
    const map = new Map<string, string>();
    for (const b of cm.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) for (const p of b[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) map.set(p[1]!.toUpperCase(), utf16(p[2]!));
    for (const b of cm.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
      for (const p of b[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) {
        const lo = parseInt(p[1]!, 16);
        const hi = parseInt(p[2]!, 16);
        const dst = parseInt(p[3]!, 16);
        for (let code = lo; code <= hi; code++) map.set(code.toString(16).toUpperCase().padStart(p[1]!.length, '0'), String.fromCharCode(dst + code - lo));
      }
    }
    c = { width: /begincodespacerange\s*<([0-9A-Fa-f]+)>/.exec(cm)?.[1]!.length ?? 4, map };
    cmaps.set(fontObj, c);
    return c;
  };
  let text = '';
  for (const page of pages) {
    const contents = /\/Contents\s*(\[[^\]]*\]|\d+ 0 R)/.exec(page.dict);
    for (const ref of contents ? [...contents[1]!.matchAll(/(\d+) 0 R/g)] : []) {
      let cmap: ReturnType<typeof cmapOf> | null = null;
      let actual = false; // inside an ActualText span: its text replaces the glyphs'
      const ops = /\/(F\w*)\s+[\d.]+\s+Tf|(<[0-9A-Fa-f]*>|\[[^\]]*\])\s*T[jJ]|\/ActualText\s*<([0-9A-Fa-f]*)>\s*>>\s*BDC|(EMC)/g;
      for (const t of (objs.get(Number(ref[1]))?.data ?? '').matchAll(ops)) {
        if (t[3] !== undefined) {
          text += utf16(t[3].replace(/^FEFF/i, ''));
          actual = true;
          continue;
        }
        if (t[4]) {
          actual = false;
          continue;
        }
        if (t[1]) {
          const f = fontRefs.get(t[1]);
          cmap = f === undefined ? null : cmapOf(f);
          continue;
        }
        if (!cmap || actual) continue;
        for (const h of t[2]!.matchAll(/<([0-9A-Fa-f]*)>/g)) {
          const codes = h[1]!.toUpperCase().match(new RegExp(`.{${cmap.width}}`, 'g')) ?? [];
          text += codes.map((code) => cmap!.map.get(code) ?? '').join('');
        }
      }
      text += '\n';
    }
  }
  return { pages: pages.length, text };
}

// ── the test ─────────────────────────────────────────────────────────────────────────────

/** What a metric's value shows: the wall's formatting for KPI units; hours as the report writes them. */
function shownValue(m: Pick<ReportMetric, 'unit'>, v: number | null): string {
  return m.unit === 'hours' ? formatValue(v, 'hours', 'zh') : formatKpi(v, m.unit, 'zh');
}
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
/**
 * Lets Chromium paint after a scroll inside the analyst frame (a fixed, scrolling box):
 * a screenshot taken at once can catch tiles not yet rasterised, which show as blank.
 */
async function settle(p: Page): Promise<void> {
  await p.evaluate(() => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))));
  await p.waitForTimeout(250);
}

describe('weekly report pages (Chromium, real report API, fake DingTalk robot)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let robot: FakeDingTalkRobot | undefined;
  let context: BrowserContext;
  let page: Page;
  let publicUrl = '';
  let rich = false;
  let reportId = '';
  const errors: string[] = [];

  const watch = (p: Page) => {
    p.on('pageerror', (e) => errors.push(e.message));
    p.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });
  };

  beforeAll(async () => {
    robot = await FakeDingTalkRobot.start({ secret: SECRET });
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    backend = await startBackend(
      {
        PULSE_LATENESS_SECONDS: '86400',
        PULSE_PUBLIC_URL: publicUrl,
        DINGTALK_WEBHOOK: robot.webhook,
        DINGTALK_SECRET: SECRET,
      },
      { port },
    );

    // Yesterday is in last week only on a Monday; then post its evening (within the 24 h window).
    const now = Date.now();
    const week = lastWeek(now);
    const from = Math.max(week.from, now - 23 * H);
    if (week.to - from >= 2 * H) {
      const events = sundayEvening(from, week.to - 60_000);
      for (let i = 0; i < events.length; i += 2_000) expect((await postEvents(backend, events.slice(i, i + 2_000))).rejected).toEqual([]);
      rich = true;
    }

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    watch(page);
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    await robot?.close();
  });

  it('an admin signs in on the page and generates last week’s report, which the list shows', async () => {
    const b = backend!;
    await page.goto(`${b.url}/reports`);
    await page.locator('[data-test="sign-in"]').waitFor();
    await page.fill('[data-test="token-input"]', b.adminToken);
    await page.click('[data-test="sign-in-submit"]');
    await page.locator('[data-test="no-reports"]').waitFor();
    expect(await page.locator('[data-test="nav-reports"]').innerText()).toBe('数据周报');

    await page.click('[data-test="generate-report"]');
    await page.locator('[data-test="generate-ok"]').waitFor({ timeout: 60_000 });
    const { reports } = await getJson<{ reports: ReportSummary[] }>(b, '/api/v1/reports');
    expect(reports).toHaveLength(1);
    const summary = reports[0]!;
    reportId = summary.id;
    expect(reportId).toMatch(/^\d{4}-W\d{2}$/);
    expect(summary.week).toEqual({ ...lastWeek(Date.now()), label: summary.week.label });

    const row = page.locator(`[data-test="report-row"][data-report-id="${reportId}"]`);
    await row.waitFor();
    const text = squash(await row.innerText());
    expect(text).toContain(reportId);
    expect(text).toContain(summary.week.label);
    expect(text).toContain('手动');
    expect(await row.locator('[data-test="partial-badge"]').count()).toBe(summary.partial ? 1 : 0);
    await screenshot(page, 'reports-list');
  });

  it('opens the report from the list: every section in order, every number the API’s, formatted', async () => {
    const b = backend!;
    await page.click(`[data-test="report-row"][data-report-id="${reportId}"] [data-test="report-link"]`);
    await page.waitForURL(`**/reports/${reportId}`);
    await page.locator('[data-test="report"][data-loaded="true"]').waitFor();
    const r = await getJson<WeeklyReport>(b, `/api/v1/reports/${reportId}`);
    expect(r.id).toBe(reportId);
    if (rich) expect(r.sections.find((s) => s.id === 'value')?.metrics.find((m) => m.kpi === 'gmv')?.value).toBeGreaterThan(0);

    // Header: title, week, zone, generation time; the partial warning first when partial.
    const head = squash(await page.locator('[data-test="report-header"]').innerText());
    expect(head).toContain('私域数据周报');
    expect(head).toContain(r.week.label);
    expect(head).toContain('北京时间（Asia/Shanghai）');
    expect(head).toContain(new Date(r.generatedAt + TZ_OFFSET).toISOString().slice(0, 16).replace('T', ' '));
    expect(await page.locator('[data-test="partial-warning"]').count()).toBe(r.partial ? 1 : 0);
    expect(await page.title()).toBe(`私域数据周报 ${reportId}`);

    const cards = page.locator('[data-test="report-section"]');
    expect(await cards.count()).toBe(r.sections.length);
    expect(r.sections.length).toBeGreaterThanOrEqual(6);
    let numbers = 0;
    for (const [i, s] of r.sections.entries()) {
      const card = cards.nth(i);
      expect(await card.getAttribute('data-section-id')).toBe(s.id);
      expect(await card.locator('[data-test="section-title"]').innerText()).toBe(s.title.zh);
      expect(squash(await card.locator('[data-test="section-finding"]').innerText())).toBe(squash(s.finding.zh));

      const metrics = card.locator('[data-test="metric"]');
      expect(await metrics.count()).toBe(s.metrics.length);
      for (const [j, m] of s.metrics.entries()) {
        const el = metrics.nth(j);
        expect(await el.locator('[data-test="metric-label"]').innerText()).toBe(m.label.zh);
        expect(await el.locator('[data-test="metric-value"]').innerText()).toBe(shownValue(m, m.value));
        const change = el.locator('[data-test="metric-change"]');
        expect(await change.innerText()).toBe(changeText(m.change));
        expect(await change.getAttribute('data-tone')).toBe(m.change === null ? 'neutral' : m.tone);
        expect(await el.locator('[data-test="metric-previous"]').innerText()).toBe(`上周 ${shownValue(m, m.previous)}`);
        if (m.target !== undefined) {
          expect(await el.locator('[data-test="metric-target"]').innerText()).toContain(`目标 ${shownValue(m, m.target)}`);
          const attained = el.locator('[data-test="metric-attained"]');
          if (m.attained === undefined || m.value === null) expect(await attained.count()).toBe(0);
          else expect(await attained.innerText()).toBe(m.attained ? '达标' : '未达标');
        } else {
          expect(await el.locator('[data-test="metric-target"]').count()).toBe(0);
        }
        numbers++;
      }

      const table = card.locator('[data-test="section-table"]');
      expect(await table.count()).toBe(s.table ? 1 : 0);
      if (s.table) {
        expect(await table.locator('thead th').allInnerTexts()).toEqual(s.table.columns.map((c) => c.zh));
        const rows = table.locator('tbody tr[data-test="table-row"]');
        expect(await rows.count()).toBe(s.table.rows.length);
        expect(await table.locator('[data-test="table-empty"]').count()).toBe(s.table.rows.length ? 0 : 1);
        for (const [ri, row] of s.table.rows.entries()) {
          const want = row.map((cell, ci) => {
            const unit = s.table!.units[ci]!;
            if (cell === null) return '—';
            if (typeof cell === 'string' || unit === 'text') return String(cell);
            return shownValue({ unit }, cell);
          });
          expect(await rows.nth(ri).locator('td').allInnerTexts()).toEqual(want);
          numbers += row.length;
        }
      }

      // A chart with nothing to draw says so instead of showing empty axes.
      const chart = card.locator('[data-test="report-chart"]');
      const empty = s.chart ? chartIsEmpty(s.chart) : false;
      expect(await card.locator('[data-test="report-chart-empty"]').count()).toBe(empty ? 1 : 0);
      expect(await chart.count()).toBe(s.chart && !empty ? 1 : 0);
      if (s.chart && !empty) {
        expect(await chart.getAttribute('data-chart-kind')).toBe(s.chart.kind);
        // Drawn (SVG), not an empty box.
        await eventually(async () => (await chart.locator('svg path').count()) > 0, 10_000, `the ${s.id} chart to draw`);
      }
      const link = card.locator('[data-test="section-link"]');
      expect(await link.count()).toBe(s.link ? 1 : 0);
      if (s.link) expect(await link.getAttribute('href')).toBe(s.link);
    }
    expect(numbers).toBeGreaterThan(20);

    // Delivery: the report went to the (fake) robot, and the page says so.
    const delivery = page.locator('[data-test="delivery"]');
    if (r.delivery.length) {
      expect(await delivery.locator('[data-test="delivery-row"]').count()).toBe(r.delivery.length);
      expect(squash(await delivery.innerText())).toContain(r.delivery[0]!.ok ? '已送达' : '发送失败');
    } else {
      expect(await delivery.locator('[data-test="no-delivery"]').count()).toBe(1);
    }

    await page.locator('.analyst').evaluate((el) => el.scrollTo(0, 0));
    await settle(page);
    await screenshot(page, 'reports-page');
    // Further down: a section with a chart and a table side by side.
    const withBoth = r.sections.findIndex((s) => s.chart && s.table);
    if (withBoth >= 0) {
      await cards.nth(withBoth).scrollIntoViewIfNeeded();
      await settle(page);
      await screenshot(page, 'reports-page-charts');
    }
    await cards.nth(r.sections.length - 1).scrollIntoViewIfNeeded();
    await settle(page);
    await screenshot(page, 'reports-page-end');
  });

  it('opens the DingTalk link /reports/<id> directly: sign-in first, then the report', async () => {
    const b = backend!;
    // The robot's message links to PULSE_PUBLIC_URL/reports/<id> (when the backend sends it).
    const link = `${publicUrl}/reports/${reportId}`;
    const sent = robot!.messages.map((m) => JSON.stringify(m.body));
    if (sent.length) expect(sent.some((s) => s.includes(link))).toBe(true);

    // A fresh context: no token in session storage, as when a manager taps the link.
    const ctx = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
    const p = await ctx.newPage();
    watch(p);
    try {
      await p.goto(link);
      await p.locator('[data-test="sign-in"]').waitFor();
      await p.fill('[data-test="token-input"]', b.readToken);
      await p.click('[data-test="sign-in-submit"]');
      await p.locator(`[data-test="report"][data-report-id="${reportId}"][data-loaded="true"]`).waitFor();
      expect(new URL(p.url()).pathname).toBe(`/reports/${reportId}`);
      expect(await p.locator('[data-test="role"]').innerText()).toBe('只读');
      expect(await p.locator('[data-test="report-section"]').count()).toBeGreaterThanOrEqual(6);
      await screenshot(p, 'reports-deep-link');
    } finally {
      await ctx.close();
    }
  });

  it('prints a clean A4 document: no navigation or buttons, two pages or more', async () => {
    await page.goto(`${backend!.url}/reports/${reportId}`);
    await page.locator('[data-test="report"][data-loaded="true"]').waitFor();
    const r = await getJson<WeeklyReport>(backend!, `/api/v1/reports/${reportId}`);

    // What the print stylesheet shows, at about an A4 page's width.
    await page.setViewportSize({ width: 794, height: 1123 });
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.analyst > .bar').isVisible()).toBe(false);
    expect(await page.locator('[data-test="print-report"]').isVisible()).toBe(false);
    expect(await page.locator('[data-test="report-header"]').isVisible()).toBe(true);
    const printed = await page.evaluate(() => document.body.innerText);
    for (const nav of NAV_TEXTS) expect(printed).not.toContain(nav);
    expect(printed).toContain(`${publicUrl}/trends?`); // links written out on paper
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'reports-print.png'), fullPage: true });
    // Back to no emulation (not 'screen', which page.pdf() would then use instead of print).
    await page.emulateMedia({ media: null });
    await page.setViewportSize({ width: 1440, height: 900 });

    const pdf = await page.pdf({ format: 'A4', preferCSSPageSize: true, printBackground: true });
    writeFileSync(join(ARTIFACTS_DIR, 'reports-print.pdf'), pdf);
    const { pages, text } = pdfText(pdf);
    expect(pages).toBeGreaterThanOrEqual(2);
    // The reader works (positive control), and the navigation is not on paper.
    expect(text).toContain('私域数据周报');
    expect(text).toContain(r.sections[0]!.title.zh);
    expect(text).toContain(r.sections[r.sections.length - 1]!.title.zh);
    for (const nav of NAV_TEXTS) expect(text).not.toContain(nav);
    // Each page's top margin repeats the report (week) and when it was generated.
    const running = `私域数据周报 · ${reportId}（${r.week.label}）· 生成于 `;
    expect(text.split(running).length - 1).toBe(pages);
    expect(errors).toEqual([]);
  });
});
