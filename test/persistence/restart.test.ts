/**
 * Restart of a real server process (child) after `kill -9`, with Redis: config, open positions, trades
 * and PnL come back exactly as Redis acknowledged them and as the API showed them before the kill; and
 * `/api/ready` says not ready while Redis is away (persistence unreachable) and ready when it is back.
 */
import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Fill, Portfolio, Position, PositionState } from '../../shared/position.js';
import type { PortfolioState } from '../../server/persistence/persistence.js';
import { describeWith } from '../helpers/services.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { deletePrefix, PrivateRedis, SHARED_REDIS_URL, uniquePrefix, waitFor, serverApi as api } from './helpers.js';

/** A position without the fields that move with every market tick (marks, current funding rate). */
function withoutMarks(p: Position): unknown {
  const omit = (o: object, keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
  const legMoving = ['markPrice', 'unrealisedPnlUsd', 'liquidationDistancePct', 'fundingRate'];
  return { ...omit(p, ['currentSpreadBps', 'unrealisedPnlUsd', 'markStale']), long: omit(p.long, legMoving), short: omit(p.short, legMoving) };
}

const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));
/** Positions whose orders are still in flight. */
const SETTLING: readonly PositionState[] = ['opening', 'closing'];

describeWith(['redis'], 'server restart with Redis (child process)', () => {
  const prefixes: string[] = [];
  const servers: ServerProcess[] = [];
  let privateRedis: PrivateRedis | null = null;
  afterAll(async () => {
    for (const s of servers) await s.kill9();
    for (const p of prefixes) await deletePrefix(SHARED_REDIS_URL, p);
    await privateRedis?.destroy();
  });

  it('after kill -9 a new process restores config, open positions, trades and PnL exactly', async () => {
    const prefix = uniquePrefix('restart');
    prefixes.push(prefix);
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SIM_RATE: '2000', SIM_DISLOCATIONS_PER_MIN: '600' };
    const first = await startServerProcess({ env });
    servers.push(first);
    const put = await api<{ version: number; config: { thresholds: { minSpreadBps: number } } }>(first, '/config', {
      method: 'PUT',
      body: { thresholds: { minSpreadBps: 4.5 } },
    });
    expect(put.status).toBe(200);

    await waitFor(
      async () => {
        const open = await api<{ count: number }>(first, '/positions?state=open');
        const trades = await api<{ count: number }>(first, '/trades');
        return open.body.count >= 1 && trades.body.count >= 2;
      },
      45_000,
      'the strategy to open positions',
    );
    // Freeze trading so positions and fills stop changing (marks still move): no new entries, no automatic
    // exits; orders already in flight still complete, so wait until no position is opening or closing.
    expect((await api(first, '/trading-state', { method: 'POST', body: { state: 'halted', reason: 'restart test' } })).status).toBe(200);
    await waitFor(
      async () => (await api<{ positions: Position[] }>(first, '/positions')).body.positions.every((p) => !SETTLING.includes(p.state)),
      10_000,
      'orders in flight to settle',
    );
    const before = {
      positions: (await api<{ positions: Position[] }>(first, '/positions')).body.positions,
      trades: (await api<{ fills: Fill[] }>(first, '/trades?limit=10000')).body.fills,
      portfolio: (await api<Portfolio>(first, '/portfolio')).body,
    };
    expect(before.positions.filter((p) => SETTLING.includes(p.state))).toEqual([]);
    // Kill only once Redis has acknowledged what the API showed (the writer flushes every 50 ms, but runs at
    // nice 5 and is the first thing starved on a loaded machine): what is checked after the restart is that
    // acknowledged state survives a kill -9, not how fast the writer is.
    const probe = new Redis(SHARED_REDIS_URL);
    try {
      await expect
        .poll(
          async () => {
            const [positions, fills, portfolio] = await Promise.all([probe.hgetall(`${prefix}positions`), probe.hgetall(`${prefix}fills`), probe.get(`${prefix}portfolio`)]);
            const state = JSON.parse(portfolio ?? 'null') as PortfolioState | null;
            return {
              positions: byId(Object.values(positions).map((x) => JSON.parse(x) as Position)).map(withoutMarks),
              fills: byId(Object.values(fills).map((x) => JSON.parse(x) as Fill)),
              portfolio: state && { realisedPnlUsd: state.realisedPnlUsd, feesPaidUsd: state.feesPaidUsd, fundingUsd: state.fundingUsd, tradingState: state.tradingState },
            };
          },
          { timeout: 10_000, interval: 50, message: 'Redis holds what the API showed' },
        )
        .toEqual({
          positions: byId(before.positions).map(withoutMarks),
          fills: byId(before.trades),
          portfolio: { realisedPnlUsd: before.portfolio.realisedPnlUsd, feesPaidUsd: before.portfolio.feesPaidUsd, fundingUsd: before.portfolio.fundingUsd, tradingState: 'halted' },
        });
    } finally {
      probe.disconnect();
    }
    await first.kill9();

    // What Redis acknowledged at the moment of the kill.
    const r = new Redis(SHARED_REDIS_URL);
    const stored = {
      positions: Object.values(await r.hgetall(`${prefix}positions`)).map((s) => JSON.parse(s) as Position),
      fills: Object.values(await r.hgetall(`${prefix}fills`)).map((s) => JSON.parse(s) as Fill),
      config: JSON.parse((await r.get(`${prefix}config`)) ?? 'null') as { version: number },
    };
    // the server also recorded the market (for --replay redis) and the opportunity events
    const marketCounts = await Promise.all(['bybit', 'okx', 'kucoin', 'binance'].map((ex) => r.get(`${prefix}market:${ex}:count`)));
    expect(marketCounts.reduce((sum, c) => sum + Number(c ?? 0), 0)).toBeGreaterThan(100);
    expect(Number(await r.get(`${prefix}opps:count`))).toBeGreaterThan(0);
    r.disconnect();
    expect(stored.config.version).toBe(put.body.version);

    // Restart without market data, so nothing moves after the restore.
    const second = await startServerProcess({ env: { ...env, FEEDS: 'none' } });
    servers.push(second);
    const config = (await api<{ version: number; config: { thresholds: { minSpreadBps: number } } }>(second, '/config')).body;
    expect(config.version).toBe(put.body.version);
    expect(config.config.thresholds.minSpreadBps).toBe(4.5);

    const after = {
      positions: (await api<{ positions: Position[] }>(second, '/positions')).body.positions,
      trades: (await api<{ fills: Fill[] }>(second, '/trades?limit=10000')).body.fills,
      portfolio: (await api<Portfolio>(second, '/portfolio')).body,
      tradingState: (await api<{ state: string }>(second, '/trading-state')).body.state,
    };
    // exactly what Redis held (the marks from before the kill are flagged stale: no feed re-marked them) …
    expect(after.positions.filter((p) => p.state === 'open').every((p) => p.markStale === true)).toBe(true);
    const unflagged = (ps: Position[]) => ps.map((p) => ({ ...p, markStale: undefined }));
    expect(byId(unflagged(after.positions))).toEqual(byId(unflagged(stored.positions)));
    expect(byId(after.trades)).toEqual(byId(stored.fills));
    // … which is what the API showed before the kill (positions up to the mark-to-market fields)
    expect(byId(after.trades)).toEqual(byId(before.trades));
    expect(byId(after.positions).map(withoutMarks)).toEqual(byId(before.positions).map(withoutMarks));
    expect(after.positions.filter((p) => p.state === 'open').length).toBeGreaterThanOrEqual(1);
    expect(after.portfolio.realisedPnlUsd).toBe(before.portfolio.realisedPnlUsd);
    expect(after.portfolio.feesPaidUsd).toBe(before.portfolio.feesPaidUsd);
    expect(after.portfolio.fundingUsd).toBe(before.portfolio.fundingUsd);
    expect(after.portfolio.openPositions).toBe(before.portfolio.openPositions);
    expect(after.tradingState).toBe('halted');
    await second.stop();
  }, 120_000);

  it('/api/ready is not ready while Redis is unreachable (persistence unreachable) and ready when it is back', async () => {
    privateRedis = await PrivateRedis.start();
    const server = await startServerProcess({ env: { REDIS_URL: privateRedis.url, REDIS_PREFIX: uniquePrefix('ready') } });
    servers.push(server);
    type Ready = { ready: boolean; persistence: string };
    await waitFor(async () => (await api<Ready>(server, '/ready')).status === 200, 20_000, 'ready');
    expect((await api<Ready>(server, '/ready')).body).toMatchObject({ ready: true, persistence: 'connected' });
    await privateRedis.stop();
    await waitFor(async () => (await api<Ready>(server, '/ready')).status === 503, 10_000, 'not ready');
    expect((await api<Ready>(server, '/ready')).body).toMatchObject({ ready: false, persistence: 'unreachable' });
    const health = await api<{ status?: string }>(server, '/health');
    expect(health.status).toBe(200); // alive, only degraded
    await privateRedis.start();
    await waitFor(async () => (await api<Ready>(server, '/ready')).status === 200, 20_000, 'ready again');
    expect((await api<Ready>(server, '/ready')).body).toMatchObject({ ready: true, persistence: 'connected' });
    const stats = await api<{ persistence: { degraded: boolean; connected: boolean } }>(server, '/stats');
    expect(stats.body.persistence).toMatchObject({ connected: true });
    await server.stop();
  }, 90_000);
});
