/**
 * The trends page in Chromium against the real backend. A known event stream (three
 * channels, one named `Store A, "VIP"`; push deliveries/opens for a ratio, paid orders with
 * fen amounts for money) is backfilled over the last 22 hours (PULSE_LATENESS_SECONDS=86400),
 * and an alert rule fires on member joins. The browser runs in Berlin time to prove the
 * page shows and reads Beijing time. Every expected number is computed here from the
 * series API's own answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { formatKpi } from '@siyu-pulse/contracts/format';
import { eventually, getJson, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent, membersDropRules } from './harness';

const MIN = 60_000;
const H = 3_600_000;
const TZ_OFFSET = 8 * H; // Asia/Shanghai, no DST
const CHANNELS = ['wecom', 'miniprogram', 'Store A, "VIP"'];
const NAMES: Record<string, string> = { wecom: '企业微信', miniprogram: '小程序', 'Store A, "VIP"': 'Store A, "VIP"' };

interface Answer {
  from: number;
  to: number;
  step: number;
  series: { tags: Record<string, string>; points: [number, number | null][] }[];
}

const RULES = membersDropRules('joins_drop_trends', { name: '新增成员骤降（趋势页测试）', group: 'e2e' });

/** Beijing wall-clock `YYYY-MM-DDTHH:mm` (what the datetime-local inputs must show). */
function beijingInput(ts: number): string {
  return new Date(ts + TZ_OFFSET).toISOString().slice(0, 16);
}
function beijingCsvTime(ts: number, seconds = false): string {
  return new Date(ts + TZ_OFFSET).toISOString().slice(0, seconds ? 19 : 16).replace('T', ' ');
}
/** The change text as specified: +x.x% / −x.x% (U+2212). */
function changeText(cur: number, base: number): string {
  const p = ((cur - base) / Math.abs(base)) * 100;
  const a = Math.abs(p).toFixed(1);
  return a === '0.0' ? '0.0%' : `${p > 0 ? '+' : '−'}${a}%`;
}
const sum = (pts: [number, number | null][]) => pts.reduce((a, [, v]) => a + (v ?? 0), 0);

/** Push deliveries / opens and paid orders every 10 minutes per channel, deliberately uneven. */
function stream(start: number, end: number): PulseEvent[] {
  const ev: PulseEvent[] = [];
  let n = 0;
  for (let s = 0, t = start + 2 * MIN; t < end; s++, t += 10 * MIN) {
    CHANNELS.forEach((channel, c) => {
      const delivered = 5 + ((s * 7 + c * 3) % 11);
      const opened = 1 + ((s * 5 + c * 2) % (delivered - 1));
      const orders = 1 + ((s + c) % 3);
      for (let k = 0; k < delivered; k++) ev.push({ id: `d${n++}`, type: 'push.delivered', ts: t + c * 1000 + k * 20, channel });
      for (let k = 0; k < opened; k++) ev.push({ id: `o${n++}`, type: 'push.open', ts: t + c * 1000 + k * 20, channel });
      for (let k = 0; k < orders; k++) ev.push({ id: `p${n++}`, type: 'order.paid', ts: t + c * 1000 + k * 20, channel, amount: 1000 + ((s * 131 + c * 17 + k * 7) % 9000) });
      if (c === 0) for (let k = 0; k < 20 + ((s * 3) % 25); k++) ev.push({ id: `v${n++}`, type: 'page.view', ts: t + k * 20, channel });
    });
  }
  return ev;
}

describe('trends page (Chromium, 1440×900, browser in Berlin time)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let rulesDir = '';
  const started = Date.now();

  beforeAll(async () => {
    rulesDir = mkdtempSync(join(tmpdir(), 'pulse-trends-rules-'));
    writeFileSync(join(rulesDir, 'e2e.yaml'), RULES);
    backend = await startBackend({ PULSE_LATENESS_SECONDS: '86400', PULSE_RULES_DIR: rulesDir, PULSE_ALERT_INTERVAL_SECONDS: '1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await backend?.stop();
    rmSync(rulesDir, { recursive: true, force: true });
    console.log(`trends e2e took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it('opens alert deep links, follows every control in the URL, compares honestly and exports what the API answers', async () => {
    const b = backend!;
    const now = Date.now();
    const hourEnd = Math.floor(now / H) * H;
    // A join drop in the last two minutes (the alert), then 22 hours of pushes and orders.
    const joins: PulseEvent[] = [];
    for (let i = 0; i < 100; i++) joins.push({ id: `jp${i}`, type: 'member.join', ts: now - 110_000 + i * 400, member: `p${i}`, channel: 'wecom' });
    for (let i = 0; i < 10; i++) joins.push({ id: `jc${i}`, type: 'member.join', ts: now - 40_000 + i * 3_000, member: `c${i}`, channel: 'wecom' });
    expect((await postEvents(b, joins)).rejected).toEqual([]);
    const events = stream(hourEnd - 22 * H, now - 2 * MIN);
    for (let i = 0; i < events.length; i += 2000) expect((await postEvents(b, events.slice(i, i + 2000))).rejected).toEqual([]);
    const paidTotal = events.filter((e) => e.type === 'order.paid').reduce((a, e) => a + (e.amount ?? 0), 0);
    await eventually(
      async () => sum((await getJson<Answer>(b, `/api/v1/series?kpi=gmv&from=${hourEnd - 23 * H}&to=${now}&step=1h`)).series[0]!.points) === paidTotal,
      20_000,
      'every paid order in the store',
    );

    context = await browser!.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, locale: 'zh-CN', timezoneId: 'Europe/Berlin' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Failed requests are checked one by one below; the browser's own log line for them is not an error of the page.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });
    const failed: { status: number; url: URL }[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push({ status: r.status(), url: new URL(r.url()) });
    });
    const seriesRequests: URL[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/series')) seriesRequests.push(new URL(r.url()));
    });
    const idle = () => page.waitForSelector('[data-test="trends"][data-loading="false"]', { timeout: 20_000 });
    const seriesNames = async () => JSON.parse((await page.getAttribute('[data-test="trends-chart"]', 'data-series-names')) ?? '[]') as string[];
    const rowText = (name: string, cell: string) => page.locator(`[data-test="summary-row"][data-series='${name.replace(/'/g, "\\'")}'] [data-test="${cell}"]`).innerText();
    const api = (q: string) => getJson<Answer>(b, `/api/v1/series?${q}`);

    // (1) The link a DingTalk alert carries: one hour on the hour, one channel, plus a tracking tag.
    const F = hourEnd - 3 * H;
    const T = hourEnd - 2 * H;
    await page.goto(`${b.url}/trends?kpi=push_open_rate&from=${F}&to=${T}&channel=wecom&utm_source=dingtalk`);
    await page.fill('[data-test="token-input"]', b.readToken);
    const firstReq = page.waitForRequest((r) => r.url().includes('/api/v1/series?kpi=push_open_rate'));
    await page.click('[data-test="sign-in-submit"]');
    const q1 = new URL((await firstReq).url()).searchParams;
    expect([q1.get('kpi'), q1.get('from'), q1.get('to'), q1.get('channel'), q1.get('by'), q1.get('step')]).toEqual(['push_open_rate', String(F), String(T), 'wecom', null, null]);
    await idle();
    await page.waitForSelector('[data-test="trends-chart"]');
    expect(await page.locator('[data-test="kpi-chip"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-kpi')))).toEqual(['push_open_rate']);
    expect(await page.inputValue('[data-test="range-from"]')).toBe(beijingInput(F));
    expect(await page.inputValue('[data-test="range-to"]')).toBe(beijingInput(T));
    expect(await page.inputValue('[data-test="filter-dim"]')).toBe('channel');
    expect(await page.inputValue('[data-test="filter-value"]')).toBe('wecom');
    expect(await seriesNames()).toEqual(['推送打开率 · 企业微信']);
    // The range value is the backend's Σopen / Σdelivered over the hour, not the mean of 10 s ratios.
    const whole = await api(`kpi=push_open_rate&from=${F}&to=${T}&channel=wecom&step=${H}`);
    expect(whole.series[0]!.points).toHaveLength(1);
    const ratio = whole.series[0]!.points[0]![1]!;
    const steps = (await api(`kpi=push_open_rate&from=${F}&to=${T}&channel=wecom`)).series[0]!.points.map(([, v]) => v).filter((v): v is number => v !== null);
    const mean = steps.reduce((a, v) => a + v, 0) / steps.length;
    expect(formatKpi(mean, 'percent')).not.toBe(formatKpi(ratio, 'percent')); // the data tells the two apart
    expect(await rowText('推送打开率 · 企业微信', 'summary-value')).toBe(formatKpi(ratio, 'percent'));
    await screenshot(page, 'trends-deeplink.png');

    // (4a) Compare with the previous hour: change of the two whole-hour ratios of sums.
    await page.selectOption('[data-test="compare-select"]', 'prev');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('compare') === 'prev');
    await idle();
    await page.waitForSelector('[data-test="summary-change"]');
    const prevRatio = (await api(`kpi=push_open_rate&from=${F - H}&to=${F}&channel=wecom&step=${H}`)).series[0]!.points[0]![1]!;
    expect(await rowText('推送打开率 · 企业微信', 'summary-compare')).toBe(formatKpi(prevRatio, 'percent'));
    expect(await rowText('推送打开率 · 企业微信', 'summary-change')).toBe(changeText(ratio, prevRatio));
    const tone = await page.getAttribute('[data-test="summary-change"]', 'data-tone');
    expect(tone).toBe(ratio > prevRatio ? 'good' : 'bad'); // open rate: up is good
    expect(await page.getAttribute('[data-test="trends-chart"]', 'data-compare-count')).toBe('1');
    expect(await page.innerText('[data-test="compare-window"]')).toContain(`${beijingCsvTime(F - H)} – ${beijingCsvTime(F)}`);
    await screenshot(page, 'trends-compare-ratio.png');

    // (2) A preset: the URL drops from/to for range=24h, keeps the rest; the request covers 24 h ending now.
    let mark = seriesRequests.length;
    const clickedAt = Date.now();
    await page.click('[data-test="preset-24h"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === '24h');
    await idle();
    const url2 = new URL(page.url());
    expect(url2.searchParams.has('from') || url2.searchParams.has('to')).toBe(false);
    expect([url2.searchParams.get('kpi'), url2.searchParams.get('channel'), url2.searchParams.get('compare'), url2.searchParams.get('utm_source')]).toEqual(['push_open_rate', 'wecom', 'prev', 'dingtalk']);
    const req2 = seriesRequests.slice(mark).find((u) => u.searchParams.get('kpi') === 'push_open_rate' && !u.searchParams.has('step'))!;
    expect(req2).toBeDefined();
    const to2 = Number(req2.searchParams.get('to'));
    expect(to2 - Number(req2.searchParams.get('from'))).toBe(24 * H);
    expect(Math.abs(to2 - clickedAt)).toBeLessThan(15_000);

    // (3) Split by channel (filter off first): one line per channel; then GMV on a second axis.
    await page.selectOption('[data-test="filter-dim"]', '');
    await idle();
    expect(new URL(page.url()).searchParams.has('channel')).toBe(false);
    await page.selectOption('[data-test="by-select"]', 'channel');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('by') === 'channel');
    await idle();
    expect((await seriesNames()).sort()).toEqual(CHANNELS.map((c) => `推送打开率 · ${NAMES[c]}`).sort());
    await page.selectOption('[data-test="kpi-add"]', 'gmv');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('kpi') === 'push_open_rate,gmv');
    await idle();
    const names6 = await seriesNames();
    expect(names6).toHaveLength(6);
    expect(names6).toContain('成交额 GMV · Store A, "VIP"');
    expect(await page.locator('[data-test="summary-row"]').count()).toBe(6);
    // A third unit is refused with a notice.
    await page.selectOption('[data-test="kpi-add"]', 'messages');
    expect(await page.locator('[data-test="notice"]').innerText()).toContain('最多同时显示两种单位');
    expect(new URL(page.url()).searchParams.get('kpi')).toBe('push_open_rate,gmv');

    // (4b) Last hour vs the hour before, split: GMV changes are sums of the API's steps.
    mark = seriesRequests.length;
    await page.click('[data-test="preset-1h"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === '1h');
    await idle();
    const reqs = seriesRequests.slice(mark);
    const isWhole = (u: URL) => u.searchParams.get('step') === String(Number(u.searchParams.get('to')) - Number(u.searchParams.get('from')));
    const curReq = (kpi: string) => reqs.find((u) => u.searchParams.get('kpi') === kpi && !u.searchParams.has('step'))!;
    const cmpReq = (kpi: string) => reqs.find((u) => u.searchParams.get('kpi') === kpi && u.searchParams.has('step') && !isWhole(u))!;
    const answers: Record<string, { cur: Answer; cmp: Answer }> = {};
    for (const kpi of ['gmv', 'push_open_rate']) {
      expect(curReq(kpi).searchParams.get('by')).toBe('channel');
      answers[kpi] = { cur: await api(curReq(kpi).searchParams.toString()), cmp: await api(cmpReq(kpi).searchParams.toString()) };
    }
    const { cur: gCur, cmp: gCmp } = answers.gmv!;
    expect(gCmp.to).toBe(gCur.from); // the previous period ends where this one starts
    let checked = 0;
    for (const s of gCur.series) {
      const name = `成交额 GMV · ${NAMES[s.tags.channel!]}`;
      const cur = sum(s.points);
      const base = sum(gCmp.series.find((x) => x.tags.channel === s.tags.channel)!.points);
      expect(cur).toBeGreaterThan(0);
      expect(base).toBeGreaterThan(0);
      expect(await rowText(name, 'summary-value')).toBe(formatKpi(cur, 'fen'));
      expect(await rowText(name, 'summary-change')).toBe(changeText(cur, base));
      checked++;
    }
    expect(checked).toBe(3);
    // A ratio over a rolling hour is Σopens ÷ Σdeliveries over exactly that hour (step=all),
    // with its change against the previous hour; never a mean of per-step ratios.
    const pCur = answers.push_open_rate!.cur;
    const pCmp = answers.push_open_rate!.cmp;
    const pWhole = await api(`kpi=push_open_rate&from=${pCur.from}&to=${pCur.to}&by=channel&step=all`);
    const pWholeCmp = await api(`kpi=push_open_rate&from=${pCmp.from}&to=${pCmp.to}&by=channel&step=all`);
    expect([pWhole.from, pWhole.to]).toEqual([pCur.from, pCur.to]);
    const wecomWhole = pWhole.series.find((s) => s.tags.channel === 'wecom')!.points[0]![1]!;
    const wecomWholeCmp = pWholeCmp.series.find((s) => s.tags.channel === 'wecom')!.points[0]![1]!;
    expect(await rowText('推送打开率 · 企业微信', 'summary-value')).toBe(formatKpi(wecomWhole, 'percent'));
    expect(await rowText('推送打开率 · 企业微信', 'summary-change')).toBe(changeText(wecomWhole, wecomWholeCmp));
    // The axis tooltip: Beijing time, then every series (comparison lines marked as such).
    const chartBox = (await page.locator('[data-test="trends-chart"]').boundingBox())!;
    await page.mouse.move(chartBox.x + chartBox.width * 0.5, chartBox.y + chartBox.height * 0.5);
    const tip = await page.locator('[data-test="trends-chart"] > div:not(:first-child)').last().innerText();
    expect(tip).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(tip).toContain('成交额 GMV · 企业微信');
    expect(tip).toContain('上一周期');
    await screenshot(page, 'trends-split-compare.png');
    await page.mouse.move(5, 5);

    // (5) CSV: BOM, header, every value equal to the series API's answers for the same queries.
    const downloadP = page.waitForEvent('download');
    await page.click('[data-test="export-csv"]');
    const download = await downloadP;
    expect(download.suggestedFilename()).toMatch(/^私域脉搏_趋势_push_open_rate\+gmv_\d{8}-\d{4}_\d{8}-\d{4}\.csv$/);
    const raw = readFileSync((await download.path())!);
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = raw.toString('utf8').slice(1);
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.slice(0, -2).split('\r\n');
    expect(lines.some((l) => l.includes('\n'))).toBe(false);
    const header = lines[0]!;
    const expectedCols: { header: string; values: Map<number, string> }[] = [];
    const fmt = (kpi: string, v: number | null) => (v === null ? '' : kpi === 'gmv' ? (v / 100).toFixed(2) : (v * 100).toFixed(4));
    const shownNames = await seriesNames();
    for (const name of shownNames) {
      const kpi = name.startsWith('成交额') ? 'gmv' : 'push_open_rate';
      const channel = CHANNELS.find((c) => name.endsWith(` · ${NAMES[c]}`))!;
      const { cur, cmp } = answers[kpi]!;
      const unit = kpi === 'gmv' ? '（元）' : '（%）';
      const pts = cur.series.find((s) => s.tags.channel === channel)!.points;
      const shift = cur.from - cmp.from;
      const cmpPts = new Map(cmp.series.find((s) => s.tags.channel === channel)?.points ?? []);
      expectedCols.push({ header: `${name}${unit}`, values: new Map(pts.map(([ts, v]) => [ts, fmt(kpi, v)])) });
      expectedCols.push({ header: `${name}${unit} · 上一周期`, values: new Map(pts.map(([ts]) => [ts, fmt(kpi, cmpPts.get(ts - shift) ?? null)])) });
    }
    const quote = (s: string) => (/[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    expect(header).toBe(['时间', ...expectedCols.map((c) => c.header)].map(quote).join(','));
    expect(header).toContain('"成交额 GMV · Store A, ""VIP""（元）"');
    const times = [...new Set(expectedCols.flatMap((c) => [...c.values.keys()]))].sort((a, b) => a - b);
    expect(lines.length - 1).toBe(times.length);
    const withSeconds = answers.gmv!.cur.step < MIN; // a 10 s step: rows carry seconds
    expect(withSeconds).toBe(true);
    times.forEach((ts, i) => {
      expect(lines[i + 1]).toBe([beijingCsvTime(ts, withSeconds), ...expectedCols.map((c) => c.values.get(ts) ?? '')].join(','));
    });
    expect(lines.slice(1).some((l) => /,\d+\.\d{2},/.test(l))).toBe(true); // money in yuan really present

    // A step the backend refuses for this range: its reason is shown.
    await page.selectOption('[data-test="step-select"]', '10s');
    await page.click('[data-test="preset-7d"]');
    await page.waitForSelector('[data-test="trends-error"]');
    expect(await page.innerText('[data-test="trends-error"]')).toContain('the limit is 2000');
    expect(new URL(page.url()).searchParams.get('step')).toBe('10s');

    // Empty state: a quiet window long ago, with its range in the message.
    const oldF = hourEnd - 100 * 24 * H;
    await page.goto(`${b.url}/trends?kpi=gmv&from=${oldF}&to=${oldF + H}`);
    await page.waitForSelector('[data-test="trends-empty"]');
    expect(await page.innerText('[data-test="trends-empty"]')).toContain(`${beijingCsvTime(oldF)} – ${beijingCsvTime(oldF + H)}`);

    // Alert events from the history on the chart (the join drop fired at the start).
    await eventually(async () => (await getJson<{ events: { state: string }[] }>(b, `/api/v1/alerts/history?kpi=new_members`)).events.some((e) => e.state === 'firing'), 30_000, 'the join alert in the history');
    await page.goto(`${b.url}/trends?kpi=new_members&range=1h&by=channel&lang=zh`);
    await idle();
    await page.waitForSelector('[data-test="trends-chart"]');
    const history = await getJson<{ events: { state: string; ts: number }[] }>(b, `/api/v1/alerts/history?kpi=new_members&from=${Date.now() - 2 * H}`);
    const drawn = history.events.filter((e) => ['firing', 'resolved', 'flapping'].includes(e.state)).length;
    expect(drawn).toBeGreaterThan(0);
    expect(Number(await page.getAttribute('[data-test="trends-chart"]', 'data-alert-markers'))).toBe(drawn);
    expect(new URL(page.url()).searchParams.get('lang')).toBe('zh');
    // Hovering the red line shows the alert's rule and value (scan the right edge: it fired a minute ago).
    const box = (await page.locator('[data-test="trends-chart"]').boundingBox())!;
    let alertTip = '';
    for (let px = box.x + box.width - 20; px > box.x + box.width * 0.85 && !alertTip.includes('告警触发'); px -= 1) {
      await page.mouse.move(px, box.y + box.height * 0.3);
      alertTip = await page.locator('[data-test="trends-chart"] > div:not(:first-child)').last().innerText().catch(() => '');
    }
    expect(alertTip).toContain('告警触发');
    expect(alertTip).toContain('新增成员骤降（趋势页测试）');
    expect(alertTip).toContain('企业微信');
    await screenshot(page, 'trends-alerts.png');

    // A KPI with a target (支付转化率, 5.2%): the dashed 目标 line is drawn.
    await page.goto(`${b.url}/trends?kpi=paid_conversion&range=24h&step=1h&channel=wecom`);
    await idle();
    await page.waitForSelector('[data-test="trends-chart"]');
    expect(await page.getAttribute('[data-test="trends-chart"]', 'data-targets')).toBe('1');
    expect(await seriesNames()).toEqual(['支付转化率 · 企业微信']);
    await screenshot(page, 'trends-target.png');

    // Custom range typed in the inputs is Beijing time although the browser runs in Berlin.
    await page.click('[data-test="range-custom"]');
    await page.fill('[data-test="range-from"]', beijingInput(hourEnd - 5 * H));
    await page.fill('[data-test="range-to"]', beijingInput(hourEnd - 4 * H));
    await page.click('[data-test="range-apply"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.has('from'));
    const custom = new URL(page.url()).searchParams;
    expect([custom.get('from'), custom.get('to'), custom.get('range')]).toEqual([String(hourEnd - 5 * H), String(hourEnd - 4 * H), null]);
    await idle();

    // The navigation link to a bare /trends opens the default view and writes it into the URL.
    await page.click('[data-test="nav-trends"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === '24h');
    expect(new URL(page.url()).searchParams.get('kpi')).toBe('messages');
    await idle();

    // English, full HD: the same view reads in English and keeps `lang=en` through changes.
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.goto(`${b.url}/trends?kpi=push_open_rate,gmv&range=24h&by=channel&compare=wow&lang=en`);
    await idle();
    await page.waitForSelector('[data-test="trends-chart"]');
    expect(await page.innerText('.trends h1')).toBe('Trends');
    expect(await seriesNames()).toContain('GMV · WeCom');
    await page.selectOption('[data-test="compare-select"]', 'prev');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('compare') === 'prev');
    expect(new URL(page.url()).searchParams.get('lang')).toBe('en');
    await idle();
    await screenshot(page, 'trends-1080p-en.png');

    expect(errors).toEqual([]);
    // The only refused requests: the session check before signing in, and the step the backend refused.
    const unexpected = failed.filter(
      (f) => !(f.status === 401 && f.url.pathname === '/api/v1/session') && !(f.status === 400 && f.url.pathname === '/api/v1/series' && f.url.searchParams.get('step') === '10s'),
    );
    expect(unexpected.map((f) => `${f.status} ${f.url.pathname}${f.url.search}`)).toEqual([]);
    expect(failed.filter((f) => f.status === 400).length).toBeGreaterThan(0);
  });
});
