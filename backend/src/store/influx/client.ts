/**
 * Minimal client for the InfluxDB v1 HTTP API, the one surface served by 1.x, 2.x (v1
 * compatibility API) and 3 Core: `POST /write` (line protocol) and `GET /query` (InfluxQL).
 * GET is the only query method all three document; DDL (`CREATE DATABASE`) needs POST on
 * 1.x, hence `command()`.
 */
import { StoreError } from '../port.js';

export interface InfluxClientOptions {
  url: string;
  db: string;
  /** 2.x / 3.x: `Authorization: Token <token>`. */
  token?: string;
  /** 1.x (and 2.x v1-auth users): HTTP Basic. 1.6/1.7 know no Token scheme. */
  user?: string;
  password?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /**
   * Queries in flight at once (default 4); the rest wait their turn, and a request's timeout
   * starts when it is sent. The weekly report starts ~60 whole-week queries together: with
   * 20,000 group series each, all at once they ran past the 120 s timeout on 2 cores and took
   * influxd to 8.4 GiB (bench:communities).
   */
  maxQueries?: number;
}

export type InfluxValue = string | number | boolean | null;

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: InfluxValue[][];
}

interface V1Result {
  statement_id?: number;
  series?: InfluxSeries[];
  error?: string;
  partial?: boolean;
}

interface V1Response {
  results?: V1Result[];
  error?: string;
}

export class InfluxClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly maxQueries: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly opts: InfluxClientOptions) {
    this.maxQueries = Math.max(1, opts.maxQueries ?? 4);
    this.base = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.headers = {};
    if (opts.token) this.headers.Authorization = `Token ${opts.token}`;
    else if (opts.user !== undefined || opts.password !== undefined) {
      const basic = Buffer.from(`${opts.user ?? ''}:${opts.password ?? ''}`, 'utf8').toString('base64');
      this.headers.Authorization = `Basic ${basic}`;
    }
  }

  get db(): string {
    return this.opts.db;
  }

  /** Writes line-protocol lines (caller chunks). 204 on 1.x/2.x, 201/200 on 3.x. */
  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const params = new URLSearchParams({ db: this.opts.db, precision: 'ms' });
    const res = await this.request('write', `/write?${params}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      body: lines.join('\n'),
    });
    if (res.status === 204 || res.status === 201 || res.status === 200) {
      await res.body?.cancel();
      return;
    }
    throw await httpError('write', res);
  }

  /** One read-only InfluxQL statement via GET; returns its series (empty when no data). */
  async query(q: string): Promise<InfluxSeries[]> {
    // A finished query hands its slot straight to the next in line (FIFO).
    if (this.running >= this.maxQueries) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await this.queryNow(q);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  private async queryNow(q: string): Promise<InfluxSeries[]> {
    const params = new URLSearchParams({ db: this.opts.db, epoch: 'ms', q });
    const res = await this.request('query', `/query?${params}`, { method: 'GET' });
    try {
      return await firstResult('query', res);
    } catch (err) {
      if (!(err instanceof TruncatedError)) throw err;
    }
    // 1.x answers at most 10,000 rows per series list without chunking (20,000 社群 split one
    // way is 20,000 rows): ask again in chunks and join them. Only on truncation, so every
    // other answer keeps the plain path that all versions serve.
    params.set('chunked', 'true');
    params.set('chunk_size', '10000');
    const chunked = await this.request('query', `/query?${params}`, { method: 'GET' });
    return chunkedResult('query', chunked);
  }

  /** A statement that needs POST on 1.x (DDL such as CREATE DATABASE). */
  async command(q: string): Promise<InfluxSeries[]> {
    const res = await this.request('command', '/query', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ db: this.opts.db, q }).toString(),
    });
    return firstResult('command', res);
  }

  /** `GET /ping`: the server is up (needs no auth on any version). Returns the version header. */
  async ping(): Promise<string | null> {
    const res = await this.request('ping', '/ping', { method: 'GET' });
    await res.body?.cancel();
    if (res.status !== 204 && res.status !== 200) throw await httpError('ping', res);
    return res.headers.get('x-influxdb-version');
  }

  private async request(what: string, path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, {
        ...init,
        headers: { ...this.headers, ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // Network errors and timeouts: the server may be back later.
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const detail =
        e.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new StoreError(`InfluxDB ${what} at ${this.base} failed: ${detail}`, true);
    }
  }
}

/** 429 and 5xx are retryable; other 4xx (partial write, auth, missing db) are not. */
async function httpError(what: string, res: Response): Promise<StoreError> {
  let text = '';
  try {
    text = (await res.text()).slice(0, 500);
  } catch {
    // body unreadable: the status says enough
  }
  let message = text;
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
    else if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON
  }
  const retryable = res.status === 429 || res.status >= 500;
  return new StoreError(`InfluxDB ${what} failed: HTTP ${res.status}${message ? `: ${message.trim()}` : ''}`, retryable);
}

async function firstResult(what: string, res: Response): Promise<InfluxSeries[]> {
  if (res.status !== 200) throw await httpError(what, res);
  let body: V1Response;
  try {
    body = (await res.json()) as V1Response;
  } catch (err) {
    throw new StoreError(`InfluxDB ${what}: response is not JSON (${(err as Error).message})`, true);
  }
  if (typeof body.error === 'string') throw new StoreError(`InfluxDB ${what} failed: ${body.error}`, false);
  const result = body.results?.[0];
  if (!result) return [];
  if (typeof result.error === 'string') throw new StoreError(`InfluxDB ${what} failed: ${result.error}`, false);
  // max-row-limit truncated the answer: refuse rather than show silently wrong KPIs.
  if (result.partial || result.series?.some((s) => (s as { partial?: boolean }).partial)) {
    throw new TruncatedError(`InfluxDB ${what}: result truncated by the server (max-row-limit); narrow the query`);
  }
  return result.series ?? [];
}

class TruncatedError extends StoreError {
  constructor(message: string) {
    super(message, false);
  }
}

/**
 * A chunked answer: one JSON document per line, each holding part of the statement's series;
 * a series cut between chunks comes back as consecutive pieces with the same name and tags,
 * which are joined here.
 */
async function chunkedResult(what: string, res: Response): Promise<InfluxSeries[]> {
  if (res.status !== 200) throw await httpError(what, res);
  const out: InfluxSeries[] = [];
  let lastKey = '';
  for (const line of (await res.text()).split('\n')) {
    if (line.trim() === '') continue;
    let body: V1Response;
    try {
      body = JSON.parse(line) as V1Response;
    } catch (err) {
      throw new StoreError(`InfluxDB ${what}: chunk is not JSON (${(err as Error).message})`, true);
    }
    if (typeof body.error === 'string') throw new StoreError(`InfluxDB ${what} failed: ${body.error}`, false);
    for (const result of body.results ?? []) {
      if (typeof result.error === 'string') throw new StoreError(`InfluxDB ${what} failed: ${result.error}`, false);
      for (const s of result.series ?? []) {
        const key = JSON.stringify([s.name, s.tags ?? null]);
        const prev = out[out.length - 1];
        if (prev && key === lastKey) prev.values.push(...s.values);
        else out.push({ ...s, values: [...s.values] });
        lastKey = key;
      }
    }
  }
  return out;
}
