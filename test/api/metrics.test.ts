/**
 * /metrics follows Prometheus conventions and carries the trading metrics, against a real engine, strategy
 * and (for feed metrics) the real simulator over sockets on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../server/engine/histogram.js';
import { quarantineActive, quarantineCounts } from '../../server/api/metrics.js';
import type { EngineStats } from '../../shared/protocol.js';
import { trackApps, type TestApp } from './harness.js';
import { type Family, parsePrometheusText, sampleValue } from './prom-text.js';

const { make, closeAll } = trackApps();
afterEach(closeAll);

async function scrape(a: TestApp): Promise<Map<string, Family>> {
  const r = await a.app.inject({ method: 'GET', url: '/metrics' });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toContain('text/plain; version=0.0.4');
  return parsePrometheusText(r.body);
}

async function openPosition(a: TestApp): Promise<string> {
  a.flat('BTC-PERP', 50_000);
  a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
  a.strategy.start();
  for (let i = 0; i < 20 && a.strategy.positions().filter((p) => p.state === 'open').length === 0; i++) {
    a.strategy.step(Date.now());
    await new Promise((r) => setTimeout(r, 10));
  }
  a.strategy.stop();
  const open = a.strategy.positions().filter((p) => p.state === 'open');
  expect(open.length).toBe(1);
  return open[0].id;
}

describe('/metrics naming conventions', () => {
  it('counters end in _total, latencies are histograms in seconds, no doubled prefix, gauges never end in _total', async () => {
    const a = await make();
    await openPosition(a);
    await a.app.inject({ method: 'GET', url: '/api/health' });
    const families = await scrape(a);
    const names = [...families.keys()];
    expect(names.length).toBeGreaterThan(40);

    for (const f of families.values()) {
      expect(f.help, `${f.name} has HELP`).not.toBe('');
      if (f.type === 'counter') {
        expect(f.name, `counter ${f.name}`).toMatch(/_total$/);
        for (const s of f.samples) expect(s.value, `${s.name} is a count`).toBeGreaterThanOrEqual(0);
      }
      if (f.type === 'histogram') {
        expect(f.name, `histogram ${f.name} is in seconds`).toMatch(/_seconds$/);
        checkHistogram(f);
      }
      if (f.type === 'gauge' && f.name.startsWith('perpscan_')) expect(f.name, `gauge ${f.name}`).not.toMatch(/_total$/);
      expect(f.name).not.toMatch(/process_process|^perpscan_process_|microseconds|_ms$/);
    }
    // prom-client's defaults under their standard names, once.
    expect(families.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(families.get('process_resident_memory_bytes')?.type).toBe('gauge');
    expect(families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');

    // Our counters are counters (they were gauges named *_total before).
    for (const name of ['perpscan_market_updates_total', 'perpscan_opportunities_opened_total', 'perpscan_opportunities_closed_total', 'perpscan_fills_total',
      'perpscan_risk_rejections_total', 'perpscan_http_requests_total', 'perpscan_feed_messages_total', 'perpscan_quotes_quarantined_total']) {
      expect(families.get(name)?.type, name).toBe('counter');
    }
    // Pipeline stage latencies: one histogram with a stage label, observed by the engine.
    const stages = families.get('perpscan_stage_latency_seconds');
    expect(stages?.type).toBe('histogram');
    expect(sampleValue(families, 'perpscan_stage_latency_seconds_count', { stage: 'pipeline_to_detected' })).toBeGreaterThan(0);
    expect(families.get('perpscan_http_request_duration_seconds')?.type).toBe('histogram');
    expect(sampleValue(families, 'perpscan_http_request_duration_seconds_count', { method: 'GET', route: '/api/health' })).toBe(1);
  });
});

/** Buckets are cumulative (never decrease with `le`), +Inf equals _count, _sum is present, per label set. */
function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    const g = groups.get(key) ?? { buckets: [] };
    if (s.name.endsWith('_bucket')) g.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    else if (s.name.endsWith('_count')) g.count = s.value;
    else if (s.name.endsWith('_sum')) g.sum = s.value;
    groups.set(key, g);
  }
  for (const [key, g] of groups) {
    const sorted = g.buckets.slice().sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i][1], `${f.name}${key} le=${sorted[i][0]}`).toBeGreaterThanOrEqual(sorted[i - 1][1]);
    expect(sorted.at(-1)?.[0], `${f.name}${key} has +Inf`).toBe(Infinity);
    expect(sorted.at(-1)?.[1]).toBe(g.count);
    expect(g.sum, `${f.name}${key} has _sum`).toBeTypeOf('number');
  }
}

describe('/metrics trading metrics', () => {
  it('equity, PnL, open positions, fills, opportunities and rejections move with activity', async () => {
    const a = await make();
    const before = await scrape(a);
    expect(sampleValue(before, 'perpscan_positions_open')).toBe(0);
    expect(sampleValue(before, 'perpscan_equity_usd')).toBe(100_000);
    expect(sampleValue(before, 'perpscan_realised_pnl_usd')).toBe(0);
    expect(sampleValue(before, 'perpscan_opportunities_opened_total')).toBe(0);
    expect(sampleValue(before, 'perpscan_fills_total', { venue: 'bybit' })).toBeUndefined();
    expect(sampleValue(before, 'perpscan_trading_state', { state: 'active' })).toBe(1);

    const id = await openPosition(a);
    const open = await scrape(a);
    expect(sampleValue(open, 'perpscan_positions_open')).toBe(1);
    expect(sampleValue(open, 'perpscan_opportunities_opened_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(open, 'perpscan_fills_total', { venue: 'bybit', purpose: 'entry' })).toBe(1);
    expect(sampleValue(open, 'perpscan_fills_total', { venue: 'okx', purpose: 'entry' })).toBe(1);
    expect(sampleValue(open, 'perpscan_gross_exposure_usd')).toBeGreaterThan(0);
    // Equity and PnL agree with the portfolio the REST API reports.
    const pf = a.strategy.portfolio();
    expect(sampleValue(open, 'perpscan_equity_usd')).toBeCloseTo(pf.equityUsd, 6);
    expect(sampleValue(open, 'perpscan_unrealised_pnl_usd')).toBeCloseTo(pf.unrealisedPnlUsd, 6);
    expect(pf.unrealisedPnlUsd).not.toBe(0); // entry fees and the spread make it move

    // The spread converges: the opportunity closes with a reason; the position is closed by request.
    a.flat('BTC-PERP', 50_000);
    a.strategy.closePosition(id, 'manual');
    for (let i = 0; i < 20 && a.strategy.position(id)?.state !== 'closed'; i++) {
      a.strategy.step(Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(a.strategy.position(id)?.state).toBe('closed');
    // A halted strategy refuses the next opportunity with a reason.
    a.strategy.setTradingState('halted');
    a.spread('BTC-PERP', 'kucoin', 'binance', 50_000, 90);
    a.strategy.step(Date.now());

    const after = await scrape(a);
    expect(sampleValue(after, 'perpscan_positions_open')).toBe(0);
    expect(sampleValue(after, 'perpscan_realised_pnl_usd')).toBeCloseTo(a.strategy.portfolio().realisedPnlUsd, 6);
    expect(sampleValue(after, 'perpscan_realised_pnl_usd')).not.toBe(0);
    expect(sampleValue(after, 'perpscan_fills_total', { venue: 'bybit', purpose: 'exit' })).toBe(1);
    const closedReasons = after.get('perpscan_opportunities_closed_total')!.samples.map((s) => s.labels.reason);
    expect(closedReasons.length).toBeGreaterThan(0);
    expect(sampleValue(after, 'perpscan_opportunities_closed_total', { reason: closedReasons[0] })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'perpscan_risk_rejections_total', { reason: 'trading_halted' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'perpscan_trading_state', { state: 'halted' })).toBe(1);
    expect(sampleValue(after, 'perpscan_trading_state', { state: 'active' })).toBe(0);
  });

  it('feed state per venue, feed counters and feed-side latency histograms, from the real simulator', async () => {
    const a = await make({ feeds: { simulator: { seed: 7, messagesPerSec: 400 } }, start: true });
    const deadline = Date.now() + 15_000;
    let families = await scrape(a);
    while (Date.now() < deadline && ['bybit', 'okx', 'kucoin', 'binance'].some((venue) => sampleValue(families, 'perpscan_feed_up', { venue }) !== 1)) {
      await new Promise((r) => setTimeout(r, 200));
      families = await scrape(a);
    }
    for (const venue of ['bybit', 'okx', 'kucoin', 'binance']) {
      expect(sampleValue(families, 'perpscan_feed_up', { venue }), venue).toBe(1);
      expect(sampleValue(families, 'perpscan_feed_status', { venue, status: 'live' })).toBe(1);
      expect(sampleValue(families, 'perpscan_feed_status', { venue, status: 'backoff' })).toBe(0);
      expect(sampleValue(families, 'perpscan_feed_messages_total', { venue })).toBeGreaterThan(0);
    }
    await new Promise((r) => setTimeout(r, 300));
    families = await scrape(a);
    expect(sampleValue(families, 'perpscan_stage_latency_seconds_count', { stage: 'receive_to_parsed' })).toBeGreaterThan(0);
    expect(sampleValue(families, 'perpscan_market_updates_total')).toBeGreaterThan(0);

    // A dropped venue reconnects: its reconnect counter moves and it is up again.
    a.simulator!.dropConnections('okx');
    const back = Date.now() + 15_000;
    let reconnected = await scrape(a);
    while (Date.now() < back && !((sampleValue(reconnected, 'perpscan_feed_reconnects_total', { venue: 'okx' }) ?? 0) >= 1 && sampleValue(reconnected, 'perpscan_feed_up', { venue: 'okx' }) === 1)) {
      await new Promise((r) => setTimeout(r, 100));
      reconnected = await scrape(a);
    }
    expect(sampleValue(reconnected, 'perpscan_feed_reconnects_total', { venue: 'okx' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(reconnected, 'perpscan_feed_up', { venue: 'okx' })).toBe(1);
  }, 30_000);
});

describe('quarantine counter', () => {
  // Stats of an engine that has quarantined nothing, then with counts.
  const base: EngineStats = { tsMs: 0, updatesPerSec: 0, updatesTotal: 0, pipelineDropped: 0, rejected: {}, busMissed: {}, opportunitiesOpen: 0, wsClients: 0, latency: {}, quarantine: { total: 0, byExchange: {}, active: {}, review: [] } };

  it('reads EngineStats.quarantine (byExchange: venue → reason → count; active: venue → symbols)', () => {
    expect(quarantineCounts(base)).toEqual([]);
    expect(quarantineActive(base)).toEqual([]);
    const stats = { ...base, quarantine: { total: 4, byExchange: { okx: { off_consensus: 3, crossed_book: 1 } }, active: { okx: 2 } } } as EngineStats;
    expect(quarantineCounts(stats)).toEqual([
      { venue: 'okx', reason: 'off_consensus', count: 3 },
      { venue: 'okx', reason: 'crossed_book', count: 1 },
    ]);
    expect(quarantineActive(stats)).toEqual([{ venue: 'okx', count: 2 }]);
  });

  it('is exported when the engine reports quarantined quotes', async () => {
    const a = await make();
    const real = a.hub.stats.bind(a.hub);
    a.hub.stats = () => ({ ...real(), quarantine: { total: 4, byExchange: { kucoin: { off_consensus: 4 } }, active: { kucoin: 1 } } }) as EngineStats;
    const families = await scrape(a);
    expect(families.get('perpscan_quotes_quarantined_total')?.type).toBe('counter');
    expect(sampleValue(families, 'perpscan_quotes_quarantined_total', { venue: 'kucoin', reason: 'off_consensus' })).toBe(4);
    expect(sampleValue(families, 'perpscan_quotes_quarantined', { venue: 'kucoin' })).toBe(1);
  });
});

describe('LatencyHistogram.cumulativeCounts', () => {
  it('counts values at or below each bound, never below their true size', () => {
    const h = new LatencyHistogram();
    for (const us of [5, 5, 50, 2000, 9_000_000]) h.recordUs(us);
    const boundsNs = [1e-5, 1e-4, 1e-3, 0.01, 5].map((s) => s * 1e9);
    expect(h.cumulativeCounts(boundsNs)).toEqual([2, 3, 3, 4, 4]); // 9 s is above every bound: only in +Inf
    expect(h.count).toBe(5);
    expect(h.sumNs).toBe((5 + 5 + 50 + 2000 + 9_000_000) * 1000);
    // A value just above a bound is not counted in it.
    const edge = new LatencyHistogram();
    edge.recordUs(1001);
    expect(edge.cumulativeCounts([1e6, 2e6])).toEqual([0, 1]);
  });
});
