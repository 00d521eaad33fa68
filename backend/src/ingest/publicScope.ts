/**
 * The public (browser / mini-program) ingest key scope. A key shipped in an H5 page or a
 * mini-program package is readable by anyone, so what it may do is bounded here:
 * - only event types a page itself observes (PUBLIC_EVENT_TYPES): never money (order.paid,
 *   spend, order.create), membership (member.*), the push service's own sends / deliveries,
 *   customer service, or community messages — those come from servers holding secret keys;
 * - only from a page whose `Origin` is in PULSE_CORS_ORIGINS, or a mini-program whose fixed
 *   `Referer` (https://servicewechat.com/{appid}/{version}/page-frame.html, set by WeChat and
 *   not settable by the mini-program) names an AppID in PULSE_MINIPROGRAM_APPIDS;
 * - at a per-IP rate (clientKey), on top of the key's own rate.
 * Origin and Referer stop other websites' visitors' browsers; a script outside a browser can
 * forge both, which SECURITY.md states.
 */
import { isIP } from 'node:net';
import type { EventType } from '@siyu-pulse/contracts/catalogue';

/**
 * What a page sees happen: a view, an add to cart, a tap / like / share, a member arriving
 * from a push (opened the pushed page, clicked its link) and signing up for an activity.
 */
export const PUBLIC_EVENT_TYPES: readonly EventType[] = ['page.view', 'cart.add', 'interaction', 'push.open', 'push.click', 'activity.join'];
const PUBLIC_TYPES = new Set<string>(PUBLIC_EVENT_TYPES);

export function publicTypeProblem(type: EventType): string | null {
  if (PUBLIC_TYPES.has(type)) return null;
  return `type ${type} is not accepted from a public (browser) key; it may send ${PUBLIC_EVENT_TYPES.join(', ')} — send ${type} from your server with a secret ingest key`;
}

/** 小程序 AppID: `wx` and 16 hex digits. */
export const MINIPROGRAM_APPID = /^wx[0-9a-f]{16}$/i;
// WeChat's documented, unsettable Referer of wx.request: version is a number (0: dev / trial /
// review builds) or `devtools`.
const MINIPROGRAM_REFERER = /^https:\/\/servicewechat\.com\/(wx[0-9a-f]{16})\/(?:\d+|devtools)\/page-frame\.html$/i;

export interface PublicOriginPolicy {
  corsOrigins: readonly string[];
  miniProgramAppIds: readonly string[];
}

/** null when the request comes from an allowed page or mini-program; else the refusal. */
export function publicOriginProblem(policy: PublicOriginPolicy, origin: string | undefined, referer: string | undefined): string | null {
  if (origin !== undefined && policy.corsOrigins.includes(origin)) return null;
  const appId = referer === undefined ? undefined : MINIPROGRAM_REFERER.exec(referer)?.[1];
  if (appId !== undefined && policy.miniProgramAppIds.some((a) => a.toLowerCase() === appId.toLowerCase())) return null;
  const from = origin !== undefined ? `origin ${JSON.stringify(origin)}` : appId !== undefined ? `mini-program ${appId}` : 'a request with no Origin';
  return `a public key is accepted only from the pages in PULSE_CORS_ORIGINS (Origin header) or the mini-programs in PULSE_MINIPROGRAM_APPIDS; refused ${from}`;
}

/**
 * The per-IP rate limit's key: the address, with IPv4-mapped IPv6 unwrapped and IPv6 cut to
 * its /64 (one subscriber's prefix; per-address keys would let one host rotate through 2^64).
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const CIDR = /^(.+)\/(\d{1,3})$/;
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * PULSE_TRUST_PROXY: `off`, a hop count (1–10), or proxy addresses / subnets / Express's
 * names (loopback, linklocal, uniquelocal). Never "trust everything": a client could then
 * pick its own address in X-Forwarded-For and step around the per-IP limit.
 */
export function trustProxyProblem(v: string): string | null {
  if (v === 'off') return null;
  if (/^\d+$/.test(v)) return Number(v) >= 1 && Number(v) <= 10 ? null : 'a hop count must be 1–10';
  const bad = v.split(',').map((s) => s.trim()).filter(Boolean).filter((s) => {
    if (PROXY_NAMES.has(s)) return false;
    const m = CIDR.exec(s);
    const addr = m ? m[1]! : s;
    const family = isIP(addr);
    return family === 0 || (m !== null && Number(m[2]) > (family === 4 ? 32 : 128));
  });
  if (v === 'true' || v === 'on') return 'trusting every proxy would let clients choose their own address; give the hop count (e.g. 1) or the proxy addresses';
  return bad.length ? `not an address, subnet or one of loopback, linklocal, uniquelocal: ${bad.join(', ')} (or off, or a hop count 1–10)` : null;
}
