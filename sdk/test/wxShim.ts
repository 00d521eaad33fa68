/**
 * A stand-in for the parts of WeChat's `wx` API the SDK uses, with the documented shapes, over
 * real HTTP to the real server:
 * - wx.request({url, method, data, header, dataType, success, fail, complete}) → success
 *   gets {statusCode, data (parsed when dataType is json), header, cookies}; fail gets
 *   {errMsg: 'request:fail …', errno}; complete gets either. A 4xx / 5xx is a success with
 *   its statusCode (WeChat fails only when no answer came). Every request carries the Referer
 *   WeChat sets and a mini-program cannot change: https://servicewechat.com/{appid}/{version}/page-frame.html.
 * - wx.setStorage({key, data, success, fail, complete}) stores asynchronously, as JSON (only
 *   JSON-able data survives), ≤ 1 MB a key; wx.getStorageSync(key) answers '' for a missing key.
 * - wx.getNetworkType({success}) → {networkType: wifi | 4g | … | none};
 *   wx.onNetworkStatusChange(cb) → cb({isConnected, networkType}); wx.onAppHide(cb).
 * While the network type is `none`, wx.request fails without reaching the server.
 */
import { request as httpRequest } from 'node:http';

type Callbacks<S, F = { errMsg: string; errno?: number }> = { success?(res: S): void; fail?(err: F): void; complete?(res: S | F): void };

export interface RequestOptions extends Callbacks<{ statusCode: number; data: unknown; header: Record<string, string>; cookies: string[] }> {
  url: string;
  method?: string;
  data?: string | object;
  header?: Record<string, string>;
  dataType?: string;
  timeout?: number;
}

export interface ShimRequest {
  url: string;
  at: number;
  headers: Record<string, string>;
  body: string;
  /** Set when an answer came (and was delivered, unless lost). */
  status?: number;
  response?: unknown;
  retryAfter?: string;
  /** fail's errMsg when the app saw a failure. */
  errMsg?: string;
}

export interface WxShim {
  wx: Record<string, unknown>;
  requests: ShimRequest[];
  /** Shared between "launches" of the same mini-program. */
  storage: Map<string, string>;
  setNetwork(type: string): void;
  hideApp(): void;
  /** The next n requests reach the server, but the app gets `request:fail timeout` instead of the answer. */
  loseResponses(n: number): void;
  /** setStorage calls not yet completed. */
  pendingWrites(): number;
}

const ITEM_MAX = 1024 * 1024;

export function createWxShim(opts: { appId: string; version?: string; networkType?: string; storage?: Map<string, string> }): WxShim {
  let networkType = opts.networkType ?? 'wifi';
  let lose = 0;
  let writes = 0;
  const storage = opts.storage ?? new Map<string, string>();
  const netListeners: ((r: { isConnected: boolean; networkType: string }) => void)[] = [];
  const hideListeners: (() => void)[] = [];
  const requests: ShimRequest[] = [];
  const later = (f: () => void) => setTimeout(f, 0);

  const wx = {
    request(o: RequestOptions) {
      if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) throw new TypeError('wx.request: url must be an http(s) URL');
      const method = (o.method ?? 'GET').toUpperCase();
      const header: Record<string, string> = { 'content-type': 'application/json', ...o.header };
      const ct = Object.entries(header).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
      const body = o.data === undefined ? '' : typeof o.data === 'string' ? o.data : ct.includes('json') ? JSON.stringify(o.data) : new URLSearchParams(o.data as Record<string, string>).toString();
      const rec: ShimRequest = { url: o.url, at: Date.now(), headers: { ...header, referer: `https://servicewechat.com/${opts.appId}/${opts.version ?? '0'}/page-frame.html` }, body };
      requests.push(rec);
      const fail = (errMsg: string) => {
        rec.errMsg = errMsg;
        const err = { errMsg, errno: 600001 };
        o.fail?.(err);
        o.complete?.(err);
      };
      if (networkType === 'none') {
        later(() => fail('request:fail net::ERR_INTERNET_DISCONNECTED'));
        return { abort() {} };
      }
      const losing = lose > 0;
      if (losing) lose--;
      const req = httpRequest(o.url, { method, headers: { ...rec.headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headerOut: Record<string, string> = {};
          // WeChat hands headers over as the server spelled them.
          for (let i = 0; i < res.rawHeaders.length; i += 2) headerOut[res.rawHeaders[i]!] = res.rawHeaders[i + 1]!;
          let data: unknown = text;
          if ((o.dataType ?? 'json') === 'json') {
            try {
              data = JSON.parse(text);
            } catch {
              /* WeChat leaves unparsable text as a string */
            }
          }
          rec.status = res.statusCode ?? 0;
          rec.response = data;
          rec.retryAfter = res.headers['retry-after'];
          if (losing) return fail('request:fail timeout');
          const ok = { statusCode: res.statusCode ?? 0, data, header: headerOut, cookies: [] as string[] };
          o.success?.(ok);
          o.complete?.(ok);
        });
      });
      req.on('error', (e) => fail(`request:fail ${e.message}`));
      req.end(body);
      return { abort: () => req.destroy() };
    },
    setStorage(o: { key: string; data: unknown } & Callbacks<{ errMsg: string }>) {
      writes++;
      later(() => {
        writes--;
        const text = JSON.stringify(o.data);
        if (text === undefined || text.length > ITEM_MAX) {
          const err = { errMsg: 'setStorage:fail exceed storage item max length' };
          o.fail?.(err);
          o.complete?.(err);
          return;
        }
        storage.set(o.key, text);
        const ok = { errMsg: 'setStorage:ok' };
        o.success?.(ok);
        o.complete?.(ok);
      });
    },
    getStorageSync(key: string): unknown {
      const v = storage.get(key);
      return v === undefined ? '' : (JSON.parse(v) as unknown);
    },
    getNetworkType(o: Callbacks<{ networkType: string; errMsg: string }>) {
      later(() => {
        const res = { networkType, errMsg: 'getNetworkType:ok' };
        o.success?.(res);
        o.complete?.(res);
      });
    },
    onNetworkStatusChange(cb: (r: { isConnected: boolean; networkType: string }) => void) {
      netListeners.push(cb);
    },
    onAppHide(cb: () => void) {
      hideListeners.push(cb);
    },
  };

  return {
    wx,
    requests,
    storage,
    setNetwork(type) {
      networkType = type;
      for (const cb of netListeners) cb({ isConnected: type !== 'none', networkType: type });
    },
    hideApp() {
      for (const cb of hideListeners) cb();
    },
    loseResponses(n) {
      lose = n;
    },
    pendingWrites: () => writes,
  };
}
