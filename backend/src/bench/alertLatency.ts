/**
 * Alert detection latency: the simulator runs in the server; a swing is injected through
 * the admin API on one channel; the clock stops when the loopback robot receives the
 * DingTalk message naming that channel. Channels are swung a few seconds apart so one
 * run yields several samples.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN, freePort, percentile, startBenchServer } from './server.js';

const SECRET = 'SECbench0123456789abcdef';
/** The simulator's push channels (the others send no pushes). */
const CHANNELS = ['wecom', 'app_push', 'miniprogram', 'sms'];
const ROUNDS = Number(process.env.BENCH_ALERT_ROUNDS ?? 2);
const STAGGER_MS = 4_000;

// A 30 s window against the 30 s before it; a 70% drop in open rate must fire quickly.
const RULE = `
rules:
  - id: bench_open_rate
    name: 推送打开率（基准测试）
    kpi: push_open_rate
    by: channel
    window: 30s
    baseline: { type: previous_window }
    thresholds: { fire: 0.15, clear: 0.10 }
    direction: down
    min_sample: 20
    pending_for: 1
    cooldown: 0s
    notify: [dingtalk]
`;

/** Answers like DingTalk (errcode 0) after checking the 加签 signature; records arrival times. */
async function robot(onMessage: (text: string, at: number) => void): Promise<{ url: string; server: Server }> {
  const port = await freePort();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const u = new URL(req.url ?? '/', 'http://x');
      const ts = u.searchParams.get('timestamp') ?? '';
      const expected = createHmac('sha256', SECRET).update(`${ts}\n${SECRET}`).digest('base64');
      const ok = u.searchParams.get('sign') === expected;
      if (ok) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { markdown?: { text: string } };
        onMessage(body.markdown?.text ?? '', at);
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(ok ? { errcode: 0, errmsg: 'ok' } : { errcode: 310000, errmsg: 'sign not match' }));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${port}/robot/send?access_token=bench`, server };
}

export async function benchAlertLatency(): Promise<[string, string][]> {
  let injectedAt = new Map<string, number>();
  let latencies = new Map<string, number>();
  const fake = await robot((text, at) => {
    if (!text.includes('【告警】') && !text.includes('【告警汇总】')) return;
    for (const [ch, t0] of injectedAt) if (!latencies.has(ch) && text.includes(`渠道 ${ch}`)) latencies.set(ch, at - t0);
  });
  const all: number[] = [];
  const missed: string[] = [];
  const rulesDir = mkdtempSync(path.join(tmpdir(), 'pulse-bench-rules-'));
  writeFileSync(path.join(rulesDir, 'bench.yaml'), RULE);
  const server = await startBenchServer({
    PULSE_SIMULATOR: 'on',
    PULSE_SIMULATOR_RATE: process.env.BENCH_SIM_RATE ?? '3000',
    PULSE_RULES_DIR: rulesDir,
    PULSE_ALERT_INTERVAL_SECONDS: '1',
    DINGTALK_WEBHOOK: fake.url,
    DINGTALK_SECRET: SECRET,
  });
  try {
    for (let round = 0; round < ROUNDS; round++) {
      injectedAt = new Map();
      latencies = new Map();
      // Two full windows of normal traffic first, so every channel has a clean baseline.
      await new Promise((r) => setTimeout(r, 65_000));
      for (const channel of CHANNELS) {
        const res = await fetch(`${server.base}/api/v1/simulator/swings`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ kpi: 'push_open_rate', channel, factor: 0.3, durationSeconds: 600 }),
        });
        if (res.status !== 201) throw new Error(`swing refused: ${await res.text()}`);
        injectedAt.set(channel, performance.now());
        await new Promise((r) => setTimeout(r, STAGGER_MS));
      }
      const deadline = Date.now() + 60_000;
      while (latencies.size < CHANNELS.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      all.push(...latencies.values());
      missed.push(...CHANNELS.filter((c) => !latencies.has(c)));
      await fetch(`${server.base}/api/v1/simulator/swings`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    }
    const sorted = all.sort((a, b) => a - b);
    return [
      ['alert: rule', 'open rate, 30 s window vs previous 30 s, −15% fires, evaluated every 1 s'],
      ['alert: swing', 'open rate × 0.3 on one channel at a time'],
      ['alert: samples', `${sorted.length} (${ROUNDS} rounds × ${CHANNELS.length} channels)${missed.length ? `; no message for ${missed.join(', ')} within 60 s` : ''}`],
      ['alert: swing → DingTalk message p50', sorted.length ? `${(percentile(sorted, 0.5) / 1000).toFixed(1)} s` : 'n/a'],
      ['alert: swing → DingTalk message p99', sorted.length ? `${(percentile(sorted, 0.99) / 1000).toFixed(1)} s` : 'n/a'],
    ];
  } finally {
    await server.stop();
    await new Promise<void>((r) => fake.server.close(() => r()));
    rmSync(rulesDir, { recursive: true, force: true });
  }
}
