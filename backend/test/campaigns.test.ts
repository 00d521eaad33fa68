/**
 * Campaigns through the admin API against a real server: the calendar's shipped campaigns
 * (双11, 618) are listed, an admin creates one (Beijing local time or ISO 8601, with
 * channels), it is listed for an overlapping range and its channels only, bad input is
 * refused with the field named and changes nothing, the YAML file's campaigns cannot be
 * replaced or deleted through the API, and API campaigns survive a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './harness/http.js';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

interface Campaign {
  id: string;
  name: string;
  start: number;
  end: number;
  channels?: string[];
  source: string;
}

const BJ = (local: string) => Date.parse(`${local}+08:00`);

describe('campaigns admin API', () => {
  let pulse: TestPulse;
  let dataDir = '';
  const list = async (query = '') => ((await pulse.get(`/api/v1/campaigns${query}`)).json as { campaigns: Campaign[] }).campaigns;
  const create = (body: unknown, token: string | null = ADMIN_TOKEN) => request(pulse.url, 'POST', '/api/v1/campaigns', { token, body });

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-campaigns-'));
    pulse = await startTestPulse({ dataDir });
  });
  afterAll(async () => {
    await pulse?.stopAndClean();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("lists the calendar file's campaigns", async () => {
    const all = await list();
    const d11 = all.find((c) => c.id === 'double11-2026');
    expect(d11).toMatchObject({ name: '双11', start: BJ('2026-10-20T20:00:00'), end: BJ('2026-11-12T00:00:00') });
    expect(d11?.source).toMatch(/campaigns\.yaml$/);
    expect(all.find((c) => c.id === '618-2026')?.name).toBe('618 大促');
  });

  it('creates a campaign in Beijing local time and lists it for an overlapping range and its channels', async () => {
    const res = await create({ id: 'member-day-1205', name: '会员日', start: '2026-12-05 10:00', end: '2026-12-06', channels: ['wecom', 'miniprogram'] });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json).toEqual({
      replaced: false,
      campaign: { id: 'member-day-1205', name: '会员日', start: BJ('2026-12-05T10:00:00'), end: BJ('2026-12-06T00:00:00'), channels: ['wecom', 'miniprogram'], source: 'api' },
    });
    const from = BJ('2026-12-05T00:00:00');
    const to = BJ('2026-12-07T00:00:00');
    expect((await list(`?from=${from}&to=${to}`)).map((c) => c.id)).toEqual(['member-day-1205']);
    expect((await list(`?from=${from}&to=${to}&channel=wecom`)).map((c) => c.id)).toEqual(['member-day-1205']);
    expect(await list(`?from=${from}&to=${to}&channel=sms`)).toEqual([]);
    // Ends at midnight, exclusive: nothing on the next day.
    expect(await list(`?from=${BJ('2026-12-06T00:00:00')}&to=${to}`)).toEqual([]);
  });

  it('creates one from ISO 8601 with a zone, makes an id when none is given, and replaces by id', async () => {
    const res = await create({ name: '年终清仓', start: '2026-12-20T12:00:00Z', end: '2026-12-25T12:00:00Z' });
    expect(res.status).toBe(201);
    const c = (res.json as { campaign: Campaign }).campaign;
    expect(c.id).toMatch(/^c-[0-9a-f]{10}$/);
    expect([c.start, c.end]).toEqual([Date.parse('2026-12-20T12:00:00Z'), Date.parse('2026-12-25T12:00:00Z')]);
    expect(c.channels).toBeUndefined();
    const again = await create({ id: c.id, name: '年终清仓（延长）', start: '2026-12-20T12:00:00Z', end: '2026-12-28T12:00:00Z' });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ replaced: true, campaign: { id: c.id, name: '年终清仓（延长）', end: Date.parse('2026-12-28T12:00:00Z') } });
    expect((await list()).filter((x) => x.source === 'api').map((x) => x.id).sort()).toEqual([c.id, 'member-day-1205'].sort());
  });

  it('refuses bad input with the reason and changes nothing', async () => {
    const before = await list();
    const cases: [unknown, number, RegExp][] = [
      [{ name: '倒挂', start: '2026-12-06', end: '2026-12-05' }, 400, /end must be after start/],
      [{ name: '太长', start: '2026-01-01', end: '2026-06-01' }, 400, /92 days/],
      [{ name: '坏日期', start: '2026-13-01', end: '2026-12-05' }, 400, /not a time/],
      [{ name: '坏时间', start: '2026-12-01T25:00:00+08:00', end: '2026-12-05' }, 400, /ISO 8601/],
      [{ name: '无时区', start: '12/01/2026', end: '2026-12-05' }, 400, /not a time/],
      [{ start: '2026-12-01', end: '2026-12-05' }, 400, /name/],
      [{ name: '坏渠道', start: '2026-12-01', end: '2026-12-05', channels: ['we\ncom'] }, 400, /control character/],
      [{ name: '重复渠道', start: '2026-12-01', end: '2026-12-05', channels: ['sms', 'sms'] }, 400, /twice/],
      [{ name: '多余字段', start: '2026-12-01', end: '2026-12-05', owner: 'x' }, 400, /owner/],
      [{ id: 'has space', name: '坏编号', start: '2026-12-01', end: '2026-12-05' }, 400, /id/],
      [{ id: 'double11-2026', name: '改双11', start: '2026-11-01', end: '2026-11-12' }, 409, /campaigns\.yaml/],
    ];
    for (const [body, status, error] of cases) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect((res.json as { error: string }).error, JSON.stringify(body)).toMatch(error);
    }
    expect((await create({ name: '只读', start: '2026-12-01', end: '2026-12-05' }, READ_TOKEN)).status).toBe(401);
    expect(await list()).toEqual(before);
  });

  it("deletes the API's own campaigns only", async () => {
    expect((await request(pulse.url, 'DELETE', '/api/v1/campaigns/double11-2026', { token: ADMIN_TOKEN })).status).toBe(409);
    expect((await request(pulse.url, 'DELETE', '/api/v1/campaigns/nope', { token: ADMIN_TOKEN })).status).toBe(404);
    const gone = (await list()).find((c) => c.source === 'api' && c.id !== 'member-day-1205')!;
    const del = await request(pulse.url, 'DELETE', `/api/v1/campaigns/${gone.id}`, { token: ADMIN_TOKEN });
    expect(del.status).toBe(200);
    expect((await list()).some((c) => c.id === gone.id)).toBe(false);
  });

  it('API campaigns survive a restart on the same data dir', async () => {
    await pulse.close();
    pulse = await startTestPulse({ dataDir });
    const api = (await list()).filter((c) => c.source === 'api');
    expect(api).toEqual([{ id: 'member-day-1205', name: '会员日', start: BJ('2026-12-05T10:00:00'), end: BJ('2026-12-06T00:00:00'), channels: ['wecom', 'miniprogram'], source: 'api' }]);
    expect((await list()).some((c) => c.id === 'double11-2026')).toBe(true);
  });
});
