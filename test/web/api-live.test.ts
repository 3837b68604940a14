/**
 * The dashboard's ApiClient against the real perpscan server (HTTP on 127.0.0.1, real engine and strategy):
 * every call answers with data of the shared types, checked against the schemas in shared/.
 */
import type { AddressInfo } from 'node:net';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthResponseSchema, StatsResponseSchema, TradingStateChangeResponseSchema, VersionedConfigSchema } from '../../shared/api.js';
import { ClosedOpportunitySchema, FeedStateSchema, FillSchema, OpportunitySchema, PortfolioSchema, PositionSchema, RiskRejectionSchema } from '../../shared/schemas.js';
import { ApiClient } from '../../web/src/lib/api.js';
import { buildTestApp, type TestApp } from '../api/harness.js';

let a: TestApp;
let api: ApiClient;

function expectShape(schema: TSchema, value: unknown): void {
  const errors = [...Value.Errors(schema, value)].slice(0, 3).map((e) => `${e.instancePath}: ${e.message}`);
  expect(errors).toEqual([]);
}

beforeAll(async () => {
  a = await buildTestApp({ basePath: '/desk' });
  await a.app.listen({ host: '127.0.0.1', port: 0 });
  api = new ApiClient({ base: `http://127.0.0.1:${(a.app.server.address() as AddressInfo).port}/desk/`, storage: null });
  a.flat('BTC-PERP', 50_000);
  a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
  await a.start();
  for (let i = 0; i < 50 && a.strategy.positions().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  a.flat('ETH-PERP', 3000);
  a.spread('ETH-PERP', 'kucoin', 'binance', 3000, 70);
  a.flat('ETH-PERP', 3000);
  await a.persistence.flush();
});
afterAll(async () => {
  await a.close();
});

describe('ApiClient against the real server', () => {
  it('reads every resource in its shared type', async () => {
    const cfg = await api.getConfig();
    expectShape(VersionedConfigSchema, cfg);
    expect(cfg.version).toBe(1);

    const opportunities = await api.getOpportunities();
    expect(opportunities.length).toBeGreaterThan(0);
    for (const o of opportunities) expectShape(OpportunitySchema, o);

    const history = await api.getHistory(50);
    expect(history.length).toBeGreaterThan(0);
    for (const c of history) expectShape(ClosedOpportunitySchema, c);

    const positions = await api.getPositions('open');
    expect(positions.length).toBeGreaterThan(0);
    for (const p of positions) expectShape(PositionSchema, p);

    const fills = await api.getTrades();
    expect(fills.length).toBeGreaterThanOrEqual(2);
    for (const f of fills) expectShape(FillSchema, f);

    expectShape(PortfolioSchema, await api.getPortfolio());
    for (const r of await api.getRejections()) expectShape(RiskRejectionSchema, r);
    for (const f of await api.getFeeds()) expectShape(FeedStateSchema, f);
    expectShape(HealthResponseSchema, await api.getHealth());
    expectShape(StatsResponseSchema, await api.getStats());
    expect(await api.getTradingState()).toBe('active');
  });

  it('mutations answer with the declared shapes', async () => {
    const [open] = await api.getPositions('open');
    const closed = await api.closePosition(open.id);
    expectShape(PositionSchema, closed);
    expect(closed.id).toBe(open.id);
    expect(['closing', 'closed']).toContain(closed.state);

    const changed = await api.setTradingState('reducing');
    expectShape(TradingStateChangeResponseSchema, changed);
    expect(changed.state).toBe('reducing');
    expect(await api.getTradingState()).toBe('reducing');

    const updated = await api.putConfig({ thresholds: { minSpreadBps: 7 } });
    expectShape(VersionedConfigSchema, updated);
    expect(updated).toMatchObject({ version: 2, config: { thresholds: { minSpreadBps: 7 } } });
  });
});
