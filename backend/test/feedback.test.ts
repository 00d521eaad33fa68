/**
 * Feedback on firings against a real server, on DuckDB and on a real influxd: the engine
 * fires (WeCom joins drop 90%), the active list names the firing's stored event, an admin
 * marks it 有效 and another firing 误报, history shows each verdict, the rule's precision
 * over 30 days is 有效 ÷ marked (1 of 2 = 50%), bad input is refused with a reason and
 * changes nothing, and every verdict is still there after a restart on the same data dir.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRow } from '../src/store/port.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { request } from './harness/http.js';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const RULE = `
rules:
  - id: joins_drop_fb
    name: 新增成员骤降（分渠道）
    kpi: new_members
    by: channel
    window: 1m
    baseline: { type: previous_window }
    thresholds: { fire: 0.15, clear: 0.10, critical: 0.5 }
    direction: down
    min_sample: 10
    pending_for: 1
    cooldown: 0s
    notify: [dingtalk]
`;

interface Active {
  alertKey: string;
  state: string;
  eventId?: string;
  feedback?: { verdict: string };
}
interface History {
  events: (AlertRow & { feedback?: { verdict: string; note?: string; by: string } })[];
}
interface Precision {
  days: number;
  rules: { ruleId: string; valid: number; falseAlarm: number; marked: number; precision: number | null }[];
}

const runInflux = influxdOrSkip('feedback on InfluxDB');

describe.each([
  { store: 'duckdb' as const, run: true },
  { store: 'influx' as const, run: runInflux },
])('feedback on firings ($store)', ({ store, run }) => {
  let influx: InfluxdHandle | undefined;
  let pulse: TestPulse;
  let dataDir = '';
  let rulesDir = '';
  let firingId = '';
  /** A second firing of the same rule (written to the store as the engine writes them). */
  const older: AlertRow = {
    id: '0b7f3c52-5d7e-4c8a-9e1f-000000000001',
    ts: Date.now() - 3 * 86_400_000,
    alertKey: 'joins_drop_fb|channel=douyin',
    ruleId: 'joins_drop_fb',
    ruleName: '新增成员骤降（分渠道）',
    kpi: 'new_members',
    splitDim: 'channel',
    splitValue: 'douyin',
    from: 'pending',
    state: 'firing',
    severity: 'warning',
    value: 30,
    baseline: 40,
    baselineKind: 'previous_window',
    change: -0.25,
    threshold: 0.15,
    summary: '新增成员（抖音）下降 25.0%',
  };
  const resolved: AlertRow = { ...older, id: '0b7f3c52-5d7e-4c8a-9e1f-000000000002', ts: older.ts + 600_000, from: 'firing', state: 'resolved' };

  const start = () => startTestPulse({ influx, influxDb: pulse?.influxDb, dataDir, env: { PULSE_RULES_DIR: rulesDir, PULSE_ALERT_INTERVAL_SECONDS: '3600', PULSE_LATENESS_SECONDS: '7200' } });
  const post = (id: string, body: unknown, token: string | null = ADMIN_TOKEN) => request(pulse.url, 'POST', `/api/v1/alerts/${id}/feedback`, { token, body });

  beforeAll(async () => {
    if (!run) return;
    if (store === 'influx') influx = await startInfluxd();
    dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-feedback-'));
    rulesDir = mkdtempSync(path.join(tmpdir(), 'pulse-feedback-rules-'));
    writeFileSync(path.join(rulesDir, 'fb.yaml'), RULE);
    pulse = await start();
    await pulse.store.writeAlertEvents([older, resolved]);
    // 100 WeCom joins in the previous minute, 10 in the current one: −90%.
    const now = Date.now();
    const ev = [
      // History starts 20 minutes back, so the previous minute is a baseline whatever the clock says.
      { id: 'h0', type: 'message', ts: now - 20 * 60_000, channel: 'sms' },
      ...Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, type: 'member.join', ts: now - 110_000 + i * 400, member: `p${i}`, channel: 'wecom' })),
      ...Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, type: 'member.join', ts: now - 40_000 + i * 2_000, member: `c${i}`, channel: 'wecom' })),
    ];
    expect((await pulse.post(JSON.stringify(ev))).status).toBe(202);
    // Evaluated at the real present: a firing stamped in the future falls outside every
    // "up to now" window (precision, history) until the clock catches up, which made this
    // suite fail on a fast machine where the next tests ran within that second.
    const report = await pulse.engine.evaluateOnce(Date.now());
    const fired = report.events.find((e) => e.state === 'firing' && e.alertKey === 'joins_drop_fb|channel=wecom');
    expect(fired, JSON.stringify(report.events)).toBeDefined();
    firingId = fired!.id;
    await pulse.flushToStore();
  }, 120_000);
  afterAll(async () => {
    await pulse?.stopAndClean();
    await influx?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
  });

  it.runIf(run)('the active list names the firing event, and one POST marks it 有效', async () => {
    const active = (await pulse.get('/api/v1/alerts')).json as { alerts: Active[] };
    const a = active.alerts.find((x) => x.alertKey === 'joins_drop_fb|channel=wecom');
    expect(a?.state).toBe('firing');
    expect(a?.eventId).toBe(firingId);
    expect(a?.feedback).toBeUndefined();

    const res = await post(firingId, { verdict: 'valid', note: '渠道接口故障，已确认', by: '王运营' });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json).toMatchObject({ feedback: { eventId: firingId, ruleId: 'joins_drop_fb', verdict: 'valid', note: '渠道接口故障，已确认', by: '王运营', split: { dim: 'channel', value: 'wecom' } } });
    const again = (await pulse.get('/api/v1/alerts')).json as { alerts: Active[] };
    expect(again.alerts.find((x) => x.eventId === firingId)?.feedback?.verdict).toBe('valid');
  });

  it.runIf(run)('marking again replaces the verdict; precision is 有效 ÷ marked over 30 days', async () => {
    expect((await post(older.id, { verdict: 'valid' })).status).toBe(201);
    expect((await post(older.id, { verdict: 'false_alarm', note: '活动结束的正常回落' })).status).toBe(201);
    const p = (await pulse.get('/api/v1/rules/precision')).json as Precision;
    expect(p.days).toBe(30);
    expect(p.rules).toEqual([{ ruleId: 'joins_drop_fb', valid: 1, falseAlarm: 1, marked: 2, precision: 0.5 }]);
    // A 1-day window sees only today's firing.
    const day = (await pulse.get('/api/v1/rules/precision?days=1')).json as Precision;
    expect(day.rules).toEqual([{ ruleId: 'joins_drop_fb', valid: 1, falseAlarm: 0, marked: 1, precision: 1 }]);
  });

  it.runIf(run)('history rows carry their verdict; the feedback list has both', async () => {
    const h = (await pulse.get(`/api/v1/alerts/history?rule=joins_drop_fb&from=${older.ts - 1}`)).json as History;
    const byId = new Map(h.events.map((e) => [e.id, e]));
    expect(byId.get(firingId)?.feedback?.verdict).toBe('valid');
    expect(byId.get(older.id)?.feedback).toMatchObject({ verdict: 'false_alarm', note: '活动结束的正常回落', by: 'admin' });
    expect(byId.get(resolved.id)?.feedback).toBeUndefined();
    const list = (await pulse.get('/api/v1/alerts/feedback?rule=joins_drop_fb')).json as { feedback: { eventId: string }[] };
    expect(list.feedback.map((f) => f.eventId)).toEqual([firingId, older.id]);
  });

  it.runIf(run)('refuses what it cannot mark, with a reason, and changes nothing', async () => {
    const cases: [string, unknown, string | null, number, RegExp][] = [
      [firingId, { verdict: 'maybe' }, ADMIN_TOKEN, 400, /verdict/],
      [firingId, { verdict: 'valid', extra: 1 }, ADMIN_TOKEN, 400, /extra/],
      [firingId, { verdict: 'valid', note: 'x'.repeat(501) }, ADMIN_TOKEN, 400, /note/],
      ['not an id', { verdict: 'valid' }, ADMIN_TOKEN, 400, /UUID/],
      ['0b7f3c52-5d7e-4c8a-9e1f-00000000ffff', { verdict: 'valid' }, ADMIN_TOKEN, 404, /no alert event/],
      [resolved.id, { verdict: 'valid' }, ADMIN_TOKEN, 409, /resolved/],
      [firingId, { verdict: 'false_alarm' }, READ_TOKEN, 401, /admin/],
    ];
    for (const [id, body, token, status, error] of cases) {
      const res = await post(encodeURIComponent(id), body, token);
      expect(res.status, `${id} ${JSON.stringify(body)}`).toBe(status);
      expect((res.json as { error: string }).error).toMatch(error);
    }
    const p = (await pulse.get('/api/v1/rules/precision')).json as Precision;
    expect(p.rules[0]).toMatchObject({ valid: 1, falseAlarm: 1, marked: 2 });
  });

  it.runIf(run)('新常态 is refused with the reason for an alert without a seasonal baseline', async () => {
    const res = await request(pulse.url, 'POST', '/api/v1/alerts/new-normal', { token: ADMIN_TOKEN, body: { alertKey: 'joins_drop_fb|channel=wecom', by: '王运营' } });
    expect(res.status).toBe(409);
    expect((res.json as { error: string }).error).toMatch(/no seasonal baseline/);
    expect((await request(pulse.url, 'POST', '/api/v1/alerts/new-normal', { token: ADMIN_TOKEN, body: { alertKey: 'x' } })).status).toBe(400);
  });

  it.runIf(run)('verdicts survive a restart on the same data dir; DELETE takes one back', async () => {
    const db = pulse.influxDb;
    await pulse.close();
    // Without its rule the restarted engine cannot fire again (the drop is still in the data).
    writeFileSync(path.join(rulesDir, 'fb.yaml'), 'rules: []\n');
    pulse = await startTestPulse({ influx, influxDb: db, dataDir, env: { PULSE_RULES_DIR: rulesDir, PULSE_ALERT_INTERVAL_SECONDS: '3600' } });
    const p = (await pulse.get('/api/v1/rules/precision')).json as Precision;
    expect(p.rules).toEqual([{ ruleId: 'joins_drop_fb', valid: 1, falseAlarm: 1, marked: 2, precision: 0.5 }]);
    const h = (await pulse.get(`/api/v1/alerts/history?rule=joins_drop_fb&from=${older.ts - 1}`)).json as History;
    expect(h.events.find((e) => e.id === firingId)?.feedback?.verdict, JSON.stringify(h)).toBe('valid');

    const del = await request(pulse.url, 'DELETE', `/api/v1/alerts/${older.id}/feedback`, { token: ADMIN_TOKEN });
    expect(del.status).toBe(200);
    expect((await request(pulse.url, 'DELETE', `/api/v1/alerts/${older.id}/feedback`, { token: ADMIN_TOKEN })).status).toBe(404);
    const after = (await pulse.get('/api/v1/rules/precision')).json as Precision;
    expect(after.rules).toEqual([{ ruleId: 'joins_drop_fb', valid: 1, falseAlarm: 0, marked: 1, precision: 1 }]);
  });
});
