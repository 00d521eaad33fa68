/**
 * WeCom server API client: access_token from gettoken (valid expires_in = 7,200 s; kept
 * until 5 minutes before that), renewed and the call retried once when WeCom answers
 * 40014 (invalid token) or 42001 (token expired). WeCom answers errors with HTTP 200 and
 * a non-zero errcode, so success is errcode 0. The base URL is configurable (tests point it
 * at a fake WeCom on 127.0.0.1).
 */
export const TOKEN_ERRCODES = new Set([40014, 42001]);
const EARLY_RENEW_MS = 300_000;
const TIMEOUT_MS = 15_000;

export class WeComApiError extends Error {
  constructor(
    readonly api: string,
    readonly errcode: number,
    errmsg: string,
  ) {
    super(`WeCom ${api} answered errcode ${errcode}: ${errmsg}`);
    this.name = 'WeComApiError';
  }
}

export interface WeComApiOptions {
  baseUrl: string;
  corpId: string;
  secret: string;
  now?: () => number;
}

type Answer = { errcode?: number; errmsg?: string } & Record<string, unknown>;

export class WeComApi {
  private token: { value: string; renewAt: number } | null = null;
  private readonly now: () => number;
  /** gettoken calls made (exposed for tests and logs). */
  tokenFetches = 0;

  constructor(private readonly o: WeComApiOptions) {
    this.now = o.now ?? Date.now;
  }

  /** POST (or GET without a body) `/cgi-bin/<api>`; resolves with the answer when errcode is 0. */
  async call<T extends Answer>(api: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      const answer = await this.fetchJson(api, `/cgi-bin/${api}?access_token=${encodeURIComponent(token)}`, body);
      const code = answer.errcode ?? 0;
      if (code === 0) return answer as T;
      if (TOKEN_ERRCODES.has(code) && attempt === 0) {
        this.token = null;
        continue;
      }
      throw new WeComApiError(api, code, String(answer.errmsg ?? ''));
    }
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.now() < this.token.renewAt) return this.token.value;
    this.tokenFetches++;
    const q = new URLSearchParams({ corpid: this.o.corpId, corpsecret: this.o.secret });
    const answer = await this.fetchJson('gettoken', `/cgi-bin/gettoken?${q}`);
    if ((answer.errcode ?? 0) !== 0 || typeof answer.access_token !== 'string') {
      throw new WeComApiError('gettoken', answer.errcode ?? -1, `${String(answer.errmsg ?? 'no access_token')} (check WECOM_CORP_ID / WECOM_CORP_SECRET and the app's 可信IP)`);
    }
    const expiresIn = typeof answer.expires_in === 'number' ? answer.expires_in : 7200;
    this.token = { value: answer.access_token, renewAt: this.now() + Math.max(expiresIn * 1000 - EARLY_RENEW_MS, 0) };
    return this.token.value;
  }

  private async fetchJson(api: string, pathAndQuery: string, body?: unknown): Promise<Answer> {
    let res: globalThis.Response;
    try {
      res = await fetch(`${this.o.baseUrl}${pathAndQuery}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new WeComApiError(api, -1, `not reachable: ${(err as Error).message}`);
    }
    if (!res.ok) throw new WeComApiError(api, -1, `HTTP ${res.status}`);
    const text = await res.text();
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Answer;
    } catch {
      /* below */
    }
    throw new WeComApiError(api, -1, `not a JSON object: ${text.slice(0, 80)}`);
  }
}
