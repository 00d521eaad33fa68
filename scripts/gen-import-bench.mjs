#!/usr/bin/env node
// Writes NDJSON files for the import benchmark (docs/dev-notes/2026-12-07b/h12fast.md):
//   node scripts/gen-import-bench.mjs dense <out> [events=500000]  — ~2 minutes of history, 3 days ago
//   node scripts/gen-import-bench.mjs month <out> [events=200000]  — spread over the 30 days before yesterday
// Deterministic (fixed seed; times relative to the start of today UTC), so before/after runs
// import the same kind of file. 4 channels × 20 communities (dense) or 7 × 50 (month), a
// pool of 50,000 members, the simulator's mix of types; every 4th event carries an id.
import { createWriteStream } from 'node:fs';

const [kind, out, nArg] = process.argv.slice(2);
if (!['dense', 'month'].includes(kind) || !out) {
  console.error('usage: gen-import-bench.mjs dense|month <out.ndjson> [events]');
  process.exit(2);
}
const n = Number(nArg ?? (kind === 'dense' ? 500_000 : 200_000));
let seed = 0x9e3779b9;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const channels = kind === 'dense' ? ['wecom_group', 'wecom_1v1', 'miniprogram', 'official_account'] : ['wecom_group', 'wecom_1v1', 'miniprogram', 'official_account', 'douyin', 'store_qr', 'sms'];
const communities = kind === 'dense' ? 20 : 50;
const [from, span] = kind === 'dense' ? [today - 3 * DAY + 10 * 3_600_000, 120_000] : [today - 31 * DAY, 30 * DAY];
const types = [
  ['message', 40], ['interaction', 15], ['page.view', 15], ['push.sent', 10], ['push.open', 5], ['cart.add', 4], ['order.create', 3], ['order.paid', 3], ['member.join', 3], ['service.request', 2],
];
const total = types.reduce((s, [, w]) => s + w, 0);
const pick = () => {
  let r = rand() * total;
  for (const [t, w] of types) if ((r -= w) < 0) return t;
  return 'message';
};
const ws = createWriteStream(out);
let buf = '';
for (let i = 0; i < n; i++) {
  const type = pick();
  const ts = from + Math.floor((i / n) * span + rand() * (span / n));
  const e = { type, ts, channel: channels[Math.floor(rand() * channels.length)], community: `c${String(Math.floor(rand() * communities)).padStart(3, '0')}`, member: `m${Math.floor(rand() * 50_000)}` };
  if (type === 'order.paid' || type === 'order.create') e.amount = 100 + Math.floor(rand() * 50_000);
  if (i % 4 === 0) e.id = `${kind}-${i}`;
  buf += `${JSON.stringify(e)}\n`;
  if (buf.length > 1 << 20) {
    if (!ws.write(buf)) await new Promise((r) => ws.once('drain', r));
    buf = '';
  }
}
ws.end(buf);
await new Promise((r) => ws.on('finish', r));
console.error(`${out}: ${n} events (${kind})`);
