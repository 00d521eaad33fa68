/**
 * A plain webhook receiver: checks X-Pulse-Signature (HMAC-SHA256 of `${timestamp}.${rawBody}`)
 * and X-Pulse-Timestamp, records accepted bodies, and can answer 429 / 500 / 400 / hang.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Notification } from '../../src/contract.js';
import { FaultQueue, HttpFake, type FakeAnswer, type FakeRequest } from './httpFake.js';

export type WebhookFault = 429 | 500 | 400 | 'hang';

export interface WebhookReceived {
  headers: Record<string, string | string[] | undefined>;
  body: { kind: string; title: string; text: string; notifications: Notification[] };
}

export class FakeWebhookReceiver {
  readonly messages: WebhookReceived[] = [];
  readonly answers: (number | string)[] = [];
  private readonly faults = new FaultQueue<WebhookFault>();
  private http!: HttpFake;

  private constructor(private readonly opts: { secret?: string; retryAfterSeconds?: number }) {}

  static async start(opts: { secret?: string; retryAfterSeconds?: number } = {}): Promise<FakeWebhookReceiver> {
    const r = new FakeWebhookReceiver(opts);
    r.http = await HttpFake.start((req) => {
      const answer = r.handle(req);
      r.answers.push(answer.hang ? 'hang' : (answer.status ?? 200));
      return answer;
    });
    return r;
  }

  get url(): string {
    return `${this.http.origin}/hooks/pulse`;
  }

  failNext(fault: WebhookFault, n = 1): void {
    this.faults.push(fault, n);
  }

  /** The endpoint recovers: forget scripted faults. */
  recover(): void {
    this.faults.clear();
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private handle(req: FakeRequest): FakeAnswer {
    if (req.method !== 'POST' || req.url.pathname !== '/hooks/pulse') return { status: 404, text: 'not found' };
    const fault = this.faults.take();
    if (fault === 'hang') return { hang: true };
    if (fault === 429) return { status: 429, headers: { 'retry-after': String(this.opts.retryAfterSeconds ?? 1) }, text: 'slow down' };
    if (fault === 500) return { status: 500, text: 'boom' };
    if (fault === 400) return { status: 400, text: 'bad request' };
    if (this.opts.secret && !this.verify(req, this.opts.secret)) return { status: 401, text: 'bad signature' };
    this.messages.push({ headers: req.headers, body: JSON.parse(req.raw.toString('utf8')) as WebhookReceived['body'] });
    return { status: 204 };
  }

  private verify(req: FakeRequest, secret: string): boolean {
    const ts = req.headers['x-pulse-timestamp'];
    const sig = req.headers['x-pulse-signature'];
    if (typeof ts !== 'string' || typeof sig !== 'string') return false;
    if (Math.abs(Date.now() - Number(ts)) > 5 * 60_000) return false;
    const mac = createHmac('sha256', secret).update(`${ts}.`).update(req.raw).digest('hex');
    const expected = Buffer.from(`sha256=${mac}`);
    const given = Buffer.from(sig);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
