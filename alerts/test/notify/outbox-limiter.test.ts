import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { SlidingWindowLimiter, ThrottleCircuit } from '../../src/notify/limiter.js';
import { Outbox } from '../../src/notify/outbox.js';
import { manualClock, openRateDrop, storm, tempDir } from './helpers.js';

const dirs: (() => void)[] = [];
afterEach(() => dirs.splice(0).forEach((c) => c()));
function dir() {
  const d = tempDir();
  dirs.push(d.cleanup);
  return d.dir;
}

describe('outbox', () => {
  test('what is owed survives a reopen; idempotent on (key, notifierId)', () => {
    const d = dir();
    const a = new Outbox({ dir: d });
    const n = openRateDrop();
    expect(a.add([{ notifierId: 'dingtalk', notification: n }, { notifierId: 'wecom', notification: n }])).toHaveLength(2);
    expect(a.add([{ notifierId: 'dingtalk', notification: n }])).toHaveLength(0);
    const [e] = a.pending('dingtalk');
    a.save([{ ...e!, state: 'delivered' }]);
    a.close();

    const b = new Outbox({ dir: d });
    expect(b.pending('dingtalk')).toHaveLength(0);
    expect(b.pending('wecom').map((x) => x.key)).toEqual([n.key]);
    expect(b.add([{ notifierId: 'dingtalk', notification: n }])).toHaveLength(0); // delivered is remembered
    b.close();
  });

  test('a torn last line (crash mid-append) is skipped and does not corrupt the next append', () => {
    const d = dir();
    const a = new Outbox({ dir: d });
    a.add([{ notifierId: 'x', notification: openRateDrop({ key: 'k1' }) }]);
    a.close();
    appendFileSync(a.path, '{"key":"k2","notifierId":"x","noti');
    const b = new Outbox({ dir: d });
    b.add([{ notifierId: 'x', notification: openRateDrop({ key: 'k3' }) }]);
    b.close();
    const c = new Outbox({ dir: d });
    expect(c.pending('x').map((e) => e.key)).toEqual(['k1', 'k3']);
    c.close();
  });

  test('compaction drops finished entries past retention and keeps what is owed', () => {
    const d = dir();
    const clock = manualClock();
    const o = new Outbox({ dir: d, compactBytes: 20_000, retainMs: 60_000, now: clock.now });
    const ns = storm(30);
    const added = o.add(ns.map((notification) => ({ notifierId: 'x', notification })));
    o.save(added.slice(0, 25).map((e) => ({ ...e, state: 'delivered' as const, updatedAt: clock.now() })));
    clock.advance(120_000);
    for (let i = 0; i < 10; i++) o.save(o.pending('x').map((e) => ({ ...e, attempts: e.attempts + 1 }))); // grow the file
    expect(statSync(o.path).size).toBeLessThan(20_000 * 2);
    o.close();
    const lines = readFileSync(o.path, 'utf8').trim().split('\n');
    const reopened = new Outbox({ dir: d });
    expect(reopened.pending('x').map((e) => e.key)).toEqual(ns.slice(25).map((n) => n.key));
    expect(new Set(lines.map((l) => (JSON.parse(l) as { key: string }).key)).size).toBeLessThanOrEqual(5);
    reopened.close();
  });
});

describe('limiter', () => {
  test('sliding window: 18 per 60 s, freed as the oldest leave the window', () => {
    const clock = manualClock(0);
    const l = new SlidingWindowLimiter(18, 60_000, clock.now);
    l.record(10);
    clock.advance(30_000);
    l.record(8);
    expect(l.available()).toBe(0);
    clock.advance(30_000);
    expect(l.available()).toBe(10);
  });

  test('throttle circuit: closed until tripped, open for the window, recovering until a delivery', () => {
    const clock = manualClock(0);
    const c = new ThrottleCircuit(600_000, clock.now);
    expect(c.isOpen()).toBe(false);
    expect(c.trip()).toBe(600_000);
    clock.advance(599_999);
    expect(c.isOpen()).toBe(true);
    clock.advance(1);
    expect(c.isOpen()).toBe(false);
    expect(c.isRecovering()).toBe(true);
    c.delivered();
    expect(c.isRecovering()).toBe(false);
  });
});
