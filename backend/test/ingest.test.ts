/**
 * Bad input at POST /api/v1/events, each answered as the contract says, and the good
 * events of the same batch still counted (checked through the store afterwards).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, floorTo } from '../src/time/zone.js';
import { INGEST_KEY, startTestPulse, type TestPulse } from './harness/pulse.js';

type Answer = { accepted: number; duplicates: number; rejected: { index: number; error: string }[] };

describe('ingest contract: bad input', () => {
  let pulse: TestPulse;
  const channel = `bad-input-${Date.now()}`;
  let goodSent = 0;

  beforeAll(async () => {
    pulse = await startTestPulse({ env: { PULSE_INGEST_RATE: '100000', PULSE_INGEST_BURST: '200000' } });
  });
  afterAll(() => pulse?.stopAndClean());

  const good = () => {
    goodSent++;
    return { type: 'message', channel };
  };

  it('malformed JSON is 400 with the parser message, and nothing is counted', async () => {
    const r = await pulse.post('[{"type":"message","channel":"x"},');
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toMatch(/not valid JSON/);
    const notArray = await pulse.post('{"events": []', { contentType: 'application/json' });
    expect(notArray.status).toBe(400);
    const empty = await pulse.post('');
    expect(empty.status).toBe(400);
  });

  it('wrong types, unknown event types and unknown fields are rejected per event with the field named', async () => {
    const batch = [
      good(),
      { type: 'message', channel: 42 },
      { type: 'push.teleport', channel },
      { type: 'order.paid', channel, amount: 12.5 },
      { type: 'order.paid', channel },
      { type: 'message', channel, ammount: 3 },
      { type: 'message', channel, ts: 'yesterday' },
      { type: 'message', channel: 'ends with backslash\\' },
      'not an object',
      null,
      good(),
    ];
    const r = await pulse.post(JSON.stringify(batch));
    expect(r.status).toBe(202);
    const a = r.json as Answer;
    expect(a.accepted).toBe(2);
    const reasons = Object.fromEntries(a.rejected.map((x) => [x.index, x.error]));
    expect(Object.keys(reasons).map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(reasons[1]).toMatch(/^channel: /);
    expect(reasons[2]).toMatch(/^type: must be one of: member\.join/);
    expect(reasons[3]).toMatch(/^amount: must be an integer number of fen/);
    expect(reasons[4]).toMatch(/^amount: required on order\.paid/);
    expect(reasons[5]).toMatch(/unknown field 'ammount'/);
    expect(reasons[6]).toMatch(/^ts: must be epoch milliseconds or an ISO 8601/);
    expect(reasons[7]).toMatch(/^channel: a backslash may not end the value/);
    expect(reasons[8]).toMatch(/must be a JSON object/);
    expect(reasons[9]).toMatch(/must be a JSON object/);
  });

  it('NDJSON with one bad line rejects that line only', async () => {
    const lines = [JSON.stringify(good()), '{"type":"message",', '', JSON.stringify(good()), JSON.stringify(good())];
    const r = await pulse.post(lines.join('\n'), { contentType: 'application/x-ndjson' });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ accepted: 3, duplicates: 0, rejected: [{ index: 1, error: expect.stringMatching(/^line 2: not valid JSON/) }] });
  });

  it('an oversized body is 413, and so is a batch of more than 10,000 events', async () => {
    const huge = JSON.stringify(Array.from({ length: 9_000 }, () => ({ type: 'message', channel, source: '长'.repeat(128), community: '群'.repeat(128) })));
    expect(Buffer.byteLength(huge)).toBeGreaterThan(5 * 1024 * 1024);
    const r = await pulse.post(huge);
    expect(r.status).toBe(413);
    expect((r.json as { error: string }).error).toMatch(/5 MB/);
    const many = JSON.stringify(Array.from({ length: 10_001 }, () => ({ type: 'message', channel })));
    const r2 = await pulse.post(many);
    expect(r2.status).toBe(413);
    expect((r2.json as { error: string }).error).toMatch(/10001 events; the limit is 10000/);
  });

  it('a missing or wrong ingest key is 401; a read token is not an ingest key', async () => {
    expect((await pulse.post(JSON.stringify([good()]), { key: null })).status).toBe(401);
    goodSent--;
    expect((await pulse.post(JSON.stringify([good()]), { key: 'wrong-key-0123456789' })).status).toBe(401);
    goodSent--;
    expect((await pulse.post(JSON.stringify([good()]), { key: pulse.config.readToken })).status).toBe(401);
    goodSent--;
  });

  it('every good event of those batches was counted, and none of the bad ones', async () => {
    await pulse.flushToStore();
    const to = floorTo(Date.now(), HOUR) + HOUR;
    const r = await pulse.get(`/api/v1/series?kpi=messages&from=${to - HOUR}&to=${to}&step=1h&channel=${encodeURIComponent(channel)}`);
    expect(r.status).toBe(200);
    const points = (r.json as { series: { points: [number, number][] }[] }).series[0]!.points;
    expect(points).toEqual([[to - HOUR, goodSent]]);
  });
});

describe('ingest contract: rate limit', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse({ env: { PULSE_INGEST_RATE: '10', PULSE_INGEST_BURST: '20' } });
  });
  afterAll(() => pulse?.stopAndClean());

  it('answers 429 with Retry-After when a key goes over its event rate', async () => {
    const batch = JSON.stringify(Array.from({ length: 15 }, () => ({ type: 'message', channel: 'wecom' })));
    expect((await pulse.post(batch)).status).toBe(202);
    const r = await pulse.post(batch);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((r.json as { error: string }).error).toMatch(/over this ingest key's rate/);
    expect(INGEST_KEY).toBeTruthy();
  });
});
