/**
 * Issue 13 §5: open interest and 24 h volume per leg, from the venues' real stream formats, through the real
 * engine (UpdateSink.stats → stats record → market store → Engine.marketStats). Units: Bybit's ticker
 * carries `openInterestValue` (open interest in the settle currency) and `turnover24h` (24 h traded value
 * in it); Hyperliquid's asset context carries `openInterest` in the listed coin and `markPx` per that coin
 * (their product is USD) and `dayNtlVlm` (24 h notional, USD); Gate's futures.tickers `total_size` in
 * contracts (× `quanto_multiplier`, the contract value, × `mark_price`) and `volume_24h_quote`; Bitget's
 * ticker `openInterest` in the base coin (× `markPrice`) and `turnover24h` in the quote currency.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/index.js';
import { BybitParser } from '../../server/venues/bybit/adapter.js';
import { hyperliquidAdapter } from '../../server/venues/hyperliquid/adapter.js';
import { GateParser } from '../../server/venues/gate/adapter.js';
import { bitgetAdapter } from '../../server/venues/bitget/adapter.js';
import { okxAdapter } from '../../server/venues/okx/adapter.js';
import { cannedInfo } from '../fixtures/hyperliquid/protocol.js';
import { engineConfig } from '../engine/btc-four-venues.js';
import { fixture, table } from '../feeds/helpers.js';
import { feed, frame, register } from '../traps/wire.js';

const T = 1_680_673_821_770; // bybit snapshot.json ts

describe('bybit: openInterestValue and turnover24h from the linear ticker', () => {
  const setup = () => {
    const engine = new Engine({ config: engineConfig(), now: () => T + 10 });
    const meta = register(engine, table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }]));
    return { engine, parser: new BybitParser(meta) };
  };

  it('a snapshot sets both; a delta without them keeps them', () => {
    const { engine, parser } = setup();
    expect(engine.marketStats('BTC-PERP', 'bybit')).toEqual({ openInterestUsd: null, volume24hUsd: null });
    expect(feed(engine, parser, fixture('bybit', 'snapshot.json'))).toBe('data');
    expect(engine.marketStats('BTC-PERP', 'bybit')).toEqual({ openInterestUsd: 1506861070.82, volume24hUsd: 4273027716.4294 });
    expect(feed(engine, parser, fixture('bybit', 'delta.json'))).toBe('data'); // openInterest (coins) only: no USD figure in it
    expect(engine.marketStats('BTC-PERP', 'bybit')).toEqual({ openInterestUsd: 1506861070.82, volume24hUsd: 4273027716.4294 });
    const moved = frame('bybit', 'delta.json', (m) => {
      m.data.openInterestValue = '1507000000.00';
      m.data.turnover24h = '4300000000.5';
    });
    expect(feed(engine, parser, moved)).toBe('data');
    expect(engine.marketStats('BTC-PERP', 'bybit')).toEqual({ openInterestUsd: 1_507_000_000, volume24hUsd: 4_300_000_000.5 });
  });

  it('a malformed figure is left out; the quote and the other figure still count', () => {
    const { engine, parser } = setup();
    const bad = frame('bybit', 'snapshot.json', (m) => {
      m.data.openInterestValue = 'n/a';
      m.data.turnover24h = '-5';
    });
    expect(feed(engine, parser, bad)).toBe('data');
    expect(engine.quote('BTC-PERP', 'bybit')!.bid).toBe(28550.7);
    expect(engine.marketStats('BTC-PERP', 'bybit')).toEqual({ openInterestUsd: null, volume24hUsd: null });
    const half = frame('bybit', 'snapshot.json', (m) => (m.data.openInterestValue = null));
    expect(feed(engine, parser, half)).toBe('data');
    expect(engine.marketStats('BTC-PERP', 'bybit')).toEqual({ openInterestUsd: null, volume24hUsd: 4273027716.4294 });
  });
});

describe('hyperliquid: openInterest × markPx and dayNtlVlm from asset contexts', () => {
  const HL_T = 1764590400123; // venue time of bbo.json
  const setup = async () => {
    const engine = new Engine({ config: engineConfig(), now: () => HL_T + 50 });
    const meta = register(engine, (await hyperliquidAdapter.discover('http://x', cannedInfo, HL_T, { dexes: [] })).table);
    const parser = hyperliquidAdapter.createParser(meta);
    expect(feed(engine, parser, fixture('hyperliquid', 'bbo.json'))).toBe('data'); // the venue clock
    return { engine, parser };
  };

  it('positional assetCtxs: per perp, 12345.6 coins × mark price, and the 24 h notional', async () => {
    const { engine, parser } = await setup();
    expect(feed(engine, parser, fixture('hyperliquid', 'assetCtxs.json'))).toBe('data');
    const eth = engine.marketStats('ETH-PERP', 'hyperliquid', 'USDC')!;
    expect(eth.openInterestUsd).toBeCloseTo(37_667_042.88, 4); // 12345.6 × 3051.05
    expect(eth.volume24hUsd).toBe(123456789.01);
    const btc = engine.marketStats('BTC-PERP', 'hyperliquid', 'USDC')!;
    expect(btc.openInterestUsd).toBeCloseTo(1_126_344_643.2, 3); // 12345.6 × 91234.5 = 1,094,814,000 + 345.6 × 91234.5
  });

  it('activeAssetCtx (by coin) carries the same figures', async () => {
    const { engine, parser } = await setup();
    expect(feed(engine, parser, fixture('hyperliquid', 'activeAssetCtx.json'))).toBe('data');
    const eth = engine.marketStats('ETH-PERP', 'hyperliquid', 'USDC')!;
    expect(eth.openInterestUsd).toBeCloseTo(37_667_042.88, 4);
    expect(eth.volume24hUsd).toBe(123456789.01);
  });
});

describe('gate: total_size × quanto_multiplier × mark_price and volume_24h_quote from futures.tickers', () => {
  it('contracts are converted to USD through the contract value', () => {
    const tsMs = 1796155230840; // tickers.json time_ms
    const engine = new Engine({ config: engineConfig(), now: () => tsMs + 10 });
    const meta = register(engine, table('gate', [{ symbol: 'BTC_USDT', base: 'BTC', contractValue: 0.0001, nextFundingMs: tsMs + 3_600_000 }]));
    const parser = new GateParser(meta);
    expect(feed(engine, parser, fixture('gate', 'tickers.json'))).toBe('data');
    const s = engine.marketStats('BTC-PERP', 'gate')!;
    expect(s.openInterestUsd).toBeCloseTo(7_420_785_555.61, 1); // 813,402,217 contracts × 0.0001 BTC × 91,231.44
    expect(s.volume24hUsd).toBe(1393441207);
  });
});

describe('bitget: openInterest × markPrice and turnover24h from the UTA ticker', () => {
  it('base-coin open interest is converted to USD at the mark price', () => {
    const engine = new Engine({ config: engineConfig(), now: () => 1780000005000 });
    const meta = register(engine, table('bitget', [{ symbol: 'BTCUSDT', base: 'BTC' }]));
    const parser = bitgetAdapter.createParser(meta);
    expect(feed(engine, parser, fixture('bitget', 'ticker-update.json'))).toBe('data');
    const s = engine.marketStats('BTC-PERP', 'bitget')!;
    expect(s.openInterestUsd).toBeCloseTo(4_471_126_982.27, 1); // 41,277.4408 BTC × 108,318.9
    expect(s.volume24hUsd).toBe(3184433925.77402);
  });
});

describe('okx: volCcy24h × last from the tickers channel (no open interest on it)', () => {
  it('base-currency volume is converted to USD at the last price; open interest stays unknown', () => {
    const tsMs = 1640131263109; // tickers.json ts
    const engine = new Engine({ config: engineConfig(), now: () => tsMs + 10 });
    const meta = register(engine, table('okx', [{ symbol: 'WNCG-USDT-SWAP', base: 'WNCG' }]));
    expect(feed(engine, okxAdapter.createParser(meta), fixture('okx', 'tickers.json'))).toBe('data');
    const s = engine.marketStats('WNCG-PERP', 'okx')!;
    expect(s.openInterestUsd).toBeNull();
    expect(s.volume24hUsd).toBeCloseTo(1_746_881.226, 3); // 803,940 WNCG × 2.1729 = 1,738,320 + 8,561.226
  });
});
