/**
 * The alert center's rules tab with the 社群 group rule kinds (group_silence, group_exodus):
 * each reads as its own line (dimension 社群 and what fires it), the page raises no error (the
 * generic change line read `rule.baseline`, which group rules do not have), and the rule
 * preview offers only change and target rules. Chromium at 1440×900 and on a phone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshot, startBackend, type Backend } from './harness';

const RULES = `
rules:
  - { id: group_silent, name: 沉默群, kind: group_silence, window: 1d, periods: 7, min_expected: 10 }
  - { id: group_exodus, name: 退群潮, kind: group_exodus, window: 1d, threshold: 10%, min_members: 20, min_lost: 5 }
`;

describe('alert center: group rules in the rules tab', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let rulesDir = '';

  beforeAll(async () => {
    rulesDir = await mkdtemp(join(tmpdir(), 'pulse-e2e-group-rules-'));
    await writeFile(join(rulesDir, 'groups.yaml'), RULES);
    backend = await startBackend({ PULSE_RULES_DIR: rulesDir });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    await rm(rulesDir, { recursive: true, force: true });
  });

  for (const [label, viewport] of [
    ['desktop', { width: 1440, height: 900 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    it(`shows each group rule as its own line (${label})`, async () => {
      const b = backend!;
      const context = await browser!.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${b.url}/alerts?tab=rules`);
      await page.fill('[data-test="token-input"]', b.readToken);
      await page.click('[data-test="sign-in-submit"]');
      const line = async (id: string) => (await page.locator(`[data-rule-id="${id}"] .line`).innerText()).replace(/\s+/g, ' ');
      await page.locator('[data-rule-id="group_silent"]').waitFor({ timeout: 20_000 });
      expect(await line('group_silent')).toBe('社群 · 平时活跃的群 1 天没有消息即告警（近 7 天中位数，预期 ≥ 10 条）');
      expect(await line('group_exodus')).toBe('社群 · 1 天净流失 ≥ 10% 的成员即告警（≥ 5 人，群 ≥ 20 人）');
      await screenshot(page, `alert-center-group-rules-${label}.png`);
      expect(errors).toEqual([]);
      await context.close();
    }, 60_000);
  }
});
