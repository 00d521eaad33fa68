/**
 * WeCom 客户联系 callback XML → events of the ingest contract (v1), so callbacks take the
 * producers' path: validation, dedup by id, journal, collector. Pure: no I/O.
 *
 * | Event / ChangeType                                  | Becomes                                               |
 * |-----------------------------------------------------|-------------------------------------------------------|
 * | change_external_contact add_external_contact        | member.join (State → campaign)                        |
 * | change_external_contact del_external_contact        | member.leave, except Source=DELETE_BY_TRANSFER        |
 * | change_external_contact del_follow_user             | member.leave + contact.deleted_by_customer            |
 * | change_external_chat create / dismiss               | group.create / group.dismiss (ChatId → community)     |
 * | change_external_chat update add_member / del_member | member.join / member.leave per member (ChatId → community, JoinScene / QuitScene → source) |
 * Everything else is answered and ignored (with the reason, for the log).
 */
import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { tagValueProblem } from '../../store/port.js';
import { CallbackRefusal } from './crypto.js';

export const WECOM_CHANNEL = 'wecom';
/** WeCom's callbacks are a few hundred bytes; the envelope limit keeps the parser's work bounded. */
export const MAX_CALLBACK_BYTES = 64 * 1024;

/** An event in the ingest contract's shape (validated again by ingest, like any producer's). */
export interface ContractEvent {
  id: string;
  type: 'member.join' | 'member.leave' | 'contact.deleted_by_customer' | 'group.create' | 'group.dismiss';
  ts: number;
  channel: string;
  member?: string;
  community?: string;
  campaign?: string;
  source?: string;
}

export type Fields = Record<string, unknown>;

// A well-kept parser (fast-xml-parser) rather than regexes. Strings only (no number
// guessing: ids like "1616140317555161061" must not lose digits); no attributes.
const parser = new XMLParser({
  parseTagValue: false,
  ignoreAttributes: true,
  processEntities: true,
  htmlEntities: false,
  trimValues: true,
  isArray: (_name, jpath) => jpath === 'xml.MemChangeList.Item',
});

/**
 * Parses one WeCom XML document and returns the children of its <xml> root. WeCom never
 * sends a DTD, so any DOCTYPE / ENTITY declaration is refused before parsing (no entity
 * expansion, no external entities), and so is a document over MAX_CALLBACK_BYTES.
 */
export function parseWeComXml(text: string): Fields {
  if (Buffer.byteLength(text, 'utf8') > MAX_CALLBACK_BYTES) throw new CallbackRefusal('malformed', `XML larger than ${MAX_CALLBACK_BYTES} bytes`);
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new CallbackRefusal('malformed', 'XML with a DOCTYPE / ENTITY declaration refused');
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new CallbackRefusal('malformed', `not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  const root = (doc as { xml?: unknown } | null)?.xml;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) throw new CallbackRefusal('malformed', 'XML without an <xml> root element');
  return root as Fields;
}

const str = (f: Fields, key: string): string => {
  const v = f[key];
  return typeof v === 'string' ? v : '';
};

/** A tag value the store can keep, or undefined (the event is still counted, untagged). */
const tag = (v: string): string | undefined => (v !== '' && tagValueProblem(v) === null ? v : undefined);

export interface Mapped {
  /** e.g. "change_external_contact/add_external_contact" (log and metric label). */
  kind: string;
  events: ContractEvent[];
  /** Why nothing is counted (handover, an event type the wall does not use …). */
  ignored?: string;
}

/** The known kinds (the metric's label values stay bounded). */
export const KNOWN_KINDS = [
  'change_external_contact/add_external_contact',
  'change_external_contact/del_external_contact',
  'change_external_contact/del_follow_user',
  'change_external_chat/create',
  'change_external_chat/dismiss',
  'change_external_chat/update',
] as const;

/**
 * Maps one decrypted callback. Ids derive from the event's own fields (never the random
 * bytes of the encryption), so WeCom's retry of the same callback gets the same ids and
 * ingest counts it once.
 */
export function mapCallback(f: Fields): Mapped {
  const event = str(f, 'Event');
  const change = str(f, 'ChangeType');
  const kind = `${event}/${change}`;
  const createTime = Number(str(f, 'CreateTime'));
  if (str(f, 'MsgType') !== 'event' || !Number.isSafeInteger(createTime) || createTime <= 0) {
    return { kind: 'other', events: [], ignored: 'not an event message with a CreateTime' };
  }
  const ts = createTime * 1000;
  const members = memberList(f);
  const key = createHash('sha256')
    .update([event, change, str(f, 'CreateTime'), str(f, 'UserID'), str(f, 'ExternalUserID'), str(f, 'ChatId'), str(f, 'UpdateDetail'), str(f, 'Source'), members.join(',')].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
  const id = (suffix: string) => `wecom:${key}:${suffix}`;
  const base = { ts, channel: WECOM_CHANNEL };
  const customer = str(f, 'ExternalUserID') || undefined;

  if (event === 'change_external_contact') {
    switch (change) {
      case 'add_external_contact': {
        const campaign = tag(str(f, 'State'));
        return { kind, events: [{ id: id('join'), type: 'member.join', ...base, member: customer, ...(campaign ? { campaign } : {}), source: change }] };
      }
      case 'del_external_contact':
        // A staff handover (离职继承 / 在职转接) removes the old staff member's contact: not churn.
        if (str(f, 'Source') === 'DELETE_BY_TRANSFER') return { kind, events: [], ignored: 'Source=DELETE_BY_TRANSFER (a staff handover, not churn)' };
        return { kind, events: [{ id: id('leave'), type: 'member.leave', ...base, member: customer, source: change }] };
      case 'del_follow_user':
        return {
          kind,
          events: [
            { id: id('leave'), type: 'member.leave', ...base, member: customer, source: change },
            { id: id('deleted'), type: 'contact.deleted_by_customer', ...base, member: customer, source: change },
          ],
        };
      default:
        return { kind: 'other', events: [], ignored: `${kind} is not counted` };
    }
  }
  if (event === 'change_external_chat') {
    const community = tag(str(f, 'ChatId'));
    const where = community ? { community } : {};
    switch (change) {
      case 'create':
        return { kind, events: [{ id: id('create'), type: 'group.create', ...base, ...where }] };
      case 'dismiss':
        return { kind, events: [{ id: id('dismiss'), type: 'group.dismiss', ...base, ...where }] };
      case 'update': {
        const detail = str(f, 'UpdateDetail');
        if (detail !== 'add_member' && detail !== 'del_member') return { kind, events: [], ignored: `update ${detail || '(no UpdateDetail)'} is not counted` };
        const join = detail === 'add_member';
        const type = join ? 'member.join' : 'member.leave';
        const scene = join ? str(f, 'JoinScene') : str(f, 'QuitScene');
        const source = `${join ? 'JoinScene' : 'QuitScene'}:${scene || '?'}`;
        // MemChangeList names the members (newer callbacks); otherwise only MemChangeCnt is known.
        const count = members.length || Math.min(Math.max(Number(str(f, 'MemChangeCnt')) || 0, 0), 10_000);
        const events: ContractEvent[] = [];
        for (let i = 0; i < count; i++) {
          const member = members[i];
          events.push({ id: id(`${detail}:${i}`), type, ...base, ...where, ...(member ? { member } : {}), source });
        }
        return { kind, events, ...(events.length ? {} : { ignored: 'update without MemChangeList or MemChangeCnt' }) };
      }
      default:
        return { kind: 'other', events: [], ignored: `${kind} is not counted` };
    }
  }
  return { kind: 'other', events: [], ignored: `${kind} is not counted` };
}

function memberList(f: Fields): string[] {
  const list = f.MemChangeList as { Item?: unknown } | undefined;
  const items = list && typeof list === 'object' ? list.Item : undefined;
  return Array.isArray(items) ? items.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

/**
 * The customer group a callback says was created or changed (members joined or left, renamed,
 * its notice or owner changed), whose name and size are worth looking up (groupInfo.ts); null
 * for every other callback and for a dismissed group.
 */
export function changedChat(f: Fields): string | null {
  if (str(f, 'MsgType') !== 'event' || str(f, 'Event') !== 'change_external_chat') return null;
  const change = str(f, 'ChangeType');
  if (change !== 'create' && change !== 'update') return null;
  return tag(str(f, 'ChatId')) ?? null;
}
