/**
 * Flapping and cooldown over a scripted source: each evaluation's current and baseline
 * open rates are set directly (0.25 vs 0.30 = −16.7%, a "drop"; 0.30 vs 0.30, "normal").
 */
import { describe, expect, it } from 'vitest';
import { changeRule, makeEngine, MIN, ScriptedSource, T } from './fakes.js';

const rule = (over: Record<string, unknown> = {}) =>
  changeRule({
    id: 'open_rate',
    name: '推送打开率波动',
    kpi: 'push_open_rate',
    by: 'channel',
    window: '15m',
    direction: 'down',
    pending_for: 1,
    ...over,
  });

const DROP: [number, number] = [0.25, 0.3];
const NORMAL: [number, number] = [0.3, 0.3];

describe('flapping', () => {
  it('a flapping series sends one flapping notification, then nothing until stable; then its current state', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule()]); // defaults: max_flips 4 within 30m, cooldown 30m
    let t = T;
    const step = async (r: [number, number]) => {
      src.rates = { wecom: r };
      await h.at(t);
      t += MIN;
    };

    // Flips 1–4 (firing, resolved, firing, resolved): the first two are told; the
    // re-fire falls in the cooldown and a resolve of it has nothing to retract.
    await step(DROP);
    await step(NORMAL);
    await step(DROP);
    await step(NORMAL);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom']);

    // Flip 5 > max_flips 4 within 30 minutes: flapping, one message.
    await step(DROP);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom', 'flapping:wecom']);
    const flapEvent = h.sink.events.at(-1);
    expect(flapEvent).toMatchObject({ from: 'resolved', state: 'flapping' });
    expect(flapEvent?.summary).toBe('推送打开率（渠道 wecom）告警反复切换（30 分钟内 5 次），暂停通知');
    expect(h.outlet.all.at(-1)).toMatchObject({ kind: 'flapping', severity: 'warning' });

    // It keeps flipping for 20 minutes: no message, no event (the public state stays flapping).
    const eventsBefore = h.sink.events.length;
    for (let i = 0; i < 20; i++) await step(i % 2 === 0 ? NORMAL : DROP);
    expect(h.outlet.all).toHaveLength(3);
    expect(h.sink.events).toHaveLength(eventsBefore);
    expect(h.engine.active()[0]?.state).toBe('flapping');

    // The last flip was at the last DROP step; stable (dropped) for 30 minutes → firing again.
    const lastFlip = t - MIN;
    while (t < lastFlip + 30 * MIN) await step(DROP);
    expect(h.outlet.all).toHaveLength(3);
    await step(DROP); // t = lastFlip + 30m
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom', 'flapping:wecom', 'firing:wecom']);
    expect(h.sink.events.at(-1)).toMatchObject({ from: 'flapping', state: 'firing' });
  });

  it('a flapping alert that settles as normal ends with one resolved message', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule({ cooldown: 0 })]);
    let t = T;
    for (let i = 0; i < 5; i++) {
      src.rates = { wecom: i % 2 === 0 ? DROP : NORMAL };
      await h.at(t);
      t += MIN;
    }
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom', 'firing:wecom', 'resolved:wecom', 'flapping:wecom']);
    src.rates = { wecom: NORMAL };
    for (let i = 0; i <= 31; i++) await h.at(t + i * MIN); // last flip at t; stable from t + 30m
    expect(h.outlet.kinds().slice(5)).toEqual(['resolved:wecom']);
    expect(h.sink.events.slice(-2).map((e) => `${e.from}→${e.state}`)).toEqual(['flapping→resolved', 'resolved→ok']);
  });
});

describe('cooldown', () => {
  it('holds a second firing message within the cooldown and sends it when the cooldown ends if still firing', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule({ cooldown: '30m', flapping: { max_flips: 10 } })]);
    src.rates = { wecom: DROP };
    await h.at(T);
    src.rates = { wecom: NORMAL };
    await h.at(T + 5 * MIN);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom']);

    src.rates = { wecom: DROP };
    await h.at(T + 10 * MIN);
    // The state change is published; the message is held.
    expect(h.sink.events.at(-1)).toMatchObject({ from: 'resolved', state: 'firing' });
    expect(h.outlet.all).toHaveLength(2);
    expect(h.engine.status().rules[0]?.splits[0]?.heldBy).toBe('cooldown');

    await h.at(T + 20 * MIN);
    await h.at(T + 30 * MIN - 1000);
    expect(h.outlet.all).toHaveLength(2);
    await h.at(T + 30 * MIN);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom', 'firing:wecom']);
    expect(h.outlet.all[2]?.ts).toBe(T + 30 * MIN);
  });

  it('a firing held by the cooldown that resolves before it ends sends nothing', async () => {
    const src = new ScriptedSource();
    const h = makeEngine(src, [rule({ flapping: { max_flips: 10 } })]);
    const seq: [number, [number, number]][] = [
      [0, DROP],
      [5, NORMAL],
      [10, DROP],
      [15, NORMAL],
      [60, NORMAL],
    ];
    for (const [m, r] of seq) {
      src.rates = { wecom: r };
      await h.at(T + m * MIN);
    }
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom']);
  });
});
