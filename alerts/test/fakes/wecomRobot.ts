/**
 * A fake WeCom group robot (qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…): key check,
 * markdown content ≤ 4096 bytes, text content ≤ 2048 bytes, 20 a minute (45009).
 */
import { FaultQueue, HttpFake, RateWindow, type FakeAnswer, type FakeRequest } from './httpFake.js';

export type WeComFault = 45009 | -1 | 500 | 'hang';

export interface WeComReceived {
  receivedAt: number;
  body: {
    msgtype: string;
    markdown?: { content: string };
    text?: { content: string; mentioned_mobile_list?: string[] };
  };
}

const ok = (errcode: number, errmsg: string): FakeAnswer => ({ json: { errcode, errmsg } });

export class FakeWeComRobot {
  readonly messages: WeComReceived[] = [];
  readonly answers: (number | string)[] = [];
  private readonly faults = new FaultQueue<WeComFault>();
  private readonly rate: RateWindow;
  private readonly now: () => number;
  private http!: HttpFake;

  private constructor(private readonly opts: { key?: string; perMinute?: number; now?: () => number }) {
    this.now = opts.now ?? Date.now;
    this.rate = new RateWindow(opts.perMinute ?? 20, 60_000, this.now);
  }

  static async start(opts: { key?: string; perMinute?: number; now?: () => number } = {}): Promise<FakeWeComRobot> {
    const robot = new FakeWeComRobot(opts);
    robot.http = await HttpFake.start((req) => {
      const answer = robot.handle(req);
      robot.answers.push(answer.hang ? 'hang' : ((answer.json as { errcode?: number } | undefined)?.errcode ?? `http_${answer.status}`));
      return answer;
    });
    return robot;
  }

  get key(): string {
    return this.opts.key ?? 'fake-key';
  }

  get webhook(): string {
    return `${this.http.origin}/cgi-bin/webhook/send?key=${this.key}`;
  }

  failNext(fault: WeComFault, n = 1): void {
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
    if (req.method !== 'POST' || req.url.pathname !== '/cgi-bin/webhook/send') return { status: 404, text: 'Not Found' };
    if (req.url.searchParams.get('key') !== this.key) return ok(93000, 'invalid webhook url, hint: [1700000000_1_abc]');
    const fault = this.faults.take();
    if (fault === 'hang') return { hang: true };
    if (fault === 500) return { status: 500, text: 'Internal Server Error' };
    if (fault === 45009) return ok(45009, 'api freq out of limit');
    if (fault === -1) return ok(-1, 'system busy');
    let body: WeComReceived['body'];
    try {
      body = JSON.parse(req.raw.toString('utf8')) as WeComReceived['body'];
    } catch {
      return ok(40000, 'invalid json');
    }
    if (body.msgtype === 'markdown') {
      const content = body.markdown?.content ?? '';
      if (Buffer.byteLength(content, 'utf8') > 4096) return ok(40058, 'markdown.content exceed max length 4096');
    } else if (body.msgtype === 'text') {
      if (Buffer.byteLength(body.text?.content ?? '', 'utf8') > 2048) return ok(40058, 'text.content exceed max length 2048');
    } else {
      return ok(40008, 'invalid message type');
    }
    if (!this.rate.allow()) return ok(45009, 'api freq out of limit');
    this.messages.push({ receivedAt: this.now(), body });
    return ok(0, 'ok');
  }
}
