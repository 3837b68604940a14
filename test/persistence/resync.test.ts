/**
 * Trap: Redis restarted empty (no persistence) went unnoticed, and the next perpscan restart lost
 * positions, fills and the saved config. A real redis-server started here without persistence, a real
 * perpscan process under simulator load with positions; Redis is killed and started again empty; the
 * writer notices (epoch key), rewrites the full state and `/api/ready` reports the resync; a new
 * perpscan process then restores every position, every fill and the config.
 */
import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { VersionedConfig } from '../../shared/config.js';
import type { Fill, Position } from '../../shared/position.js';
import { describeWith } from '../helpers/services.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { RedisPersistence } from '../../server/persistence/redis.js';
import { deletePrefix, fill, portfolioState, position, PrivateRedis, SHARED_REDIS_URL, uniquePrefix, versionedConfig, waitFor, serverApi as api } from './helpers.js';

/** The fields of a position that do not move with the market (marks do; so does the stale-mark flag). */
function fixed(p: Position): unknown {
  const leg = (l: Position['long']) => ({ exchange: l.exchange, quantity: l.quantity, entryPrice: l.entryPrice, feesUsd: l.feesUsd, fundingUsd: l.fundingUsd });
  return { id: p.id, state: p.state, long: leg(p.long), short: leg(p.short), feesUsd: p.feesUsd, fundingUsd: p.fundingUsd, realisedPnlUsd: p.realisedPnlUsd, transitions: p.transitions };
}
const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));

interface Ready {
  ready: boolean;
  persistence: string;
  persistenceResyncs: number;
  lastResyncMs: number | null;
}

describeWith(['redis'], 'Redis restarted empty under load (real redis-server, child processes)', () => {
  let redis: PrivateRedis | null = null;
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.kill9();
    await redis?.destroy();
  });

  it('is detected, the full state is rewritten, and a restart then restores every position, fill and the config', async () => {
    redis = await PrivateRedis.start(); // no AOF, no RDB: a restart comes back empty
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('resync'), SIM_RATE: '2000', SIM_DISLOCATIONS_PER_MIN: '600' };
    const first = await startServerProcess({ env });
    servers.push(first);
    const put = await api<VersionedConfig>(first, '/config', {
      method: 'PUT',
      body: {
        thresholds: { minSpreadBps: 4.25 },
        strategy: { enabled: true, minProfitBps: -10_000, minConfidence: 0, minOpportunityAgeMs: 0, minOpportunityUpdates: 0, cooldownMs: 0 },
        exits: { exitSpreadBps: -10_000, takeProfitUsd: 0, stopLossUsd: 0, maxHoldingMs: 0, exitOnFundingFlip: false, onFeedDown: 'hold', minLiquidationDistancePct: 0 },
      },
    });
    expect(put.status).toBe(200);
    await waitFor(async () => (await api<{ count: number }>(first, '/positions?state=open')).body.count >= 2, 45_000, 'two open positions');
    expect((await api<Ready>(first, '/ready')).body).toMatchObject({ persistenceResyncs: 0, lastResyncMs: null });

    await redis.stop();
    await redis.start(); // empty (perpscan's writer may refill it within milliseconds)
    const probe = new Redis(redis.url);
    probe.on('error', () => {});

    // Detected on the writer's reconnect: the state comes back into Redis without a perpscan restart.
    await waitFor(async () => (await api<Ready>(first, '/ready')).body.persistenceResyncs >= 1, 20_000, 'the resync');
    const ready = (await api<Ready>(first, '/ready')).body;
    expect(ready).toMatchObject({ persistence: 'connected', persistenceResyncs: 1 });
    expect(typeof ready.lastResyncMs).toBe('number');

    // Freeze positions and fills, then take what the API shows.
    expect((await api(first, '/trading-state', { method: 'POST', body: { state: 'halted', reason: 'resync test' } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    const before = {
      positions: (await api<{ positions: Position[] }>(first, '/positions')).body.positions,
      fills: (await api<{ fills: Fill[] }>(first, '/trades?limit=10000')).body.fills,
      config: (await api<VersionedConfig>(first, '/config')).body,
    };
    expect(before.fills.length).toBeGreaterThanOrEqual(4);
    expect(before.config.version).toBe(put.body.version);
    const prefix = env.REDIS_PREFIX;
    await waitFor(async () => (await probe.hlen(`${prefix}fills`)) === before.fills.length, 10_000, 'every fill back in Redis');
    probe.disconnect();
    expect(await first.stop()).toBe(0);

    const second = await startServerProcess({ env: { ...env, FEEDS: 'none' } });
    servers.push(second);
    const after = {
      positions: (await api<{ positions: Position[] }>(second, '/positions')).body.positions,
      fills: (await api<{ fills: Fill[] }>(second, '/trades?limit=10000')).body.fills,
      config: (await api<VersionedConfig>(second, '/config')).body,
      tradingState: (await api<{ state: string }>(second, '/trading-state')).body.state,
    };
    expect(after.config).toEqual(before.config);
    expect(byId(after.fills)).toEqual(byId(before.fills));
    expect(byId(after.positions).map(fixed)).toEqual(byId(before.positions).map(fixed));
    expect(after.positions.filter((p) => p.state === 'open').length).toBeGreaterThanOrEqual(2);
    expect(after.tradingState).toBe('halted');
    expect(await second.stop()).toBe(0);
  }, 180_000);

  it('a store emptied without a reconnect (keys deleted) is noticed by the next batch and rewritten', async () => {
    const prefix = uniquePrefix('resync-flush');
    const p = new RedisPersistence({ url: SHARED_REDIS_URL, prefix, flushIntervalMs: 20 });
    const state = { config: versionedConfig(7), portfolio: portfolioState(1_700_000_000_000), positions: [position('pos-1', 1), position('pos-2', 2)], fills: [fill('f-1', 'pos-1', 3)] };
    p.setResyncSource(() => state);
    await p.open();
    p.saveConfig(state.config);
    for (const x of state.positions) p.savePosition(x);
    for (const f of state.fills) p.saveFill(f);
    await p.flush();
    await deletePrefix(SHARED_REDIS_URL, prefix); // what FLUSHALL would do to us
    expect(p.health().resyncs).toBe(0);
    p.savePortfolioState(state.portfolio); // any write: its batch finds the epoch key missing
    await waitFor(() => p.health().resyncs === 1, 5_000, 'the resync');
    await p.flush();
    const reader = new RedisPersistence({ url: SHARED_REDIS_URL, prefix });
    await reader.open();
    expect(await reader.loadConfig()).toEqual(state.config);
    expect((await reader.loadPositions()).map((x) => x.id).sort()).toEqual(['pos-1', 'pos-2']);
    expect(await reader.loadFills()).toEqual(state.fills);
    expect(await reader.loadPortfolioState()).toEqual(state.portfolio);
    expect(p.health().resyncs).toBe(1); // once, not on every batch
    await Promise.all([reader.close(), p.close()]);
    await deletePrefix(SHARED_REDIS_URL, prefix);
  }, 30_000);
});
