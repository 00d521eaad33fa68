/**
 * Configuration: environment variables, optionally preceded by a YAML file
 * (`PULSE_CONFIG_FILE`, same keys as the environment; the environment wins). Validated at
 * start-up with zod; a bad value stops the process with a message naming the setting.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HASHED_TOKEN } from './tokens.js';
import { MINIPROGRAM_APPID, trustProxyProblem } from '../ingest/publicScope.js';
import { DEFAULT_WEEKLY_CRON, cronProblem } from '../reports/schedule.js';
import type { Label } from '@siyu-pulse/contracts/catalogue';
import { parseChannelNames } from './channelNames.js';
import { aesKeyProblem } from '../connectors/wecom/crypto.js';

const onOff = z.enum(['on', 'off']);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z
  .string()
  .transform((s) => s.split(',').map((k) => k.trim()).filter((k) => k.length > 0));
// A token, or its stored digest `sha256:<64 hex>` (hashToken tool); a value that starts like
// a digest but is malformed is refused rather than taken as a plain token.
const secret = z.string().superRefine((v, ctx) => {
  if (/^sha256:/i.test(v)) {
    if (!HASHED_TOKEN.test(v)) ctx.addIssue({ code: 'custom', message: 'a hashed token must be sha256: followed by 64 hex digits (npm run hash-token -w backend -- <token>)' });
  } else if (v.length < 16) ctx.addIssue({ code: 'custom', message: 'must be at least 16 characters' });
});
const origin = z.string().refine((o) => URL.canParse(o) && new URL(o).origin === o, 'must be an exact origin such as https://bi.example.com (scheme, host, optional port; no path or trailing slash)');

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The raw settings, exactly as named in the environment. */
const EnvSchema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).optional(),
  PULSE_DATA_DIR: z.string().min(1).default('./data'),
  PULSE_STORE: z.enum(['duckdb', 'influx']).default('duckdb'),
  /** Cluster mode: the Redis every node shares (ids, Socket.IO fan-out). */
  PULSE_CLUSTER_REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379' }).optional(),
  PULSE_CLUSTER_LEASE_SECONDS: int(1, 300).default(15),
  /** Where the other nodes reach this one (alert-center requests are forwarded to the lease holder). */
  PULSE_CLUSTER_ADVERTISE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL the other nodes can reach, e.g. http://pulse-1:8080' }).optional(),
  PULSE_CLUSTER_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only (at most 64), e.g. pulse:').default('pulse:'),
  /** This node's name in a cluster (stored sketch rows, logs); unique per node. Default: the host name. */
  PULSE_NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits and _ . - only (at most 64), e.g. node-1').optional(),
  PULSE_DUCKDB_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "a size such as '512MB' or '2GB'")
    .default('1GB'),
  /** DuckDB checkpoint_threshold: committed rows stay in memory until a checkpoint (DuckDB's default 16MB of WAL). */
  PULSE_DUCKDB_CHECKPOINT_THRESHOLD: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "a size such as '4MB' or '16MB'")
    .optional(),
  INFLUX_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://127.0.0.1:8086' }).optional(),
  INFLUX_DB: z.string().regex(/^[A-Za-z0-9_\-/]{1,64}$/, 'letters, digits, _ - / only, at most 64').optional(),
  INFLUX_TOKEN: z.string().min(1).optional(),
  INFLUX_USER: z.string().min(1).optional(),
  INFLUX_PASSWORD: z.string().min(1).optional(),
  INFLUX_TIMEOUT_MS: int(100, 120_000).default(10_000),
  INFLUX_MAX_QUERIES: int(1, 64).default(4),
  PULSE_DEMO: onOff.optional(),
  PULSE_INGEST_KEYS: list.pipe(z.array(secret)).optional(),
  PULSE_READ_TOKEN: secret.optional(),
  PULSE_ADMIN_TOKEN: secret.optional(),
  PULSE_SIMULATOR: onOff.optional(),
  PULSE_SIMULATOR_RATE: int(1, 100_000).optional(),
  PULSE_DEMO_HISTORY_DAYS: int(0, 60).default(30),
  PULSE_DEMO_ALERT: z.union([z.literal('off'), int(0, 86_400)], { error: 'off, or the seconds after start-up at which the demo swing begins (0–86400)' }).default(180),
  PULSE_BUCKET_SECONDS: int(1, 60).refine((s) => 60 % s === 0, 'must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)').default(10),
  /** How long a closed bucket stays open in memory (rewritten without a store read); older events are still accepted. */
  PULSE_LATENESS_SECONDS: int(0, 86_400).default(300),
  /** Oldest event accepted (days before now): late SDK queues, producer outages, imports of last year. */
  PULSE_HISTORY_DAYS: z.coerce.number({ error: 'must be a whole number of days (1–3650), e.g. 400' }).int('must be a whole number of days (1–3650), e.g. 400').min(1, 'must be at least 1 day').max(3_650, 'must be at most 3650 days (10 years)').default(400),
  /** A duplicate event id is counted once within this window (disk ledger, so it costs no memory per id). */
  PULSE_DEDUP_HOURS: z.coerce.number({ error: 'must be a whole number of hours (24–8760), e.g. 48' }).int('must be a whole number of hours (24–8760), e.g. 48').min(24, 'must be at least 24 hours (a producer retrying the next day must still be caught)').max(8_760, 'must be at most 8760 hours (one year)').default(48),
  PULSE_FLUSH_MS: int(50, 60_000).default(1000),
  /** New events reach the walls in a tick this long after the last one (live/hub.ts); 1000: heartbeat ticks only. */
  PULSE_WALL_PUSH_MS: int(50, 1000).default(250),
  PULSE_SALT: z.string().min(16, 'must be at least 16 characters').optional(),
  PULSE_TIMEZONE: z.string().refine(validTimezone, 'not an IANA time zone (e.g. Asia/Shanghai)').default('Asia/Shanghai'),
  PULSE_BUSINESS_NAME: z.string().min(1).max(40).default('私域运营中心'),
  PULSE_CHANNEL_NAMES: z.string().optional(),
  PULSE_INGEST_RATE: int(1, 10_000_000).default(20_000),
  PULSE_INGEST_BURST: int(1, 100_000_000).default(100_000),
  PULSE_MAX_CHANNELS: int(1, 10_000).default(50),
  PULSE_MAX_COMMUNITIES: int(1, 100_000).default(20_000),
  PULSE_MAX_CAMPAIGNS: int(1, 100_000).default(100),
  PULSE_PUSH_CAP_PER_DAY: int(1, 1000).default(3),
  PULSE_STATIC_DIR: z.string().min(1).optional(),
  PULSE_BOARDS_FILE: z.string().min(1).optional(),
  PULSE_COMMUNITY_NAMES_FILE: z.string().min(1).optional(),
  PULSE_SILENT_GROUP_DAYS: int(1, 30).default(3),
  PULSE_TARGETS_FILE: z.string().min(1).optional(),
  PULSE_RULES_DIR: z.string().min(1).optional(),
  PULSE_NOTIFIERS_FILE: z.string().min(1).optional(),
  PULSE_ALERT_INTERVAL_SECONDS: int(1, 3600).default(10),
  PULSE_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL people open the wall at, e.g. https://pulse.example.com' }).optional(),
  DINGTALK_WEBHOOK: z.url({ protocol: /^https?$/, error: 'must be the robot webhook URL (https://oapi.dingtalk.com/robot/send?access_token=…)' }).optional(),
  DINGTALK_SECRET: z.string().min(1).optional(),
  DINGTALK_KEYWORD: z.string().min(1).optional(),
  DINGTALK_AT_MOBILES: z.string().min(1).optional(),
  WECOM_WEBHOOK: z.url({ protocol: /^https?$/, error: 'must be the WeCom robot webhook URL' }).optional(),
  WECOM_MENTIONED_MOBILES: z.string().min(1).optional(),
  PULSE_CORS_ORIGINS: list.pipe(z.array(origin)).optional(),
  // Browser / mini-program keys (ingest/publicScope.ts): limited types, checked origin, per-IP rate.
  PULSE_PUBLIC_INGEST_KEYS: list.pipe(z.array(secret)).optional(),
  PULSE_PUBLIC_RATE_PER_IP: int(1, 1_000_000).default(20),
  // ≥ 100: the tracking SDK sends up to 100 events a request, and a request above the burst is refused.
  PULSE_PUBLIC_BURST_PER_IP: int(100, 10_000_000).default(200),
  PULSE_MINIPROGRAM_APPIDS: list.pipe(z.array(z.string().regex(MINIPROGRAM_APPID, 'must be a mini-program AppID: wx followed by 16 hex digits (小程序后台 → 开发管理 → 开发设置)'))).optional(),
  PULSE_TRUST_PROXY: z.string().trim().superRefine((v, ctx) => {
    const problem = trustProxyProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).optional(),
  PULSE_HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000).default(15_000),
  PULSE_HTTP_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  PULSE_HTTP_KEEPALIVE_TIMEOUT_MS: int(100, 600_000).default(65_000),
  PULSE_JOURNAL: onOff.default('on'),
  PULSE_JOURNAL_FSYNC: onOff.default('on'),
  PULSE_JOURNAL_FSYNC_MS: int(0, 1000).default(10),
  PULSE_JOURNAL_SEGMENT_MB: int(1, 4096).default(64),
  PULSE_JOURNAL_MAX_MB: int(16, 1_048_576).default(2048),
  PULSE_SPOOL_MAX_MB: int(16, 1_048_576).default(1024),
  PULSE_MIN_FREE_MB: int(0, 1_048_576).default(256),
  PULSE_WEEKLY_REPORT_CRON: z.string().trim().min(1).default(DEFAULT_WEEKLY_CRON),
  PULSE_WEEKLY_REPORT_NOTIFY: list.optional(),
  // Signed read-only links in messages (links/signedLinks.ts); the secret is generated into the data dir when unset.
  PULSE_LINK_SECRET: z.string().min(32, 'must be at least 32 characters (openssl rand -base64 32)').optional(),
  PULSE_LINK_TTL_DAYS: int(1, 365).default(7),
  // WeCom 客户联系 connector (connectors/wecom): callbacks and the daily statistics pull.
  WECOM_CORP_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be the 企业ID from 我的企业 → 企业信息 (letters and digits, e.g. ww1234567890abcdef)').optional(),
  WECOM_CALLBACK_TOKEN: z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'must be the callback Token: letters and digits, at most 32 (as set under 接收事件服务器)').optional(),
  WECOM_CALLBACK_AES_KEY: z.string().superRefine((v, ctx) => {
    const problem = aesKeyProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).optional(),
  WECOM_CALLBACK_MAX_AGE_SECONDS: int(10, 86_400).default(300),
  WECOM_CORP_SECRET: z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, 'must be the Secret of the 客户联系 / self-built app that may read customer-contact statistics').optional(),
  WECOM_API_BASE: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL (default https://qyapi.weixin.qq.com)' }).default('https://qyapi.weixin.qq.com'),
  WECOM_STATS_CRON: z.string().trim().min(1).default('30 8 * * *'),
  WECOM_STATS_BACKFILL_DAYS: int(1, 180).default(180),
  // Morning brief (brief/morningBrief.ts): cron in PULSE_TIMEZONE, `off` to stop; which KPIs go to which robot.
  PULSE_BRIEF_CRON: z.string().trim().min(1).default('0 9 * * *'),
  PULSE_BRIEF_SUBSCRIPTIONS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
type Env = z.infer<typeof EnvSchema>;

/**
 * The demo's traffic at the evening peak (events/s), live and history alike: a mid-size
 * brand's private domain (~220,000 events a day, ~10,000 members active a day in the
 * simulator's 20,000-member pool). 30 days of it (~6.6 million events) fill in minutes on a
 * 2-core machine; the former 60/s live rate would be 75 million events, ~19 million stored
 * rows: more than the embedded store holds in its 1 GB memory limit. PULSE_SIMULATOR_RATE overrides it.
 */
export const DEMO_SIMULATOR_RATE = 5;

export interface Config {
  /**
   * Ingest journal (fsynced before the 202, replayed after a crash) and the write spool
   * (keeps flushed rows through a store outage), both under the data dir.
   */
  durability: {
    journal: boolean;
    fsync: boolean;
    fsyncMs: number;
    segmentBytes: number;
    journalMaxBytes: number;
    spoolMaxBytes: number;
    /** Start-up refuses a data dir with less free space than this. */
    minFreeBytes: number;
  };
  port: number;
  host: string;
  dataDir: string;
  /** Embedded demo: simulator on, keys generated, wall labelled 演示数据. */
  demo: boolean;
  store:
    | { kind: 'duckdb'; file: string; memoryLimit: string; checkpointThreshold?: string }
    | { kind: 'influx'; url: string; db: string; token?: string; user?: string; password?: string; timeoutMs: number; maxQueries: number };
  /** PULSE_CLUSTER_REDIS_URL: several nodes share Redis + InfluxDB; null on a single node. */
  /** advertiseUrl null: http://<bound address or host name>:<port>, known once listening. */
  cluster: { redisUrl: string; prefix: string; leaseMs: number; advertiseUrl: string | null } | null;
  /** This writer's name in the stored sketch rows: 'main' on a single node. */
  nodeId: string;
  ingestKeys: string[];
  /**
   * Public (browser / mini-program) ingest keys: they sit in page source, so they may send
   * only browser-originated types, only from the configured origins / mini-programs, and
   * at a per-IP rate (ingest/publicScope.ts).
   */
  publicIngest: {
    keys: string[];
    perIp: { perSecond: number; burst: number };
    miniProgramAppIds: string[];
  };
  /** null: read routes are open (demo bound to loopback only). */
  readToken: string | null;
  /** null: admin routes are disabled. */
  adminToken: string | null;
  /** Which secrets were generated at start-up (printed once so the user can use them). */
  generated: { ingestKey: boolean; readToken: boolean; adminToken: boolean };
  simulator: { enabled: boolean; peakEventsPerSecond: number };
  /**
   * Demo only: the demo rule (alerts/rules-demo) and a scheduled simulator swing this many
   * ms after start-up, so a first run shows a real alert; null: off (or not the demo).
   */
  demoAlertAfterMs: number | null;
  /** Demo only: days of simulated history filled through the import path on the first start (0: none), at this peak rate. */
  /** Demo only: days of history before today, at the live simulator's rate and shape. */
  demoHistory: { days: number } | null;
  bucketMs: number;
  latenessMs: number;
  /** PULSE_HISTORY_DAYS in ms: events older than this are refused as too_late. */
  historyMs: number;
  /** PULSE_DEDUP_HOURS in ms: the id ledger's window. */
  dedupWindowMs: number;
  flushMs: number;
  /** PULSE_WALL_PUSH_MS: the earliest tick after new events (live/hub.ts). */
  wallPushMs: number;
  /** null: read from / created in the data dir by the salt module. */
  salt: string | null;
  timezone: string;
  businessName: string;
  /** PULSE_CHANNEL_NAMES: the team's names for its channel ids (wall, reports, DingTalk). */
  channelNames: Record<string, Label>;
  ingestRate: { perSecond: number; burst: number };
  limits: { channel: number; community: number; campaign: number };
  /** Pushes a member may get per local day before push_over_cap_share counts them (触达频率上限). */
  pushCapPerDay: number;
  staticDir: string | null;
  /** YAML of wall boards (validated by the boards module at start-up); null: built-ins only. */
  boardsFile: string | null;
  /** 社群 id → name mapping file (YAML or JSON), or null. */
  communityNamesFile: string | null;
  /** 沉默群: a group that sent no message for this many local days (today included). */
  silentGroupDays: number;
  /** YAML of KPI targets (validated at start-up); null: the seed's defaults. */
  targetsFile: string | null;
  alerts: {
    /** null: the rules shipped in alerts/rules. */
    rulesDir: string | null;
    notifiersFile: string | null;
    intervalMs: number;
    /** Base of links in messages; null: the server's own URL. */
    publicUrl: string | null;
    /** DINGTALK_* / WECOM_* settings for the one-robot setup (read by the notifier config). */
    notifierEnv: Record<string, string | undefined>;
  };
  /** HTTP server limits and browser-facing policy (http/security.ts, server.ts). */
  http: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Exact origins allowed to call the API from a browser; empty: CORS off. */
    corsOrigins: string[];
    /** Express `trust proxy` (hop count or proxy addresses) so req.ip is the client's; null: off. */
    trustProxy: number | string[] | null;
  };
  /** Weekly report (数据周报). */
  reports: {
    /** Cron expression in the business time zone; null: no schedule (on demand only). */
    cron: string | null;
    /** Notifier ids a report is sent to; null: `dingtalk` when configured; []: the page only. */
    notify: string[] | null;
  };
  /** Morning brief (日报). */
  brief: {
    /** Cron in the business time zone; null: off. */
    cron: string | null;
    /** `robot:kpi,kpi;robot:kpi` (validated against the catalogue and notifiers at start-up); undefined: the default board to dingtalk. */
    subscriptions: string | undefined;
  };
  /** Signed read-only links carried by messages. */
  links: {
    /** null: kept in (or generated into) `<data dir>/link-secret`. */
    secret: string | null;
    ttlMs: number;
  };
  /** WeCom 客户联系 connector; each part is null when not configured. */
  wecom: {
    callback: { corpId: string; token: string; aesKey: string; maxAgeMs: number } | null;
    stats: { corpId: string; secret: string; apiBase: string; cron: string | null; backfillDays: number } | null;
  };
  logLevel: Env['LOG_LEVEL'];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || host.startsWith('127.');

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`PULSE_CONFIG_FILE: cannot read ${file}: ${(err as Error).message}`]);
  }
  const parsed: unknown = parseYaml(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`PULSE_CONFIG_FILE: ${file} must be a YAML mapping of setting names to values`]);
  }
  // Numbers / booleans in YAML become strings so the same coercion rules apply as for env;
  // a mapping (PULSE_CHANNEL_NAMES) becomes JSON, one of that setting's two spellings.
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)]));
}

/** `PULSE_TRUST_PROXY`: off, a hop count, or proxy addresses / subnets (validated by trustProxyProblem). */
function parseTrustProxy(v: string | undefined): number | string[] | null {
  if (v === undefined || v === 'off') return null;
  if (/^\d+$/.test(v)) return Number(v);
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

const newSecret = () => randomBytes(18).toString('base64url');

/** Parses and cross-checks the settings. Throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const fromFile = env.PULSE_CONFIG_FILE ? readConfigFile(env.PULSE_CONFIG_FILE) : {};
  const known = new Set(Object.keys(EnvSchema.shape));
  const unknownInFile = Object.keys(fromFile).filter((k) => !known.has(k));
  const merged: Record<string, unknown> = { ...fromFile };
  for (const key of known) {
    const v = env[key];
    if (v !== undefined && v !== '') merged[key] = v;
  }
  const result = EnvSchema.safeParse(merged);
  const problems: string[] = unknownInFile.map((k) => `${k}: unknown setting in PULSE_CONFIG_FILE`);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '?');
      const got = merged[key];
      const shown = /TOKEN|KEYS|AES_KEY|PASSWORD|SALT|SECRET|WEBHOOK/.test(key) ? '' : got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
      problems.push(`${key}: ${issue.message}${shown}`);
    }
    throw new ConfigError(problems);
  }
  const e = result.data;
  const demo = e.PULSE_DEMO ? e.PULSE_DEMO === 'on' : e.PULSE_STORE === 'duckdb' && !e.PULSE_INGEST_KEYS;
  const host = e.HOST ?? (demo ? '127.0.0.1' : '0.0.0.0');

  let store: Config['store'];
  if (e.PULSE_STORE === 'influx') {
    if (!e.INFLUX_URL) problems.push('INFLUX_URL: required when PULSE_STORE=influx (e.g. http://127.0.0.1:8086)');
    if (!e.INFLUX_DB) problems.push('INFLUX_DB: required when PULSE_STORE=influx (the database, or the bucket name on 2.x)');
    if (e.INFLUX_TOKEN && (e.INFLUX_USER || e.INFLUX_PASSWORD)) {
      problems.push('INFLUX_TOKEN: give either INFLUX_TOKEN (2.x / 3.x) or INFLUX_USER + INFLUX_PASSWORD (1.x), not both');
    }
    if (Boolean(e.INFLUX_USER) !== Boolean(e.INFLUX_PASSWORD)) {
      problems.push('INFLUX_USER: INFLUX_USER and INFLUX_PASSWORD go together');
    }
    store = {
      kind: 'influx',
      url: e.INFLUX_URL ?? '',
      db: e.INFLUX_DB ?? '',
      token: e.INFLUX_TOKEN,
      user: e.INFLUX_USER,
      password: e.INFLUX_PASSWORD,
      timeoutMs: e.INFLUX_TIMEOUT_MS,
      maxQueries: e.INFLUX_MAX_QUERIES,
    };
  } else {
    store = {
      kind: 'duckdb',
      file: path.join(e.PULSE_DATA_DIR, 'pulse.duckdb'),
      memoryLimit: e.PULSE_DUCKDB_MEMORY_LIMIT,
      ...(e.PULSE_DUCKDB_CHECKPOINT_THRESHOLD ? { checkpointThreshold: e.PULSE_DUCKDB_CHECKPOINT_THRESHOLD } : {}),
    };
  }

  if (e.PULSE_CLUSTER_REDIS_URL && e.PULSE_STORE !== 'influx') {
    problems.push('PULSE_CLUSTER_REDIS_URL: a cluster needs PULSE_STORE=influx (several nodes cannot share the embedded DuckDB file); unset PULSE_CLUSTER_REDIS_URL to run one node on DuckDB');
  }
  if (e.PULSE_CLUSTER_REDIS_URL && !e.PULSE_SALT) {
    problems.push('PULSE_SALT: a cluster needs the same PULSE_SALT on every node (a salt generated in one node\'s data dir hashes the same member differently on each node, so members would be counted once per node); set it (openssl rand -hex 32) on all nodes');
  }
  if (!demo) {
    if (!e.PULSE_INGEST_KEYS?.length) problems.push('PULSE_INGEST_KEYS: required outside the embedded demo (comma-separated keys, ≥16 characters each)');
    if (!e.PULSE_READ_TOKEN) problems.push('PULSE_READ_TOKEN: required outside the embedded demo (≥16 characters)');
  }
  const readOpen = demo && isLoopback(host) && !e.PULSE_READ_TOKEN;
  if (e.PULSE_HTTP_HEADERS_TIMEOUT_MS > e.PULSE_HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('PULSE_HTTP_HEADERS_TIMEOUT_MS: must not exceed PULSE_HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  const publicKeys = e.PULSE_PUBLIC_INGEST_KEYS ?? [];
  const both = publicKeys.filter((k) => e.PULSE_INGEST_KEYS?.includes(k));
  if (both.length) problems.push('PULSE_PUBLIC_INGEST_KEYS: a key cannot be both public and secret (it is also in PULSE_INGEST_KEYS); give browsers their own key');
  if (publicKeys.length && !e.PULSE_CORS_ORIGINS?.length && !e.PULSE_MINIPROGRAM_APPIDS?.length) {
    problems.push('PULSE_PUBLIC_INGEST_KEYS: public keys are accepted only from the pages in PULSE_CORS_ORIGINS or the mini-programs in PULSE_MINIPROGRAM_APPIDS; set at least one of them');
  }
  if (e.PULSE_PUBLIC_BURST_PER_IP < e.PULSE_PUBLIC_RATE_PER_IP) problems.push('PULSE_PUBLIC_BURST_PER_IP: must be at least PULSE_PUBLIC_RATE_PER_IP (one second\'s worth)');
  const reportCron = e.PULSE_WEEKLY_REPORT_CRON === 'off' ? null : e.PULSE_WEEKLY_REPORT_CRON;
  const cronIssue = reportCron === null ? null : cronProblem(reportCron, e.PULSE_TIMEZONE);
  if (cronIssue) problems.push(`PULSE_WEEKLY_REPORT_CRON: ${cronIssue}, or off for no schedule (got ${JSON.stringify(reportCron)})`);
  const briefCronIssue = e.PULSE_BRIEF_CRON === 'off' ? null : cronProblem(e.PULSE_BRIEF_CRON, e.PULSE_TIMEZONE);
  if (briefCronIssue) problems.push(`PULSE_BRIEF_CRON: ${briefCronIssue}, or off for no morning brief (got ${JSON.stringify(e.PULSE_BRIEF_CRON)})`);
  const channelNames = parseChannelNames(e.PULSE_CHANNEL_NAMES ?? '');
  for (const p of channelNames.problems) problems.push(`PULSE_CHANNEL_NAMES: ${p}`);
  const wecomCallbackParts = [e.WECOM_CALLBACK_TOKEN, e.WECOM_CALLBACK_AES_KEY];
  if (wecomCallbackParts.some(Boolean) && !wecomCallbackParts.every(Boolean)) {
    problems.push('WECOM_CALLBACK_TOKEN: WECOM_CALLBACK_TOKEN and WECOM_CALLBACK_AES_KEY go together (both from 客户联系 → API → 接收事件服务器)');
  }
  if ((e.WECOM_CALLBACK_TOKEN || e.WECOM_CORP_SECRET) && !e.WECOM_CORP_ID) {
    problems.push('WECOM_CORP_ID: required with WECOM_CALLBACK_TOKEN / WECOM_CORP_SECRET (the 企业ID: callbacks must carry it as their receive id)');
  }
  const wecomCron = e.WECOM_STATS_CRON === 'off' ? null : e.WECOM_STATS_CRON;
  const wecomCronIssue = wecomCron === null ? null : cronProblem(wecomCron, e.PULSE_TIMEZONE);
  if (wecomCronIssue) problems.push(`WECOM_STATS_CRON: ${wecomCronIssue}, or off (got ${JSON.stringify(wecomCron)})`);
  if (problems.length) throw new ConfigError(problems);

  const generated = {
    ingestKey: !e.PULSE_INGEST_KEYS?.length,
    readToken: !readOpen && !e.PULSE_READ_TOKEN,
    adminToken: demo && !e.PULSE_ADMIN_TOKEN,
  };
  return {
    port: e.PORT,
    host,
    dataDir: e.PULSE_DATA_DIR,
    demo,
    store,
    ingestKeys: e.PULSE_INGEST_KEYS?.length ? e.PULSE_INGEST_KEYS : [newSecret()],
    publicIngest: {
      keys: publicKeys,
      perIp: { perSecond: e.PULSE_PUBLIC_RATE_PER_IP, burst: e.PULSE_PUBLIC_BURST_PER_IP },
      miniProgramAppIds: e.PULSE_MINIPROGRAM_APPIDS ?? [],
    },
    readToken: readOpen ? null : (e.PULSE_READ_TOKEN ?? newSecret()),
    adminToken: e.PULSE_ADMIN_TOKEN ?? (demo ? newSecret() : null),
    generated,
    simulator: { enabled: e.PULSE_SIMULATOR ? e.PULSE_SIMULATOR === 'on' : demo, peakEventsPerSecond: e.PULSE_SIMULATOR_RATE ?? (demo ? DEMO_SIMULATOR_RATE : 60) },
    demoAlertAfterMs: demo && e.PULSE_DEMO_ALERT !== 'off' ? e.PULSE_DEMO_ALERT * 1000 : null,
    demoHistory: demo && e.PULSE_DEMO_HISTORY_DAYS > 0 ? { days: e.PULSE_DEMO_HISTORY_DAYS } : null,
    bucketMs: e.PULSE_BUCKET_SECONDS * 1000,
    latenessMs: e.PULSE_LATENESS_SECONDS * 1000,
    historyMs: e.PULSE_HISTORY_DAYS * 86_400_000,
    cluster: e.PULSE_CLUSTER_REDIS_URL
      ? { redisUrl: e.PULSE_CLUSTER_REDIS_URL, prefix: e.PULSE_CLUSTER_PREFIX, leaseMs: e.PULSE_CLUSTER_LEASE_SECONDS * 1000, advertiseUrl: e.PULSE_CLUSTER_ADVERTISE_URL ?? null }
      : null,
    nodeId: e.PULSE_NODE_ID ?? (e.PULSE_CLUSTER_REDIS_URL ? hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'node' : 'main'),
    dedupWindowMs: e.PULSE_DEDUP_HOURS * 3_600_000,
    flushMs: e.PULSE_FLUSH_MS,
    wallPushMs: e.PULSE_WALL_PUSH_MS,
    salt: e.PULSE_SALT ?? null,
    timezone: e.PULSE_TIMEZONE,
    businessName: e.PULSE_BUSINESS_NAME,
    channelNames: channelNames.names,
    ingestRate: { perSecond: e.PULSE_INGEST_RATE, burst: e.PULSE_INGEST_BURST },
    limits: { channel: e.PULSE_MAX_CHANNELS, community: e.PULSE_MAX_COMMUNITIES, campaign: e.PULSE_MAX_CAMPAIGNS },
    pushCapPerDay: e.PULSE_PUSH_CAP_PER_DAY,
    staticDir: e.PULSE_STATIC_DIR ?? null,
    boardsFile: e.PULSE_BOARDS_FILE ?? null,
    communityNamesFile: e.PULSE_COMMUNITY_NAMES_FILE ?? null,
    silentGroupDays: e.PULSE_SILENT_GROUP_DAYS,
    targetsFile: e.PULSE_TARGETS_FILE ?? null,
    alerts: {
      rulesDir: e.PULSE_RULES_DIR ?? null,
      notifiersFile: e.PULSE_NOTIFIERS_FILE ?? null,
      intervalMs: e.PULSE_ALERT_INTERVAL_SECONDS * 1000,
      publicUrl: e.PULSE_PUBLIC_URL?.replace(/\/+$/, '') ?? null,
      notifierEnv: {
        ...env,
        DINGTALK_WEBHOOK: e.DINGTALK_WEBHOOK,
        DINGTALK_SECRET: e.DINGTALK_SECRET,
        DINGTALK_KEYWORD: e.DINGTALK_KEYWORD,
        DINGTALK_AT_MOBILES: e.DINGTALK_AT_MOBILES,
        WECOM_WEBHOOK: e.WECOM_WEBHOOK,
        WECOM_MENTIONED_MOBILES: e.WECOM_MENTIONED_MOBILES,
      },
    },
    http: {
      headersTimeoutMs: e.PULSE_HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.PULSE_HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.PULSE_HTTP_KEEPALIVE_TIMEOUT_MS,
      corsOrigins: e.PULSE_CORS_ORIGINS ?? [],
      trustProxy: parseTrustProxy(e.PULSE_TRUST_PROXY),
    },
    durability: {
      journal: e.PULSE_JOURNAL === 'on',
      fsync: e.PULSE_JOURNAL_FSYNC === 'on',
      fsyncMs: e.PULSE_JOURNAL_FSYNC_MS,
      segmentBytes: e.PULSE_JOURNAL_SEGMENT_MB * 1048576,
      journalMaxBytes: e.PULSE_JOURNAL_MAX_MB * 1048576,
      spoolMaxBytes: e.PULSE_SPOOL_MAX_MB * 1048576,
      minFreeBytes: e.PULSE_MIN_FREE_MB * 1048576,
    },
    reports: {
      cron: reportCron,
      // An empty environment variable counts as unset, so "page only" is spelled `none`.
      notify: e.PULSE_WEEKLY_REPORT_NOTIFY === undefined ? null : e.PULSE_WEEKLY_REPORT_NOTIFY.filter((id) => id !== 'none'),
    },
    links: { secret: e.PULSE_LINK_SECRET ?? null, ttlMs: e.PULSE_LINK_TTL_DAYS * 86_400_000 },
    wecom: {
      callback: e.WECOM_CORP_ID && e.WECOM_CALLBACK_TOKEN && e.WECOM_CALLBACK_AES_KEY
        ? { corpId: e.WECOM_CORP_ID, token: e.WECOM_CALLBACK_TOKEN, aesKey: e.WECOM_CALLBACK_AES_KEY, maxAgeMs: e.WECOM_CALLBACK_MAX_AGE_SECONDS * 1000 }
        : null,
      stats: e.WECOM_CORP_ID && e.WECOM_CORP_SECRET
        ? { corpId: e.WECOM_CORP_ID, secret: e.WECOM_CORP_SECRET, apiBase: e.WECOM_API_BASE.replace(/\/+$/, ''), cron: wecomCron, backfillDays: e.WECOM_STATS_BACKFILL_DAYS }
        : null,
    },
    brief: { cron: e.PULSE_BRIEF_CRON === 'off' ? null : e.PULSE_BRIEF_CRON, subscriptions: e.PULSE_BRIEF_SUBSCRIPTIONS },
    logLevel: e.LOG_LEVEL,
  };
}

/** The settings table for the README (kept next to the schema so they cannot drift). */
export const SETTING_NAMES = Object.keys(EnvSchema.shape);
