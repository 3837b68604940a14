import { describe, expect, it } from 'vitest';
import { KucoinParser, kucoinAdapter, msFromDigits } from '../../server/venues/kucoin/adapter.js';
import { CollectingSink, fixture, fixtureLines, table, totalErrors } from './helpers.js';

const NEXT = 1706083200000;
const meta = () =>
  table('kucoin', [
    { symbol: 'XBTUSDTM', base: 'BTC', contractValue: 0.001, nextFundingMs: NEXT },
    { symbol: 'AUCTIONUSDTM', base: 'AUCTION', contractValue: 0.1, nextFundingMs: NEXT },
  ]);

describe('kucoin', () => {
  it('tickerV2: sizes × multiplier, nanosecond ts cut to ms from the digits', () => {
    const sink = new CollectingSink();
    const p = new KucoinParser(meta());
    expect(p.parse(fixture('kucoin', 'tickerV2.json'), sink)).toBe('data');
    expect(p.parse(fixture('kucoin', 'tickerV2-xbt.json'), sink)).toBe('data');
    const [a, x] = sink.updates;
    expect(a).toMatchObject({ kind: 'quote', symbol: 'AUCTIONUSDTM', bid: 24.067, ask: 24.08, bidSize: 26, askSize: 25, ts: 1705708800078 });
    // 1705708801999999999 ns: dividing the double would round up to ...802000; the digits give ...801999.
    expect(x).toMatchObject({ kind: 'quote', symbol: 'XBTUSDTM', bid: 41235.1, ask: 41235.2, ts: 1705708801999 });
    if (x.kind !== 'quote') throw new Error('expected a quote');
    expect(x.bidSize).toBeCloseTo(1.534, 12);
    expect(x.askSize).toBeCloseTo(0.087, 12);
    expect(Math.round(1705708801999999999 / 1e6)).toBe(1705708802000);
  });

  it('msFromDigits keeps ms/µs/ns integers exact and rejects anything else', () => {
    expect(msFromDigits('1705708801999')).toBe(1705708801999);
    expect(msFromDigits('1705708801999999')).toBe(1705708801999);
    expect(msFromDigits('1705708801999999999')).toBe(1705708801999);
    expect(msFromDigits('17057088019')).toBeNaN();
    expect(msFromDigits('1.5e18')).toBeNaN();
  });

  it('funding.rate: granularity 60000 is the predicted rate, else current; next time from REST rolled forward', () => {
    const sink = new CollectingSink();
    const p = new KucoinParser(meta());
    expect(p.parse(fixture('kucoin', 'funding.json'), sink)).toBe('data');
    expect(p.parse(fixture('kucoin', 'funding-predicted.json'), sink)).toBe('data');
    expect(sink.updates).toEqual([
      // ts 1706068800000 < NEXT: next stays the REST value
      { kind: 'funding', symbol: 'XBTUSDTM', rate: 0.000039, intervalMs: 28_800_000, nextFundingMs: NEXT, predicted: false, ts: 1706068800000 },
      { kind: 'funding', symbol: 'XBTUSDTM', rate: 0.000112, intervalMs: 28_800_000, nextFundingMs: NEXT, predicted: true, ts: 1706068860000 },
    ]);
    const late = new KucoinParser(table('kucoin', [{ symbol: 'XBTUSDTM', base: 'BTC', contractValue: 0.001, nextFundingMs: 1706068800000 - 28_800_000 }]));
    late.parse(fixture('kucoin', 'funding.json'), sink);
    expect(sink.updates[2]).toMatchObject({ nextFundingMs: 1706068800000 + 28_800_000 });
  });

  it('classifies welcome, ack, pong, error; ignores mark price', () => {
    const p = new KucoinParser(meta());
    const sink = new CollectingSink();
    expect(p.parse(fixture('kucoin', 'welcome.json'), sink)).toBe('welcome');
    expect(p.parse(fixture('kucoin', 'ack.json'), sink)).toBe('ack');
    expect(p.parse(fixture('kucoin', 'pong.json'), sink)).toBe('pong');
    expect(p.parse(fixture('kucoin', 'error.json'), sink)).toBe('venue_error');
    expect(p.parse(fixture('kucoin', 'mark.json'), sink)).toBe('ignored');
    expect(p.errors['venue_error:404']).toBe(1);
    expect(sink.updates).toEqual([]);
  });

  it('counts malformed and unknown frames by reason', () => {
    const p = new KucoinParser(meta());
    const sink = new CollectingSink();
    const lines = fixtureLines('kucoin', 'malformed.txt');
    for (const l of lines) expect(p.parse(l, sink)).toBe('rejected');
    expect(sink.updates).toEqual([]);
    expect(totalErrors(p.errors)).toBe(lines.length);
    expect(p.errors).toMatchObject({ invalid_json: 1, bad_timestamp: 1, bad_number: 1, unknown_subject: 1, bad_funding: 1, unknown_type: 1, not_an_object: 1 });
  });
});

describe('kucoin metadata and plan', () => {
  it('contracts/active: multiplier, granularity, XBT→BTC, relative next funding time', async () => {
    const body = {
      code: '200000',
      data: [
        { symbol: 'XBTUSDTM', baseCurrency: 'XBT', quoteCurrency: 'USDT', multiplier: 0.001, fundingRateGranularity: 28800000, nextFundingRateTime: 10561278, fundingFeeRate: 0.0001, isInverse: false },
        { symbol: 'ETHUSDTM', baseCurrency: 'ETH', quoteCurrency: 'USDT', multiplier: 0.01, fundingRateGranularity: 14400000, nextFundingRateDateTime: 1706083200000, isInverse: false },
      ],
    };
    const t = await kucoinAdapter.loadMetadata('http://x', ['XBTUSDTM', 'ETHUSDTM'], async () => body, 1706068800000);
    expect(t.get('XBTUSDTM')).toMatchObject({ key: 'BTC-PERP', contractValue: 0.001, fundingIntervalMs: 28_800_000, nextFundingMs: 1706068800000 + 10561278 });
    expect(t.get('XBTUSDTM')!.seedFunding).toMatchObject({ rate: 0.0001, predicted: false });
    expect(t.get('ETHUSDTM')).toMatchObject({ key: 'ETH-PERP', fundingIntervalMs: 14_400_000, nextFundingMs: 1706083200000 });
  });

  it('fetches a bullet token, connects with token+connectId, waits for welcome, ≤100 symbols per topic', async () => {
    const calls: Array<{ url: string; method?: string }> = [];
    const fetchJson = async (url: string, init?: { method?: 'GET' | 'POST' }) => {
      calls.push({ url, method: init?.method });
      return { code: '200000', data: { token: 'tok en', instanceServers: [{ endpoint: 'ws://127.0.0.1:9/ws', pingInterval: 18000, pingTimeout: 10000 }] } };
    };
    const symbols = Array.from({ length: 150 }, (_, i) => `S${i}USDTM`);
    const [plan] = await kucoinAdapter.plan({ ws: 'ws://unused', rest: 'http://r' }, symbols, fetchJson, { maxAgeMs: 1234 });
    expect(calls).toEqual([{ url: 'http://r/api/v1/bullet-public', method: 'POST' }]);
    expect(plan.url).toMatch(/^ws:\/\/127\.0\.0\.1:9\/ws\?token=tok%20en&connectId=\w+$/);
    expect(plan.awaitWelcome).toBe(true);
    expect(plan.maxAgeMs).toBe(1234);
    const topics = plan.subscribeMessages.map((m) => (JSON.parse(m) as { topic: string }).topic);
    expect(topics.map((t) => t.split(':')[1].split(',').length)).toEqual([100, 50, 100, 50]);
    expect(topics[0].startsWith('/contractMarket/tickerV2:S0USDTM,S1USDTM')).toBe(true);
    expect(topics[2].startsWith('/contract/instrument:')).toBe(true);
    expect(plan.heartbeat!.everyMs).toBe(18000);
    expect(JSON.parse(plan.heartbeat!.message())).toMatchObject({ type: 'ping' });
  });
});
