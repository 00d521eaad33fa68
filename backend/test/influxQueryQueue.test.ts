/**
 * The InfluxDB client sends at most `maxQueries` queries at once (the weekly report's ~60
 * whole-week queries all at once ran past their timeout on influxd with 20,000 group series):
 * the rest wait their turn, in order, and a waiting query's timeout has not started. Against
 * a loopback stand-in that answers /query after a pause and counts what is in flight.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxClient } from '../src/store/influx/client.js';

describe('InfluxDB client query queue', () => {
  let server: Server;
  let url = '';
  let inFlight = 0;
  let most = 0;
  const order: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      order.push(new URL(req.url ?? '', 'http://x').searchParams.get('q') ?? '');
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ results: [{ statement_id: 0 }] }));
      }, 300);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends at most maxQueries at once, in call order, and each one times out only after it was sent', async () => {
    // 30 queries of 300 ms each, 3 at a time: the last waits ~2.7 s, longer than its 2 s
    // timeout — it still answers, because its timeout starts when it is sent.
    const client = new InfluxClient({ url, db: 'x', maxQueries: 3, timeoutMs: 2_000 });
    const names = Array.from({ length: 30 }, (_, i) => `SELECT ${i}`);
    const answers = await Promise.all(names.map((q) => client.query(q)));
    expect(answers).toEqual(names.map(() => []));
    expect(most).toBe(3);
    expect(order).toEqual(names);
  });
});
