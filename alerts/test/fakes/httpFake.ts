/**
 * Shared plumbing for the fake endpoints: a real node:http server on 127.0.0.1 (free port),
 * raw body reading, scripted faults, and a close() that also drops hung connections.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
}

export interface FakeAnswer {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  text?: string;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

export class HttpFake {
  private constructor(
    private readonly server: http.Server,
    readonly origin: string,
  ) {}

  static async start(handle: (req: FakeRequest) => FakeAnswer): Promise<HttpFake> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = handle({
          method: req.method ?? 'GET',
          url: new URL(req.url ?? '/', 'http://127.0.0.1'),
          headers: req.headers,
          raw: Buffer.concat(chunks),
        });
        if (answer.hang) return;
        const body = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.text ?? '');
        res.writeHead(answer.status ?? 200, {
          'content-type': answer.json !== undefined ? 'application/json;charset=UTF-8' : 'text/plain;charset=UTF-8',
          ...answer.headers,
        });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new HttpFake(server, `http://127.0.0.1:${port}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Faults to answer the next N requests with, in order. */
export class FaultQueue<M> {
  private readonly queue: M[] = [];

  push(mode: M, n: number): void {
    for (let i = 0; i < n; i++) this.queue.push(mode);
  }

  take(): M | undefined {
    return this.queue.shift();
  }

  clear(): void {
    this.queue.length = 0;
  }

  get size(): number {
    return this.queue.length;
  }
}

/** The endpoint's own 20-a-minute counter (sliding; the real window's shape is undocumented). */
export class RateWindow {
  private readonly hits: number[] = [];
  private blockedUntil = 0;

  constructor(
    private readonly perMinute: number,
    private readonly blockMs: number,
    private readonly now: () => number,
  ) {}

  /** False when this request is over the limit (and starts a block when it is the one that tipped it). */
  allow(): boolean {
    const t = this.now();
    if (t < this.blockedUntil) return false;
    while (this.hits.length && (this.hits[0] ?? Infinity) <= t - 60_000) this.hits.shift();
    if (this.hits.length >= this.perMinute) {
      this.blockedUntil = t + this.blockMs;
      return false;
    }
    this.hits.push(t);
    return true;
  }
}
