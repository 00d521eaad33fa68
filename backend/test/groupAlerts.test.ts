/**
 * Group alerts over 20,000 社群 on both stores (DuckDB temp file, real influxd), through the
 * running server: the rule kinds group_silence (沉默群) and group_exodus (退群潮) from a rules
 * file, group names and member counts through the admin API, rows written to the server's
 * store relative to the current time (nothing depends on the time of day), and a stand-in
 * DingTalk robot that checks 加签 and the byte limit.
 *
 * - 15 normally lively groups fall silent: ONE message for the rule, the ten that usually
 *   talk most listed by name, "另有 5 个社群"; groups of the long tail that are quiet as
 *   usual, and a lively group that talks less but not nothing, are not listed.
 * - 12 groups lose ≥ 10% of their members: ONE message, the ten that lost most by name,
 *   "另有 2 个社群"; a 3% loss and a small group's loss do not fire.
 * - The next evaluation sends nothing more (each group fires once).
 * Each evaluation's time is printed: one split query per window over every group, not one
 * query per group.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot.js';
import { groupPopulation } from '../src/communities/population.js';
import type { CounterRow } from '../src/store/port.js';
import { DAY, HOUR } from '../src/time/zone.js';
import { request } from './harness/http.js';
import { openGroupStore, writeGroupRows, type GroupStore } from './harness/groupStore.js';
import { influxdOrSkip } from './harness/influxd.js';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const N = 20_000;
const SECRET = 'SEC0123456789abcdef0123456789abcdef';
const pop = groupPopulation(N, 17, 200);
/** Lively groups whose usual days are written (the baseline); the tail only has today. */
const LIVELY = 2_000;
const SILENT = pop.slice(3, 18).map((g) => g.id);
/** Talks a third of its usual amount: quieter, not silent. */
const QUIETER = pop[20]!.id;
const EXODUS = pop.slice(100, 112).map((g) => g.id);
const NEAR_MISS = pop[120]!.id; // loses 10 of 180: 5.6%
const SMALL = pop[130]!.id; // loses 5, only 12 members before

const RULES = `
rules:
  - id: group_silent
    name: 沉默群
    kind: group_silence
    window: 1d
    periods: 7
    min_expected: 10
    every: 1s
    cooldown: 0s
  - id: group_exodus
    name: 退群潮
    kind: group_exodus
    window: 1d
    threshold: 10%
    min_members: 20
    min_lost: 5
    every: 1s
    cooldown: 0s
`;

const sizeOf = (i: number) => (pop[i]!.id === SMALL ? 7 : 50 + (i % 400));
const usualDaily = (i: number) => pop[i]!.messages;

interface Today {
  messages: number;
  joins: number;
  leaves: number;
}
function today(i: number): Today {
  const g = pop[i]!;
  if (SILENT.includes(g.id)) return { messages: 0, joins: g.joins, leaves: g.leaves };
  if (g.id === QUIETER) return { messages: Math.round(g.messages / 3), joins: g.joins, leaves: g.leaves };
  if (EXODUS.includes(g.id)) return { messages: g.messages, joins: 0, leaves: 30 + (i - 100) * 2 };
  if (g.id === NEAR_MISS) return { messages: g.messages, joins: 0, leaves: 10 };
  if (g.id === SMALL) return { messages: g.messages, joins: 0, leaves: 5 };
  return { messages: g.messages, joins: g.joins, leaves: g.leaves };
}

function rows(now: number): CounterRow[] {
  const out: CounterRow[] = [];
  for (let i = 0; i < N; i++) {
    const g = pop[i]!;
    const at = (d: number) => now - d * DAY - 2 * HOUR - (i % 360) * 10_000;
    const t = today(i);
    const counters: Record<string, number> = {};
    if (t.messages) counters.message = t.messages;
    if (t.joins) counters.member_join = t.joins;
    if (t.leaves) counters.member_leave = t.leaves;
    if (Object.keys(counters).length) out.push({ ts: at(0), tags: { channel: 'wechat_group', community: g.id, campaign: '' }, counters });
    // Eight earlier days: the oldest of the seven baseline windows starts after the history does.
    if (i < LIVELY) for (let d = 1; d <= 8; d++) out.push({ ts: at(d), tags: { channel: 'wechat_group', community: g.id, campaign: '' }, counters: { message: usualDaily(i) } });
  }
  return out;
}

/** By hand: which groups each rule should name, heaviest first. */
function expected() {
  const silent = pop
    .map((g, i) => ({ g, i }))
    .filter(({ i }) => i < LIVELY && today(i).messages === 0 && usualDaily(i) >= 10)
    // Ties: by name, as the digest orders them.
    .sort((a, b) => usualDaily(b.i) - usualDaily(a.i) || a.g.name.localeCompare(b.g.name));
  const exodus = pop
    .map((g, i) => ({ g, i, lost: Math.max(0, today(i).leaves - today(i).joins) }))
    .filter(({ i, lost }) => lost >= 5 && sizeOf(i) + lost >= 20 && lost / (sizeOf(i) + lost) >= 0.1)
    .sort((a, b) => b.lost - a.lost);
  return { silent, exodus };
}

const runInflux = influxdOrSkip('group alerts suite');
for (const kind of ['duckdb', 'influx'] as const) {
  describe.skipIf(kind === 'influx' && !runInflux)(`group alerts over 20,000 社群 (${kind})`, () => {
    let fixture: GroupStore;
    let robot: FakeDingTalkRobot;
    let pulse: TestPulse;
    let rulesDir = '';
    let dataDir = '';
    const want = expected();

    beforeAll(async () => {
      rulesDir = mkdtempSync(path.join(tmpdir(), 'pulse-group-rules-'));
      writeFileSync(path.join(rulesDir, 'groups.yaml'), RULES);
      // The rows go in before the server starts: a window that begins before the stored
      // history is "not enough history" to the engine, and the server reads where that is at start.
      fixture = await openGroupStore(kind, 'pulse-group-alerts-');
      dataDir = fixture.dir;
      await writeGroupRows(fixture.store, rows(Date.now()));
      await fixture.store.close(); // the server opens the DuckDB file itself
      // Names and member counts as the admin API keeps them (PUT before a restart): the engine's
      // first evaluation, at start, already names the groups and knows their sizes.
      writeFileSync(path.join(dataDir, 'community-names.json'), JSON.stringify(Object.fromEntries(pop.map((g) => [g.id, g.name]))));
      writeFileSync(path.join(dataDir, 'community-sizes.json'), JSON.stringify(Object.fromEntries(pop.map((g, i) => [g.id, { members: sizeOf(i), at: Date.now() }]))));
      robot = await FakeDingTalkRobot.start({ secret: SECRET });
      // The engine evaluates once at start, then the test drives it (the interval is an hour).
      pulse = await startTestPulse({
        dataDir,
        influx: fixture.influx ?? undefined,
        ...(fixture.influxDb ? { influxDb: fixture.influxDb } : {}),
        // INFLUX_TIMEOUT_MS: at start the collector seeds the last minutes from the store with
        // every counter split by channel; over 20,000 community series that took longer than
        // the 10 s default on the loaded test box (influxd 1.6.7 opens a cursor per series and field).
        env: { DINGTALK_WEBHOOK: robot.webhook, DINGTALK_SECRET: SECRET, PULSE_RULES_DIR: rulesDir, PULSE_ALERT_INTERVAL_SECONDS: '3600', INFLUX_TIMEOUT_MS: '120000' },
      });
    }, 600_000);
    afterAll(async () => {
      await pulse?.stopAndClean();
      await robot?.close();
      await fixture?.stop();
      rmSync(rulesDir, { recursive: true, force: true });
    });

    /** Waits for `count` messages (the evaluation at start reads 20,000 groups: minutes on a loaded influxd), then a little longer. */
    async function messagesSettled(count: number, waitMs = 240_000): Promise<void> {
      const until = Date.now() + waitMs;
      while (robot.messages.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 1500)); // and nothing more arrives
    }

    it('the first evaluation (at start) fires each silent and each shrinking group once; one message per rule names them, the heaviest ten and "另有 N 个社群"', async () => {
      expect(want.silent.map((x) => x.g.id).sort()).toEqual([...SILENT].sort());
      expect(want.exodus.map((x) => x.g.id).sort()).toEqual([...EXODUS].sort());
      await messagesSettled(2);
      // The alert history as stored; the evaluation at start is the only one so far.
      const events = await pulse.store.queryAlertEvents({ from: 0, to: Date.now() + 1, limit: 5000 });
      const fired = (rule: string) => events.filter((e) => e.ruleId === rule && e.state === 'firing').map((e) => e.splitValue).sort();
      expect(fired('group_silent')).toEqual([...SILENT].sort());
      expect(fired('group_exodus')).toEqual([...EXODUS].sort());

      expect(robot.messages).toHaveLength(2);
      const byTitle = (prefix: string) => robot.messages.map((m) => m.body.markdown!).find((m) => m.title.startsWith(prefix))!;
      const silent = byTitle('【告警】沉默群');
      const exodus = byTitle('【告警】退群潮');
      expect(silent.title).toBe('【告警】沉默群：15 个社群');
      expect(exodus.title).toBe('【告警】退群潮：12 个社群');
      for (const m of robot.messages) expect(m.bytes).toBeLessThanOrEqual(20_000);

      // The ten that usually talk most, in that order, by name; the other five are counted.
      const lines = (text: string) => text.split('\n').filter((l) => /^\d+\. /.test(l));
      const silentLines = lines(silent.text);
      expect(silentLines).toHaveLength(10);
      for (const [k, x] of want.silent.slice(0, 10).entries()) {
        expect(silentLines[k]).toContain(`${k + 1}. 【警告】社群 ${x.g.name} 已 1 天没有消息（平时每天约 ${usualDaily(x.i)} 条）`);
      }
      for (const x of want.silent.slice(10)) expect(silent.text).not.toContain(x.g.name);
      expect(silent.text).toContain('另有 5 个社群（见告警中心）');
      expect(silent.text).not.toContain(pop[20]!.name);

      const exodusLines = lines(exodus.text);
      expect(exodusLines).toHaveLength(10);
      for (const [k, x] of want.exodus.slice(0, 10).entries()) {
        const before = sizeOf(x.i) + x.lost;
        expect(exodusLines[k]).toContain(`社群 ${x.g.name} 1 天净流失 ${x.lost} 人，占群成员 ${((x.lost / before) * 100).toFixed(1)}%（原有 ${before} 人）`);
      }
      expect(exodus.text).toContain('另有 2 个社群（见告警中心）');
      expect(exodus.text).not.toContain(pop[120]!.name);
      expect(exodus.text).not.toContain(pop[130]!.name);

      if (kind === 'duckdb') {
        const dir = path.resolve(import.meta.dirname, '../../test-artifacts');
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, 'group-alerts-dingtalk.md'), robot.messages.map((m) => `<!-- ${m.body.markdown!.title} (${m.bytes} bytes) -->\n${m.body.markdown!.text}\n`).join('\n'));
      }
    }, 300_000);

    it('the next evaluation sends nothing more: each group fires once', async () => {
      const evaluatedAt = () => pulse.engine.status().rules.filter((r) => r.rule.id.startsWith('group_')).map((r) => r.lastEvaluatedAt ?? 0);
      const before = evaluatedAt();
      // Past the rules' `every` (1 s) and into the next 10 s bucket the engine aligns evaluations to.
      await new Promise((r) => setTimeout(r, 11_000));
      const started = performance.now();
      const report = await pulse.engine.evaluateOnce(Date.now());
      // Both rules really ran again (not skipped by their pace).
      expect(evaluatedAt().every((t, i) => t > before[i]!)).toBe(true);
      // Both rules read every group: silence 8 split windows, exodus 1 (measured, printed).
      console.info(`[group alerts ${kind}] one evaluation of both rules over ${N} groups: ${Math.round(performance.now() - started)} ms`);
      expect(report.events.filter((e) => e.state === 'firing')).toEqual([]);
      expect(report.notifications.flat()).toEqual([]);
      await messagesSettled(2);
      expect(robot.messages).toHaveLength(2);
    }, 300_000);

    it('member counts come through the admin API; a bad one is refused with its reason and changes nothing', async () => {
      const ok = await request(pulse.url, 'PUT', '/api/v1/communities/sizes', { token: ADMIN_TOKEN, body: { sizes: [{ id: 'g00001', members: 120 }] } });
      expect(ok.json).toEqual({ set: 1, groups: N });
      const bad = await request(pulse.url, 'PUT', '/api/v1/communities/sizes', { token: ADMIN_TOKEN, body: { sizes: { g00001: 12, g00002: -3 } } });
      expect(bad.status).toBe(400);
      expect((bad.json as { error: string }).error).toContain('"g00002": members must be a whole number ≥ 0');
      const read = await request(pulse.url, 'PUT', '/api/v1/communities/sizes', { token: READ_TOKEN, body: { sizes: { g00001: 1 } } });
      expect(read.status).toBe(401);
    });
  });
}
