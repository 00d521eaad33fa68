/**
 * The one HTTP mechanism the senders share: POST a JSON body with a timeout and turn
 * transport-level outcomes into answers. Each sender only builds its body and reads its
 * endpoint's errcodes.
 */
import type { SendFailure, SendResult } from '../types.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

export type HttpAnswer =
  | { kind: 'response'; status: number; headers: Headers; body: string }
  | { kind: 'error'; failure: SendFailure };

export async function postJson(
  url: string,
  body: string,
  opts: { timeoutMs: number; headers?: Record<string, string> },
): Promise<HttpAnswer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...opts.headers },
      body,
      // DingTalk answers 302 while a robot is penalised; following it would hide that.
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    return { kind: 'response', status: res.status, headers: res.headers, body: await res.text() };
  } catch (err) {
    return { kind: 'error', failure: transportFailure(err, opts.timeoutMs) };
  }
}

function transportFailure(err: unknown, timeoutMs: number): SendFailure {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return {
      ok: false,
      retry: 'backoff',
      code: 'timeout',
      message: `no answer within ${timeoutMs} ms`,
      explanation: `请求超时 / timeout: the endpoint did not answer within ${timeoutMs} ms; will retry`,
    };
  }
  // The cause carries ECONNREFUSED / ENOTFOUND and the address, never the URL's query (token).
  const detail = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  return {
    ok: false,
    retry: 'backoff',
    code: 'network',
    message: detail,
    explanation: `网络错误 / network error (${detail}): the endpoint could not be reached; will retry`,
  };
}

/** HTTP statuses every sender reads the same way. Returns null for the sender to decide. */
export function statusFailure(status: number, body: string): SendFailure | null {
  if (status >= 500) {
    return {
      ok: false,
      retry: 'backoff',
      code: `http_${status}`,
      message: body.slice(0, 200),
      explanation: `服务端错误 / server error (HTTP ${status}); will retry with backoff`,
    };
  }
  return null;
}

/** A URL for status pages: origin and path only, the query (token / key) left out. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/** Parses `{errcode, errmsg}`; null when the body is not that shape. */
export function parseErrcode(body: string): { errcode: number; errmsg: string } | null {
  try {
    const v = JSON.parse(body) as { errcode?: unknown; errmsg?: unknown };
    if (typeof v.errcode !== 'number') return null;
    return { errcode: v.errcode, errmsg: typeof v.errmsg === 'string' ? v.errmsg : '' };
  } catch {
    return null;
  }
}

/**
 * The part of reading a robot's answer that DingTalk and WeCom share: server errors,
 * bodies that are not `{errcode, errmsg}`, and success (`errcode 0` — it arrives with
 * HTTP 200 either way). Returns the errcode for the sender to classify otherwise.
 */
export function readRobotAnswer(status: number, body: string): SendResult | { errcode: number; errmsg: string } {
  const server = statusFailure(status, body);
  if (server) return server;
  const parsed = parseErrcode(body);
  if (!parsed) {
    if (status !== 200) {
      return { ok: false, retry: 'never', code: `http_${status}`, message: body.slice(0, 200), explanation: `HTTP ${status}：请检查 webhook 地址 / check the webhook URL` };
    }
    return unexpectedBody(status, body);
  }
  return parsed.errcode === 0 ? { ok: true } : parsed;
}

export function unexpectedBody(status: number, body: string): SendFailure {
  // A 200 that is not the endpoint's JSON (a proxy page, say) is not a success.
  return {
    ok: false,
    retry: 'backoff',
    code: `bad_response`,
    message: `HTTP ${status}: ${body.slice(0, 200)}`,
    explanation: '无法识别的响应 / unexpected answer: the endpoint did not reply with {errcode}; check the webhook URL (a proxy?); will retry',
  };
}
