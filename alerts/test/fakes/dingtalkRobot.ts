/**
 * A fake DingTalk custom robot that behaves like oapi.dingtalk.com/robot/send: POST + JSON,
 * access_token, 加签 (timestamp within 1 h, sign exactly as documented), keyword, the
 * 20,000-byte body limit, 20 messages a minute then a throttle window, all answered with
 * HTTP 200 and an errcode. Faults can be scripted for the next N requests.
 */
import { createHmac } from 'node:crypto';
import { FaultQueue, HttpFake, RateWindow, type FakeAnswer, type FakeRequest } from './httpFake.js';

export type DingTalkFault = 310000 | 130101 | -1 | 500 | 302 | 'hang';

export interface FakeDingTalkOptions {
  accessToken?: string;
  secret?: string;
  keyword?: string;
  perMinute?: number;
  /** How long the robot is blocked after going over the limit (DingTalk: 10 minutes). */
  throttleMs?: number;
  now?: () => number;
}

export interface DingTalkReceived {
  receivedAt: number;
  bytes: number;
  body: {
    msgtype: string;
    markdown?: { title: string; text: string };
    text?: { content: string };
    at?: { atMobiles?: string[]; atUserIds?: string[]; isAtAll?: boolean };
  };
}

const ok = (errcode: number, errmsg: string): FakeAnswer => ({ json: { errcode, errmsg } });

export class FakeDingTalkRobot {
  /** Every accepted message, parsed. */
  readonly messages: DingTalkReceived[] = [];
  /** Every answer given (errcode, or the HTTP status / 'hang' for faults). */
  readonly answers: (number | string)[] = [];
  private readonly faults = new FaultQueue<DingTalkFault>();
  private readonly rate: RateWindow;
  private readonly now: () => number;
  private http!: HttpFake;

  private constructor(private readonly opts: FakeDingTalkOptions) {
    this.now = opts.now ?? Date.now;
    this.rate = new RateWindow(opts.perMinute ?? 20, opts.throttleMs ?? 600_000, this.now);
  }

  static async start(opts: FakeDingTalkOptions = {}): Promise<FakeDingTalkRobot> {
    const robot = new FakeDingTalkRobot(opts);
    robot.http = await HttpFake.start((req) => {
      const answer = robot.handle(req);
      robot.answers.push(answer.hang ? 'hang' : ((answer.json as { errcode?: number } | undefined)?.errcode ?? `http_${answer.status}`));
      return answer;
    });
    return robot;
  }

  get accessToken(): string {
    return this.opts.accessToken ?? 'fake-token';
  }

  /** The webhook URL to configure, as DingTalk shows it. */
  get webhook(): string {
    return `${this.http.origin}/robot/send?access_token=${this.accessToken}`;
  }

  failNext(fault: DingTalkFault, n = 1): void {
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
    if (req.method !== 'POST' || req.url.pathname !== '/robot/send') return { status: 404, text: 'Not Found' };
    if (req.url.searchParams.get('access_token') !== this.accessToken) return ok(300005, 'token is not exist');
    const fault = this.faults.take();
    if (fault === 'hang') return { hang: true };
    if (fault === 500) return { status: 500, text: 'Internal Server Error' };
    if (fault === 302) return { status: 302, headers: { location: 'https://www.dingtalk.com/' } };
    if (fault === 310000) return ok(310000, 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]');
    if (fault === 130101) return ok(130101, 'send too fast, exceed 20 times per minute');
    if (fault === -1) return ok(-1, '系统繁忙');

    if (!String(req.headers['content-type'] ?? '').includes('application/json')) return ok(40035, '缺少参数 json');
    if (req.raw.length > 20_000) return ok(460101, 'message too long, exceed 20000 bytes');
    const security = this.checkSign(req.url.searchParams);
    if (security) return security;
    let body: DingTalkReceived['body'];
    try {
      body = JSON.parse(req.raw.toString('utf8')) as DingTalkReceived['body'];
    } catch {
      return ok(40035, '缺少参数 json');
    }
    const content = body.msgtype === 'markdown' ? body.markdown?.text : body.msgtype === 'text' ? body.text?.content : undefined;
    if (typeof content !== 'string') return ok(400105, '不支持的消息类型');
    if (this.opts.keyword && !content.includes(this.opts.keyword)) {
      return ok(310000, 'keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]');
    }
    if (!this.rate.allow()) return ok(130101, 'send too fast, exceed 20 times per minute');
    this.messages.push({ receivedAt: this.now(), bytes: req.raw.length, body });
    return ok(0, 'ok');
  }

  private checkSign(params: URLSearchParams): FakeAnswer | null {
    const secret = this.opts.secret;
    if (!secret) return null;
    const timestamp = params.get('timestamp');
    const sign = params.get('sign'); // URLSearchParams decodes %2B etc. (and '+' as space)
    if (!timestamp || !sign) return ok(310000, 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]');
    const ts = Number(timestamp);
    if (!Number.isFinite(ts) || Math.abs(this.now() - ts) > 3600_000) {
      return ok(310000, 'invalid timestamp, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]');
    }
    const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
    if (sign !== expected) return ok(310000, 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]');
    return null;
  }
}
