/**
 * The v1 event contract, validated with zod. Unknown fields are refused (a typo such as
 * "ammount" must not silently lose money), and every refusal names the field.
 */
import { z } from 'zod';
import { AMOUNT_EVENT_TYPES, EVENT_TYPES, HISTOGRAMS, type EventType } from '@siyu-pulse/contracts/catalogue';
import { LONE_SURROGATE, tagValueProblem } from '../store/port.js';

const tagValue = z.string().min(1, 'must not be empty').superRefine((v, ctx) => {
  const problem = tagValueProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const MAX_AMOUNT_FEN = 1_000_000_000_000; // ¥100亿 in one event is a data error, not a sale
const MAX_DURATION_MS = 7 * 86_400_000;

const timestamp = z.union([
  z.number().int('must be an integer (epoch milliseconds)').nonnegative().max(8_640_000_000_000),
  z.iso.datetime({ offset: true, error: 'must be epoch milliseconds or an ISO 8601 date-time with a zone, e.g. 2026-11-23T20:00:00+08:00' }),
]);

const DURATION_TYPES = new Set<EventType>(Object.values(HISTOGRAMS).map((h) => h.eventType));
const AMOUNT_TYPES = new Set<EventType>(AMOUNT_EVENT_TYPES);
const AMOUNT_REQUIRED = new Set<EventType>(['order.paid', 'spend']);

export const EventSchema = z
  .strictObject({
    id: z.string().min(1).max(128).optional(),
    type: z.enum(EVENT_TYPES, { error: `must be one of: ${EVENT_TYPES.join(', ')}` }),
    ts: timestamp.optional(),
    // Hashed as UTF-8, where every lone surrogate becomes U+FFFD: two such ids would be one member.
    member: z.string().min(1).max(256).refine((v) => !LONE_SURROGATE.test(v), 'not well-formed Unicode (a lone surrogate half)').optional(),
    channel: tagValue,
    community: tagValue.optional(),
    campaign: tagValue.optional(),
    source: z.string().max(128).optional(),
    amount: z.number().int('must be an integer number of fen (分)').nonnegative().max(MAX_AMOUNT_FEN).optional(),
    duration_ms: z.number().int().nonnegative().max(MAX_DURATION_MS).optional(),
  }, { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field ${iss.keys.map((k) => `'${k}'`).join(', ')}` : 'must be a JSON object') })
  .superRefine((e, ctx) => {
    if (e.amount !== undefined && !AMOUNT_TYPES.has(e.type)) {
      ctx.addIssue({ code: 'custom', path: ['amount'], message: `only allowed on ${[...AMOUNT_TYPES].join(', ')}` });
    }
    if (e.amount === undefined && AMOUNT_REQUIRED.has(e.type)) {
      ctx.addIssue({ code: 'custom', path: ['amount'], message: `required on ${e.type} (integer fen)` });
    }
    if (e.duration_ms !== undefined && !DURATION_TYPES.has(e.type)) {
      ctx.addIssue({ code: 'custom', path: ['duration_ms'], message: `only allowed on ${[...DURATION_TYPES].join(', ')}` });
    }
  });

export type ValidEvent = z.infer<typeof EventSchema>;

/** A readable one-line reason from a zod error: "amount: must be an integer number of fen (分)". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

const KNOWN_FIELDS = new Set(['id', 'type', 'ts', 'member', 'channel', 'community', 'campaign', 'source', 'amount', 'duration_ms']);
const TYPES = new Set<string>(EVENT_TYPES);
const isInt = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const okTag = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && tagValueProblem(v) === null;

/**
 * The common case decided without zod: an object with only epoch-ms `ts` and values that
 * plainly pass every rule of EventSchema. Anything else (ISO dates, any doubt) is left to
 * zod, which also writes the reason. Measured: zod alone validates ~46k events/s here, far
 * below what an import needs; this path is ~10× faster. `schema.test.ts` checks on random
 * events that whatever this accepts, zod accepts with the same result.
 */
export function plainlyValid(o: unknown): o is ValidEvent {
  if (typeof o !== 'object' || o === null || Array.isArray(o) || Object.getPrototypeOf(o) !== Object.prototype) return false;
  const e = o as Record<string, unknown>;
  for (const k in e) if (!KNOWN_FIELDS.has(k)) return false;
  if (typeof e.type !== 'string' || !TYPES.has(e.type)) return false;
  const type = e.type as EventType;
  if (!okTag(e.channel)) return false;
  if (e.community !== undefined && !okTag(e.community)) return false;
  if (e.campaign !== undefined && !okTag(e.campaign)) return false;
  if (e.id !== undefined && (typeof e.id !== 'string' || e.id.length < 1 || e.id.length > 128)) return false;
  if (e.ts !== undefined && !isInt(e.ts, 8_640_000_000_000)) return false;
  if (e.member !== undefined && (typeof e.member !== 'string' || e.member.length < 1 || e.member.length > 256 || LONE_SURROGATE.test(e.member))) return false;
  if (e.source !== undefined && (typeof e.source !== 'string' || e.source.length > 128)) return false;
  if (e.amount !== undefined ? !isInt(e.amount, MAX_AMOUNT_FEN) || !AMOUNT_TYPES.has(type) : AMOUNT_REQUIRED.has(type)) return false;
  if (e.duration_ms !== undefined && (!isInt(e.duration_ms, MAX_DURATION_MS) || !DURATION_TYPES.has(type))) return false;
  return true;
}

/** EventSchema.safeParse with a fast path for events that plainly pass (same rules, same result). */
export function validateEvent(raw: unknown): ReturnType<typeof EventSchema.safeParse> {
  if (plainlyValid(raw)) return { success: true, data: raw } as ReturnType<typeof EventSchema.safeParse>;
  return EventSchema.safeParse(raw);
}
