/**
 * GET /api/funding on a real app (real engine, funding pushed through the pipeline): the per-8 h and APR
 * figures of a 1 h, a 4 h and an 8 h leg against hand-computed values, each venue's own next settlement, the
 * best carry pair, the last settled rate booked once its settlement passes, the filters and their 400s, the
 * schema and the OpenAPI entry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { FundingResponseSchema, type FundingResponse, type FundingRow } from '../../shared/funding.js';
import type { Exchange } from '../../shared/exchanges.js';
import { nowUs } from '../../server/engine/index.js';
import { trackApps, type TestApp } from './harness.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 8, 30); // 08:30 UTC
const { make, closeAll } = trackApps();
afterEach(closeAll);

function push(a: TestApp, key: string, ex: Exchange, rate: number, intervalMs: number, nextMs: number, predicted = false): void {
  const id = a.engine.instruments.idFor(key, ex);
  expect(id).toBeGreaterThanOrEqual(0);
  a.engine.pushFunding(id, rate, intervalMs, nextMs, predicted, T0, nowUs());
  a.engine.drain();
}

async function get(a: TestApp, url: string): Promise<FundingResponse> {
  const r = await a.app.inject({ method: 'GET', url });
  expect(r.statusCode, r.body).toBe(200);
  const body = r.json() as FundingResponse;
  expect(Value.Check(FundingResponseSchema, body), JSON.stringify([...Value.Errors(FundingResponseSchema, body)].slice(0, 3))).toBe(true);
  return body;
}

const rowOf = (body: FundingResponse, venue: Exchange): FundingRow => body.rows.find((r) => r.venue === venue)!;

describe('GET /api/funding', () => {
  it('8 h and APR of a 1 h, a 4 h and an 8 h leg; per-venue next settlement; the best carry pair', async () => {
    let clock = T0;
    const a = await make({ now: () => clock });
    push(a, 'BTC-PERP', 'bybit', 0.0001, 1 * H, T0 + 0.5 * H); // next 09:00
    push(a, 'BTC-PERP', 'okx', 0.0002, 4 * H, T0 + 3.5 * H); // next 12:00
    push(a, 'BTC-PERP', 'kucoin', -0.0003, 8 * H, T0 + 7.5 * H, true); // next 16:00, predicted
    const body = await get(a, '/api/funding?instrument=BTC-PERP');
    expect(body.count).toBe(3);
    expect(body.nowMs).toBe(T0);
    expect(body.historySource).toBe('funding-history'); // realised averages from the funding-history store
    expect(body.liquidity).toBe(false);

    const by = rowOf(body, 'bybit');
    // 1 h: 1 bp per hour → 8 bps per 8 h; APR = 0.0001 × 8760 = 0.876 = 87.6 %.
    expect(by.rateIntervalBps).toBeCloseTo(1, 10);
    expect(by.rate8hBps).toBeCloseTo(8, 10);
    expect(by.aprPct).toBeCloseTo(87.6, 10);
    expect(by.intervalHours).toBe(1);
    // 4 h: 2 bps per 4 h → 4 bps per 8 h; APR = 0.0002 × 2190 = 0.438 = 43.8 %.
    const ok = rowOf(body, 'okx');
    expect(ok.rate8hBps).toBeCloseTo(4, 10);
    expect(ok.aprPct).toBeCloseTo(43.8, 10);
    expect(ok.intervalHours).toBe(4);
    // 8 h: −3 bps per 8 h; APR = −0.0003 × 1095 = −0.3285 = −32.85 %.
    const ku = rowOf(body, 'kucoin');
    expect(ku.rate8hBps).toBeCloseTo(-3, 10);
    expect(ku.aprPct).toBeCloseTo(-32.85, 10);
    expect(ku.intervalHours).toBe(8);
    expect(ku.predicted).toBe(true);
    expect(by.predicted).toBe(false);

    // Each venue its own next settlement.
    expect(by.nextFundingMs).toBe(T0 + 0.5 * H);
    expect(ok.nextFundingMs).toBe(T0 + 3.5 * H);
    expect(ku.nextFundingMs).toBe(T0 + 7.5 * H);

    // Best carry: short bybit (+8 bps/8h), long kucoin (−3 bps/8h) → 11 bps per 8 h, same quote.
    expect(by.bestCarry).toBe('short');
    expect(ku.bestCarry).toBe('long');
    expect(ok.bestCarry).toBeNull();
    for (const r of body.rows) {
      expect(r.bestCarry8hBps).toBeCloseTo(11, 10);
      expect(r.bestCarryCrossQuote).toBe(false);
      expect(r.realised).toEqual({ avg24h: null, avg3d: null, avg7d: null, avg30d: null });
      expect(r.lastSettled).toBeNull();
      expect(r.openInterestUsd).toBeNull();
    }

    // A filter on venue keeps the instrument's best carry (computed over all its venues).
    const only = await get(a, '/api/funding?venue=okx');
    expect(only.rows.map((r) => `${r.instrument}:${r.venue}`)).toEqual(['BTC-PERP:okx']);
    expect(only.rows[0].bestCarry8hBps).toBeCloseTo(11, 10);
    expect((await get(a, '/api/funding?settle=USDC')).count).toBe(0);
    expect((await get(a, '/api/funding?settle=USDT')).count).toBe(3);
    expect((await get(a, '/api/funding?instrument=ETH-PERP')).count).toBe(0);

    // bybit's feed goes down: its row is marked and the best pair moves to okx (short) / kucoin (long).
    a.engine.setExchangeDown('bybit', true);
    const down = await get(a, '/api/funding?instrument=BTC-PERP');
    expect(rowOf(down, 'bybit').feedDown).toBe(true);
    expect(rowOf(down, 'bybit').bestCarry).toBeNull();
    expect(rowOf(down, 'okx').bestCarry).toBe('short');
    expect(rowOf(down, 'okx').bestCarry8hBps).toBeCloseTo(7, 10);
    expect(rowOf(down, 'kucoin').feedDown).toBe(false);
  });

  it('a leg whose interval the venue never stated: a row with its rate and next settlement, interval / 8 h / APR null on the wire', async () => {
    const a = await make({ now: () => T0 });
    push(a, 'BTC-PERP', 'okx', 0.0002, 8 * H, T0 + 3.5 * H);
    push(a, 'BTC-PERP', 'binance', 0.0004, 0, T0 + 0.5 * H); // interval 0 = unknown (what a parser pushes for an assumed one)
    const body = await get(a, '/api/funding?instrument=BTC-PERP');
    expect(body.rows.map((r) => r.venue)).toEqual(['binance', 'okx']);
    const unk = rowOf(body, 'binance');
    expect(unk.rateIntervalBps).toBeCloseTo(4, 10);
    expect([unk.intervalMs, unk.intervalHours, unk.rate8hBps, unk.aprPct, unk.bestCarry]).toEqual([null, null, null, null, null]);
    expect(unk.nextFundingMs).toBe(T0 + 0.5 * H);
    expect(rowOf(body, 'okx').intervalHours).toBe(8); // the known leg beside it is unchanged
    expect(rowOf(body, 'okx').rate8hBps).toBeCloseTo(2, 10);
    expect(body.rows.map((r) => r.bestCarry8hBps)).toEqual([null, null]); // one known leg: no pair
  });

  it('books the last settled rate once the settlement time passes (the rate published for it, not the next one)', async () => {
    let clock = T0;
    const a = await make({ now: () => clock });
    const T = T0 + 0.5 * H;
    push(a, 'ETH-PERP', 'binance', 0.00005, 8 * H, T);
    expect(rowOf(await get(a, '/api/funding'), 'binance').lastSettled).toBeNull();
    clock = T - 1000;
    push(a, 'ETH-PERP', 'binance', 0.00012, 8 * H, T); // the last figure before the settlement
    await get(a, '/api/funding');
    clock = T + 500;
    push(a, 'ETH-PERP', 'binance', -0.0002, 8 * H, T + 8 * H); // the next period's figure
    const row = rowOf(await get(a, '/api/funding'), 'binance');
    expect(row.lastSettled).not.toBeNull();
    expect(row.lastSettled!.settledMs).toBe(T);
    expect(row.lastSettled!.rateIntervalBps).toBeCloseTo(1.2, 10);
    expect(row.lastSettled!.rate8hBps).toBeCloseTo(1.2, 10);
    expect(row.rateIntervalBps).toBeCloseTo(-2, 10);
    expect(row.nextFundingMs).toBe(T + 8 * H);
  });

  it('rows carry each leg\'s open interest and 24 h volume (USD), and the minimum filters keep only legs known to reach them', async () => {
    const a = await make({ now: () => T0 });
    push(a, 'BTC-PERP', 'bybit', 0.0001, 8 * H, T0 + 0.5 * H);
    push(a, 'BTC-PERP', 'okx', 0.0002, 8 * H, T0 + 0.5 * H);
    push(a, 'BTC-PERP', 'kucoin', 0.0003, 8 * H, T0 + 0.5 * H);
    const stats = (ex: Exchange, oi: number, vol: number) => {
      a.engine.pushStats(a.engine.instruments.idFor('BTC-PERP', ex), oi, vol, T0, nowUs());
      a.engine.drain();
    };
    stats('bybit', 2_000_000_000, 5_000_000_000);
    stats('okx', 300_000_000, Number.NaN); // volume not published
    const all = await get(a, '/api/funding');
    expect(all.liquidity).toBe(true);
    expect([rowOf(all, 'bybit').openInterestUsd, rowOf(all, 'bybit').volume24hUsd]).toEqual([2e9, 5e9]);
    expect([rowOf(all, 'okx').openInterestUsd, rowOf(all, 'okx').volume24hUsd]).toEqual([3e8, null]);
    expect([rowOf(all, 'kucoin').openInterestUsd, rowOf(all, 'kucoin').volume24hUsd]).toEqual([null, null]);
    const oi = await get(a, '/api/funding?minOpenInterestUsd=500000000');
    expect(oi.rows.map((r) => r.venue)).toEqual(['bybit']);
    const oiLow = await get(a, '/api/funding?minOpenInterestUsd=100000000');
    expect(oiLow.rows.map((r) => r.venue)).toEqual(['bybit', 'okx']);
    const vol = await get(a, '/api/funding?minVolume24hUsd=1');
    expect(vol.rows.map((r) => r.venue)).toEqual(['bybit']);
    // the best carry is still computed over all of the instrument's legs (short kucoin, long bybit)
    expect(oi.rows[0].bestCarry).toBe('long');
  });

  it('bad filters answer 400 naming the field; the route is in the OpenAPI document', async () => {
    const a = await make();
    for (const [url, field] of [
      ['/api/funding?venue=nowhere', 'querystring.venue'],
      ['/api/funding?settle=EUR', 'querystring.settle'],
      ['/api/funding?instrument=btc', 'querystring.instrument'],
      ['/api/funding?minOpenInterestUsd=-1', 'querystring.minOpenInterestUsd'],
      ['/api/funding?sort=x', 'sort'], // unknown parameter: named as such (house rule of issuesToErrors),
    ] as const) {
      const r = await a.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(400);
      expect(r.json().field, url).toBe(field);
    }
    const empty = await get(a, '/api/funding');
    expect(empty.rows).toEqual([]);
    const doc = (await a.app.inject({ method: 'GET', url: '/api/docs/json' })).json() as { paths: Record<string, { get?: { tags?: string[]; parameters?: { name: string }[] } }> };
    const op = doc.paths['/api/funding']?.get;
    expect(op?.tags).toEqual(['funding']);
    expect(op?.parameters?.map((p) => p.name).sort()).toEqual(['instrument', 'minOpenInterestUsd', 'minVolume24hUsd', 'settle', 'venue']);
  });
});
