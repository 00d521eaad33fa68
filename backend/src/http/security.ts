/**
 * Browser-facing policy for every response: security headers (helmet) with a Content
 * Security Policy the wall and the analyst pages run under, CORS for the API only when
 * origins are configured, and a bound on the URL (query strings are user input too).
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import cors from 'cors';
import helmet from 'helmet';
import type { RequestHandler } from 'express';

export interface SecurityOptions {
  /**
   * The wall is served over https (PULSE_PUBLIC_URL is https): send HSTS and upgrade
   * insecure requests. Off otherwise: the wall often runs on plain http on an office LAN
   * or on localhost, where a stray HSTS would pin the host name (localhost included, for
   * every other dev server on it) to https for the max-age and lock browsers out, and
   * upgrade-insecure-requests would break every subresource.
   */
  https: boolean;
  /** Exact origins allowed to call /api from a browser; empty: CORS off (same-origin only). */
  corsOrigins: readonly string[];
}

/** Longer request targets are refused (414); Node's own header limit (16 KB) answers 431 above it. */
export const MAX_URL_BYTES = 8 * 1024;

/**
 * The CSP, directive by directive, for what the built pages do:
 * - scripts: Vite emits module scripts and chunks from the same origin, nothing inline;
 * - styles: CSS files from the same origin. Vue's `:style` and zrender set styles through
 *   the CSSOM, which CSP does not govern; ECharts' HTML tooltips (and the trend tooltips'
 *   formatters) are markup with `style` attributes set through innerHTML, hence
 *   `style-src-attr 'unsafe-inline'` — attributes only, never `<style>` elements;
 * - images: the favicon is a data: URI, chart exports are data:/blob: URLs;
 * - connect: REST and Socket.IO (polling and websocket) go to the same origin; CSP3 lets
 *   'self' match same-host ws:/wss:;
 * - CSV export downloads through blob: links, which CSP does not restrict;
 * - no plugins, no <base> rewrites, no framing by other sites (admin buttons).
 */
export function contentSecurityPolicy(https: boolean): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'style-src-attr': ["'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'self'"],
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

export function securityMiddleware(o: SecurityOptions): RequestHandler[] {
  const handlers: RequestHandler[] = [
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy(o.https) },
      // 180 days, this host only: a parent domain's policy is not ours to set.
      strictTransportSecurity: o.https ? { maxAge: 180 * 86_400, includeSubDomains: false } : false,
      // no-referrer (helmet's default) matters here: wall URLs carry ?token=.
      referrerPolicy: { policy: 'no-referrer' },
    }),
    (req, res, next) => {
      if (req.url.length <= MAX_URL_BYTES) return next();
      res.status(414).json({ error: `URL longer than ${MAX_URL_BYTES} bytes: shorten the query` });
    },
  ];
  const allowed = new Set(o.corsOrigins);
  const api = allowed.size
    ? cors({
        // Exact match; an unlisted origin falls through to refusePreflight (cors's own
        // array form would answer its preflight 204, just without the allow header).
        origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin) ? origin : false),
        methods: ['GET', 'POST', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type'],
        // The tracking SDK honours a 429's Retry-After; a browser hides it unless exposed.
        exposedHeaders: ['Retry-After'],
        // Tokens travel in Authorization, never in cookies: no credentialed CORS.
        credentials: false,
        maxAge: 600,
      })
    : null;
  // A preflight that cors did not answer (origin not listed, or CORS off) gets a reason
  // instead of falling through to the API's 404; the browser refuses either way.
  const refusePreflight: RequestHandler = (req, res, next) => {
    if (req.method !== 'OPTIONS' || !req.get('origin') || !req.get('access-control-request-method')) return next();
    res.status(403).json({ error: api ? `origin ${JSON.stringify(req.get('origin'))} is not in PULSE_CORS_ORIGINS` : 'cross-origin API calls are off: set PULSE_CORS_ORIGINS' });
  };
  handlers.push((req, res, next) => {
    if (!req.path.startsWith('/api/')) return next();
    if (!api) return refusePreflight(req, res, next);
    // Answers differ by Origin (allow header or not): caches must not mix them up.
    res.vary('Origin');
    api(req, res, () => refusePreflight(req, res, next));
  });
  return handlers;
}

/**
 * Requests Node's HTTP parser refuses before Express sees them (headers over 16 KB, a
 * header or request timeout, malformed HTTP) get the same JSON `{error}` answer as every
 * other refusal, instead of Node's bare status line. Registering the listener replaces
 * Node's default answer, so every case it covered is covered here.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, text, error] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', `request line and headers over Node's limit (16 KB); URLs over ${MAX_URL_BYTES} bytes are refused`]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'the request was not received in time']
          : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
            ? [413, 'Payload Too Large', 'chunk extensions too large']
            : [400, 'Bad Request', 'malformed HTTP request'];
    const body = JSON.stringify({ error });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
