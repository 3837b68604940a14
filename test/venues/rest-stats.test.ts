/**
 * Open interest / 24 h volume read from REST where a venue's streams carry none (VenueAdapter.restStats):
 * each venue's body in its real wire format (fixtures, our values) through its parser and the real engine
 * (emitStats → stats record → market store → Engine.marketStats). Units: KuCoin contracts/active
 * `openInterest` lots × `multiplier` × `markPrice` and `turnoverOf24h`; Binance ticker/24hr `quoteVolume`;
 * OKX public/open-interest `oiUsd`.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/index.js';
import type { UpdateSink } from '../../server/feeds/adapter.js';
import { kucoinAdapter } from '../../server/venues/kucoin/adapter.js';
import { binanceAdapter } from '../../server/venues/binance/adapter.js';
import { okxAdapter } from '../../server/venues/okx/adapter.js';
import { engineConfig } from '../engine/btc-four-venues.js';
import { fixture, table } from '../feeds/helpers.js';
import { EngineSink, register } from '../traps/wire.js';

const T = 1_796_155_200_000;

function setup() {
  const engine = new Engine({ config: engineConfig(), now: () => T });
  return { engine, sink: new EngineSink(engine) };
}

/** One body of the venue's stats path through its hook; drains like the feed manager does. */
function apply(engine: Engine, sink: UpdateSink, rs: NonNullable<typeof kucoinAdapter.restStats>, body: unknown, meta: ReturnType<typeof table>): number {
  const n = rs.parse(rs.paths[0]!, body, meta, sink, T);
  engine.drain();
  return n;
}

describe('kucoin: contracts/active openInterest (lots) and turnoverOf24h', () => {
  const rs = kucoinAdapter.restStats!;
  const meta = () =>
    table('kucoin', [
      { symbol: 'XBTUSDTM', base: 'BTC', contractValue: 0.001 },
      { symbol: '1000BONKUSDTM', base: 'BONK', contractValue: 100, priceMultiplier: 1000 },
      { symbol: 'ETHUSDTM', base: 'ETH', contractValue: 0.01 },
    ]);

  it('lots × multiplier × mark price in USD, turnover as is; an unknown contract is skipped', () => {
    const { engine, sink } = setup();
    const m = register(engine, meta());
    const body: unknown = JSON.parse(fixture('kucoin', 'stats-contracts-active.json'));
    expect(rs.paths).toEqual(['/api/v1/contracts/active']);
    expect(apply(engine, sink, rs, body, m)).toBe(2); // XBT and BONK; ETH has neither figure; SOL is not ours
    const btc = engine.marketStats('BTC-PERP', 'kucoin')!;
    expect(btc.openInterestUsd).toBeCloseTo(8_500_000 * 0.001 * 95_000, 3);
    expect(btc.volume24hUsd).toBe(612345678.9);
    // 123456 lots × 100 (1000BONK per lot) × 0.024 per 1000BONK: the price multiplier cancels out.
    const bonk = engine.marketStats('BONK-PERP', 'kucoin')!;
    expect(bonk.openInterestUsd).toBeCloseTo(123456 * 100 * 0.024, 6);
    expect(bonk.volume24hUsd).toBe(2500000.5);
    expect(engine.marketStats('ETH-PERP', 'kucoin')).toEqual({ openInterestUsd: null, volume24hUsd: null });
  });

  it('an error reply or another shape is not the venue answer (-1) and changes nothing', () => {
    const { engine, sink } = setup();
    const m = register(engine, meta());
    expect(apply(engine, sink, rs, { code: '429000', msg: 'Too Many Requests' }, m)).toBe(-1);
    expect(apply(engine, sink, rs, [], m)).toBe(-1);
    expect(engine.marketStats('BTC-PERP', 'kucoin')).toEqual({ openInterestUsd: null, volume24hUsd: null });
  });
});

describe('binance: ticker/24hr quoteVolume (no open interest)', () => {
  const rs = binanceAdapter.restStats!;
  const meta = () =>
    table('binance', [
      { symbol: 'BTCUSDT', base: 'BTC' },
      { symbol: '1000PEPEUSDT', base: 'PEPE', priceMultiplier: 1000 },
      { symbol: 'ETHUSDT', base: 'ETH' },
    ]);

  it('every symbol of the all-symbols array: quote volume in USD; a damaged figure and an unknown symbol are skipped', () => {
    const { engine, sink } = setup();
    const m = register(engine, meta());
    expect(rs.paths).toEqual(['/fapi/v1/ticker/24hr']);
    expect(apply(engine, sink, rs, JSON.parse(fixture('binance', 'ticker-24hr.json')), m)).toBe(2);
    expect(engine.marketStats('BTC-PERP', 'binance')).toEqual({ openInterestUsd: null, volume24hUsd: 14490612345.67 });
    expect(engine.marketStats('PEPE-PERP', 'binance')).toEqual({ openInterestUsd: null, volume24hUsd: 452756554.43 });
    expect(engine.marketStats('ETH-PERP', 'binance')).toEqual({ openInterestUsd: null, volume24hUsd: null });
  });

  it('an error object is not the venue answer', () => {
    const { engine, sink } = setup();
    expect(apply(engine, sink, rs, { code: -1003, msg: 'Too many requests' }, register(engine, meta()))).toBe(-1);
  });
});

describe('okx: public/open-interest oiUsd', () => {
  const rs = okxAdapter.restStats!;
  const meta = () =>
    table('okx', [
      { symbol: 'BTC-USDT-SWAP', base: 'BTC', contractValue: 0.01 },
      { symbol: 'ETH-USDT-SWAP', base: 'ETH', contractValue: 0.1 },
    ]);

  it('oiUsd as is; an empty one is skipped; the volume (from the tickers stream) is untouched', () => {
    const { engine, sink } = setup();
    const m = register(engine, meta());
    expect(rs.paths).toEqual(['/api/v5/public/open-interest?instType=SWAP']);
    // The stream's volume first: the REST open interest must not erase it.
    engine.pushStats(m.get('BTC-USDT-SWAP')!.id, Number.NaN, 5_000_000, T - 1000, 0);
    expect(apply(engine, sink, rs, JSON.parse(fixture('okx', 'open-interest.json')), m)).toBe(1);
    expect(engine.marketStats('BTC-PERP', 'okx')).toEqual({ openInterestUsd: 2416049500.5, volume24hUsd: 5_000_000 });
    expect(engine.marketStats('ETH-PERP', 'okx')).toEqual({ openInterestUsd: null, volume24hUsd: null });
  });

  it('an error reply is not the venue answer', () => {
    const { engine, sink } = setup();
    expect(apply(engine, sink, rs, { code: '50011', msg: 'Too Many Requests', data: [] }, register(engine, meta()))).toBe(-1);
  });
});
