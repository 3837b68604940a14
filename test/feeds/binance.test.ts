import { describe, expect, it } from 'vitest';
import { BinanceParser, binanceAdapter } from '../../server/venues/binance/adapter.js';
import { CollectingSink, fixture, fixtureLines, table, totalErrors } from './helpers.js';

const meta = () =>
  table('binance', [
    { symbol: 'BTCUSDT', base: 'BTC' },
    { symbol: 'SOLUSDT', base: 'SOL', fundingIntervalMs: 4 * 3_600_000 },
  ]);

describe('binance', () => {
  it('bookTicker (combined stream) → quote in base units, transaction time', () => {
    const sink = new CollectingSink();
    expect(new BinanceParser(meta()).parse(fixture('binance', 'bookTicker.json'), sink)).toBe('data');
    expect(sink.updates).toEqual([{ kind: 'quote', symbol: 'BTCUSDT', bid: 33134.42, ask: 33139.39, bidSize: 0.17, askSize: 0.38, ts: 1612137603568 }]);
  });

  it('markPrice: r = rate, T = next funding, interval from fundingInfo metadata', () => {
    const sink = new CollectingSink();
    const p = new BinanceParser(meta());
    p.parse(fixture('binance', 'markPrice.json'), sink);
    p.parse(fixture('binance', 'markPrice-4h.json'), sink);
    expect(sink.updates).toEqual([
      { kind: 'funding', symbol: 'BTCUSDT', rate: 0.0001564, intervalMs: 28_800_000, nextFundingMs: 1597564800000, predicted: false, ts: 1597536008000 },
      { kind: 'funding', symbol: 'SOLUSDT', rate: -0.000021, intervalMs: 14_400_000, nextFundingMs: 1597550400000, predicted: false, ts: 1597536008000 },
    ]);
  });

  it('classifies the subscribe ack and errors', () => {
    const p = new BinanceParser(meta());
    const sink = new CollectingSink();
    expect(p.parse(fixture('binance', 'ack.json'), sink)).toBe('ack');
    expect(p.parse(fixture('binance', 'error.json'), sink)).toBe('venue_error');
    expect(p.errors['venue_error:0']).toBe(1);
  });

  it('counts malformed and unknown frames by reason', () => {
    const p = new BinanceParser(meta());
    const sink = new CollectingSink();
    const lines = fixtureLines('binance', 'malformed.txt');
    for (const l of lines) expect(p.parse(l, sink)).toBe('rejected');
    expect(sink.updates).toEqual([]);
    expect(totalErrors(p.errors)).toBe(lines.length);
    expect(p.errors).toMatchObject({ invalid_json: 1, bad_number: 1, unknown_event: 1, unknown_symbol: 1, bad_funding: 1, unknown_message: 1, not_an_object: 1 });
  });
});

describe('binance metadata and plan', () => {
  it('exchangeInfo + fundingInfo; a symbol missing from fundingInfo has 8 h', async () => {
    const fetchJson = async (url: string) =>
      url.endsWith('/fapi/v1/exchangeInfo')
        ? { symbols: [{ symbol: 'BTCUSDT', contractType: 'PERPETUAL', baseAsset: 'BTC', quoteAsset: 'USDT' }, { symbol: 'SOLUSDT', contractType: 'PERPETUAL', baseAsset: 'SOL', quoteAsset: 'USDT' }, { symbol: 'BTCUSDT_260327', contractType: 'CURRENT_QUARTER', baseAsset: 'BTC', quoteAsset: 'USDT' }] }
        : [{ symbol: 'SOLUSDT', adjustedFundingRateCap: '0.02', adjustedFundingRateFloor: '-0.02', fundingIntervalHours: 4, disclaimer: false }];
    const t = await binanceAdapter.loadMetadata('http://x', ['BTCUSDT', 'SOLUSDT', 'BTCUSDT_260327'], fetchJson, 0);
    expect([...t.keys()]).toEqual(['BTCUSDT', 'SOLUSDT']);
    expect(t.get('BTCUSDT')!.fundingIntervalMs).toBe(8 * 3_600_000);
    expect(t.get('SOLUSDT')!.fundingIntervalMs).toBe(4 * 3_600_000);
  });

  it('two bases (/public bookTicker, /market markPrice@1s), ≤1024 streams per connection, lower-case names', async () => {
    const symbols = Array.from({ length: 1100 }, (_, i) => `S${i}USDT`);
    const plans = await binanceAdapter.plan({ ws: 'ws://h:1', rest: 'http://h:1' }, symbols, async () => null, {});
    expect(plans.map((p) => [p.url, p.topicCount])).toEqual([
      ['ws://h:1/public/stream', 1024],
      ['ws://h:1/public/stream', 76],
      ['ws://h:1/market/stream', 1024],
      ['ws://h:1/market/stream', 76],
    ]);
    const first = JSON.parse(plans[0].subscribeMessages[0]) as { method: string; params: string[] };
    expect(first.method).toBe('SUBSCRIBE');
    expect(first.params[0]).toBe('s0usdt@bookTicker');
    expect(JSON.parse(plans[2].subscribeMessages[0]).params[0]).toBe('s0usdt@markPrice@1s');
    expect(plans[0].subscribeSpacingMs).toBeGreaterThan(100); // ≤ 10 messages/s
    expect(plans[0].heartbeat).toBeNull(); // ws answers the server's ping frames
  });
});
