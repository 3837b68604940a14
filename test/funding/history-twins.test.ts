/**
 * The venue twins serve their history endpoints over real HTTP in the venue's format, consistent with the
 * twin's live funding; each venue module pages a 30-day range through `remaining` without gaps or repeats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import type { SettledFunding } from '../../server/funding/history-types.js';
import { fundingRate } from '../../server/simulator/market.js';
import { historyGuardOf } from '../../server/simulator/funding-history.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { VENUES } from '../../server/venues/index.js';

const DAY = 86_400_000;
let sim: Simulator;
const fetchJson = createFetchJson(5_000);

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, instruments: ['BTC-PERP', 'ETH-PERP'], messagesPerSec: 20 });
});
afterAll(async () => {
  await sim.close();
});

/** Reads [from, to] through the venue module, page by page. */
async function readAll(venue: Exchange, symbol: string, fromMs: number, toMs: number): Promise<{ points: SettledFunding[]; requests: number }> {
  const history = VENUES[venue].adapter.fundingHistory!;
  const points: SettledFunding[] = [];
  let range: { fromMs: number; toMs: number } | null = { fromMs, toMs };
  let requests = 0;
  while (range && requests < 20) {
    const res = await history.fetch(sim.endpoints[venue].rest, symbol, range.fromMs, range.toMs, fetchJson);
    requests++;
    points.push(...res.points);
    range = res.remaining;
  }
  return { points: points.sort((a, b) => a.timeMs - b.timeMs), requests };
}

describe('venue twins: funding history over HTTP', () => {
  for (const venue of EXCHANGES) {
    it(`${venue}: 30 days of settlements on the pair's interval, around its current rate, no repeats`, async () => {
      const pair = sim.model.listed(venue).find((p) => p.spec.key === 'BTC-PERP')!;
      const now = Date.now();
      const before = fundingRate(pair);
      const { points } = await readAll(venue, pair.symbol, now - 30 * DAY, now);
      const after = fundingRate(pair); // the live rate drifts a little while we read
      const interval = pair.fundingIntervalMs;
      // Every settlement of the grid in the window (the window's ends may or may not fall on one).
      expect(points.length).toBeGreaterThanOrEqual(Math.floor((30 * DAY) / interval) - 1);
      expect(points.length).toBeLessThanOrEqual(Math.ceil((30 * DAY) / interval) + 1);
      const times = points.map((p) => p.timeMs);
      expect(new Set(times).size).toBe(times.length);
      for (const p of points) {
        expect(p.intervalMs).toBe(interval);
        expect(p.timeMs).toBeLessThanOrEqual(now);
      }
      // Around the live rate: ±25 % plus ±0.2 bp per 8 h of noise (server/simulator/funding-history.ts).
      const slack = Math.max(Math.abs(before), Math.abs(after)) * 0.25 + 0.00002 * (interval / (8 * 3_600_000)) + 2e-8;
      for (const p of points) {
        expect(p.rate).toBeGreaterThanOrEqual(Math.min(before, after) - slack);
        expect(p.rate).toBeLessThanOrEqual(Math.max(before, after) + slack);
      }
    });
  }

  it('paged venues (bitget by page number, kucoin by time) read 39 days in two pages without repeats', async () => {
    for (const venue of ['bitget', 'kucoin'] as const) {
      const pair = sim.model.listed(venue).find((p) => p.spec.key === 'ETH-PERP')!;
      const now = Date.now();
      const { points, requests } = await readAll(venue, pair.symbol, now - 39 * DAY, now);
      const expected = Math.floor((39 * DAY) / pair.fundingIntervalMs);
      expect(requests, venue).toBeGreaterThanOrEqual(2);
      expect(points.length, venue).toBeGreaterThanOrEqual(expected - 1);
      expect(points.length, venue).toBeLessThanOrEqual(expected + 1);
      expect(new Set(points.map((p) => p.timeMs)).size, venue).toBe(points.length);
      for (let i = 1; i < points.length; i++) expect(points[i]!.timeMs - points[i - 1]!.timeMs, venue).toBe(pair.fundingIntervalMs);
    }
  });

  it('answers the venue’s own error for an unknown symbol', async () => {
    const history = VENUES.bybit.adapter.fundingHistory!;
    await expect(history.fetch(sim.endpoints.bybit.rest, 'NOPEUSDT', 0, Date.now(), fetchJson)).rejects.toThrow(/10001/);
    await expect(VENUES.binance.adapter.fundingHistory!.fetch(sim.endpoints.binance.rest, 'NOPEUSDT', 0, Date.now(), fetchJson)).rejects.toThrow(/400/);
  });

  it('refuses requests beyond the documented limit (binance: 500 per 5 min per IP) with HTTP 429', async () => {
    const pair = sim.model.listed('binance')[0]!;
    const url = `${sim.endpoints.binance.rest}/fapi/v1/fundingRate?symbol=${pair.symbol}&limit=1`;
    const before = historyGuardOf(sim.model, 'binance')?.served.length ?? 0;
    const statuses: number[] = [];
    for (let i = 0; i < 505 - before; i++) statuses.push((await fetch(url)).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
    const limited = await fetch(url);
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { code: number }).code).toBe(-1003);
  });
});
