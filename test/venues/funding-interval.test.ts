/**
 * The funding interval is live data on every venue (issue 12): when a venue changes a symbol's interval
 * (Binance and Bybit switch to 1 h by themselves when a settlement's rate is at its cap), the new interval
 * reaches the funding update from the venue's own data — the wire field where the venue sends one, the
 * refreshed metadata (the FeedManager updates the parsers' table in place on a discovery refresh), or the
 * spacing of the venue's next-funding times. Frames: test/fixtures/<venue>/ (see each SOURCES.md).
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { MetadataTable, VenueParser } from '../../server/feeds/adapter.js';
import { binanceAdapter } from '../../server/venues/binance/adapter.js';
import { bybitAdapter } from '../../server/venues/bybit/adapter.js';
import { kucoinAdapter } from '../../server/venues/kucoin/adapter.js';
import { okxAdapter } from '../../server/venues/okx/adapter.js';
import { CollectingSink, fixture, fixtureLines, table } from '../feeds/helpers.js';

const H = 3_600_000;

function fundingOf(parser: VenueParser, raw: string): Array<{ intervalMs: number; nextFundingMs: number; rate: number }> {
  const sink = new CollectingSink();
  parser.parse(raw, sink);
  return sink.take().flatMap((u) => (u.kind === 'funding' ? [{ intervalMs: u.intervalMs, nextFundingMs: u.nextFundingMs, rate: u.rate }] : []));
}

function setMeta(meta: MetadataTable, symbol: string, fields: { fundingIntervalMs?: number; nextFundingMs?: number }): void {
  Object.assign(meta.get(symbol)!, fields); // what FeedManager.syncVenue does on a refresh
}

describe('Bybit: fundingIntervalHour on the linear ticker', () => {
  const setup = () => {
    const meta = table('bybit' as Exchange, [{ symbol: 'BTCUSDT', base: 'BTC', fundingIntervalMs: 8 * H }]);
    return { meta, parser: bybitAdapter.createParser(meta) };
  };

  it('a delta switching to 1 h at the cap carries the new interval; later deltas without the field keep it', () => {
    const { parser } = setup();
    expect(fundingOf(parser, fixture('bybit', 'snapshot.json'))).toEqual([{ intervalMs: 8 * H, nextFundingMs: 1680681600000, rate: 0.0001 }]);
    const [switchFrame, rateOnly] = fixtureLines('bybit', 'delta-interval-1h.json');
    expect(fundingOf(parser, switchFrame!)).toEqual([{ intervalMs: H, nextFundingMs: 1680685200000, rate: 0.005 }]);
    expect(fundingOf(parser, rateOnly!)).toEqual([{ intervalMs: H, nextFundingMs: 1680685200000, rate: 0.0049 }]);
  });

  it('without the wire field the interval follows the refreshed metadata (not the value at the snapshot)', () => {
    const { meta, parser } = setup();
    fundingOf(parser, fixture('bybit', 'snapshot.json')); // no fundingIntervalHour: 8 h from instruments-info
    setMeta(meta, 'BTCUSDT', { fundingIntervalMs: 4 * H }); // a discovery refresh read fundingInterval 240
    const [, rateOnly] = fixtureLines('bybit', 'delta-interval-1h.json');
    expect(fundingOf(parser, rateOnly!)).toEqual([{ intervalMs: 4 * H, nextFundingMs: 1680681600000, rate: 0.0049 }]);
  });
});

describe('Binance: markPrice has no interval — fundingInfo, and the spacing of T across a settlement', () => {
  const S = 1764576000000; // 2025-12-01 08:00 UTC
  const setup = (hours: number) => {
    const meta = table('binance' as Exchange, [{ symbol: 'SOLUSDT', base: 'SOL', fundingIntervalMs: hours * H }]);
    return { meta, parser: binanceAdapter.createParser(meta) };
  };

  it('T stepping one hour after a settlement (cap hit) gives 1 h before fundingInfo says so', () => {
    const { parser } = setup(4);
    const [before, after, next] = fixtureLines('binance', 'markPrice-switch-1h.json');
    expect(fundingOf(parser, before!)).toEqual([{ intervalMs: 4 * H, nextFundingMs: S, rate: 0.02 }]);
    expect(fundingOf(parser, after!)).toEqual([{ intervalMs: H, nextFundingMs: S + H, rate: 0.0085 }]);
    expect(fundingOf(parser, next!)).toEqual([{ intervalMs: H, nextFundingMs: S + 2 * H, rate: 0.011 }]);
  });

  it('a fundingInfo change (discovery refresh) wins over the interval read from T; a revert reads from the next roll', () => {
    const { meta, parser } = setup(4);
    const [before, after] = fixtureLines('binance', 'markPrice-switch-1h.json');
    fundingOf(parser, before!);
    expect(fundingOf(parser, after!)[0]!.intervalMs).toBe(H);
    setMeta(meta, 'SOLUSDT', { fundingIntervalMs: H }); // fundingInfo caught up
    expect(fundingOf(parser, after!)[0]!.intervalMs).toBe(H);
    // 16 quiet hourly periods later Binance reverts to 4 h at the 12:00 settlement: T steps 12:00 → 16:00.
    const [atNoon, afterNoon] = fixtureLines('binance', 'markPrice-revert-4h.json');
    expect(fundingOf(parser, atNoon!)[0]!.intervalMs).toBe(H);
    expect(fundingOf(parser, afterNoon!)).toEqual([{ intervalMs: 4 * H, nextFundingMs: S + 8 * H, rate: 0.00005 }]);
    setMeta(meta, 'SOLUSDT', { fundingIntervalMs: 4 * H }); // fundingInfo says 4 h again
    expect(fundingOf(parser, afterNoon!)[0]!.intervalMs).toBe(4 * H);
  });

  it('no roll, no guess: the first frame, a reconnect, and frames of one period keep fundingInfo\'s interval', () => {
    const { parser } = setup(8);
    const [before, after] = fixtureLines('binance', 'markPrice-switch-1h.json');
    expect(fundingOf(parser, after!)[0]!.intervalMs).toBe(8 * H); // first frame: nothing to compare with
    parser.reset();
    expect(fundingOf(parser, before!)[0]!.intervalMs).toBe(8 * H);
    expect(fundingOf(parser, before!)[0]!.intervalMs).toBe(8 * H);
  });

  it('re-reads fundingInfo at every discovery and shortly after each settlement', () => {
    expect(binanceAdapter.refreshAfterSettlement).toBe(true);
  });
});

describe('KuCoin: granularity on the settled funding message, fundingRateGranularity on refresh', () => {
  it('the settled message\'s granularity is the interval; predicted rates and the next-time roll follow the refreshed metadata', () => {
    const NEXT = 1764576000000;
    const meta = table('kucoin' as Exchange, [{ symbol: 'XBTUSDTM', base: 'BTC', contractValue: 0.001, fundingIntervalMs: 8 * H, nextFundingMs: NEXT }]);
    const parser = kucoinAdapter.createParser(meta);
    // At the 08:00 settlement the message says 4 h; the next settlement is rolled by the metadata's interval.
    expect(fundingOf(parser, fixture('kucoin', 'funding-4h.json'))).toEqual([{ intervalMs: 4 * H, nextFundingMs: NEXT + 8 * H, rate: -0.000215 }]);
    // The post-settlement refresh (refreshAfterSettlement) brings the venue's own next time and granularity.
    expect(kucoinAdapter.refreshAfterSettlement).toBe(true);
    setMeta(meta, 'XBTUSDTM', { fundingIntervalMs: 4 * H, nextFundingMs: NEXT + 4 * H });
    const predicted = JSON.parse(fixture('kucoin', 'funding-predicted.json')) as { data: { timestamp: number } };
    predicted.data.timestamp = NEXT + 60_000;
    expect(fundingOf(parser, JSON.stringify(predicted))).toEqual([{ intervalMs: 4 * H, nextFundingMs: NEXT + 4 * H, rate: 0.000112 }]);
  });
});

describe('OKX: interval = nextFundingTime − fundingTime on every funding-rate push', () => {
  it('a swap moved to 1 h reads 1 h from the message, whatever the metadata says', () => {
    const meta = table('okx' as Exchange, [{ symbol: 'BTC-USDT-SWAP', base: 'BTC', contractValue: 0.01, fundingIntervalMs: 8 * H }]);
    const parser = okxAdapter.createParser(meta);
    expect(fundingOf(parser, fixture('okx', 'funding-rate-1h.json'))).toEqual([{ intervalMs: H, nextFundingMs: 1764579600000, rate: 0.0015 }]);
  });
});
