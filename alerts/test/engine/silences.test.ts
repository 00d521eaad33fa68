/**
 * Quiet hours (silence windows, Asia/Shanghai, wrapping midnight), silences and acks:
 * they hold notifications, never the evaluation or the published events.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activeSilenceWindow, inWindow, minuteOfDay } from '../../src/engine/silenceWindows.js';
import { SilenceStore } from '../../src/engine/silences.js';
import { changeRule, makeEngine, MIN, ScriptedSource, T, tempDir } from './fakes.js';

/** Epoch ms of a Shanghai wall-clock time (UTC+8, no DST). */
const cst = (d: number, h: number, m = 0) => Date.UTC(2025, 2, d, h - 8, m);

const rule = (over: Record<string, unknown> = {}) =>
  changeRule({ id: 'open', name: '推送打开率波动', kpi: 'push_open_rate', by: 'channel', window: '15m', pending_for: 1, ...over });
const DROP: [number, number] = [0.25, 0.3];
const WORSE: [number, number] = [0.18, 0.3];
const NORMAL: [number, number] = [0.3, 0.3];

describe('silence windows (quiet hours)', () => {
  it('evaluate in the engine time zone and wrap midnight', () => {
    const night = { from: '22:00', to: '07:00' };
    expect(minuteOfDay(cst(10, 23, 30), 'Asia/Shanghai')).toBe(23 * 60 + 30);
    expect(activeSilenceWindow([night], cst(10, 23, 30), 'Asia/Shanghai')).toEqual(night);
    expect(activeSilenceWindow([night], cst(11, 0, 0), 'Asia/Shanghai')).toEqual(night);
    expect(activeSilenceWindow([night], cst(11, 6, 59), 'Asia/Shanghai')).toEqual(night);
    expect(activeSilenceWindow([night], cst(11, 7, 0), 'Asia/Shanghai')).toBeUndefined();
    expect(activeSilenceWindow([night], cst(10, 21, 59), 'Asia/Shanghai')).toBeUndefined();
    expect(activeSilenceWindow([night], cst(10, 22, 0), 'Asia/Shanghai')).toEqual(night);
    // 23:30 in Shanghai is 15:30 UTC: outside the window when read in UTC.
    expect(activeSilenceWindow([night], cst(10, 23, 30), 'UTC')).toBeUndefined();
    expect(inWindow({ from: '09:00', to: '18:00' }, 9 * 60)).toBe(true);
    expect(inWindow({ from: '09:00', to: '18:00' }, 18 * 60)).toBe(false);
  });

  it('an alert firing in quiet hours is stored, then told when they end if still firing', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule({ silence_windows: [{ from: '23:00', to: '07:00' }] })]);
    src.rates = { wecom: DROP };
    await h.at(cst(10, 23, 30));
    expect(h.sink.events.map((e) => e.state)).toEqual(['firing']);
    expect(h.outlet.all).toHaveLength(0);
    expect(h.engine.status().rules[0]?.splits[0]).toMatchObject({
      state: 'firing',
      silencedBy: { type: 'silence_window', from: '23:00', to: '07:00' },
      heldBy: 'silence_window',
    });
    await h.at(cst(11, 6, 59));
    expect(h.outlet.all).toHaveLength(0);
    await h.at(cst(11, 7, 0));
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);
    expect(h.outlet.all[0]?.ts).toBe(cst(11, 7, 0));
  });

  it('an alert that fires and resolves within quiet hours sends nothing at all', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule({ silence_windows: [{ from: '23:00', to: '07:00' }] })]);
    src.rates = { wecom: DROP };
    await h.at(cst(10, 23, 30));
    src.rates = { wecom: NORMAL };
    await h.at(cst(11, 1, 0));
    await h.at(cst(11, 7, 0));
    await h.at(cst(11, 8, 0));
    expect(h.sink.events.map((e) => e.state)).toEqual(['firing', 'resolved', 'ok']);
    expect(h.outlet.all).toHaveLength(0);
  });
});

describe('silences', () => {
  it('hold matching alerts, still publish their events, persist, and end on unsilence', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule()]);
    const s = h.engine.silence({ matchers: { ruleId: 'open', value: 'wecom' }, until: T + 60 * MIN, by: '王敏', reason: '推送模板维护' });
    expect(s).toMatchObject({ createdAt: T, until: T + 60 * MIN, by: '王敏', reason: '推送模板维护' });

    src.rates = { wecom: DROP, app_push: DROP };
    await h.at(T + MIN);
    expect(h.sink.events.map((e) => e.alertKey).sort()).toEqual(['open|channel=app_push', 'open|channel=wecom']);
    expect(h.outlet.kinds()).toEqual(['firing:app_push']);
    const wecom = h.engine.status().rules[0]?.splits.find((x) => x.split?.value === 'wecom');
    expect(wecom?.silencedBy).toMatchObject({ type: 'silence', id: s.id, by: '王敏' });

    // Survives a restart: a second engine on the same data dir sees it.
    const again = makeEngine(src, [rule()], { dataDir: h.dataDir });
    expect(again.engine.silences().map((x) => x.id)).toEqual([s.id]);
    expect(JSON.parse(readFileSync(join(h.dataDir, 'silences.json'), 'utf8')).silences[0].reason).toBe('推送模板维护');

    expect(h.engine.unsilence(s.id, '王敏')?.endedBy).toBe('王敏');
    expect(h.engine.silences()).toHaveLength(0);
    expect(h.engine.silences({ includeEnded: true })[0]?.endedAt).toBe(T + MIN);
    await h.at(T + 2 * MIN); // still firing: now it is told
    expect(h.outlet.kinds()).toEqual(['firing:app_push', 'firing:wecom']);
  });

  it('expire on their own', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule()]);
    h.engine.silence({ matchers: { kpi: 'push_open_rate' }, until: T + 10 * MIN, by: 'ops', reason: '' });
    src.rates = { wecom: DROP };
    await h.at(T + MIN);
    await h.at(T + 10 * MIN - 1000);
    expect(h.outlet.all).toHaveLength(0);
    await h.at(T + 10 * MIN);
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);
  });

  it('refuse an empty matcher set or a past end', () => {
    const h = makeEngine(new ScriptedSource(), [rule()]);
    expect(() => h.engine.silence({ matchers: {}, until: T + MIN, by: 'ops', reason: '' })).toThrow(/matcher/);
    expect(() => h.engine.silence({ matchers: { ruleId: 'open' }, until: T - 1, by: 'ops', reason: '' })).toThrow(/future/);
  });
});

describe('acks', () => {
  it('stop repeat notifications of a firing alert but not its resolution; kept with who/when/why', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule({ thresholds: { fire: 0.15, clear: 0.1, critical: 0.3 } })]);
    src.rates = { wecom: DROP };
    await h.at(T);
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);

    expect(() => h.engine.ack('open|channel=app_push', '李雷', '')).toThrow(/not firing/);
    h.clock.t = T + MIN;
    const a = h.engine.ack('open|channel=wecom', '李雷', '已联系推送组');
    expect(a).toEqual({ alertKey: 'open|channel=wecom', by: '李雷', reason: '已联系推送组', at: T + MIN });
    expect(h.engine.active()[0]?.ackedBy).toEqual(a);
    // Persisted: a restarted engine still knows who acked.
    expect(makeEngine(src, [rule()], { dataDir: h.dataDir }).engine.acks()).toEqual([a]);

    // It gets worse (critical): the escalation is published, not pushed.
    src.rates = { wecom: WORSE };
    await h.at(T + 2 * MIN);
    expect(h.sink.events.at(-1)).toMatchObject({ from: 'firing', state: 'firing', severity: 'critical' });
    expect(h.outlet.all).toHaveLength(1);

    src.rates = { wecom: NORMAL };
    await h.at(T + 3 * MIN);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom']);
    expect(h.engine.acks()).toEqual([]); // an ack covers one episode
  });

  it('without an ack, an escalation to critical is pushed at once (no cooldown)', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule({ thresholds: { fire: 0.15, clear: 0.1, critical: 0.3 } })]);
    src.rates = { wecom: DROP };
    await h.at(T);
    src.rates = { wecom: WORSE };
    await h.at(T + MIN);
    expect(h.outlet.all.map((n) => `${n.kind}:${n.severity}`)).toEqual(['firing:warning', 'firing:critical']);
  });
});

describe('SilenceStore file', () => {
  it('writes atomically and moves an unreadable file aside instead of failing', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    const store = new SilenceStore(dir, () => T);
    store.silence({ matchers: { dim: 'channel', value: 'sms' }, until: T + MIN, by: 'ops', reason: 'x' });
    const { writeFileSync, readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual(['silences.json']); // no temp file left behind
    writeFileSync(join(dir, 'silences.json'), '{ half a fi');
    const fresh = new SilenceStore(dir, () => T, (_e, msg) => errors.push(msg));
    expect(fresh.list()).toEqual([]);
    expect(errors[0]).toMatch(/moved to/);
    expect(readdirSync(dir).some((f) => f.startsWith('silences.json.corrupt-'))).toBe(true);
  });
});
