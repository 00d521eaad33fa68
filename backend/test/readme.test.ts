/**
 * Every curl example in README.md, run as written against a real server (real HTTP, real
 * store, a loopback DingTalk robot, wall sockets): the commands are parsed out of the
 * README, placeholders (<ingest key>, <admin token>, $PULSE_*_TOKEN, localhost:8080) filled
 * in, run with the real `curl`, and each answer compared with the `# → status body` line
 * under it (… matches anything). A README edit that stops being true fails here.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot.js';
import { ADMIN_TOKEN, INGEST_KEY, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const run = promisify(execFile);
const README = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
const SECRET = 'SECreadme0123456789abcdef';

interface Example {
  line: number;
  command: string;
  expected: string | null;
}

/** curl commands in ```sh blocks (with the `# →` answer under them) and inline `curl …` spans. */
export function curlExamples(md: string): Example[] {
  const out: Example[] = [];
  const lines = md.split('\n');
  let inBlock = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^\s*```/.test(l)) {
      inBlock = !inBlock && /^\s*```(sh|bash|shell)?\s*$/.test(l) && !/^\s*```\s*$/.test(l) ? true : inBlock ? false : /```(sh|bash)/.test(l);
      continue;
    }
    if (inBlock && /^\s*curl\s/.test(l)) {
      const cmd = [l];
      let j = i + 1;
      while (j < lines.length && !/^\s*(#|curl\s|```)/.test(lines[j]!)) cmd.push(lines[j++]!);
      let expected: string | null = null;
      if (j < lines.length && /^\s*# →/.test(lines[j]!)) {
        const exp = [lines[j]!.replace(/^\s*# →\s*/, '')];
        j++;
        while (j < lines.length && /^\s*#\s{2,}/.test(lines[j]!)) exp.push(lines[j++]!.replace(/^\s*#\s+/, ''));
        expected = exp.join('');
      }
      out.push({ line: i + 1, command: cmd.join('\n').replace(/\s*#[^'\n]*$/, ''), expected });
      i = j - 1;
    } else if (!inBlock) {
      for (const m of l.matchAll(/`(curl [^`]+)`/g)) out.push({ line: i + 1, command: m[1]!, expected: null });
    }
  }
  return out;
}

/** `202 {"accepted":3,…}` → status and a regex for the compact JSON body (… = anything). */
function expectation(text: string): { status: number | null; body: RegExp | null } {
  const m = /^(\d{3})?\s*(.*)$/.exec(text.trim())!;
  const body = m[2]!.trim();
  if (!body) return { status: m[1] ? Number(m[1]) : null, body: null };
  const compact = body.replace(/\s*([{}[\],:])\s*/g, '$1');
  // … matches anything; an example's own id (16 hex) or time (epoch ms) matches any such value.
  const pattern = compact
    .split('…')
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/"[0-9a-f]{16}"/g, '"[0-9a-f]{16}"').replace(/\b\d{13}\b/g, '\\d{13}'))
    .join('.*?');
  return { status: m[1] ? Number(m[1]) : null, body: new RegExp(`^${pattern}$`) };
}

describe('README examples stay true', () => {
  let pulse: TestPulse;
  let robot: FakeDingTalkRobot;
  const sockets: Socket[] = [];
  const subst = new Map<string, string>();

  beforeAll(async () => {
    robot = await FakeDingTalkRobot.start({ secret: SECRET });
    pulse = await startTestPulse({
      env: { PULSE_SIMULATOR: 'on', PULSE_SIMULATOR_RATE: '1', DINGTALK_WEBHOOK: robot.webhook, DINGTALK_SECRET: SECRET },
    });
    subst.set('http://localhost:8080', pulse.url);
    subst.set('<ingest key>', INGEST_KEY);
    subst.set('<admin token>', ADMIN_TOKEN);
    subst.set('$PULSE_ADMIN_TOKEN', ADMIN_TOKEN);
    subst.set('$PULSE_READ_TOKEN', READ_TOKEN);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await pulse?.stopAndClean();
    await robot?.close();
  });

  async function wall(token: string): Promise<void> {
    const s = io(`${pulse.url}/live`, { auth: { token }, transports: ['websocket'] });
    sockets.push(s);
    await new Promise<void>((resolve) => s.once('snapshot', () => resolve()));
  }

  const examples = curlExamples(README);

  it('finds the examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
    expect(examples.some((e) => e.command.includes('/api/v1/events') && e.expected?.includes('"accepted":3'))).toBe(true);
  });

  it('every curl example answers what the README says', async () => {
    // The wall-control example promises 3 walls, one of them the display it targets.
    await wall(READ_TOKEN);
    await wall(READ_TOKEN);
    const failures: string[] = [];
    for (const ex of examples) {
      let cmd = ex.command;
      for (const [from, to] of subst) cmd = cmd.split(from).join(to);
      cmd = cmd.replace(/^(\s*)curl\s/, `$1curl -sS -w '\\n%{http_code}' `);
      // Async: the server runs in this process and must answer while curl waits.
      const { stdout: out } = await run('sh', ['-c', cmd], { encoding: 'utf8', timeout: 20_000 });
      const nl = out.lastIndexOf('\n');
      const [body, status] = [out.slice(0, nl), Number(out.slice(nl + 1))];
      const where = `README.md:${ex.line}: ${ex.command.split('\n')[0]}`;
      if (ex.expected === null) {
        if (status < 200 || status >= 300) failures.push(`${where}\n  → ${status} ${body}`);
      } else {
        let text = ex.expected;
        for (const [from, to] of subst) text = text.split(from).join(to);
        const e = expectation(text);
        const compact = body ? JSON.stringify(JSON.parse(body)) : '';
        if ((e.status !== null && e.status !== status) || (e.status === null && (status < 200 || status >= 300)) || (e.body && !e.body.test(compact))) {
          failures.push(`${where}\n  README: ${ex.expected}\n  got:    ${status} ${compact}`);
        }
      }
      // A display created by an example is the one the next examples name.
      if (cmd.includes('/api/v1/displays') && status === 201) {
        const d = JSON.parse(body) as { id: string; token: string };
        subst.set('9f2c41d07a5be613', d.id);
        await wall(d.token);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the series URL in "Reading data" answers the documented shape', async () => {
    const m = /`GET (\/api\/v1\/series\?[^`]+)`/.exec(README);
    expect(m).not.toBeNull();
    const r = await pulse.get(m![1]!);
    expect(r.status).toBe(200);
    // Every field the README names is in the answer (it may carry more, e.g. thin-point marks).
    const documented = /→ `\{([^`]*?), series:\[/.exec(README.slice(m!.index))?.[1]?.split(',').map((k) => k.trim()) ?? [];
    expect(documented).toEqual(['kpi', 'unit', 'from', 'to', 'step']);
    for (const key of [...documented, 'series']) expect(r.json).toHaveProperty(key);
  });

  it('"amount": 199.00 is 199 fen, as the README warns; 199.5 is refused', async () => {
    expect(README).toMatch(/A decimal point does \*\*not\*\* mean yuan: `199\.00` is the number 199, i\.e\. 199 fen/);
    const from = Date.now() - 1000;
    const r = await pulse.post('[{"type":"order.paid","channel":"readme_fen","amount":199.00},{"type":"order.paid","channel":"readme_fen","amount":199.5}]');
    expect(r.json).toMatchObject({ accepted: 1, rejected: [{ index: 1 }] });
    await pulse.flushToStore();
    const s = await pulse.get(`/api/v1/series?kpi=gmv&from=${from - 60_000}&to=${Date.now() + 60_000}&step=all&channel=readme_fen`);
    const points = (s.json as { series: { points: [number, number | null][] }[] }).series[0]!.points;
    expect(points.map((p) => p[1])).toEqual([199]);
  });
});
