/**
 * ROLE=edge: the dashboard, /ws and the read-only REST API served from an EngineMirror (Redis), with
 * mutations relayed to the engine. The same routes and the same stream hub as a single process run here
 * unchanged: they read the mirror through the API's views (server/api/ports.ts), and the hub takes the
 * mirror's rings as its input. Until the first snapshot arrives the API answers 503 (except health).
 */
import type { FastifyInstance } from 'fastify';
import type pino from 'pino';
import { DEFAULT_CONFIG, type VersionedConfig } from '../../shared/config.js';
import type { AlertsResponse } from '../../shared/alerts.js';
import type { FundingRow } from '../../shared/funding.js';
import type { Portfolio, Position } from '../../shared/position.js';
import type { EngineStats } from '../../shared/protocol.js';
import type { AccessPolicy } from '../api/access.js';
import { AuthFailureLimiter, type AuthFailureLimit } from '../api/auth-failures.js';
import type { ApiContext } from '../api/context.js';
import { sendError } from '../api/errors.js';
import { ApiMetrics } from '../api/metrics.js';
import { mountApi } from '../api/plugin.js';
import type { EngineView, FeedsView, StrategyView } from '../api/ports.js';
import { StreamHub } from '../api/stream/hub.js';
import { DEFAULT_AUTH_FAILURES, DEFAULT_WS_CLIENT_MESSAGES_PER_SEC, type HttpLimits } from '../config/env.js';
import { ConfigService } from '../config/service.js';
import { filterFundingRows } from '../funding/board.js';
import { createHttpServer } from '../http-server.js';
import { createPersistence } from '../persistence/index.js';
import type { Persistence } from '../persistence/persistence.js';
import { clusterKeys } from './keys.js';
import { EngineMirror } from './mirror.js';
import { DEFAULT_RELAY_TIMEOUT_MS, EdgeRelay, forwardedHeaders } from './relay.js';

export interface BuildEdgeOptions {
  redisUrl: string;
  redisPrefix: string;
  logger: pino.Logger;
  basePath?: string;
  trustProxy?: boolean | number | string;
  apiToken?: string | null;
  staticDir: string | null;
  access?: AccessPolicy;
  authFailures?: AuthFailureLimit;
  http?: Partial<HttpLimits>;
  wsClientMessagesPerSec?: number;
  rateLimit?: { max: number; timeWindowMs: number };
  /** How long a relayed mutation waits for the engine's answer before a 503. */
  relayTimeoutMs?: number;
  heartbeatMs?: number;
}

export interface PerpscanEdge {
  app: FastifyInstance;
  mirror: EngineMirror;
  hub: StreamHub;
  relay: EdgeRelay;
  close(): Promise<void>;
}

/** Raised by a view the API reaches only through a relayed route (the relay answers before any handler). */
class EngineOnly extends Error {
  constructor(what: string) {
    super(`${what} runs on the engine: an edge relays it (server/cluster/relay.ts)`);
  }
}

/** Paths an edge serves before it has the engine's state (everything else answers 503 until then). */
const SERVED_UNSYNCED = ['/api/health', '/api/ready', '/api/docs'];

export async function buildEdge(opts: BuildEdgeOptions): Promise<PerpscanEdge> {
  const logger = opts.logger;
  const base = opts.basePath ?? '';
  const keys = clusterKeys(opts.redisPrefix);
  const app = createHttpServer({ logger, trustProxy: opts.trustProxy, http: opts.http });
  const now = Date.now;

  const config = new ConfigService({ version: 0, config: DEFAULT_CONFIG, updatedMs: 0 }, () => undefined, now);
  let hub: StreamHub | null = null;
  const mirror = new EngineMirror({
    url: opts.redisUrl,
    keys,
    logger,
    connectionName: 'edge',
    listeners: {
      feed: (s) => hub?.publishFeed(s),
      fundingCheck: (c) => hub?.publishFundingCheck(c),
      config: (v: VersionedConfig) => config.adopt(v),
    },
  });
  const synced = <T>(value: T | null, what: string): T => {
    if (value === null) throw new EngineOnly(`${what} before the first snapshot`);
    return value;
  };
  const portfolio = (): Portfolio => synced(mirror.portfolio(), 'the portfolio');

  const liveHub = new StreamHub({
    opportunities: mirror.opportunityEvents,
    strategy: mirror.strategyEvents,
    state: {
      opportunities: () => mirror.opportunities(),
      positions: () => mirror.positions(),
      portfolio: () => mirror.portfolio(),
      tradingState: () => mirror.tradingState(),
      feeds: () => mirror.feeds(),
      fundingChecks: () => mirror.fundingChecks(),
      configVersion: () => config.version,
      engineStats: () => mirror.engineStats() ?? emptyEngineStats(now()),
    },
    stream: config.config.stream,
    logger: app.log,
    now,
    heartbeatMs: opts.heartbeatMs,
    clientLimits: { messagesPerSec: opts.wsClientMessagesPerSec ?? DEFAULT_WS_CLIENT_MESSAGES_PER_SEC },
  });
  hub = liveHub;
  config.onChange((next) => {
    liveHub.setStreamConfig(next.config.stream);
    liveHub.publishConfigVersion(next.version);
  });

  const engine: EngineView = { opportunities: () => mirror.opportunities() };
  const strategy: StrategyView = {
    positions: (): Position[] => mirror.positions(),
    position: (id) => mirror.position(id),
    fills: () => mirror.fills(),
    portfolio,
    rejections: (limit) => mirror.rejections(limit),
    tradingState: () => mirror.tradingState(),
    closePosition: () => {
      throw new EngineOnly('closing a position');
    },
    setTradingState: () => {
      throw new EngineOnly('the trading state');
    },
  };
  const feeds: FeedsView = {
    states: () => mirror.feeds(),
    restartVenue: () => Promise.reject(new EngineOnly('a feed restart')),
  };
  // Reads only (closed-opportunity history); the engine is the only writer of the store.
  const persistence: Persistence = createPersistence({ redisUrl: opts.redisUrl, prefix: opts.redisPrefix, logger });
  await persistence.open();
  const relay = new EdgeRelay(opts.redisUrl, keys, app.log, opts.relayTimeoutMs ?? DEFAULT_RELAY_TIMEOUT_MS);
  await relay.start();

  const metrics = new ApiMetrics({
    stats: () => liveHub.stats(),
    opportunityCounts: () => mirror.opportunityCounts(),
    feeds: () => mirror.feeds(),
    persistence: () => persistence.health(),
    stream: () => liveHub.counters,
    configVersion: () => config.version,
    portfolio,
    tradingState: () => mirror.tradingState(),
    // The engine's trading and alert counters, mirrored: one scrape target per edge is enough.
    rejectionCounts: () => mirror.tradingCounters().rejections,
    fillCounts: () => mirror.tradingCounters().fills,
    alerts: () => mirror.alerts()?.status ?? { fired: 0, suppressed: 0, deduplicated: 0, queued: 0, sent: 0, failed: 0, dropped: 0, sinks: [] },
    latency: () => ({ bus_to_sent: liveHub.latency.busToSent.cumulative, end_to_end: liveHub.latency.endToEnd.cumulative }),
  });
  const ctx: ApiContext = {
    engine,
    strategy,
    feeds,
    fundingChecks: () => mirror.fundingChecks(),
    // The engine's whole board, filtered here as the engine filters it; the clock is this edge's (the dashboard estimates its offset from it).
    fundingBoard: {
      rows: (filter): FundingRow[] => filterFundingRows(mirror.fundingBoard()?.rows ?? [], filter ?? {}),
      get historySource(): string | null {
        return mirror.fundingBoard()?.historySource ?? null;
      },
      now,
    },
    // Funding history (GET /api/funding/history[/status]) is relayed to the engine: its index is in the engine's memory.
    alerts: {
      view: (): AlertsResponse => synced(mirror.alerts(), 'the alerts config'),
      update: () => {
        throw new EngineOnly('an alerts update');
      },
      test: () => Promise.reject(new EngineOnly('a test alert')),
    },
    persistence,
    config,
    hub: liveHub,
    metrics,
    running: () => mirror.isSynced,
    startedMs: now(),
    apiToken: opts.apiToken ?? null,
    rateLimit: opts.rateLimit ?? { max: 120, timeWindowMs: 60_000 },
    authFailures: new AuthFailureLimiter(opts.authFailures ?? DEFAULT_AUTH_FAILURES, now),
  };

  app.addHook('onRequest', async (request, reply) => {
    if (mirror.isSynced) return;
    const path = request.url.slice(base.length).split('?')[0];
    if (!path.startsWith('/api') && path !== '/metrics' && path !== '/ws') return; // the dashboard's files
    if (SERVED_UNSYNCED.some((p) => path === p || path.startsWith(`${p}/`))) return;
    return sendError(reply, 503, 'engine_unavailable', null, 'this edge has not received the engine state yet');
  });
  // After the route's own checks (Host, Origin, token, rate limit, body schema): a mutation (or a read of engine-only state) runs on the engine.
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.relayToEngine !== true) return;
    const outcome = await relay.send({
      method: request.method,
      path: request.url.slice(base.length),
      headers: forwardedHeaders(request.headers),
      body: request.body === undefined ? null : JSON.stringify(request.body),
      remoteAddress: request.ip,
    });
    if (!outcome.ok) return sendError(reply, 503, 'engine_unavailable', null, outcome.reason);
    const r = outcome.reply;
    if (r.contentType) reply.type(r.contentType);
    for (const [name, value] of Object.entries(r.headers ?? {})) reply.header(name, value);
    return reply.code(r.status).send(r.body);
  });
  await mountApi(app, ctx, { basePath: base, staticDir: opts.staticDir, access: opts.access });
  await mirror.start();

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      liveHub.close();
      await app.close();
      await relay.close();
      await mirror.close();
      await persistence.close().catch(() => undefined);
    })();
    return closing;
  };
  return { app, mirror, hub: liveHub, relay, close };
}

/** Stats before the engine's first snapshot (the hub's stats timer runs from the start). */
function emptyEngineStats(tsMs: number): EngineStats {
  return { tsMs, updatesPerSec: 0, updatesTotal: 0, pipelineDropped: 0, rejected: {}, busMissed: {}, opportunitiesOpen: 0, quarantine: { total: 0, byExchange: {}, active: {}, review: [] }, wsClients: 0, latency: {} };
}
