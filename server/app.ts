/**
 * Builds one perpscan instance in-process: engine, persistence, strategy, feeds (simulator, live venues or
 * none), the stream hub and the Fastify app. `server/main.ts` listens on it; tests use `app.inject` or
 * listen on an ephemeral port.
 *
 * The main loop: feeds push records and call `engine.drain()`; the bus wakes its subscribers (strategy,
 * stream hub, persistence writer); a 250 ms timer calls `engine.sweep()`.
 */
import { DepthManager } from './feeds/depth-manager.js';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { type Config, DEFAULT_CONFIG, explicitInstruments, type VersionedConfig } from '../shared/config.js';
import type { Exchange } from '../shared/exchanges.js';
import type { FeedState } from '../shared/feeds.js';
import type { AccessPolicy } from './api/access.js';
import { AuthFailureLimiter, type AuthFailureLimit } from './api/auth-failures.js';
import { EngineStatsTracker } from './api/engine-stats.js';
import { ApiMetrics } from './api/metrics.js';
import { mountApi } from './api/plugin.js';
import type { ApiContext } from './api/context.js';
import { StreamHub } from './api/stream/hub.js';
import { DEFAULT_AUTH_FAILURES, DEFAULT_WS_CLIENT_MESSAGES_PER_SEC, type HttpLimits } from './config/env.js';
import { createHttpServer } from './http-server.js';
import { ConfigService } from './config/service.js';
import { type ConfigOrigin, describeConfigSource, pickStartupConfig } from './config/load.js';
import { Engine } from './engine/index.js';
import { FeedManager, type FrameRecorder, LIVE_ENDPOINTS, type VenueAdapter, type VenueEndpoints } from './feeds/index.js';
import { FundingCrossCheckRunner } from './feeds/funding-cross-check.js';
import { FundingBoard, engineFundingLegs } from './funding/board.js';
import { FundingBackfill, type BackfillSource } from './funding/backfill.js';
import { FundingHistoryStore } from './funding/history-store.js';
import { historyRealisedSource } from './funding/realised.js';
import { VENUES } from './venues/index.js';
import { defaultSymbol } from './venues/index.js';
import { normaliseInstrumentKey } from './venues/symbology.js';
import { createPersistence, recordMarketRecords, recordOpportunities } from './persistence/index.js';
import type { Persistence } from './persistence/persistence.js';
import type { EngineStats } from '../shared/protocol.js';
import { DEFAULT_CHURN, startSimulator, type ChurnOptions, type Simulator } from './simulator/index.js';
import { StrategyRunner } from './strategy/runner.js';
import { venueViewFromEngine, venueViewFromFeeds, type VenueFeedView } from './strategy/venue-state.js';
import { logFeedLive } from './logging.js';
import { AlertsService } from './alerts/service.js';
import type { DeliveryOptions, FetchFn } from './alerts/queue.js';
import { wireAlerts } from './alerts/wiring.js';

export type FeedsOption =
  | 'none'
  | 'live'
  | {
      simulator: {
        seed?: number;
        messagesPerSec?: number;
        dislocationsPerMin?: number;
        /** Generated universe of this many coins (instead of `config.market.instruments` on every venue); 0/absent = none. */
        universe?: number;
        /** Seconds between listings/delistings of the universe (0 = none; default the simulator's). */
        churnSec?: number;
      };
    }
  /** Connect to venues at these endpoints (e.g. a simulator the test started itself). */
  | { endpoints: Record<Exchange, VenueEndpoints> };

export interface BuildAppOptions {
  /** The start-up config (file + env) before persisted config is considered. Default DEFAULT_CONFIG. */
  config?: Config;
  /** When the config file last changed (decides file vs persisted config). */
  configFileMtimeMs?: number | null;
  /** Which file and env overrides built `config` (reported in the start-up log). */
  configOrigin?: ConfigOrigin;
  feeds?: FeedsOption;
  basePath?: string;
  trustProxy?: boolean | number | string;
  apiToken?: string | null;
  redisUrl?: string | null;
  redisPrefix?: string;
  /** Directory of the built dashboard; default dist/web; null = none. */
  staticDir?: string | null;
  recorder?: FrameRecorder;
  /** pino options or an existing logger; default silent (tests). */
  logger?: pino.LoggerOptions | pino.Logger | false;
  rateLimit?: { max: number; timeWindowMs: number };
  /** Host names served and cross-site origins allowed; default loopback names, same-origin only. */
  access?: AccessPolicy;
  /** Failed authentications per address before 429; default 10 per 60 s. */
  authFailures?: AuthFailureLimit;
  /** HTTP timeouts and the per-address connection cap; default 15 s / 10 s and no cap (main.ts passes 64). */
  http?: Partial<HttpLimits>;
  /** Messages a /ws client may send per second; default 20. */
  wsClientMessagesPerSec?: number;
  /** Start the main loop (strategy, sweep, feeds) inside buildApp. Default true. */
  start?: boolean;
  now?: () => number;
  heartbeatMs?: number;
  /** Engine bus capacity (events kept for slow subscribers). */
  busCapacity?: number;
  /** Venue adapters in place of the registry's (tests: a fake venue with fundingReferences). */
  adapters?: Partial<Record<Exchange, VenueAdapter>>;
  /** Funding cross-check cadence and thresholds (tests); defaults in server/feeds/funding-cross-check.ts. */
  fundingCheck?: { intervalMs?: number; firstDelayMs?: number; thresholdBps?: number; nextToleranceMs?: number };
  /**
   * Backfill 30 days of funding history from the venues' history endpoints at start-up (main.ts: on).
   * Default off (tests turn it on where they test it). Live settlements are recorded either way.
   */
  fundingBackfill?: boolean | { idleMs?: number; retryMs?: number; maxRequestsPerSecond?: number };
  /** An opened store to use instead of creating one from redisUrl (ROLE=engine: opened and fenced ahead of the lease). */
  persistence?: Persistence;
  /** Alert delivery tuning (queue size, retries, backoff, timeout) and an injected fetch (tests). */
  alerts?: { delivery?: Partial<DeliveryOptions>; fetch?: FetchFn };
}

export interface PerpscanApp {
  app: FastifyInstance;
  engine: Engine;
  strategy: StrategyRunner;
  feeds: FeedManager | null;
  /** The funding cross-check (null without feeds). */
  fundingCheck: FundingCrossCheckRunner | null;
  /** The funding board (GET /api/funding) and its live settled-rate tracker. */
  fundingBoard: FundingBoard;
  /** Settled funding per leg (memory index, Redis behind it when configured). */
  fundingHistory: FundingHistoryStore;
  /** The start-up backfill (null when off or without feeds). */
  fundingBackfill: FundingBackfill | null;
  simulator: Simulator | null;
  persistence: Persistence;
  hub: StreamHub;
  config: ConfigService;
  alerts: AlertsService;
  /** Engine counters and latency (what /ws stats carry before the hub adds its own). */
  engineStats(): EngineStats;
  /** Starts feeds, strategy and the sweep timer (done by buildApp unless `start: false`). */
  start(): Promise<void>;
  /** Stops feeds, flushes persistence, closes sockets and the HTTP server. Idempotent. */
  close(): Promise<void>;
}

const SWEEP_MS = 250;
/** Funding history older than its retention is dropped this often. */
const HISTORY_PRUNE_MS = 3_600_000;
/** The built dashboard: `dist/web` beside the sources (tsx) or beside the compiled server (`dist/server`). */
export const DEFAULT_STATIC_DIR = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../dist/web/' : '../web/', import.meta.url));

function isLogger(v: unknown): v is pino.Logger {
  return typeof v === 'object' && v !== null && typeof (v as pino.Logger).child === 'function' && typeof (v as pino.Logger).info === 'function';
}

export async function buildApp(opts: BuildAppOptions = {}): Promise<PerpscanApp> {
  const now = opts.now ?? Date.now;
  const logger: pino.Logger = isLogger(opts.logger) ? opts.logger : pino(opts.logger ? opts.logger : { level: 'silent' });
  const app = createHttpServer({ logger, trustProxy: opts.trustProxy, http: opts.http });
  const log = app.log;

  // In memory (no REDIS_URL) every retained event costs heap: keep a short event log there (the closed-
  // opportunity history has its own cap); Redis keeps the full default caps.
  const persistence =
    opts.persistence ??
    createPersistence({
      redisUrl: opts.redisUrl ?? undefined,
      prefix: opts.redisPrefix,
      logger,
      caps: opts.redisUrl ? undefined : { opportunityEvents: 5_000, marketRecordsPerExchange: 5_000 },
    });
  await persistence.open();

  // file → env (opts.config) → persisted config if newer → REST (ConfigService)
  const persisted = await persistence.loadConfig();
  const picked = pickStartupConfig({ config: opts.config ?? DEFAULT_CONFIG, fileMtimeMs: opts.configFileMtimeMs ?? null }, persisted, now());
  if (picked.persistedErrors.length > 0) log.warn({ errors: picked.persistedErrors }, 'persisted config is invalid; using the file/env config');
  const configService = new ConfigService(picked.versioned, (v: VersionedConfig) => persistence.saveConfig(v), now);
  if (picked.source === 'file') persistence.saveConfig(picked.versioned);
  // Without an origin: the defaults when no config was given, else a config object from the caller.
  const configSource = describeConfigSource(picked, opts.configOrigin ?? (opts.config ? null : { file: null, env: [] }));
  log.info({ version: picked.versioned.version, ...configSource }, `config loaded from ${configSource.source}`);
  if (configSource.ignored) log.warn({ ignored: configSource.ignored }, `the persisted config is newer: not applied: ${configSource.ignored.join(', ')}`);
  const config = configService.config;

  const engine = new Engine({ config, now, busCapacity: opts.busCapacity });
  // An explicit list has ids from the start (guessed spellings until the feeds register the real symbols);
  // with "all" the universe is known only from discovery.
  engine.preRegister(explicitInstruments(config.market), config.market.exchanges, defaultSymbol);
  // Exit rules see a venue as down only when its feed is (not when no quote arrived since start).
  let venues: VenueFeedView = venueViewFromEngine((ex) => engine.isExchangeDown(ex));
  const strategy = new StrategyRunner({ engine, config, persistence, now, venues: (ex) => venues(ex) });
  await strategy.restore();
  // Restored positions find their instrument ids (marks, exits) even where no list pre-registered them.
  const heldKeys = [...new Set(strategy.positions().map((p) => normaliseInstrumentKey(p.instrument)).filter((k): k is string => k !== null))];
  engine.preRegister(heldKeys, config.market.exchanges, defaultSymbol);

  let simulator: Simulator | null = null;
  let feeds: FeedManager | null = null;
  const feedsOpt = opts.feeds ?? 'none';
  let endpoints: Record<Exchange, VenueEndpoints> | null = null;
  if (feedsOpt === 'live') endpoints = LIVE_ENDPOINTS;
  else if (feedsOpt !== 'none' && 'endpoints' in feedsOpt) endpoints = feedsOpt.endpoints;
  else if (feedsOpt !== 'none' && 'simulator' in feedsOpt) {
    simulator = await startSimulator({
      seed: feedsOpt.simulator.seed,
      exchanges: config.market.exchanges,
      // With "all" the simulator lists its own universe.
      instruments: [...explicitInstruments(config.market)],
      universe: feedsOpt.simulator.universe,
      churn: simulatorChurn(feedsOpt.simulator.churnSec),
      messagesPerSec: feedsOpt.simulator.messagesPerSec,
      dislocationsPerMin: feedsOpt.simulator.dislocationsPerMin,
    });
    endpoints = simulator.endpoints;
  }
  if (endpoints) {
    feeds = new FeedManager({
      engine,
      exchanges: config.market.exchanges,
      instruments: config.market.instruments,
      exclude: config.market.exclude,
      minVenues: config.market.minVenues,
      discoveryRefreshMs: config.market.discoveryRefreshMs,
      venues: config.venues,
      endpoints,
      logger: logger,
      recorder: opts.recorder,
      now,
      adapters: opts.adapters,
    });
    const running = feeds;
    venues = venueViewFromFeeds(() => running.states(), (ex) => engine.isExchangeDown(ex));
  }
  // Order books for candidate instruments on their own sockets, next to the quote feeds (issue 14 §1).
  const depth = feeds ? new DepthManager({ engine, host: feeds, now, log: (level, msg) => log[level]({ component: 'depth' }, msg) }) : null;
  // Venues that publish others' funding are compared with ours now and then (System panel; never scoring).
  const fundingCheck = feeds
    ? new FundingCrossCheckRunner({
        sources: () => feeds!.fundingSources(),
        // A venue that is down or disabled has no current figures: its last ones would be flagged falsely.
        lookup: (venue, key, settle) => (engine.isExchangeDown(venue) ? null : engine.funding(key, venue, settle)),
        fetchJson: feeds.restFetch,
        now,
        logger,
        ...opts.fundingCheck,
      })
    : null;
  // Settled funding per leg: backfilled from the venues' history endpoints and recorded live by the board's
  // tracker; read from memory by the board's realised averages and (through the setter) the engine.
  const fundingHistory = new FundingHistoryStore({ now, redisUrl: opts.redisUrl, prefix: opts.redisPrefix, logger: logger.child({ component: 'funding-history' }) });
  engine.setFundingHistory(fundingHistory);
  const fundingLegs = engineFundingLegs(engine);
  // Read-only side view of the store's funding (GET /api/funding); sampled each second for settled rates.
  const fundingBoard = new FundingBoard({
    legs: fundingLegs,
    now,
    history: historyRealisedSource(fundingHistory),
    onSettled: (leg, settled) => fundingHistory.add(leg, [settled]),
    settlementRate: (leg, fundingMs) => engine.settlementRate(leg.instrument, leg.venue, fundingMs, leg.settle),
  });
  const backfillOpt = opts.fundingBackfill ?? false;
  const fundingBackfill =
    feeds && endpoints && backfillOpt
      ? new FundingBackfill({
          store: fundingHistory,
          sources: Object.fromEntries(
            config.market.exchanges.map((ex): [Exchange, BackfillSource | null] => {
              const history = (opts.adapters?.[ex] ?? VENUES[ex].adapter).fundingHistory;
              return [ex, history ? { history, rest: endpoints![ex].rest } : null];
            }),
          ),
          legs: fundingLegs,
          fetchJson: feeds.restFetch,
          now,
          logger,
          ...(typeof backfillOpt === 'object' ? backfillOpt : {}),
        })
      : null;

  const statsTracker = new EngineStatsTracker(() => engine.stats(), () => feeds?.latency() ?? {}, now);
  const feedStates = (): FeedState[] => feeds?.states() ?? [];
  const hub = new StreamHub({
    opportunities: engine.bus,
    strategy: strategy.events,
    state: {
      opportunities: () => engine.opportunities(),
      positions: () => strategy.positions(),
      portfolio: () => strategy.portfolio(),
      tradingState: () => strategy.tradingState(),
      feeds: feedStates,
      ...(fundingCheck ? { fundingChecks: () => fundingCheck.checks() } : {}),
      configVersion: () => configService.version,
      engineStats: () => statsTracker.stats(),
    },
    stream: config.stream,
    logger: log,
    now,
    heartbeatMs: opts.heartbeatMs,
    clientLimits: { messagesPerSec: opts.wsClientMessagesPerSec ?? DEFAULT_WS_CLIENT_MESSAGES_PER_SEC },
  });
  feeds?.onState((state) => hub.publishFeed(state));
  fundingCheck?.onResult((check) => hub.publishFundingCheck(check));
  // A store found empty while we run (Redis restarted without persistence) gets the full state again.
  persistence.setResyncSource(() => ({ config: configService.versioned, alerts: alerts.config, portfolio: strategy.portfolioState(), positions: strategy.positions(), fills: strategy.fills() }));
  feeds?.onState(logFeedLive(log));
  // Alerts: transitions from the bus, the strategy and the feeds, sent from bounded queues (server/alerts/).
  const alerts = new AlertsService({ store: persistence, logger: log.child({ component: 'alerts' }), delivery: opts.alerts?.delivery, fetch: opts.alerts?.fetch, now });
  await alerts.restore();
  const alertWiring = wireAlerts((e) => alerts.handle(e), { opportunities: engine.bus, strategy: strategy.events, feeds, now }, (kind) => alerts.wants(kind));
  const opportunityRecorder = recordOpportunities(engine.bus, persistence);
  // Market records for `--replay redis` (only worth their memory when they outlive the process).
  const stopMarketRecords = persistence.kind === 'redis' ? recordMarketRecords(engine, persistence, now) : null;

  configService.onChange((next, previous) => {
    engine.setConfig(next.config); // first: a disabled exchange's opportunities close `config_changed`
    const market = next.config.market;
    const before = previous.config.market;
    if (feeds && JSON.stringify(market) !== JSON.stringify(before)) {
      // Subscriptions follow the config (discovery/connects run in the background; errors land in FeedState).
      feeds.reconfigure(market).catch((err: unknown) => log.error({ err }, 'feed reconfiguration failed'));
    }
    // A venue whose options changed discovers again with them (and so follows them in its subscriptions).
    if (feeds && JSON.stringify(next.config.venues) !== JSON.stringify(previous.config.venues)) {
      feeds.setVenueOptions(next.config.venues).catch((err: unknown) => log.error({ err }, 'venue options change failed'));
    }
    strategy.setConfig(next.config);
    hub.setStreamConfig(next.config.stream);
    hub.publishConfigVersion(next.version);
  });

  let running = false;
  const metrics = new ApiMetrics({
    stats: () => hub.stats(),
    opportunityCounts: () => engine.stats().detector,
    feeds: feedStates,
    persistence: () => persistence.health(),
    stream: () => hub.counters,
    configVersion: () => configService.version,
    portfolio: () => strategy.portfolio(),
    tradingState: () => strategy.tradingState(),
    rejectionCounts: () => strategy.rejectionCounts(),
    fillCounts: () => strategy.fillCounts(),
    alerts: () => alerts.status(),
    ...(fundingBackfill ? { fundingHistory: () => fundingBackfill.status() } : {}),
    ...(depth ? { depth: () => depth.status() } : {}),
    latency: () => ({
      ...feeds?.latencyBuckets(),
      ...engine.latencyBuckets(),
      bus_to_sent: hub.latency.busToSent.cumulative,
      end_to_end: hub.latency.endToEnd.cumulative,
    }),
  });
  const ctx: ApiContext = {
    engine,
    strategy,
    feeds,
    ...(fundingCheck ? { fundingChecks: () => fundingCheck.checks() } : {}),
    ...(depth ? { depth: () => depth.status() } : {}),
    fundingBoard,
    fundingHistory: { view: fundingHistory, legs: () => fundingHistory.legs(), retentionMs: fundingHistory.retentionMs, status: () => fundingBackfill?.status() ?? null },
    persistence,
    alerts,
    config: configService,
    hub,
    metrics,
    running: () => running,
    startedMs: now(),
    apiToken: opts.apiToken ?? null,
    rateLimit: opts.rateLimit ?? { max: 120, timeWindowMs: 60_000 },
    authFailures: new AuthFailureLimiter(opts.authFailures ?? DEFAULT_AUTH_FAILURES, now),
  };
  await mountApi(app, ctx, { basePath: opts.basePath ?? '', staticDir: opts.staticDir === undefined ? DEFAULT_STATIC_DIR : opts.staticDir, access: opts.access });

  let sweepTimer: NodeJS.Timeout | null = null;
  let historyPruneTimer: NodeJS.Timeout | null = null;
  let startPromise: Promise<void> | null = null;
  const start = (): Promise<void> => {
    startPromise ??= (async () => {
      strategy.start();
      sweepTimer = setInterval(() => engine.sweep(), SWEEP_MS);
      running = true;
      if (feeds) {
        // Feeds connect in the background: a venue that is down must not block start-up.
        feeds.start().catch((err: unknown) => log.error({ err }, 'feeds failed to start'));
      }
      fundingCheck?.start();
      depth?.start();
      fundingBoard.start();
      // Loaded (Redis) and backfilled in the background: neither blocks start-up nor the engine.
      void fundingHistory.open().then(() => {
        if (running) fundingBackfill?.start();
      });
      historyPruneTimer = setInterval(() => fundingHistory.prune(), HISTORY_PRUNE_MS);
      historyPruneTimer.unref();
    })();
    return startPromise;
  };

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      running = false;
      if (sweepTimer) clearInterval(sweepTimer);
      // The strategy stops first: feeds going down for a shutdown are no reason to close positions.
      strategy.stop();
      fundingCheck?.stop();
      await depth?.stop().catch((err: unknown) => log.warn({ err }, 'depth feeds stop failed'));
      fundingBoard.stop();
      if (historyPruneTimer) clearInterval(historyPruneTimer);
      await fundingBackfill?.stop();
      await feeds?.stop().catch((err: unknown) => log.warn({ err }, 'feeds stop failed'));
      await simulator?.close().catch((err: unknown) => log.warn({ err }, 'simulator close failed'));
      hub.close();
      alertWiring.stop();
      alerts.close();
      opportunityRecorder.stop();
      stopMarketRecords?.();
      await app.close();
      // Waiting for a store that is away would only delay the exit: report what is lost instead.
      if (persistence.health().connected) await persistence.flush(2000).catch((err: unknown) => log.warn({ err }, 'persistence flush failed'));
      const unflushed = persistence.health().backlog;
      if (unflushed > 0) log.warn({ unflushed, connected: persistence.health().connected }, `shutdown: ${unflushed} persistence writes could not be flushed`);
      else log.info({ unflushed }, 'shutdown: persistence flushed');
      await persistence.close().catch((err: unknown) => log.warn({ err }, 'persistence close failed'));
      await fundingHistory.close().catch((err: unknown) => log.warn({ err }, 'funding history close failed'));
    })();
    return closing;
  };

  if (opts.start !== false) await start();
  return { app, engine, strategy, feeds, fundingCheck, fundingBoard, fundingHistory, fundingBackfill, simulator, persistence, hub, config: configService, alerts, engineStats: () => statsTracker.stats(), start, close };
}

/** SIM_CHURN_SEC → the simulator's churn: absent = its default, 0 = none, else that cadence (notice = 40 % of it). */
function simulatorChurn(churnSec: number | undefined): ChurnOptions | false | undefined {
  if (churnSec === undefined) return undefined;
  if (churnSec <= 0) return false;
  return { ...DEFAULT_CHURN, everySec: churnSec, noticeSec: Math.min(DEFAULT_CHURN.noticeSec, 0.4 * churnSec) };
}
