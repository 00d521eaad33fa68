#!/usr/bin/env node
// Writes NDJSON files for the import benchmark (docs/dev-notes/2026-12-07b/h12fast.md):
//   node scripts/gen-import-bench.mjs dense <out> [events=500000]  — ~2 minutes of history, 3 days ago
//   node scripts/gen-import-bench.mjs month <out> [events=200000]  — spread over the 30 days before yesterday
//   node scripts/gen-import-bench.mjs brand <out> [events=3000000] — a mid-size brand's month (below)
// Deterministic (fixed seed; times relative to the start of today UTC), so before/after runs
// import the same kind of file. 4 channels × 20 communities (dense) or 7 × 50 (month), a
// pool of 50,000 members, the simulator's mix of types; every 4th event carries an id.
import { createWriteStream } from 'node:fs';

const [kind, out, nArg] = process.argv.slice(2);
if (!['dense', 'month', 'brand'].includes(kind) || !out) {
  console.error('usage: gen-import-bench.mjs dense|month|brand <out.ndjson> [events]');
  process.exit(2);
}
const n = Number(nArg ?? (kind === 'dense' ? 500_000 : kind === 'brand' ? 3_000_000 : 200_000));
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
const write = async (e) => {
  buf += `${JSON.stringify(e)}\n`;
  if (buf.length > 1 << 20) {
    if (!ws.write(buf)) await new Promise((r) => ws.once('drain', r));
    buf = '';
  }
};
if (kind === 'brand') {
  // A mid-size brand's month, as an export would hold it (time order): 30 days before
  // yesterday; a day curve of Beijing time (night low, lunch and evening peaks, weekends
  // +15 %); 7 channels by weight; 120 communities with a long tail (Zipf); a pool of
  // 200,000 members of whom a core is far more active (index = pool × u³); the event mix
  // of a private domain incl. push funnel, orders with amounts (order.create / order.paid
  // carry an order id), service replies with a duration; pushes and orders carry ids, and
  // a quarter of the rest; a campaign tag on a tenth of pushes and orders.
  const weighted = (pairs) => {
    const sum = pairs.reduce((s, [, w]) => s + w, 0);
    return () => {
      let r = rand() * sum;
      for (const [v, w] of pairs) if ((r -= w) < 0) return v;
      return pairs[0][0];
    };
  };
  const channel = weighted([['wecom_group', 35], ['wecom_1v1', 20], ['miniprogram', 20], ['official_account', 10], ['douyin', 7], ['store_qr', 5], ['sms', 3]]);
  const community = weighted(Array.from({ length: 120 }, (_, k) => [`c${String(k).padStart(3, '0')}`, 1 / (k + 1)]));
  const type = weighted([
    ['message', 38], ['interaction', 14], ['page.view', 15], ['push.sent', 8], ['push.delivered', 6], ['push.open', 3], ['push.click', 1.5], ['cart.add', 3], ['order.create', 2], ['order.paid', 1.6],
    ['member.join', 1], ['member.leave', 0.3], ['service.request', 1], ['service.reply', 1], ['activity.reach', 2], ['activity.join', 1],
  ]);
  const hourly = [0.3, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.6, 0.9, 1, 1, 1.1, 1.3, 1.1, 0.9, 0.9, 0.95, 1, 1.1, 1.4, 1.7, 1.8, 1.3, 0.7];
  const start = today - 31 * DAY;
  const hours = 30 * 24;
  const weights = Array.from({ length: hours }, (_, h) => {
    const t = start + h * 3_600_000 + 8 * 3_600_000; // Beijing time
    const dow = new Date(t).getUTCDay();
    return hourly[new Date(t).getUTCHours()] * (dow === 0 || dow === 6 ? 1.15 : 1);
  });
  const wsum = weights.reduce((s, w) => s + w, 0);
  let made = 0;
  let order = 0;
  let paid = 0;
  for (let h = 0; h < hours; h++) {
    const count = h === hours - 1 ? n - made : Math.round((n * weights[h]) / wsum);
    const times = Array.from({ length: count }, () => start + h * 3_600_000 + Math.floor(rand() * 3_600_000)).sort((a, b) => a - b);
    for (const ts of times) {
      const t = type();
      const e = { type: t, ts, channel: channel(), community: community(), member: `m${Math.floor(200_000 * rand() ** 3)}` };
      if (t === 'order.create') e.id = `o${++order}-c`;
      else if (t === 'order.paid') e.id = `o${++paid}-p`;
      else if (t.startsWith('push.') || rand() < 0.25) e.id = `b-${made}`;
      if (t === 'order.create' || t === 'order.paid') e.amount = Math.round(3000 * Math.exp(rand() * 3.3));
      if (t === 'service.reply') e.duration_ms = Math.floor(2000 + 600_000 * rand() ** 2);
      if ((t.startsWith('push.') || t.startsWith('order.')) && rand() < 0.1) e.campaign = `cmp${Math.floor(rand() * 20)}`;
      await write(e);
      made++;
    }
  }
  ws.end(buf);
  await new Promise((r) => ws.on('finish', r));
  console.error(`${out}: ${made} events (brand)`);
  process.exit(0);
}
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
