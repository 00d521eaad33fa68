/**
 * A fake WeCom on 127.0.0.1 for the connector tests:
 * - callbacks: encrypts and signs exactly as WeCom does, with its own node:crypto code
 *   (explicit 32-byte PKCS#7), independent of the server's @wecom/crypto, so the two meet
 *   in the middle like the real parties do;
 * - server API: gettoken, externalcontact/get_follow_user_list, get_user_behavior_data and
 *   groupchat/statistic with the documented answers and errcodes (40001 bad secret,
 *   41001 no token, 40014 unknown token, 42001 expired token, 40058 bad parameter: more
 *   than 100 staff, a span over 30 days, a day older than 180 days or not yet complete).
 * Statistics are a deterministic function of (day, staff index), so tests know the totals.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const DAY = 86_400_000;
const CN_OFFSET = 8 * 3_600_000;
/** Start of the China day containing ts (WeCom's days). */
export const cnDayStart = (ts: number) => Math.floor((ts + CN_OFFSET) / DAY) * DAY - CN_OFFSET;
const dayIndex = (dayStartMs: number) => Math.round((dayStartMs + CN_OFFSET) / DAY);

// ---- WeCom's encryption, written out ---------------------------------------------------

export function wecomEncrypt(aesKey: string, receiveId: string, message: string, random = randomBytes(16)): string {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length, 0);
  const plain = Buffer.concat([random, len, msg, Buffer.from(receiveId, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

export function wecomDecrypt(aesKey: string, encrypted: string): { message: string; receiveId: string; pad: number } {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(Buffer.from(encrypted, 'base64')), decipher.final()]);
  const pad = padded[padded.length - 1]!;
  if (pad < 1 || pad > 32 || !padded.subarray(padded.length - pad).every((b) => b === pad)) throw new Error(`bad PKCS#7 padding ${pad}`);
  const plain = padded.subarray(0, padded.length - pad);
  const len = plain.readUInt32BE(16);
  return { message: plain.subarray(20, 20 + len).toString('utf8'), receiveId: plain.subarray(20 + len).toString('utf8'), pad };
}

export const wecomSign = (token: string, timestamp: string, nonce: string, encrypted: string) =>
  createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');

export interface CallbackParty {
  corpId: string;
  token: string;
  aesKey: string;
}

/** POSTs one callback the way WeCom does (envelope XML, signed query). */
export async function sendCallback(
  base: string,
  party: CallbackParty,
  innerXml: string,
  o: { timestamp?: number; nonce?: string; receiveId?: string; signature?: string; envelope?: (encrypted: string) => string } = {},
): Promise<{ status: number; text: string }> {
  const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = o.nonce ?? String(Math.floor(Math.random() * 1e9));
  const encrypted = wecomEncrypt(party.aesKey, o.receiveId ?? party.corpId, innerXml);
  const signature = o.signature ?? wecomSign(party.token, timestamp, nonce, encrypted);
  const body = o.envelope ? o.envelope(encrypted) : `<xml><ToUserName><![CDATA[${party.corpId}]]></ToUserName><AgentID><![CDATA[]]></AgentID><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
  const q = new URLSearchParams({ msg_signature: signature, timestamp, nonce });
  const res = await fetch(`${base}/api/v1/connectors/wecom/callback?${q}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
  return { status: res.status, text: await res.text() };
}

/** The plaintext XML of a 客户联系 event, as WeCom documents it. */
export function eventXml(fields: Record<string, string | number | string[]>): string {
  const parts = Object.entries({ ToUserName: 'corp', FromUserName: 'sys', MsgType: 'event', ...fields }).map(([k, v]) => {
    if (Array.isArray(v)) return `<${k}>${v.map((i) => `<Item><![CDATA[${i}]]></Item>`).join('')}</${k}>`;
    return typeof v === 'number' ? `<${k}>${v}</${k}>` : `<${k}><![CDATA[${v}]]></${k}>`;
  });
  return `<xml>${parts.join('')}</xml>`;
}

// ---- the statistics the fake serves -------------------------------------------------------

export interface Behavior {
  chat_cnt: number;
  message_cnt: number;
  negative_feedback_cnt: number;
  new_apply_cnt: number;
  new_contact_cnt: number;
}
export function behaviorOf(day: number, u: number, revision = 0): Behavior {
  const d = dayIndex(day);
  const chat = (d + u) % 7;
  return {
    chat_cnt: chat,
    message_cnt: chat * 3 + (u % 2),
    negative_feedback_cnt: (d + u) % 11 === 0 ? 1 : 0,
    new_apply_cnt: u % 3,
    new_contact_cnt: ((d * 7 + u) % 5) + revision,
  };
}
/** Same for every staff member of a day, so any weighting of the chunks gives it back. */
export const replyPercentageOf = (day: number) => 50 + (dayIndex(day) % 5) * 10.5;
export const avgReplyMinutesOf = (day: number) => 1 + (dayIndex(day) % 4);

export interface GroupStat {
  new_chat_cnt: number;
  chat_total: number;
  chat_has_msg: number;
  new_member_cnt: number;
  member_total: number;
  member_has_msg: number;
  msg_total: number;
  migrate_trainee_chat_cnt: number;
}
export function groupOf(day: number, u: number): GroupStat {
  const d = dayIndex(day);
  return {
    new_chat_cnt: (d + u) % 2,
    chat_total: 3 + (u % 4),
    chat_has_msg: (d + u) % 3,
    new_member_cnt: (d * 3 + u) % 6,
    member_total: 100 + u,
    member_has_msg: (d + u) % 20,
    msg_total: (d + u) % 50,
    migrate_trainee_chat_cnt: 0,
  };
}

export interface ApiCall {
  api: string;
  body: Record<string, unknown> | null;
  errcode: number;
}

export class FakeWeCom {
  readonly corpId = 'wwfake0123456789';
  readonly secret = 'fake-corp-secret-0123456789';
  readonly staff: string[];
  readonly calls: ApiCall[] = [];
  /** Group statistic pages hold at most this many owners (exercises next_offset). */
  pageSize = 40;
  /** Added to new_contact_cnt of this day (WeCom revising a day after the fact). */
  revisions = new Map<number, number>();
  /** Expire the current token after this many successful API calls (42001 mid-pull). */
  expireAfterCalls: number | null = null;
  /** Customer groups groupchat/get answers for (客户群详情): name and member count. */
  readonly chats = new Map<string, { name: string; members: number }>();
  private tokens = new Map<string, 'valid' | 'expired'>();
  private callsOnToken = 0;
  private server!: Server;
  url = '';

  constructor(staffCount: number) {
    this.staff = Array.from({ length: staffCount }, (_, i) => `staff${String(i).padStart(3, '0')}`);
  }

  get tokenFetches(): number {
    return this.calls.filter((c) => c.api === 'gettoken' && c.errcode === 0).length;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (answer) => {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(answer));
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage): Promise<Record<string, unknown>> {
    const url = new URL(req.url ?? '/', 'http://x');
    const api = url.pathname.replace(/^\/cgi-bin\//, '');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
    const answer = this.answer(api, url.searchParams, body);
    this.calls.push({ api, body, errcode: Number(answer.errcode) });
    return answer;
  }

  private answer(api: string, q: URLSearchParams, body: Record<string, unknown> | null): Record<string, unknown> {
    const err = (errcode: number, errmsg: string) => ({ errcode, errmsg });
    if (api === 'gettoken') {
      if (q.get('corpid') !== this.corpId) return err(40013, 'invalid corpid');
      if (q.get('corpsecret') !== this.secret) return err(40001, 'invalid credential');
      const token = randomBytes(24).toString('hex');
      this.tokens.set(token, 'valid');
      this.callsOnToken = 0;
      return { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 };
    }
    const token = q.get('access_token');
    if (!token) return err(41001, 'access_token missing');
    const state = this.tokens.get(token);
    if (!state) return err(40014, 'invalid access_token');
    if (state === 'expired') return err(42001, 'access_token expired');
    if (this.expireAfterCalls !== null && this.callsOnToken >= this.expireAfterCalls) {
      this.tokens.set(token, 'expired');
      this.expireAfterCalls = null;
      return err(42001, 'access_token expired');
    }
    this.callsOnToken++;
    const now = Date.now();
    const today = cnDayStart(now);
    const tooOld = (ms: number) => ms < now - 180 * DAY;
    switch (api) {
      case 'externalcontact/get_follow_user_list':
        return { errcode: 0, errmsg: 'ok', follow_user: this.staff };
      case 'externalcontact/get_user_behavior_data': {
        const users = body?.userid;
        const start = Number(body?.start_time) * 1000;
        const end = Number(body?.end_time) * 1000;
        if (!Array.isArray(users) || users.length === 0 || users.length > 100) return err(40058, 'userid: 1 to 100 staff');
        if (!(start <= end) || (cnDayStart(end) - cnDayStart(start)) / DAY + 1 > 30) return err(40058, 'the span is at most 30 days');
        if (tooOld(start)) return err(40058, 'start_time is older than 180 days');
        const behavior_data = [];
        for (let day = cnDayStart(start); day <= cnDayStart(end) && day < today; day += DAY) {
          const sum: Record<string, number> = { stat_time: day / 1000, chat_cnt: 0, message_cnt: 0, negative_feedback_cnt: 0, new_apply_cnt: 0, new_contact_cnt: 0 };
          for (const u of users) {
            const b = behaviorOf(day, this.staff.indexOf(String(u)), this.revisions.get(day) ?? 0);
            for (const [k, v] of Object.entries(b)) sum[k]! += v;
          }
          // Documented: only present when there were chats / replies.
          if (sum.chat_cnt! > 0) {
            sum.reply_percentage = replyPercentageOf(day);
            sum.avg_reply_time = avgReplyMinutesOf(day);
          }
          behavior_data.push(sum);
        }
        return { errcode: 0, errmsg: 'ok', behavior_data };
      }
      case 'externalcontact/groupchat/statistic': {
        const day = Number(body?.day_begin_time) * 1000;
        const owners = (body?.owner_filter as { userid_list?: unknown } | undefined)?.userid_list;
        const offset = Number(body?.offset ?? 0);
        const limit = Math.min(Number(body?.limit ?? 500), 1000);
        if (!Array.isArray(owners) || owners.length === 0 || owners.length > 100) return err(40058, 'owner_filter.userid_list: 1 to 100 staff');
        if (body?.day_end_time !== undefined) return err(40058, 'this fake serves one day a call');
        if (tooOld(day) || cnDayStart(day) >= today) return err(40058, 'day_begin_time: yesterday to 180 days ago');
        const all = owners.map((o) => ({ owner: String(o), data: groupOf(cnDayStart(day), this.staff.indexOf(String(o))) }));
        const items = all.slice(offset, offset + Math.min(limit, this.pageSize));
        return { errcode: 0, errmsg: 'ok', total: all.length, next_offset: offset + items.length, items };
      }
      case 'externalcontact/groupchat/get': {
        const id = String(body?.chat_id ?? '');
        const chat = this.chats.get(id);
        // The fake's one code for a bad parameter (an unknown or non-customer chat).
        if (!chat) return err(40058, `chat_id ${id} is not a customer group`);
        const member_list = Array.from({ length: chat.members }, (_, i) => ({ userid: `wm${id}${i}`, type: 2, join_time: 1_700_000_000 + i, join_scene: 3 }));
        return { errcode: 0, errmsg: 'ok', group_chat: { chat_id: id, name: chat.name, owner: this.staff[0], create_time: 1_700_000_000, notice: '', member_list, admin_list: [], member_version: 'v1' } };
      }
      default:
        return err(40058, `unknown api ${api}`);
    }
  }
}
