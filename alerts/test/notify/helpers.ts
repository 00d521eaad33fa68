/** Test helpers: notifications, a manual clock, temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertNotification as Notification } from '../../src/contract.js';

/** 2026-11-23 20:15 in Asia/Shanghai. */
export const T0 = Date.UTC(2026, 10, 23, 12, 15);

export function openRateDrop(over: Partial<Notification> = {}): Notification {
  return {
    key: 'push_open_drop|channel=wecom|1',
    kind: 'firing',
    ruleId: 'push_open_drop',
    ruleName: '推送打开率下跌',
    group: '推送',
    severity: 'warning',
    kpi: { id: 'push_open_rate', label: { zh: '推送打开率', en: 'Push open rate' }, unit: 'percent', good: 'up' },
    split: { dim: 'channel', value: 'wecom' },
    value: 0.2519,
    baseline: 0.301,
    baselineKind: 'previous_window',
    change: (0.2519 - 0.301) / 0.301,
    threshold: 0.15,
    windowMinutes: 60,
    ts: T0,
    link: 'https://pulse.example.com/kpi/push_open_rate?channel=wecom',
    targets: ['dingtalk'],
    ...over,
  };
}

/** `n` firing notifications in one rule group, each on its own channel `c<i>`. */
export function storm(n: number, over: Partial<Notification> = {}): Notification[] {
  return Array.from({ length: n }, (_, i) =>
    openRateDrop({ key: `storm|c${i}`, split: { dim: 'channel', value: `c${i}` }, ts: T0 + i * 1000, ...over }),
  );
}

export function manualClock(start = Date.now()) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-notify-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
