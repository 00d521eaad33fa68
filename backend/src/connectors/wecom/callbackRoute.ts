/**
 * GET|POST /api/v1/connectors/wecom/callback — WeCom's 接收事件服务器 URL.
 * GET: URL verification (verify msg_signature over echostr, decrypt, answer the plaintext).
 * POST: verify, decrypt, check the receive id, parse, map (events.ts) and ingest through
 * the same IngestService as POST /api/v1/events; answered "success" as soon as the events
 * are in the journal, well inside WeCom's 5 s (it retries an unanswered callback; the
 * retry carries the same event ids, so it is counted once).
 * A wrong signature, an undecryptable body, another corp's receive id or a stale timestamp
 * is refused (403 with the reason), logged and counted in pulse_wecom_callbacks_total,
 * never ingested. No ingest key: the signature is the authentication.
 */
import express, { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { IngestUnavailableError, type IngestService } from '../../ingest/service.js';
import { CallbackRefusal, openMessage, signatureMatches } from './crypto.js';
import { changedChat, KNOWN_KINDS, MAX_CALLBACK_BYTES, mapCallback, parseWeComXml } from './events.js';

export const CALLBACK_PATH = '/api/v1/connectors/wecom/callback';

export interface WeComCallbackConfig {
  corpId: string;
  token: string;
  aesKey: string;
  /** A callback whose timestamp is further than this from our clock is refused (replay). */
  maxAgeMs: number;
}

export interface CallbackRouteOptions {
  config: WeComCallbackConfig;
  ingest: Pick<IngestService, 'accept'>;
  logger: Logger;
  registry: Registry;
  /** A verified callback said this customer group was created or changed (groupInfo.ts looks it up). */
  onGroupChange?(chatId: string): void;
  now?: () => number;
}

export function wecomCallbackRouter(o: CallbackRouteOptions): Router {
  const now = o.now ?? Date.now;
  const { corpId, token, aesKey, maxAgeMs } = o.config;
  const log = o.logger.child({ connector: 'wecom' });
  const callbacks = new Counter({
    name: 'pulse_wecom_callbacks_total',
    help: 'WeCom callbacks by outcome (verified, counted, ignored, refused_<reason>) and kind',
    labelNames: ['outcome', 'kind'],
    registers: [o.registry],
  });
  const known = new Set<string>(KNOWN_KINDS);

  /** The query WeCom signs with; throws CallbackRefusal. */
  const checked = (req: Request, encrypted: string) => {
    const q = req.query as Record<string, unknown>;
    const get = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : '');
    const signature = get('msg_signature');
    const timestamp = get('timestamp');
    const nonce = get('nonce');
    if (!signature || !timestamp || !nonce || !encrypted) throw new CallbackRefusal('malformed', 'msg_signature, timestamp, nonce and the encrypted text are required');
    if (!signatureMatches(token, timestamp, nonce, encrypted, signature)) {
      throw new CallbackRefusal('signature', 'msg_signature does not match: check WECOM_CALLBACK_TOKEN');
    }
    const ts = Number(timestamp) * 1000;
    if (!Number.isFinite(ts) || Math.abs(now() - ts) > maxAgeMs) {
      throw new CallbackRefusal('stale', `timestamp ${timestamp} is more than ${maxAgeMs / 1000} s from this server's clock (a replayed callback, or a wrong clock)`);
    }
    return openMessage(aesKey, corpId, encrypted);
  };

  const refuse = (res: Response, err: CallbackRefusal, method: string) => {
    callbacks.inc({ outcome: `refused_${err.reason}`, kind: method });
    log.warn({ reason: err.reason, method }, `WeCom callback refused: ${err.message}`);
    res.status(403).json({ error: err.message });
  };

  const router = Router();
  router.get(CALLBACK_PATH, (req, res) => {
    // Base64 has no spaces: a '+' that reached us unencoded was decoded to one.
    const echostr = typeof req.query.echostr === 'string' ? req.query.echostr.replaceAll(' ', '+') : '';
    try {
      const plain = checked(req, echostr);
      callbacks.inc({ outcome: 'verified', kind: 'url_verification' });
      log.info('WeCom callback URL verified');
      res.type('text/plain').send(plain);
    } catch (err) {
      if (err instanceof CallbackRefusal) return refuse(res, err, 'GET');
      throw err;
    }
  });

  router.post(CALLBACK_PATH, express.text({ type: () => true, limit: MAX_CALLBACK_BYTES }), async (req, res) => {
    let mapped;
    try {
      const body = typeof req.body === 'string' ? req.body : '';
      const envelope = parseWeComXml(body);
      const encrypted = typeof envelope.Encrypt === 'string' ? envelope.Encrypt : '';
      const fields = parseWeComXml(checked(req, encrypted));
      mapped = mapCallback(fields);
      const chat = changedChat(fields);
      if (chat) o.onGroupChange?.(chat);
    } catch (err) {
      if (err instanceof CallbackRefusal) return refuse(res, err, 'POST');
      throw err;
    }
    const kind = known.has(mapped.kind) ? mapped.kind : 'other';
    if (mapped.events.length === 0) {
      callbacks.inc({ outcome: 'ignored', kind });
      log.debug({ kind: mapped.kind, why: mapped.ignored }, 'WeCom callback not counted');
      return void res.type('text/plain').send('success');
    }
    try {
      const result = await o.ingest.accept(mapped.events);
      callbacks.inc({ outcome: result.accepted > 0 ? 'counted' : 'duplicate', kind });
      // Rejected (e.g. older than the lateness window): answered anyway, or WeCom would retry forever.
      if (result.rejected.length) log.warn({ kind, rejected: result.rejected }, 'WeCom callback events rejected by ingest');
      res.type('text/plain').send('success');
    } catch (err) {
      // Not durable: WeCom's retry will bring it again.
      if (err instanceof IngestUnavailableError) return void res.status(503).json({ error: err.message });
      throw err;
    }
  });
  return router;
}
