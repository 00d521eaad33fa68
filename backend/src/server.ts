/**
 * Composition root: the only place that wires modules together. `startPulse(config)` is
 * what tests call; running this file starts the product from the environment.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { AlertEngine, Calendar, Dispatcher, RulesLoader, loadNotifiers, type AlertState } from '@siyu-pulse/alerts';
import { CampaignService } from './calendar/campaigns.js';
import { campaignRouter } from './http/campaignRoutes.js';
import { communityRouter } from './http/communityRoutes.js';
import { CommunityNames } from './communities/names.js';
import { GroupRanking } from './communities/ranking.js';
import { CommunitySizes } from './communities/sizes.js';
import { CommunityBoardService } from './communities/board.js';
import { BacktestService } from './alerting/backtestService.js';
import { backtestRouter } from './http/backtestRoutes.js';
import { createKpiSource } from './alerting/kpiSource.js';
import { createLiveAlerts } from './alerting/liveAlerts.js';
import { createAlertSink } from './alerting/sink.js';
import { loadBoards } from './boards/boards.js';
import { channelLabel } from '@siyu-pulse/contracts/catalogue';
import { COUNTERS, DIMENSIONS } from '@siyu-pulse/contracts/catalogue';
import { KPIS, KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import type { DemoHistoryFill } from '@siyu-pulse/contracts/live';
import { setChannelNames } from '@siyu-pulse/contracts/catalogue';
import { applyTargets, loadTargets } from './catalogue/targets.js';
import { Collector } from './collector/collector.js';
import { WeComApi } from './connectors/wecom/api.js';
import { wecomCallbackRouter } from './connectors/wecom/callbackRoute.js';
import { WeComGroupInfo } from './connectors/wecom/groupInfo.js';
import { WECOM_STATS_WRITER, WeComDailyStats } from './connectors/wecom/dailyStats.js';
import { WeComStatsSchedule } from './connectors/wecom/schedule.js';
import { checkDataDir } from './durability/dataDir.js';
import { openDurability } from './durability/durability.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { resolveSalt } from './config/salt.js';
import { keepDemoSecrets } from './config/demoSecrets.js';
import { DisplayStore } from './displays/store.js';
import { PlaylistStore } from './displays/playlists.js';
import { alertRouter } from './http/alertRoutes.js';
import { feedbackRouter } from './http/feedbackRoutes.js';
import { FeedbackStore } from './feedback/store.js';
import { FiringIndex } from './feedback/firingIndex.js';
import { reportRouter } from './http/reportRoutes.js';
import { createApp, type SimulatorControl } from './http/app.js';
import { answerClientErrors } from './http/security.js';
import { REVOKED_MESSAGE, TokenSet, readAccess, type AccessPolicy } from './http/auth.js';
import { displayRouter } from './http/displayRoutes.js';
import { linkRouter } from './http/linkRoutes.js';
import { LinkSigner, resolveLinkSecret } from './links/signedLinks.js';
import { MorningBrief, MorningBriefSchedule, parseSubscriptions } from './brief/morningBrief.js';
import { briefRouter } from './http/briefRoutes.js';
import { wallRouter } from './http/wallRoutes.js';
import { LmdbIdLedger, type IdLedger } from './ingest/idLedger.js';
import { openCluster } from './cluster/cluster.js';
import { RedisLease } from './cluster/lease.js';
import { sharedAlertTicker } from './cluster/sharedTicker.js';
import { StoreLiveSource } from './cluster/storeLiveSource.js';
import { forwardToLeader } from './cluster/forward.js';
import { createMemberHasher } from './ingest/memberHash.js';
import { EventRateLimiter } from './ingest/rateLimit.js';
import { IngestService, type HistoryPath } from './ingest/service.js';
import { aggregateHistory } from './import/aggregate.js';
import { oneAtATime, slicer } from './time/turns.js';
import { oneReadAtATime } from './store/backgroundReads.js';
import type { CountableEvent } from './collector/counters.js';
import { ImportLedger } from './import/ledger.js';
import { ImportService } from './import/service.js';
import { BulkFeeder } from './ingest/bulk.js';
import { importRouter } from './http/importRoutes.js';
import { TagGuard } from './ingest/tagGuard.js';
import { LiveHub, type LiveGrant } from './live/hub.js';
import { YesterdaySoFar } from './live/yesterdaySoFar.js';
import { SnapshotService } from './live/snapshot.js';
import { MonthLive } from './live/monthLive.js';
import { HeldLogOutput, createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { SeriesService } from './query/series.js';
import { ReportDelivery } from './reports/delivery.js';
import { WeeklyReportSchedule } from './reports/schedule.js';
import { ReportService, reportTargets } from './reports/service.js';
import { ReportStore } from './reports/store.js';
import { lastCompleteWeek } from './reports/week.js';
import { createSimulatorControl } from './simulator/control.js';
import { demoHistoryPlan, demoPlanLevel, fillDemoHistory, type FillResult } from './simulator/history.js';
import { createDuckDbStore } from './store/duckdb/adapter.js';
import { createInfluxStore } from './store/influx/adapter.js';
import { dayOffsetOfZone, type RollupOptions } from './store/rollups.js';
import { InfluxClient } from './store/influx/client.js';
import { MonthValuesWriter } from './grafana/monthValues.js';
import type { MetricStore } from './store/port.js';
import { DAY, HOUR, MINUTE, dayStart, floorTo, tzOffsetMs } from './time/zone.js';
import { UptimeRecorder, overlaps, type Span } from './uptime/uptime.js';

export interface PulseHandle {
  url: string;
  port: number;
  config: Config;
  store: MetricStore;
  collector: Collector;
  ingest: IngestService;
  /** The WeCom statistics pull (null when WECOM_CORP_SECRET is not set). */
  wecomStats: WeComDailyStats | null;
  simulator: SimulatorControl | null;
  engine: AlertEngine;
  dispatcher: Dispatcher;
  displays: DisplayStore;
  links: LinkSigner;
  hub: LiveHub;
  http: HttpServer;
  /** Demo: the history fill (simulator/history.ts); resolves when done (null: none or it failed). */
  demoHistory: Promise<FillResult | null>;
  /** Flushes live buckets and waits until the spool has written them to the store. */
  flushToStore(): Promise<void>;
  /** Rows spooled but not yet in the store (back-pressure for bulk feeding: ingest/bulk.ts). */
  storeBacklog(): number;
  close(): Promise<void>;
}

/**
 * Bucket rows + distinct periods the collector may hold before ingest answers 503 (~600 B a
 * row: ~90 MB). Live traffic holds the lateness window (1,400 tag sets × 31 buckets ≈ 43,000
 * at 200 communities × 7 channels); history is written and evicted every flush.
 */
const MAX_HELD_ROWS = 150_000;

/** Events may be stamped this far ahead of the server clock (producer clock drift). */
const FUTURE_SKEW_MS = 60_000;

function influxOptions(s: Extract<Config['store'], { kind: 'influx' }>) {
  const { url, db, token, user, password, timeoutMs, maxQueries } = s;
  return { url, db, token, user, password, timeoutMs, maxQueries };
}

/** The per-group rollups' day alignment: the business zone's midnight (none in a zone with DST). */
function rollupOptions(config: Config): RollupOptions {
  return { dayOffsetMs: dayOffsetOfZone((at) => tzOffsetMs(config.timezone, at), Date.now()) };
}

async function openStore(config: Config): Promise<MetricStore> {
  const rollups = rollupOptions(config);
  // A cluster node tags its counter rows with its id so the nodes' rows add up (store/influx/adapter.ts).
  if (config.store.kind === 'influx') return createInfluxStore({ ...influxOptions(config.store), writerNode: config.cluster ? config.nodeId : undefined, rollups });
  mkdirSync(path.dirname(config.store.file), { recursive: true });
  return createDuckDbStore({
    rollups,
    file: config.store.file,
    memoryLimit: config.store.memoryLimit,
    ...(config.store.checkpointThreshold ? { checkpointThreshold: config.store.checkpointThreshold } : {}),
  });
}

// backend/dist/server.js (or backend/src/server.ts under tests) → the repository root
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Notifier ids the shipped rules may name even when that robot is not configured. */
const WELL_KNOWN_NOTIFIERS = ['dingtalk', 'wecom'];

/** Oldest day with any data in the store (baselines before it are "not enough history"). */
async function historyStart(store: MetricStore, now: number): Promise<number> {
  const from = now - 60 * DAY;
  const [series] = await store.queryCounters({ from, to: now + 1, stepMs: DAY, offsetMs: from % DAY, counters: COUNTERS, by: [], filter: {} });
  const first = series?.points.find((p) => Object.values(p.sums).some((v) => v > 0));
  return first ? first.ts : now;
}

export async function startPulse(configured: Config, logger: Logger = createLogger(configured.logLevel)): Promise<PulseHandle> {
  const startedAt = Date.now();
  // A read-only or full data dir stops start-up here, with the cause.
  checkDataDir(configured.dataDir, configured.durability.minFreeBytes);
  // Generated demo keys and tokens stay the same across restarts (kept in the data dir).
  const config = keepDemoSecrets(configured);
  const salt = resolveSalt(config.salt, config.dataDir);
  const metrics = createMetrics();
  // Configuration files first: a bad one stops start-up before anything is opened.
  const boards = loadBoards(config.boardsFile);
  const kpis = applyTargets(KPIS, loadTargets(config.targetsFile));
  // The team's channel names: every channelLabel() caller (wall API, reports, DingTalk) sees them.
  setChannelNames(config.channelNames);
  const displays = new DisplayStore({ dataDir: config.dataDir, onError: (err, msg) => logger.error({ err }, msg) });

  const store = await openStore(config);
  await store.init();
  // When the server was up (a heartbeat in the store): downtime reads as a gap, not as zero.
  const uptime = new UptimeRecorder(store, logger, { startedAt });
  await uptime.start();
  const wallSpans = [...(await uptime.upSpans(startedAt - 2 * HOUR, startedAt)), [startedAt, Number.POSITIVE_INFINITY] as Span];

  const durability = await openDurability({ dataDir: config.dataDir, latenessMs: config.latenessMs, ...config.durability }, store, logger, metrics);
  metrics.watchDurability(durability.state);
  const storeMemory = store.memory?.bind(store);
  if (storeMemory) metrics.watchStoreMemory(storeMemory);
  const collector = new Collector({
    node: config.nodeId,
    bucketMs: config.bucketMs,
    latenessMs: config.latenessMs,
    flushMs: config.flushMs,
    timezone: config.timezone,
    pushCapPerDay: config.pushCapPerDay,
    rollups: rollupOptions(config),
    store,
    sink: durability.spool,
    onFlushed: durability.onFlushed,
    logger,
    metrics: metrics.collector,
  });
  await collector.seedFromStore(durability.replayFrom ?? undefined);

  const tagGuard = new TagGuard(config.limits, {
    onOverflow: (dim) => metrics.tagOverflow(dim),
    onCapReached: (dim, limit, value) =>
      logger.warn(
        { dimension: dim, limit, firstRefused: value.slice(0, 64), setting: `PULSE_MAX_${dim === 'community' ? 'COMMUNITIES' : dim.toUpperCase() + 'S'}` },
        `${dim} cap reached: ${limit} distinct values admitted; later new values are stored as "(other)" (metric pulse_tag_overflow_total). If these are real ${dim} values, raise the setting; if a producer sends a random value per event, fix the producer`,
      ),
  });
  metrics.watchTags((dim) => tagGuard.usage(dim));
  for (const dim of DIMENSIONS) tagGuard.seed(dim, await store.tagValues(dim, startedAt - 30 * DAY, startedAt + DAY));
  const cluster = config.cluster ? await openCluster({ ...config.cluster, nodeId: config.nodeId, dedupWindowMs: config.dedupWindowMs, salt, fencingToken: () => lease?.fencingToken ?? 0 }, logger) : null;
  // Set once listening (it advertises this node's URL); read by the forwarding middleware.
  let lease: RedisLease | null = null;
  // A cluster's display tokens are in Redis: a wall's token works on every node.
  if (cluster) await displays.useShared(cluster.displays);
  const ledger: IdLedger = cluster?.ledger ?? LmdbIdLedger.open({ dir: path.join(config.dataDir, 'ids'), windowMs: config.dedupWindowMs, fsync: config.durability.fsync });
  const { replayed } = await durability.attach(collector, ledger);
  if (replayed) logger.warn({ events: replayed }, 'replayed acknowledged events from the journal that had not reached the store (the last run ended abruptly)');
  const ingest = new IngestService({
    log: durability.log,
    hashMember: createMemberHasher(salt),
    ledger,
    tagGuard,
    historyMs: config.historyMs,
    futureSkewMs: FUTURE_SKEW_MS,
    metrics: metrics.ingest,
    onLedgerError: (err) => logger.error({ err: err.message }, 'id ledger write failed: these ids stay known until restart, when the journal re-marks them'),
    busy: () => {
      const held = collector.heldRows();
      return held > MAX_HELD_ROWS ? `the collector holds ${held} rows not yet written (a burst of history faster than the store takes it); retry in a few seconds` : null;
    },
  });
  // Imports (npm run import, the demo's history): each batch counted once (import/ledger.ts).
  // History older than the collector's range goes the aggregated way where the store can
  // apply a batch with its mark atomically (DuckDB; import/aggregate.ts); the rest, and every
  // batch on InfluxDB, takes the producers' path through the journal.
  const applyAdditive = store.applyAdditive?.bind(store);
  const historyPath: HistoryPath | undefined = applyAdditive && {
    cutoff: (now) => collector.historyCutoff(now),
    apply: oneAtATime(async (events: readonly CountableEvent[], mark: string) => {
      const slash = mark.lastIndexOf('/');
      // In slices with turns for the event loop (time/turns.ts): reads stay answered during an import.
      const batch = await aggregateHistory(events, { importId: mark.slice(0, slash), seq: Number(mark.slice(slash + 1)) }, {
        bucketMs: config.bucketMs,
        periodStart: (g, ts) => collector.periodStart(g, ts),
        pushCapPerDay: config.pushCapPerDay,
        node: config.nodeId,
        conflict: (rows, periods, groups) => collector.historyConflict(rows, periods, groups),
      }, slicer());
      const outcome = await applyAdditive(batch);
      if (outcome === 'applied' && batch.minTs !== null) collector.noteHistory(batch.minTs);
      return outcome;
    }),
  };
  const imports = new ImportService(
    new BulkFeeder({ ingest, collector, backlog: () => durability.spool.backlog().rows, flushToStore: () => flushToStore() }),
    ImportLedger.open(config.dataDir, [...durability.importedBatches, ...((await store.importMarks?.()) ?? [])]),
    historyPath && ((items, parseErrors, mark) => ingest.acceptHistory(items, parseErrors, mark, historyPath)),
  );

  // Signed read-only links carried by every message (alerts, reports, the morning brief).
  // A cluster without PULSE_LINK_SECRET signs with one secret kept in Redis (rotate by setting PULSE_LINK_SECRET).
  const linkSecret =
    cluster && !config.links.secret
      ? { secret: await cluster.sharedLinkSecret(() => resolveLinkSecret(null, config.dataDir).secret), persist: null }
      : resolveLinkSecret(config.links.secret, config.dataDir);
  const links = new LinkSigner({ secret: linkSecret.secret, ttlMs: config.links.ttlMs, ...(linkSecret.persist ? { persist: linkSecret.persist } : {}) });
  const policy: AccessPolicy = {
    ingest: new TokenSet(config.ingestKeys),
    ...(config.publicIngest.keys.length ? { publicIngest: new TokenSet(config.publicIngest.keys) } : {}),
    read: config.readToken === null ? null : new TokenSet([config.readToken]),
    admin: config.adminToken === null ? null : new TokenSet([config.adminToken]),
    displays,
    links,
  };
  // The business calendar (holidays, 调休, campaigns from its YAML files) plus campaigns made
  // through the admin API (kept in the data dir); one instance, so rules see API campaigns at once.
  const calendar = Calendar.shipped();
  const campaigns = new CampaignService({ calendar, dataDir: config.dataDir, onError: (err, msg) => logger.error({ err }, msg) });
  // Demo history (simulator/history.ts): its plan's seed is the live simulator's too, so both share
  // one member pool, and its shaped days (weekends, campaigns, trend) go on in the live traffic.
  const historyPlan = config.demoHistory && config.simulator.enabled ? demoHistoryPlan(config.dataDir, startedAt, config.timezone, config.demoHistory.days, config.simulator.peakEventsPerSecond, calendar) : null;
  const liveLevel = historyPlan ? demoPlanLevel(historyPlan, config.timezone, calendar) : undefined;
  const simulator = config.simulator.enabled
    ? createSimulatorControl((events) => ingest.accept(events), {
        peakEventsPerSecond: config.simulator.peakEventsPerSecond, timezone: config.timezone, ...(historyPlan ? { seed: historyPlan.seed } : {}), ...(liveLevel ? { levelAt: liveLevel } : {}),
        onError: (err) => logger.error({ err }, 'simulator sink failed'),
      })
    : null;

  // Set once the HTTP server is up (links in messages, the live hub for alert events).
  let publicUrl = `http://127.0.0.1:${config.port}`;
  const live: { hub?: LiveHub } = {};
  // Alerts: rules (hot-reloaded YAML) evaluated on live state + store history; state
  // changes to pulse_alerts and the socket; notifications through the durable dispatcher.
  const storedHistory = await historyStart(store, startedAt);
  // History starts at the minute of the oldest event (stored or backfilled into this process).
  const historySince = () => Math.min(storedHistory, floorTo(collector.earliestEventTs ?? storedHistory, MINUTE));
  // In a cluster this node's memory holds only its own share of the traffic: the evaluator
  // reads every window from the store, where all nodes' rows add up (flushed every PULSE_FLUSH_MS).
  // 社群 member counts (snapshots from the admin API / a connector) for the 退群潮 rule kind.
  const communitySizes = new CommunitySizes({ dataDir: config.dataDir, onError: (err, msg) => logger.error({ err }, msg) });
  // A cluster's walls read every node's rows from the store, so all show the same numbers;
  // a single node's wall reads its collector's memory.
  const clusterLive = config.cluster
    ? new StoreLiveSource({
        store,
        bucketMs: config.bucketMs,
        latenessMs: config.latenessMs,
        timezone: config.timezone,
        local: collector,
        onError: (err, what) => logger.warn({ err: (err as Error).message, what }, "the wall's cluster numbers were not read from the store (the last ones stay)"),
      })
    : null;
  const kpiSource = createKpiSource({
    collector: config.cluster ? undefined : collector,
    // The alert engine's bursts of reads one at a time on the embedded store, so one of its
    // two read connections stays free for the API and the wall (store/backgroundReads.ts).
    store: store.kind === 'duckdb' ? oneReadAtATime(store) : store,
    timezone: config.timezone,
    historySince,
    kpis,
    communitySizes: () => communitySizes.all(),
    // Deadman rules: arrivals per channel on every node (a cluster's evaluator sees them all).
    ...(clusterLive ? { lastSeenByChannel: () => clusterLive.freshness().byChannel } : {}),
  });
  const notifiers = loadNotifiers({ file: config.alerts.notifiersFile ?? undefined, env: config.alerts.notifierEnv });
  const dispatcher = new Dispatcher({
    outboxDir: path.join(config.dataDir, 'outbox'),
    // The delivery log (alert center → 通知渠道) is kept across restarts.
    logFile: path.join(config.dataDir, 'notifier-log.json'),
    // A cluster's outbox and delivery log are in Redis: the node that takes over delivers what
    // is owed and shows what the one before it tried.
    ...(cluster ? { outboxStorage: cluster.shared.outbox, logStorage: { read: () => cluster.shared.read('delivery-log'), write: (json: string) => cluster.shared.write('delivery-log', json) } } : {}),
    notifiers,
    wallUrl: config.alerts.publicUrl ?? undefined,
    // Messages name channels as the wall does (企业微信, not wecom), groups by their 社群 names
    // (communityNames is built below; read at delivery), and say 演示数据 in the demo.
    style: { splitName: (dim, value) => (dim === 'channel' ? channelLabel(value).zh : dim === 'community' ? communityNames.label(value) : value), demo: config.demo },
    metrics: metrics.delivery,
    logger,
  });
  const rulesDir = config.alerts.rulesDir ?? path.join(REPO_ROOT, 'alerts/rules');
  const rulesLoader = new RulesLoader({
    dir: rulesDir,
    catalogue: kpiSource.catalogue(),
    notifiers: [...new Set([...notifiers.map((n) => n.id), ...WELL_KNOWN_NOTIFIERS])],
    logger,
  });
  await rulesLoader.start();
  // Demo: a short-window rule the scheduled demo swing fires (see alerts/rules-demo/demo.yaml),
  // kept apart from the shipped rules so production never loads it.
  const demoRulesDir = path.join(REPO_ROOT, 'alerts/rules-demo');
  const demoRules =
    config.demoAlertAfterMs !== null && simulator && existsSync(demoRulesDir)
      ? new RulesLoader({ dir: demoRulesDir, catalogue: kpiSource.catalogue(), notifiers: [...new Set([...notifiers.map((n) => n.id), ...WELL_KNOWN_NOTIFIERS])], logger })
      : null;
  await demoRules?.start();
  const rules = demoRules
    ? { rules: () => [...rulesLoader.rules(), ...demoRules.rules()], problems: () => [...rulesLoader.problems(), ...demoRules.problems()] }
    : rulesLoader;
  const linkBase = () => config.alerts.publicUrl ?? publicUrl;
  // Weekly report: kept under the data dir, sent through the same dispatcher as alerts.
  const series = new SeriesService(store, config.bucketMs, config.timezone, Date.now, uptime);
  const reports = new ReportStore(config.dataDir, cluster?.shared.reports);
  const reportDelivery = new ReportDelivery({ dispatcher, reports, businessName: config.businessName, reportUrl: (id) => links.withLink(`${linkBase()}/reports/${id}`), logger });
  const reportService = new ReportService({
    series,
    store,
    reports,
    delivery: reportDelivery,
    timezone: config.timezone,
    catalogue: () => kpis,
    // 社群健康 names groups as people know them (communityNames is built below; read at generation).
    communityName: (id) => communityNames.name(id),
    notify: reportTargets(config.reports.notify, notifiers.map((n) => n.id)),
    logger,
  });
  // 社群 names (mapping file + admin API) and per-group rankings over the stored counters.
  const communityNames = new CommunityNames({ dataDir: config.dataDir, ...(config.communityNamesFile ? { file: config.communityNamesFile } : {}), onError: (err, msg) => logger.error({ err }, msg) });
  const groupRanking = new GroupRanking(store, config.timezone);
  const communityBoard = new CommunityBoardService({ store, ranking: groupRanking, names: communityNames, timezone: config.timezone, silentDays: config.silentGroupDays });
  // WeCom's server API (WECOM_CORP_ID + WECOM_CORP_SECRET): the daily statistics below, and the
  // names and member counts of the customer groups the callback reports as changed.
  const wecomApi = config.wecom.stats ? new WeComApi({ baseUrl: config.wecom.stats.apiBase, corpId: config.wecom.stats.corpId, secret: config.wecom.stats.secret }) : null;
  const wecomGroups = wecomApi && config.wecom.callback ? new WeComGroupInfo({ api: wecomApi, names: communityNames, sizes: communitySizes, logger }) : null;
  // A cluster's API campaigns are in Redis: the evaluator's calendar has one made through any node.
  if (cluster) await campaigns.useShared(cluster.campaigns);
  // 社群 names and sizes too: the evaluator's 退群潮 rule and every node's board and search see one set.
  if (cluster) await Promise.all([communityNames.useShared(cluster.communityNames), communitySizes.useShared(cluster.communitySizes)]);
  // Wall playlists: a cluster's are read from Redis on every request.
  if (cluster) await new PlaylistStore(config.dataDir).seed(cluster.playlists);
  const playlists = new PlaylistStore(config.dataDir, Date.now, cluster?.playlists);
  // Feedback on firings (有效 / 误报): verdicts in the data dir, each open alert's firing event remembered.
  const feedback = new FeedbackStore({ dataDir: config.dataDir, ...(cluster ? { shared: { read: () => cluster.shared.read('feedback'), write: (json) => cluster.shared.write('feedback', json) } } : {}), onError: (err, msg) => logger.error({ err }, msg) });
  const firings = new FiringIndex();
  // Morning brief (日报): which KPIs go to which robot; default: the default board to dingtalk.
  const briefSubs = parseSubscriptions(config.brief.subscriptions, new Set(kpis.map((k) => k.id)));
  if (briefSubs.problems.length) throw new ConfigError(briefSubs.problems.map((p) => `PULSE_BRIEF_SUBSCRIPTIONS: ${p}`));
  const defaultBoard = boards.boards.find((b) => b.id === boards.default) ?? boards.boards[0];
  const morningBrief = new MorningBrief({
    series,
    store,
    dispatcher,
    kpis: () => kpis,
    subscriptions: briefSubs.subs ?? (notifiers.some((n) => n.id === 'dingtalk') && defaultBoard ? [{ notifier: 'dingtalk', kpis: defaultBoard.tiles }] : []),
    timezone: config.timezone,
    businessName: config.businessName,
    overviewUrl: () => links.withLink(`${linkBase()}/m`),
    demo: config.demo,
    logger,
  });
  // The wall's ticker: the engine's open alerts with the texts of their latest events.
  const liveAlerts = createLiveAlerts({ active: () => engine.active(), labelOf: (kpi) => KPI_BY_ID.get(kpi)?.label.zh ?? kpi });
  // In a cluster the ticker is the lease holder's, published through Redis for walls on the other nodes.
  const alertTicker = cluster
    ? sharedAlertTicker({
        local: liveAlerts.list,
        leader: () => lease?.leader ?? false,
        read: () => cluster.shared.read('live-alerts'),
        write: (json) => cluster.shared.write('live-alerts', json),
        logger,
      })
    : null;
  alertTicker?.start();
  const engine = new AlertEngine({
    source: kpiSource,
    sink: createAlertSink({
      store,
      broadcast: (events) => {
        liveAlerts.record(events);
        alertTicker?.publish();
        firings.record(events);
        live.hub?.broadcast('alert', events);
      },
      logger,
    }),
    // Awaited by the engine before it saves the alert's new state: a firing is in the outbox
    // (in a cluster: in Redis) before the evaluation counts it as told.
    outlet: {
      async enqueue(ns) {
        const queued = dispatcher.enqueue(ns);
        await dispatcher.flushed();
        return queued;
      },
    },
    ...(cluster ? { state: cluster.shared } : {}),
    rules,
    intervalMs: config.alerts.intervalMs,
    alignMs: config.bucketMs,
    timezone: config.timezone,
    // The same calendar the campaigns API writes to: a new campaign counts at the next evaluation.
    calendar,
    dataDir: config.dataDir,
    // Noise bands learnt by seasonal rules survive a restart (else 12 h of silence while re-learning).
    memoryFile: path.join(config.dataDir, 'alert-memory.json'),
    logger,
    linkFor: (kpi, split, from, to) => {
      // The engine chooses the span (the hour around the swing); the link opens exactly that.
      const q = new URLSearchParams({ kpi, from: String(from), to: String(to) });
      if (split) q.set(split.dim, split.value);
      return links.withLink(`${linkBase()}/trends?${q}`);
    },
    landingFor: (alertKey, ts) => links.withLink(`${linkBase()}/alert?${new URLSearchParams({ key: alertKey, at: String(ts) })}`),
  });

  // The wall's month-level tiles (月活, 留存率, …): recomputed every few minutes from the store.
  const monthLive = new MonthLive(store, config.timezone, (err) => logger.warn({ err }, 'month-level KPIs for the wall not computed'), Date.now, () =>
    // In a cluster, any node's new events (the store-backed source sees them all), not only this node's.
    (clusterLive ?? collector).freshness().lastEventAt,
  );
  const yesterdaySoFar = new YesterdaySoFar(store, config.timezone, (err) => logger.warn({ err }, "yesterday's figures for the wall's comparison not read"));
  await clusterLive?.start();
  /** Demo: today from midnight is in memory (its history filled through the collector, yesterday stored). */
  let demoTodayFrom: number | null = null;
  /** Demo: the history fill's progress while it runs (the pages' 演示历史填充中 x/y 天); null when none runs. */
  let demoFill: DemoHistoryFill | null = null;
  const snapshots = new SnapshotService({
    month: () => monthLive.current(),
    yesterdayFromStore: (from, to) => yesterdaySoFar.sums(from, to),
    source: clusterLive ?? collector,
    timezone: config.timezone,
    demo: config.demo,
    businessName: config.businessName,
    // The demo's history of today (from midnight, through the collector) and yesterday (in the
    // store) make today's figures comparable with yesterday's once both are in.
    coverageSince: clusterLive ? clusterLive.coverageSince : () => Math.min(startedAt, collector.seededSince ?? startedAt, demoTodayFrom ?? Infinity),
    alerts: alertTicker?.list ?? liveAlerts.list,
    demoHistory: () => demoFill,
    wasUp: (from, to) => overlaps(wallSpans, from, to),
  });

  const perIp = new EventRateLimiter(config.publicIngest.perIp.perSecond, config.publicIngest.perIp.burst);
  const app = createApp({
    policy,
    cluster: () => (lease ? { node: config.nodeId, leader: lease.leader } : null),
    beforeApi: config.cluster ? forwardToLeader({ get leader() { return lease?.leader ?? false; }, leaderUrl: async () => (await lease?.leaderUrl()) ?? null }) : undefined,
    publicKeys: { corsOrigins: config.http.corsOrigins, miniProgramAppIds: config.publicIngest.miniProgramAppIds, perIp },
    trustProxy: config.http.trustProxy,
    ingest,
    limiter: new EventRateLimiter(config.ingestRate.perSecond, config.ingestRate.burst),
    series,
    snapshots,
    store,
    metrics,
    logger,
    staticDir: config.staticDir ?? path.join(REPO_ROOT, 'frontend/dist'),
    timezone: config.timezone,
    kpis,
    demo: config.demo,
    demoHistory: () => demoFill,
    simulator,
    storeWriteProblem: () => durability.problem() ?? collector.lastError,
    backlog: () => {
      const st = durability.state();
      return { spoolRows: st.spoolRows, spoolBytes: st.spoolBytes, spoolOldestAgeSeconds: st.spoolOldestAt === null ? 0 : Math.round((Date.now() - st.spoolOldestAt) / 1000), journalBytes: st.journalBytes, journalSegments: st.journalSegments };
    },
    security: { https: config.alerts.publicUrl?.startsWith('https:') ?? false, corsOrigins: config.http.corsOrigins },
    routers: [
      // WeCom 客户联系 callbacks into the same ingest path (no ingest key: WeCom signs them).
      ...(config.wecom.callback
        ? [wecomCallbackRouter({ config: config.wecom.callback, ingest, logger, registry: metrics.registry, ...(wecomGroups ? { onGroupChange: (chat: string) => wecomGroups.changed(chat) } : {}) })]
        : []),
      alertRouter({ policy, engine, dispatcher, store, feedback: { forEvent: (id) => feedback.get(id), firingOf: (key) => firings.of(key) }, landing: { series, source: kpiSource, kpis: () => kpis } }),
      feedbackRouter({ policy, store, feedback, ruleIds: () => engine.status().rules.map((r) => r.rule.id) }),
      campaignRouter({ policy, campaigns }),
      communityRouter({ policy, names: communityNames, sizes: communitySizes, knownIds: () => tagGuard.values('community'), ranking: groupRanking, board: communityBoard, store, timezone: config.timezone }),
      backtestRouter({
        policy,
        service: new BacktestService({ store, catalogue: () => kpiSource.catalogue(), kpis, timezone: config.timezone, alignMs: config.bucketMs, historySince, calendar, rulesDir }),
        rulesDir,
        fileOf: (id) => rulesLoader.rules().find((r) => r.id === id)?.file,
      }),
      reportRouter({ policy, service: reportService, reports }),
      importRouter({ policy, imports, storeKind: config.store.kind }),
      linkRouter({ policy, signer: links, rotatable: linkSecret.persist !== null, baseUrl: linkBase }),
      briefRouter({ policy, brief: morningBrief }),
      displayRouter({
        policy,
        displays,
        baseUrl: linkBase,
        connected: (id) => live.hub?.displayClients(id) ?? 0,
        disconnect: (id) => live.hub?.revokeDisplay(id) ?? 0,
      }),
      wallRouter({
        policy,
        boards,
        playlists,
        displayActive: (id) => {
          const d = displays.get(id);
          return d !== undefined && d.revokedAt === undefined;
        },
        send: async (message, target) => (await live.hub?.control(message, target)) ?? 0,
      }),
    ],
  });
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = config.http;
  // Slow or stalled clients must not hold sockets forever: headers (slowloris) and the whole
  // request (a 5 MB batch on a slow link) each have a deadline, checked often enough that
  // it holds to within a quarter of the headers timeout (Node's default check is every 30 s).
  const http = createServer({ connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersTimeoutMs / 4))) }, app);
  http.headersTimeout = headersTimeoutMs;
  http.requestTimeout = requestTimeoutMs;
  // Longer than a reverse proxy's idle timeout (nginx / cloud load balancers: 60 s), so the
  // proxy, not us, closes idle upstream connections and never sends into one we are closing.
  http.keepAliveTimeout = keepAliveTimeoutMs;
  answerClientErrors(http);
  const hub = new LiveHub(http, {
    snapshots,
    authorize: (token): LiveGrant => {
      const access = readAccess(policy, token);
      if (access.ok) return access;
      return { ok: false, message: access.reason === 'revoked' ? REVOKED_MESSAGE : 'unauthorized: a read token is required (?token=… on the wall URL)' };
    },
    onClientCount: (n) => metrics.socketClients(n),
    onDisplaySeen: (id) => displays.touch(id),
    adapter: cluster?.socketAdapter,
    pushMs: config.wallPushMs,
  });
  live.hub = hub;
  // A single node's wall reads the collector: new events are worth an early tick. (A
  // cluster's wall reads the store, refreshed on its own schedule: heartbeat ticks only.)
  if (!clusterLive) collector.onCounted(() => hub.changed());

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  collector.start();
  yesterdaySoFar.start();
  monthLive.start();
  hub.start();
  // The demo's live traffic continues where the history this start planned ends (the start
  // moment; version 3). A kept plan ended at an earlier start: live traffic starts now.
  simulator?.start(historyPlan?.version === 3 && historyPlan.to === startedAt ? historyPlan.to : undefined);
  if (simulator && demoRules && config.demoAlertAfterMs !== null) {
    // Messages drop to a fifth for 6 minutes: demo_messages_drop fires about 1.5 minutes in
    // and resolves after the swing ends (firing and 已恢复, on the wall and in DingTalk).
    const swing = simulator.injectSwing({ kpi: 'messages', factor: 0.2, startAt: Date.now() + config.demoAlertAfterMs, durationMs: 6 * MINUTE });
    logger.info({ swing }, 'demo: a messages swing is scheduled so demo_messages_drop fires (PULSE_DEMO_ALERT=off to skip)');
  }
  // The wall is live now; the history fills behind it (not awaited).
  let historyStopped = false;
  const historyFill: Promise<FillResult | null> = historyPlan
    ? fillDemoHistory({
        imports, dataDir: config.dataDir, plan: historyPlan, timezone: config.timezone, logger, stopped: () => historyStopped,
        onProgress: (daysDone, daysTotal) => {
          demoFill = daysDone < daysTotal ? { daysDone, daysTotal, startedAt: demoFill?.startedAt ?? Date.now() } : null;
        },
        onDay: (day) => {
          logger.info({ day: new Date(day).toISOString(), seconds: Math.round((Date.now() - startedAt) / 100) / 10 }, 'demo: a day of history is in (演示数据)');
          // Today so far is filled first, then yesterday: from then on today is whole in this
          // process's memory and yesterday in the store (a plan of this start only: a kept plan's
          // today was another day, or filled by an earlier process).
          const today = dayStart(startedAt, config.timezone);
          if (historyPlan.version === 3 && historyPlan.to === startedAt && day === dayStart(today - 1, config.timezone)) demoTodayFrom = today;
        },
      }).then(
        (r) => {
          demoFill = null;
          if (r.batches) {
            logger.info({ events: r.events, batches: r.batches, seconds: Math.round(r.seconds * 10) / 10, yesterdaySeconds: r.yesterdaySeconds === null ? null : Math.round(r.yesterdaySeconds * 10) / 10, eventsPerSecond: Math.round(r.events / Math.max(r.seconds, 0.001)) }, 'demo: history filled (演示数据)');
            // Last week's report, made (or made up at start) before the history was there, now has it.
            if (!historyStopped) {
              void reportService.generate(lastCompleteWeek(Date.now(), config.timezone), { trigger: 'manual', notify: false }).catch((err: unknown) => logger.error({ err }, 'demo: weekly report after the history fill failed'));
            }
          }
          return r;
        },
        (err: unknown) => {
          demoFill = null;
          logger.error({ err }, 'demo: history fill failed (the next start resumes it)');
          return null;
        },
      )
    : Promise.resolve(null);
  // An alert firing before a restart goes on firing without a new event (the engine keeps its
  // state in alert-memory.json): its stored firing event is where 有效 / 误报 is given and its
  // text is the wall ticker's, so both are read back from the last stored events.
  try {
    const recent = await store.queryAlertEvents({ from: startedAt - 30 * DAY, to: startedAt + DAY, limit: 5000 });
    const oldestFirst = [...recent].reverse().map((r) => ({ ...r, state: r.state as AlertState }));
    firings.record(oldestFirst);
    liveAlerts.record(oldestFirst);
  } catch (err) {
    logger.warn({ err }, 'alerts: stored events not read back; feedback on alerts still firing waits for their next event');
  }
  // A cluster's node delivers only while it holds the lease (singletons below).
  if (!cluster) dispatcher.start();
  // Armed after start-up; a run missed while the server was down is made up in the background.
  const schedule = config.reports.cron ? new WeeklyReportSchedule({ cron: config.reports.cron, timezone: config.timezone, service: reportService, logger }) : null;
  const wecomStats = config.wecom.stats && wecomApi
    ? new WeComDailyStats({
        api: wecomApi,
        // A cluster: the statistics are written under a writer id of their own, not the
        // evaluating node's. Under the node's id, a new evaluator after a failover re-pulled
        // the last days into its own rows while the old evaluator's rows kept them (counted
        // twice), and the read-and-keep of live counters copied other nodes' first-bucket
        // counters into this node's row.
        store,
        ...(config.cluster ? { writer: WECOM_STATS_WRITER } : {}),
        dataDir: config.dataDir,
        backfillDays: config.wecom.stats.backfillDays,
        bucketMs: config.bucketMs,
        latenessMs: config.latenessMs,
        logger,
      })
    : null;
  const wecomSchedule = wecomStats && config.wecom.stats ? new WeComStatsSchedule({ stats: wecomStats, cron: config.wecom.stats.cron, timezone: config.timezone, logger }) : null;
  // Grafana reads InfluxDB with InfluxQL, which cannot merge sketches: month-level KPI values
  // are written per day to pulse_month (grafana/monthValues.ts).
  let monthValues: MonthValuesWriter | null = null;
  if (config.store.kind === 'influx') {
    const client = new InfluxClient(influxOptions(config.store));
    monthValues = new MonthValuesWriter({ store, write: (lines) => client.write(lines), timezone: config.timezone, onError: (err) => logger.warn({ err }, 'month KPI values for Grafana not written') });
  }
  const briefSchedule = config.brief.cron ? new MorningBriefSchedule({ cron: config.brief.cron, timezone: config.timezone, brief: morningBrief, logger }) : null;
  // Duties one node does for all (a cluster elects it through a Redis lease): alert rules
  // (a firing is pushed once, not once per node), the weekly report and morning brief, the
  // WeCom statistics pull, the Grafana month values. A single node simply does them.
  const singletons = {
    async start() {
      // A cluster's new evaluator starts from what the last one left in Redis: silences, acks,
      // open alerts and what their groups were told, verdicts, deliveries owed.
      if (cluster && !(await loadShared())) return;
      // Lost the lease while reading (its stop() ran meanwhile): the next holder does the duties.
      if (cluster && !lease?.leader) return;
      if (cluster) dispatcher.start();
      engine.start();
      schedule?.start().catch((err: unknown) => logger.error({ err }, 'weekly report schedule failed to start'));
      wecomSchedule?.start();
      monthValues?.start();
      briefSchedule?.start();
    },
    async stop() {
      await engine.stop();
      if (cluster) await dispatcher.pause();
      schedule?.stop();
      wecomSchedule?.stop();
      briefSchedule?.stop();
      await monthValues?.stop();
    },
  };
  /** Reads the shared state again; retried while this node holds the lease (false when it lost it). */
  const loadShared = async (): Promise<boolean> => {
    for (;;) {
      try {
        // The outbox first: the engine enqueues the last evaluation's notifications again, and
        // the outbox must know which it already has.
        await dispatcher.reload();
        await engine.reload();
        await feedback.reload();
        await reports.reload();
        return true;
      } catch (err) {
        logger.error({ err }, 'cluster: the shared alert state could not be read; retrying');
        if (!lease?.leader) return false;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };
  lease =
    cluster && config.cluster
      ? new RedisLease({
          url: config.cluster.redisUrl,
          key: cluster.leaseKey,
          node: config.nodeId,
          advertiseUrl: config.cluster.advertiseUrl ?? `http://${['0.0.0.0', '::'].includes(config.host) ? hostname() : config.host.includes(':') ? `[${config.host}]` : config.host}:${(http.address() as AddressInfo).port}`,
          ttlMs: config.cluster.leaseMs,
          logger,
          onChange: (leader) => (leader ? singletons.start() : singletons.stop()),
        })
      : null;
  if (lease) await lease.start();
  else await singletons.start();
  const sweep = setInterval(() => {
    ledger.sweep(Date.now()).catch((err: unknown) => logger.error({ err }, 'id ledger sweep failed'));
    perIp.sweep(Date.now());
  }, 10_000);
  sweep.unref();

  const port = (http.address() as AddressInfo).port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  publicUrl = url;
  if (notifiers.length && !config.alerts.publicUrl) {
    logger.warn(
      { notifiers: notifiers.map((n) => n.id), links: url },
      `PULSE_PUBLIC_URL is not set: links in DingTalk / WeCom messages will point at this server's own address (${url}), which phones in the group may not reach; set PULSE_PUBLIC_URL to the address people open the wall at`,
    );
  }
  let closed = false;
  const flushToStore = async () => {
    await collector.flush();
    await durability.spool.drainNow(store);
  };
  return {
    url,
    port,
    config,
    store,
    collector,
    ingest,
    wecomStats,
    simulator,
    engine,
    dispatcher,
    displays,
    links,
    hub,
    http,
    async flushToStore() {
      await flushToStore();
      // Derived from what was just stored: Grafana's month-level values of today and yesterday
      // and the wall's month tiles (not in the import's back-pressure flushes above: an import
      // would pay for them per batch).
      await monthValues?.pass(2);
      await monthLive.refresh();
    },
    demoHistory: historyFill,
    storeBacklog: () => durability.spool.backlog().rows,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweep);
      historyStopped = true;
      await historyFill;
      // Handing the lease over first lets a standby take the alert rules at once.
      await lease?.stop();
      simulator?.stop();
      await engine.stop();
      rulesLoader.close();
      demoRules?.close();
      schedule?.stop();
      wecomSchedule?.stop();
      await wecomStats?.idle();
      wecomGroups?.stop();
      await wecomGroups?.idle();
      briefSchedule?.stop();
      await monthValues?.stop();
      await monthLive.stop();
      await yesterdaySoFar.stop();
      await clusterLive?.stop();
      alertTicker?.stop();
      reportDelivery.close();
      await reportService.idle();
      await dispatcher.close();
      await hub.close();
      displays.close();
      campaigns.close();
      communityNames.close();
      communitySizes.close();
      await cluster?.close();
      await collector.stop();
      await durability.close(store);
      await ledger.close();
      imports.ledger.close();
      await uptime.stop();
      await store.close();
    },
  };
}

/** The start-up banner: what the user needs to open the wall and send the first events. */
export function bannerText(h: Pick<PulseHandle, 'config' | 'url' | 'dispatcher'>): string {
  const c = h.config;
  const kept = path.join(c.dataDir, 'demo-secrets.json');
  // Configured tokens are never printed (stdout ends up in logs); generated ones must be, once.
  const wall = !c.readToken ? `${h.url}/` : c.generated.readToken ? `${h.url}/?token=${encodeURIComponent(c.readToken)}` : `${h.url}/?token=<read token>`;
  const lines = [
    '',
    `  私域脉搏 Siyu Pulse${c.demo ? ' — 演示模式 / DEMO (simulated data)' : ''}`,
    `  Wall:        ${wall}`,
    `  Store:       ${c.store.kind === 'duckdb' ? `DuckDB ${c.store.file}` : `InfluxDB ${c.store.url} db=${c.store.db}`}`,
    `  Simulator:   ${c.simulator.enabled ? 'on' : 'off'}`,
  ];
  // Generated secrets are kept in the data dir (config/demoSecrets.ts): the same on every start.
  if (c.generated.ingestKey) lines.push(`  Ingest key:  ${c.ingestKeys[0]}   (generated once, kept in ${kept})`);
  if (c.generated.readToken && c.readToken) lines.push(`  Read token:  ${c.readToken}   (generated once, kept in ${kept})`);
  if (c.generated.adminToken && c.adminToken) lines.push(`  Admin token: ${c.adminToken}   (generated once, kept in ${kept})`);
  if (c.demo && c.generated.ingestKey) {
    // Advice that works when followed: production mode needs an ingest key AND a read token.
    lines.push(`  Production:  PULSE_INGEST_KEYS=<key ≥16 chars> PULSE_READ_TOKEN=<token ≥16 chars> npm start   (demo off, simulator off; README: Configuration)`);
  }
  const notifierIds = h.dispatcher.status().map((n) => n.id);
  if (notifierIds.length && !c.alerts.publicUrl) {
    lines.push(`  Links:       messages to ${notifierIds.join(', ')} link to ${h.url}: set PULSE_PUBLIC_URL to the address people open the wall at`);
  }
  lines.push(
    `  Send events: curl -X POST ${h.url}/api/v1/events -H 'Authorization: Bearer ${c.generated.ingestKey ? c.ingestKeys[0] : '<ingest key>'}' \\`,
    `                 -H 'Content-Type: application/json' -d '[{"type":"member.join","channel":"wecom","member":"u1"}]'`,
    '',
  );
  return `${lines.join('\n')}\n`;
}

export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Log lines written while starting are held and printed before the banner, as one block.
  const output = new HeldLogOutput();
  const logger = createLogger(config.logLevel, output);
  let handle: PulseHandle;
  try {
    handle = await startPulse(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'Siyu Pulse could not start');
    output.release();
    process.stderr.write(`Siyu Pulse could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  output.release(bannerText(handle));
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: flushing buckets to the store');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    handle.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  void main();
}
