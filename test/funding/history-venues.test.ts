/**
 * The venues' funding-history parsers on replies in their real wire format (test/fixtures/<venue>/
 * funding-history*.json, sources in each SOURCES.md): units (ms vs seconds), strings vs numbers, order,
 * intervals from the spacing, odd cases, the request each one sends, and `remaining` for paging.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FetchJson } from '../../server/feeds/adapter.js';
import type { VenueFundingHistory } from '../../server/funding/history-types.js';
import { binanceFundingHistory } from '../../server/venues/binance/history.js';
import { bitgetFundingHistory } from '../../server/venues/bitget/history.js';
import { bybitFundingHistory } from '../../server/venues/bybit/history.js';
import { gateFundingHistory } from '../../server/venues/gate/history.js';
import { hyperliquidFundingHistory } from '../../server/venues/hyperliquid/history.js';
import { kucoinFundingHistory } from '../../server/venues/kucoin/history.js';
import { okxFundingHistory } from '../../server/venues/okx/history.js';
import { VENUES } from '../../server/venues/index.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 30); // 2026-11-30T00:00Z, the fixtures' first settlement
const fixture = (venue: string, name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${venue}/${name}`, import.meta.url), 'utf8'));

/** A fetch answering `body` and remembering what was asked. */
function answering(body: unknown) {
  const calls: Array<{ url: string; init?: { method?: string; body?: unknown } }> = [];
  const fetchJson: FetchJson = async (url, init) => {
    calls.push({ url, init });
    return body;
  };
  return { calls, fetchJson };
}

async function read(history: VenueFundingHistory, venue: string, name: string, symbol: string, fromMs = T0 - 24 * H, toMs = T0 + 24 * H) {
  const f = answering(fixture(venue, name));
  const res = await history.fetch('http://venue', symbol, fromMs, toMs, f.fetchJson);
  return { ...res, calls: f.calls };
}

describe('venue funding-history parsers (real formats)', () => {
  it('every venue module declares its history endpoint on the adapter', () => {
    for (const m of Object.values(VENUES)) {
      expect(m.adapter.fundingHistory, m.facts.id).toBeDefined();
      expect(m.adapter.fundingHistory!.pageSize).toBeGreaterThan(0);
      expect(m.adapter.fundingHistory!.requestsPerSecond).toBeGreaterThan(0);
    }
  });

  it('bybit: strings, newest first, interval from spacing; the request carries category, both bounds and limit 200', async () => {
    const r = await read(bybitFundingHistory, 'bybit', 'funding-history.json', 'BTCUSDT');
    expect(r.points).toEqual([
      { timeMs: T0, rate: 0.00012345, intervalMs: 8 * H },
      { timeMs: T0 + 8 * H, rate: -0.00005, intervalMs: 8 * H },
      { timeMs: T0 + 16 * H, rate: 0.0001, intervalMs: 8 * H },
    ]);
    expect(r.remaining).toBeNull();
    expect(r.calls[0]!.url).toBe(`http://venue/v5/market/funding/history?category=linear&symbol=BTCUSDT&startTime=${T0 - 24 * H}&endTime=${T0 + 24 * H}&limit=200`);
  });

  it('bybit: an 8 h → 1 h switch gives each settlement its own interval', async () => {
    const r = await read(bybitFundingHistory, 'bybit', 'funding-history-interval-1h.json', 'XYZUSDT');
    expect(r.points.map((p) => [p.timeMs - T0, p.intervalMs])).toEqual([
      [0, 8 * H], // the oldest takes the spacing to the next
      [8 * H, 8 * H],
      [9 * H, H],
      [10 * H, H],
    ]);
  });

  it('bybit: an empty page completes the range; an error reply throws', async () => {
    const empty = await read(bybitFundingHistory, 'bybit', 'funding-history-empty.json', 'BTCUSDT');
    expect(empty.points).toEqual([]);
    expect(empty.remaining).toBeNull();
    await expect(read(bybitFundingHistory, 'bybit', 'funding-history-error.json', 'NOPE')).rejects.toThrow(/retCode 10001/);
  });

  it('okx: realizedRate is the settled rate, fundingRate only when it is empty; exclusive before/after', async () => {
    const r = await read(okxFundingHistory, 'okx', 'funding-history.json', 'BTC-USDT-SWAP');
    expect(r.points).toEqual([
      { timeMs: T0, rate: -0.00002, intervalMs: 8 * H },
      { timeMs: T0 + 8 * H, rate: 0.00009, intervalMs: 8 * H },
      { timeMs: T0 + 16 * H, rate: 0.0000746572360545, intervalMs: 8 * H },
    ]);
    expect(r.calls[0]!.url).toBe(`http://venue/api/v5/public/funding-rate-history?instId=BTC-USDT-SWAP&before=${T0 - 24 * H - 1}&after=${T0 + 24 * H + 1}&limit=400`);
    await expect(read(okxFundingHistory, 'okx', 'funding-history-error.json', 'NOPE')).rejects.toThrow(/51001/);
  });

  it('kucoin: numbers (not strings), 4 h spacing; an empty data array is an empty page', async () => {
    const r = await read(kucoinFundingHistory, 'kucoin', 'funding-history.json', 'XBTUSDTM');
    expect(r.points).toEqual([
      { timeMs: T0, rate: 0.0001, intervalMs: 4 * H },
      { timeMs: T0 + 4 * H, rate: -0.000021, intervalMs: 4 * H },
      { timeMs: T0 + 8 * H, rate: 0.000149, intervalMs: 4 * H },
    ]);
    expect(r.calls[0]!.url).toBe(`http://venue/api/v1/contract/funding-rates?symbol=XBTUSDTM&from=${T0 - 24 * H}&to=${T0 + 24 * H}`);
    expect((await read(kucoinFundingHistory, 'kucoin', 'funding-history-empty.json', 'XBTUSDTM')).points).toEqual([]);
  });

  it('binance: oldest first, a time 1 ms off the grid still gives a 4 h interval, an empty markPrice is ignored', async () => {
    const r = await read(binanceFundingHistory, 'binance', 'funding-history.json', 'BTCUSDT');
    expect(r.points).toEqual([
      { timeMs: T0, rate: 0.0001, intervalMs: 4 * H },
      { timeMs: T0 + 4 * H + 1, rate: -0.0000375, intervalMs: 4 * H },
      { timeMs: T0 + 8 * H, rate: 0.000025, intervalMs: 4 * H },
    ]);
    await expect(read(binanceFundingHistory, 'binance', 'funding-history-error.json', 'NOPE')).rejects.toThrow(/-1121/);
  });

  it('hyperliquid: POST body, hourly rate per hour, stamps a few ms late', async () => {
    const r = await read(hyperliquidFundingHistory, 'hyperliquid', 'funding-history.json', 'BTC');
    expect(r.points).toEqual([
      { timeMs: T0 + 48, rate: 0.0000125, intervalMs: H },
      { timeMs: T0 + H + 81, rate: 0.0000098768, intervalMs: H },
      { timeMs: T0 + 2 * H + 2, rate: -0.0000031, intervalMs: H },
    ]);
    expect(r.calls[0]).toEqual({ url: 'http://venue/info', init: { method: 'POST', body: { type: 'fundingHistory', coin: 'BTC', startTime: T0 - 24 * H, endTime: T0 + 24 * H } } });
  });

  it('gate: times in SECONDS both ways', async () => {
    const r = await read(gateFundingHistory, 'gate', 'funding-history.json', 'BTC_USDT', T0 - 24 * H + 1, T0 + 24 * H);
    expect(r.points).toEqual([
      { timeMs: T0, rate: 0.0001, intervalMs: 8 * H },
      { timeMs: T0 + 8 * H, rate: -0.0000625, intervalMs: 8 * H },
      { timeMs: T0 + 16 * H, rate: 0.000157, intervalMs: 8 * H },
    ]);
    // from rounded up to the next whole second, to down.
    expect(r.calls[0]!.url).toBe(`http://venue/api/v4/futures/usdt/funding_rate?contract=BTC_USDT&from=${(T0 - 24 * H) / 1000 + 1}&to=${(T0 + 24 * H) / 1000}&limit=1000`);
    await expect(read(gateFundingHistory, 'gate', 'funding-history-error.json', 'NOPE')).rejects.toThrow(/INVALID_PARAM_VALUE/);
  });

  it('bitget: paged by number; productType from the symbol', async () => {
    const r = await read(bitgetFundingHistory, 'bitget', 'funding-history.json', 'BTCUSDT');
    expect(r.points).toEqual([
      { timeMs: T0 + 8 * H, rate: 0.000013, intervalMs: 8 * H },
      { timeMs: T0 + 16 * H, rate: 0.0005, intervalMs: 8 * H },
    ]);
    expect(r.remaining).toBeNull(); // a short page is the last one
    expect(r.calls[0]!.url).toBe('http://venue/api/v2/mix/market/history-fund-rate?symbol=BTCUSDT&productType=usdt-futures&pageSize=100&pageNo=1');
  });

  it('paging: a full page leaves the older part (newest-first venues) or the newer part (oldest-first venues)', async () => {
    const full = Array.from({ length: 200 }, (_, i) => ({ symbol: 'BTCUSDT', fundingRate: '0.0001', fundingRateTimestamp: String(T0 - i * 8 * H) }));
    const f = answering({ retCode: 0, retMsg: 'OK', result: { category: 'linear', list: full }, retExtInfo: {}, time: T0 });
    const from = T0 - 300 * 8 * H;
    const r = await bybitFundingHistory.fetch('http://venue', 'BTCUSDT', from, T0, f.fetchJson);
    expect(r.points).toHaveLength(200);
    expect(r.remaining).toEqual({ fromMs: from, toMs: T0 - 199 * 8 * H - 1 });
    const asc = Array.from({ length: 1000 }, (_, i) => ({ symbol: 'BTCUSDT', fundingTime: T0 + i * H, fundingRate: '0.00001', markPrice: '1' }));
    const b = await binanceFundingHistory.fetch('http://venue', 'BTCUSDT', T0, T0 + 2000 * H, answering(asc).fetchJson);
    expect(b.remaining).toEqual({ fromMs: T0 + 999 * H + 1, toMs: T0 + 2000 * H });
    // KuCoin documents no order: a full reply oldest first leaves the newer part.
    const kAsc = { code: '200000', data: Array.from({ length: 100 }, (_, i) => ({ symbol: 'XBTUSDTM', fundingRate: 0.0001, timepoint: T0 + i * 8 * H })) };
    const k = await kucoinFundingHistory.fetch('http://venue', 'XBTUSDTM', T0, T0 + 200 * 8 * H, answering(kAsc).fetchJson);
    expect(k.remaining).toEqual({ fromMs: T0 + 99 * 8 * H + 1, toMs: T0 + 200 * 8 * H });
  });
});
