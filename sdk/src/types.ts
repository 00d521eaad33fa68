/**
 * The ingest contract (v1) as the SDK sees it. EVENT_TYPES mirrors the server's catalogue
 * (contracts/src/catalogue/events.ts); sdk/test/contract.test.ts fails when they drift.
 */
export const EVENT_TYPES = [
  'member.join', 'member.leave', 'message', 'interaction', 'push.sent', 'push.delivered', 'push.open', 'push.click', 'page.view',
  'cart.add', 'order.create', 'order.paid', 'activity.reach', 'activity.join', 'service.request', 'service.reply', 'service.resolve', 'spend',
  // The WeCom connector's types: a server-side producer (an SCRM bridge) may send them with a secret key.
  'contact.deleted_by_customer', 'group.create', 'group.dismiss',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What a public (browser / mini-program) key may send; the server rejects the rest per event. */
export type PageEventType = 'page.view' | 'cart.add' | 'interaction' | 'push.open' | 'push.click' | 'activity.join';

/** Optional fields of one event; `channel` and `member` default to the client's. */
export interface TrackFields {
  channel?: string;
  member?: string;
  community?: string;
  campaign?: string;
  source?: string;
  /** Integer fen (分); the server accepts it on order.create, order.paid and spend only. */
  amount?: number;
  duration_ms?: number;
  /** Epoch ms; default: when track() was called (so queued events keep their time). */
  ts?: number;
}

/** One queued event as sent: the id makes a retried or beaconed event count once. */
export interface PulseEvent extends TrackFields {
  id: string;
  type: EventType;
  ts: number;
  channel: string;
}

/** Events the server or the SDK gave up on, with the reason (never retried). */
export interface PulseError {
  /** HTTP status, or 0 when the SDK itself dropped events (queue full). */
  status: number;
  error: string;
  /** The events concerned. */
  events: PulseEvent[];
}

export interface PulseOptions {
  /** Base URL of the Siyu Pulse server, e.g. https://pulse.example.com */
  endpoint: string;
  /** A public ingest key (PULSE_PUBLIC_INGEST_KEYS); it is visible to anyone, by design. */
  key: string;
  /** Default channel, e.g. h5 or miniprogram. */
  channel: string;
  /** Default member id (set later with identify()). */
  member?: string;
  /** Send when this many events wait (default 20). */
  batchSize?: number;
  /** …or this long after the first waiting event, in ms (default 5000). */
  flushInterval?: number;
  /** At most this many events are kept while offline; the oldest go first (default 1000). */
  maxQueue?: number;
  /** Longest wait between retries, in ms (default 60000). */
  maxBackoff?: number;
  /** Rejected or dropped events: 4xx answers, per-event rejections, a full queue. */
  onError?(e: PulseError): void;
}

export interface PulseClient {
  track(type: EventType, fields?: TrackFields): void;
  pageView(fields?: TrackFields): void;
  cartAdd(fields?: TrackFields): void;
  interaction(fields?: TrackFields): void;
  pushOpen(fields?: TrackFields): void;
  pushClick(fields?: TrackFields): void;
  activityJoin(fields?: TrackFields): void;
  /** Sets (or clears) the member id of later events. */
  identify(member: string | undefined): void;
  /** Sends what waits now (respecting a server's Retry-After). */
  flush(): void;
  /** Events not yet acknowledged by the server. */
  pending(): number;
}
