/**
 * ROLE=engine: open the store fenced with token 0 (nothing can be written with it), wait for the lease
 * (a standby waits here, its store's writer thread already running), then fence the store with the
 * lease's token and build the engine exactly as a single process does (persistence restores positions
 * and portfolio; feeds subscribe), publish everything to edges (publisher.ts) and answer relayed mutations
 * (relay.ts). Losing the lease (or being fenced) is reported through `onLost`: the process must stop.
 */
import { Redis } from 'ioredis';
import type pino from 'pino';
import type { PerpscanApp } from '../app.js';
import { RedisPersistence } from '../persistence/redis.js';
import type { Persistence } from '../persistence/persistence.js';
import type { TradingCounters } from './events.js';
import { clusterKeys } from './keys.js';
import { EngineLease } from './lease.js';
import { ClusterPublisher } from './publisher.js';
import { EngineRelayServer } from './relay.js';

const STATS_EVERY_MS = 1000;
/** Fills carried in a snapshot (newest); edges keep as many. */
const SNAPSHOT_FILLS = 10_000;
const SNAPSHOT_REJECTIONS = 1_000;

export interface EngineRoleOptions {
  redisUrl: string;
  redisPrefix: string;
  basePath: string;
  logger: pino.Logger;
  leaseTtlMs?: number;
  snapshotMs?: number;
  /** Funding-board cadence (ms; written only when changed). Default 2,000. */
  fundingMs?: number;
  streamMaxLen?: number;
  /** Builds and starts the engine (buildApp) on this opened, fenced store. */
  build: (persistence: Persistence) => Promise<PerpscanApp>;
  /** The lease is gone or this engine was fenced off: stop now (a standby has taken over or will). */
  onLost: (reason: string) => void;
}

export interface ActiveEngine {
  perpscan: PerpscanApp;
  token: number;
  publisher: ClusterPublisher;
  lease: EngineLease;
  /** Stops publishing and answering, closes the engine, gives the lease up. */
  close(): Promise<void>;
}

export async function startEngineRole(opts: EngineRoleOptions): Promise<ActiveEngine> {
  const keys = clusterKeys(opts.redisPrefix);
  const log = opts.logger;
  const redis = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'engine-cluster' });
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'cluster: redis error'));
  await redis.connect();
  const persistence = new RedisPersistence({ url: opts.redisUrl, prefix: opts.redisPrefix, logger: log, fence: { key: keys.fence, token: 0 } });
  await persistence.open();
  const lease = new EngineLease({ redis, keys, ttlMs: opts.leaseTtlMs, logger: log });
  const waitStart = Date.now();
  const token = await lease.acquire();
  persistence.setFence({ key: keys.fence, token });
  log.info({ token, owner: lease.owner, waitedMs: Date.now() - waitStart }, 'cluster: this engine holds the lease');

  let lost = false;
  const loseOnce = (reason: string): void => {
    if (lost) return;
    lost = true;
    opts.onLost(reason);
  };
  lease.onLost(loseOnce);
  const perpscan = await opts.build(persistence);
  const { engine, strategy, feeds, fundingCheck, config, alerts, fundingBoard } = perpscan;
  const counters = (): TradingCounters => ({ rejections: strategy.rejectionCounts(), fills: strategy.fillCounts() });
  const publisher = new ClusterPublisher({
    redis,
    keys,
    token,
    opportunities: engine.bus,
    strategy: strategy.events,
    state: () => ({
      opportunities: engine.opportunities(),
      positions: strategy.positions(),
      portfolio: strategy.portfolio(),
      tradingState: strategy.tradingState(),
      feeds: feeds?.states() ?? [],
      fundingChecks: fundingCheck?.checks() ?? [],
      config: config.versioned,
      fills: strategy.fills().slice(-SNAPSHOT_FILLS),
      rejections: strategy.rejections(SNAPSHOT_REJECTIONS),
      stats: perpscan.engineStats(),
      alerts: alerts.view(),
      counters: counters(),
    }),
    funding: {
      board: () => {
        const tsMs = fundingBoard.now();
        return { tsMs, historySource: fundingBoard.historySource, rows: fundingBoard.rows({}, tsMs) };
      },
      everyMs: opts.fundingMs,
    },
    snapshotMs: opts.snapshotMs,
    streamMaxLen: opts.streamMaxLen,
    onFenced: () => loseOnce('fenced: another engine holds a newer token'),
    logger: log,
  });
  feeds?.onState((e) => publisher.push({ t: 'feed', e }));
  fundingCheck?.onResult((e) => publisher.push({ t: 'check', e }));
  config.onChange((next) => publisher.push({ t: 'config', e: next }));
  // Alerts and counters change without an event of their own: sent when they differ from the last sent.
  const lastSent = { alerts: JSON.stringify(alerts.view()), counters: JSON.stringify(counters()) };
  const pushChanged = (): void => {
    const view = alerts.view();
    const a = JSON.stringify(view);
    if (a !== lastSent.alerts) {
      lastSent.alerts = a;
      publisher.push({ t: 'alerts', e: view });
    }
    const c = counters();
    const cs = JSON.stringify(c);
    if (cs !== lastSent.counters) {
      lastSent.counters = cs;
      publisher.push({ t: 'counters', e: c });
    }
  };
  alerts.onChange(pushChanged);
  await publisher.start();
  const statsTimer = setInterval(() => {
    publisher.push({ t: 'stats', e: perpscan.engineStats() });
    pushChanged();
  }, STATS_EVERY_MS);
  const relay = new EngineRelayServer(opts.redisUrl, keys, perpscan.app, opts.basePath, log);
  await relay.start();
  log.info({ token }, 'cluster: engine active (publishing, answering relayed requests)');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(statsTimer);
      await relay.close();
      publisher.close();
      await perpscan.close();
      await lease.release();
      redis.disconnect();
    })();
    return closing;
  };
  return { perpscan, token, publisher, lease, close };
}
