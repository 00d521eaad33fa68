/**
 * 社群 at real scale, on both stores (DuckDB on a temp file, a real influxd): 20,000 groups
 * from a skewed generated population (a few lively groups, a long tail of quiet ones) are
 * sent through the ingest API; every group is admitted under the default cap (20,000), each
 * group's stored series equals the events sent for it, the top-N ranking orders groups by
 * their sent totals, names from the admin API are found by part of the name, and the
 * 20,001st group is folded into "(other)" and shows on /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupPopulation, type GroupSpec } from '../src/communities/population.js';
import { TagGuard } from '../src/ingest/tagGuard.js';
import { CommunityNames } from '../src/communities/names.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from './harness/http.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const N = 20_000;
const population = groupPopulation(N);

function eventsFor(groups: readonly GroupSpec[], now: number): object[] {
  const out: object[] = [];
  let k = 0;
  // Spread over the last 3 minutes, inside the 5-minute lateness window.
  const ts = () => now - 1000 - ((k++ * 7919) % 180_000);
  for (const g of groups) {
    for (let i = 0; i < g.messages; i++) out.push({ type: 'message', channel: 'wechat_group', community: g.id, member: `${g.id}-m${i % 50}`, ts: ts() });
    for (let i = 0; i < g.interactions; i++) out.push({ type: 'interaction', channel: 'wechat_group', community: g.id, ts: ts() });
    for (let i = 0; i < g.joins; i++) out.push({ type: 'member.join', channel: 'wechat_group', community: g.id, member: `${g.id}-j${i}`, ts: ts() });
    for (let i = 0; i < g.leaves; i++) out.push({ type: 'member.leave', channel: 'wechat_group', community: g.id, ts: ts() });
  }
  return out;
}

async function sendAll(pulse: TestPulse, events: object[]): Promise<void> {
  for (let i = 0; i < events.length; i += 10_000) {
    const batch = events.slice(i, i + 10_000);
    const res = await pulse.post(batch.map((e) => JSON.stringify(e)).join('\n'), { contentType: 'application/x-ndjson' });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ accepted: batch.length, rejected: [] });
  }
}

interface TopRow { community: string; name: string | null; messages: number; joins: number; leaves: number; net: number; interactions: number }

const suites: { name: string; influx: boolean }[] = [
  { name: 'DuckDB', influx: false },
  { name: 'influxd', influx: true },
];
const runInflux = influxdOrSkip('社群 scale suite');

for (const s of suites) {
  describe.skipIf(s.influx && !runInflux)(`社群 at 20,000 groups (${s.name})`, () => {
    let influx: InfluxdHandle | undefined;
    let pulse: TestPulse;
    let sentAt = 0;
    const expected = new Map(population.map((g) => [g.id, g]));

    beforeAll(async () => {
      if (s.influx) influx = await startInfluxd();
      pulse = await startTestPulse(influx ? { influx } : {});
      sentAt = Date.now();
      await sendAll(pulse, eventsFor(population, sentAt));
      // Wait until the collector has flushed every group to the store.
      // influxd 1.6 creates 20,000 new series slowly on a loaded machine: allow minutes.
      const deadline = Date.now() + 240_000;
      for (;;) {
        const r = await pulse.get(`/api/v1/communities/top?range=24h&limit=1`);
        if ((r.json as { groups: number }).groups === N) break;
        if (Date.now() > deadline) throw new Error(`only ${(r.json as { groups: number }).groups} groups stored: ${JSON.stringify(r.json).slice(0, 300)}`);
        await new Promise((res) => setTimeout(res, 250));
      }
    }, 300_000);
    afterAll(async () => {
      await pulse?.stopAndClean();
      await influx?.stop();
    });

    it("stores every group's messages, joins and leaves exactly as sent (all 20,000 series)", async () => {
      for (const [kpi, field] of [['messages', 'messages'], ['new_members', 'joins'], ['lost_members', 'leaves']] as const) {
        const r = await pulse.get(`/api/v1/series?kpi=${kpi}&by=community&step=all&from=${sentAt - 10 * 60_000}&to=${sentAt + 60_000}`);
        expect(r.status, JSON.stringify(r.json).slice(0, 200)).toBe(200);
        const got = new Map((r.json as { series: { tags: { community: string }; points: [number, number | null][] }[] }).series.map((x) => [x.tags.community, x.points.reduce((a, p) => a + (p[1] ?? 0), 0)]));
        let mismatches = 0;
        for (const g of population) if ((got.get(g.id) ?? 0) !== g[field]) mismatches++;
        expect(mismatches, kpi).toBe(0);
        expect(got.has('(other)')).toBe(false);
      }
    }, 60_000);

    it('answers one group hour by hour (the lively top group and a quiet tail group)', async () => {
      for (const g of [population[0]!, population[N - 1]!]) {
        const r = await pulse.get(`/api/v1/series?kpi=messages&community=${g.id}&step=1h&from=${sentAt - 3 * 3_600_000}&to=${sentAt + 60_000}`);
        const pts = (r.json as { series: { points: [number, number | null][] }[] }).series[0]!.points;
        expect(pts.reduce((a, p) => a + (p[1] ?? 0), 0)).toBe(g.messages);
      }
    });

    it('ranks groups: most messages, fastest growing, losing members', async () => {
      const sorted = (key: 'messages' | 'net', dir: 1 | -1) =>
        [...population].map((g) => ({ id: g.id, v: key === 'net' ? g.joins - g.leaves : g.messages })).sort((a, b) => dir * (a.v - b.v) || (a.id < b.id ? -1 : 1));
      const top = (await pulse.get(`/api/v1/communities/top?range=24h&by=messages&limit=10`)).json as { groups: number; rows: TopRow[] };
      expect(top.groups).toBe(N);
      expect(top.rows.map((r) => [r.community, r.messages])).toEqual(sorted('messages', -1).slice(0, 10).map((x) => [x.id, x.v]));
      const growing = (await pulse.get(`/api/v1/communities/top?range=24h&by=net&limit=10`)).json as { rows: TopRow[] };
      expect(growing.rows.map((r) => [r.community, r.net])).toEqual(sorted('net', -1).slice(0, 10).map((x) => [x.id, x.v]));
      const losing = (await pulse.get(`/api/v1/communities/top?range=24h&by=net&order=asc&limit=5`)).json as { rows: TopRow[] };
      expect(losing.rows.map((r) => [r.community, r.net])).toEqual(sorted('net', 1).slice(0, 5).map((x) => [x.id, x.v]));
      for (const r of top.rows) expect(r).toMatchObject({ joins: expected.get(r.community)!.joins, leaves: expected.get(r.community)!.leaves, interactions: expected.get(r.community)!.interactions });
    });

    it('counts every group’s distinct active members as sent, ranks on them, and answers one group by hour', async () => {
      // Members: messages name 50 per group at most (…-m0 … -m49), every join a new one; interactions
      // and leaves name nobody. Group sketches are written once a minute, or on a flush to the store.
      const active = (g: GroupSpec) => Math.min(g.messages, 50) + g.joins;
      await pulse.flushToStore();
      const top = (await pulse.get(`/api/v1/communities/active?range=24h&limit=10`)).json as { groups: number; rows: { community: string; name: string | null; members: number }[] };
      expect(top.groups).toBe(N);
      const expectedTop = [...population].map((g) => [g.id, active(g)] as [string, number]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      expect(top.rows.map((r) => [r.community, r.members])).toEqual(expectedTop.slice(0, 10));
      const today = (await pulse.get(`/api/v1/communities/active?range=today&limit=3`)).json as typeof top;
      if (today.groups === N) expect(today.rows.map((r) => r.members)).toEqual(expectedTop.slice(0, 3).map(([, n]) => n));
      for (const g of [population[0]!, population[777]!, population[N - 1]!]) {
        const r = (await pulse.get(`/api/v1/communities/active?range=24h&community=${g.id}&granularity=hour`)).json as { points: { ts: number; members: number }[] };
        // Sent within 3 minutes: one or two hours; their union is the group's members.
        expect(r.points.length).toBeGreaterThanOrEqual(1);
        expect(Math.max(...r.points.map((p) => p.members))).toBeLessThanOrEqual(active(g));
        if (r.points.length === 1) expect(r.points[0]!.members).toBe(active(g));
      }
      expect((await pulse.get(`/api/v1/communities/active?granularity=week`)).status).toBe(400);
    }, 90_000);

    it('names 20,000 groups through the admin API and finds one by part of its name', async () => {
      const put = await request(pulse.url, 'PUT', '/api/v1/communities/names', { token: ADMIN_TOKEN, body: { names: Object.fromEntries(population.map((g) => [g.id, g.name])) } });
      expect(put.status, JSON.stringify(put.json)).toBe(200);
      expect(put.json).toMatchObject({ set: N, named: N });
      const target = population[12_345]!;
      // "杭州…店…群": search by the store number, which many names share, plus the city.
      const part = target.name.slice(0, 5); // e.g. 杭州...
      const r = (await pulse.get(`/api/v1/communities/search?q=${encodeURIComponent(part)}&limit=50`)).json as { items: { id: string; name: string }[]; total: number };
      expect(r.items.length).toBeLessThanOrEqual(50);
      expect(r.total).toBeGreaterThan(0);
      for (const it of r.items) expect(it.name.toLowerCase()).toContain(part.toLowerCase());
      const exact = (await pulse.get(`/api/v1/communities/search?q=${encodeURIComponent(target.name)}`)).json as { items: { id: string; name: string }[] };
      expect(exact.items[0]).toEqual({ id: target.id, name: target.name });
      const byId = (await pulse.get(`/api/v1/communities/search?q=${target.id.slice(1)}`)).json as { items: { id: string }[] };
      expect(byId.items.map((i) => i.id)).toContain(target.id);
      // Ranking rows carry the name.
      const top = (await pulse.get(`/api/v1/communities/top?range=24h&limit=1`)).json as { rows: TopRow[] };
      expect(top.rows[0]!.name).toBe(population[0]!.name);
      // A bad entry refuses the request and changes nothing.
      const bad = await request(pulse.url, 'PUT', '/api/v1/communities/names', { token: ADMIN_TOKEN, body: { names: { [population[0]!.id]: '改名', 'bad\nid': 'x' } } });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.json)).toContain('control character');
      expect(((await pulse.get(`/api/v1/communities/names?ids=${population[0]!.id}`)).json as { names: Record<string, string> }).names[population[0]!.id]).toBe(population[0]!.name);
      // Read scope cannot rename.
      expect((await request(pulse.url, 'PUT', '/api/v1/communities/names', { body: { names: {} } })).status).toBe(401);
    }, 60_000);

    it('folds the 20,001st group into "(other)" and shows the cap on /metrics', async () => {
      const res = await pulse.post(JSON.stringify([{ type: 'message', channel: 'wechat_group', community: 'g-new-20001', ts: Date.now() }]));
      expect(res.status).toBe(202);
      const m = (await request(pulse.url, 'GET', '/metrics', { token: READ_TOKEN })).json as string;
      expect(m).toMatch(/pulse_tag_values\{dimension="community"\} 20000\b/);
      expect(m).toMatch(/pulse_tag_limit\{dimension="community"\} 20000\b/);
      expect(m).toMatch(/pulse_tag_overflow_total\{dimension="community"\} 1\b/);
    });
  });
}

describe('cardinality guard', () => {
  it('reports the cap once with the refused value, counts every folded event', () => {
    const reached: string[] = [];
    let folded = 0;
    const g = new TagGuard({ channel: 5, community: 2, campaign: 5 }, { onOverflow: () => folded++, onCapReached: (d, limit, v) => reached.push(`${d}:${limit}:${v}`) });
    expect(['a', 'b', 'c', 'd', 'a'].map((v) => g.admit('community', v))).toEqual(['a', 'b', '(other)', '(other)', 'a']);
    expect(reached).toEqual(['community:2:c']);
    expect(folded).toBe(2);
    expect(g.usage('community')).toEqual({ values: 2, limit: 2 });
  });
});

describe('community names file', () => {
  it('reads a YAML mapping, lets the API override it, and refuses a bad file naming the entry', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-names-'));
    try {
      const file = path.join(dir, 'names.yaml');
      writeFileSync(file, 'wx-chat-1: 北京望京店 VIP 1 群\nwx-chat-2: 上海静安店福利群\n');
      const names = new CommunityNames({ dataDir: dir, file });
      expect(names.search('望京', [], 10).items).toEqual([{ id: 'wx-chat-1', name: '北京望京店 VIP 1 群' }]);
      expect(names.search('ｖｉｐ', ['wx-chat-3'], 10).items.map((i) => i.id)).toEqual(['wx-chat-1']);
      await names.setMany([{ id: 'wx-chat-2', name: '上海静安店会员群' }]);
      expect(new CommunityNames({ dataDir: dir, file }).name('wx-chat-2')).toBe('上海静安店会员群');
      writeFileSync(file, 'wx-chat-1: ""\n');
      expect(() => new CommunityNames({ dataDir: dir, file })).toThrow(/wx-chat-1.*empty name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
