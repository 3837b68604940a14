/**
 * PUT /api/config drives the feeds: adding an instrument subscribes it (its quotes arrive), removing an
 * exchange closes its opportunities (`config_changed`) and stops its feed. Real app (buildApp), real
 * FeedManager and engine, real simulator; also the feed latency stages in the server's stats.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyConfigPatch, type Config, DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { FeedState } from '../../shared/feeds.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { buildApp, type PerpscanApp } from '../../server/app.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';

const SIM_INSTRUMENTS = ['BTC-PERP', 'ETH-PERP', 'SOL-PERP'];

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Thresholds loose enough that every venue pair is an opportunity (so closes can be observed). */
function looseConfig(instruments: string[]): Config {
  const r = applyConfigPatch(DEFAULT_CONFIG, {
    thresholds: { minSpreadBps: -10_000, minProfitBps: -10_000, minFundingDelta8h: -0.05, minConfidence: 0 },
    market: { exchanges: [...EXCHANGES], instruments },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(instruments: string[]): Promise<{ sim: Simulator; app: PerpscanApp }> {
  const sim = await startSimulator({ seed: 21, messagesPerSec: 800, instruments: SIM_INSTRUMENTS });
  cleanups.push(() => sim.close());
  const app = await buildApp({ config: looseConfig(instruments), feeds: { endpoints: sim.endpoints }, staticDir: null });
  cleanups.push(() => app.close());
  return { sim, app };
}

const usable = (app: PerpscanApp, key: string, ex: Exchange) => app.engine.quote(key, ex)?.usable === true;

async function feeds(app: PerpscanApp): Promise<FeedState[]> {
  const r = await app.app.inject({ method: 'GET', url: '/api/feeds' });
  expect(r.statusCode, r.body).toBe(200);
  return (r.json() as { feeds: FeedState[] }).feeds;
}

describe('PUT /api/config → feeds', () => {
  it('adding an instrument subscribes it on every venue: its quotes and opportunities arrive', async () => {
    const { app } = await setup(['BTC-PERP']);
    await waitFor('live', async () => (await feeds(app)).every((f) => f.status === 'live'));
    expect(app.engine.instruments.idFor('SOL-PERP', 'bybit')).toBeLessThan(0);

    const r = await app.app.inject({ method: 'PUT', url: '/api/config', payload: { market: { instruments: ['BTC-PERP', 'SOL-PERP'] } } });
    expect(r.statusCode, r.body).toBe(200);
    await waitFor('SOL quotes on every venue', () => EXCHANGES.every((ex) => usable(app, 'SOL-PERP', ex)));
    await waitFor('a SOL opportunity', () => app.engine.opportunities().some((o) => o.instrument === 'SOL-PERP'));
    const states = await feeds(app);
    for (const f of states) {
      expect(f.status).toBe('live');
      expect(f.reconnects).toBe(0);
      expect(f.errors).toEqual({});
    }
    const opps = await app.app.inject({ method: 'GET', url: '/api/opportunities?instrument=SOL-PERP' });
    expect(opps.statusCode).toBe(200);
    expect(JSON.stringify(opps.json())).toContain('SOL-PERP');
  });

  it('removing an exchange closes its opportunities and stops its feed', async () => {
    const { app, sim } = await setup(['BTC-PERP', 'ETH-PERP']);
    const sub = app.engine.bus.subscribe('test-closes');
    cleanups.push(() => sub.close());
    await waitFor('kucoin opportunities', () => app.engine.opportunities().some((o) => o.longExchange === 'kucoin' || o.shortExchange === 'kucoin'));
    const openKucoin = app.engine.opportunities().filter((o) => o.longExchange === 'kucoin' || o.shortExchange === 'kucoin').map((o) => o.id);

    const r = await app.app.inject({ method: 'PUT', url: '/api/config', payload: { market: { exchanges: EXCHANGES.filter((ex) => ex !== 'kucoin') } } });
    expect(r.statusCode, r.body).toBe(200);
    const closes = new Map<string, string>();
    const collect = () => {
      for (const e of sub.popBatch(100_000) as OpportunityEvent[]) if (e.kind === 'closed') closes.set(e.opportunity.id, e.reason);
    };
    collect();
    for (const id of openKucoin) expect(closes.get(id), id).toBe('config_changed');
    expect(app.engine.opportunities().some((o) => o.longExchange === 'kucoin' || o.shortExchange === 'kucoin')).toBe(false);
    await waitFor('kucoin feed gone', async () => !(await feeds(app)).some((f) => f.exchange === 'kucoin'));
    await waitFor('simulator sees no kucoin socket', () => sim.stats().connections.kucoin === 0);
    // Other venues carry on; no kucoin opportunity comes back.
    await new Promise((r) => setTimeout(r, 500));
    collect();
    expect(app.engine.opportunities().length).toBeGreaterThan(0);
    expect(app.engine.opportunities().some((o) => o.longExchange === 'kucoin' || o.shortExchange === 'kucoin')).toBe(false);
    // Every remaining venue ready again (a venue's second socket can still be connecting on a loaded machine).
    await waitFor('ready', async () => (await app.app.inject({ method: 'GET', url: '/api/ready' })).statusCode === 200);
  });

  it('stats carry the feed latency stages once frames flow', async () => {
    const { app } = await setup(['BTC-PERP']);
    await waitFor('frames parsed', () => (app.feeds?.latency().receive_to_parsed?.count ?? 0) >= 20);
    const latency = app.hub.stats().latency;
    for (const stage of ['receive_to_parsed', 'parsed_to_pipeline'] as const) {
      expect(latency[stage]?.count, stage).toBeGreaterThanOrEqual(20);
      expect(latency[stage]?.p50Us, stage).toBeGreaterThan(0);
    }
    const metrics = await app.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/perpscan_stage_latency_seconds_count\{[^}]*stage="receive_to_parsed"\} [1-9]/);
    expect(metrics.body).toMatch(/perpscan_stage_latency_seconds_count\{[^}]*stage="parsed_to_pipeline"\} [1-9]/);
  });
});
