/**
 * The funding reference price (the price a venue values positions at when it settles funding) from each
 * venue's real stream format, through the real engine (UpdateSink.stats → stats record slot 3 → market
 * store → Engine.quote().fundingPrice):
 *   Hyperliquid assetCtxs / activeAssetCtx `oraclePx` (funding is paid on the ORACLE price, not `markPx`);
 *   Bybit ticker `markPrice` (merged: deltas omit it while unchanged); Binance markPriceUpdate `p`;
 *   Bitget ticker `markPrice`; Gate futures.tickers `mark_price`; KuCoin `mark.index.price` `markPrice`.
 *   OKX: none on the channels we subscribe (settlements fall back to the book price).
 * Prices are per ONE unit of the underlying, folded like quotes (kPEPE ÷ 1000). A price that is not
 * positive, or further than the quarantine band (5 %) from the venue's own book, is kept out and counted
 * as `funding_price_invalid`; a stale one (older than detector.staleAfterMs, as quotes) is not offered.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../server/engine/index.js';
import { BybitParser } from '../../server/venues/bybit/adapter.js';
import { hyperliquidAdapter } from '../../server/venues/hyperliquid/adapter.js';
import { GateParser } from '../../server/venues/gate/adapter.js';
import { bitgetAdapter } from '../../server/venues/bitget/adapter.js';
import { binanceAdapter } from '../../server/venues/binance/adapter.js';
import { kucoinAdapter } from '../../server/venues/kucoin/adapter.js';
import { okxAdapter } from '../../server/venues/okx/adapter.js';
import { cannedInfo } from '../fixtures/hyperliquid/protocol.js';
import { engineConfig } from '../engine/btc-four-venues.js';
import { fixture, table } from '../feeds/helpers.js';
import { feed, frame, register } from '../traps/wire.js';

const rejectedPrices = (engine: Engine) => engine.stats().rejected.funding_price_invalid;

describe('hyperliquid: oraclePx (not markPx) from the asset contexts', () => {
  const HL_T = 1764590400123; // venue time of bbo.json
  const setup = async () => {
    const clock = { t: HL_T + 50 };
    const engine = new Engine({ config: engineConfig(), now: () => clock.t });
    const meta = register(engine, (await hyperliquidAdapter.discover('http://x', cannedInfo, HL_T, { dexes: [] })).table);
    const parser = hyperliquidAdapter.createParser(meta);
    expect(feed(engine, parser, fixture('hyperliquid', 'bbo.json'))).toBe('data'); // BTC 91234.0 / 91235.0, the venue clock
    return { engine, parser, clock };
  };
  // BTC is position 0 of the main dex, kPEPE position 9.
  const ctxs = (edit: (ctx: Array<Record<string, unknown>>) => void) => frame('hyperliquid', 'assetCtxs.json', (m) => edit(m.data.ctxs));

  it('the oracle price, per coin; kPEPE is folded to one PEPE (÷ 1000)', async () => {
    const { engine, parser } = await setup();
    expect(engine.quote('BTC-PERP', 'hyperliquid', 'USDC')!.fundingPrice).toBeNull();
    const moved = ctxs((c) => {
      c[0]!.oraclePx = '91190.0'; // the oracle 44.5 below the mark 91234.5: funding is paid on 91190
      c[9]!.oraclePx = '0.0047088';
    });
    expect(feed(engine, parser, moved)).toBe('data');
    expect(engine.quote('BTC-PERP', 'hyperliquid', 'USDC')!.fundingPrice).toBe(91190);
    expect(engine.quote('PEPE-PERP', 'hyperliquid', 'USDC')!.fundingPrice).toBeCloseTo(0.0000047088, 15); // 0.0047088 per kPEPE ÷ 1000
    expect(rejectedPrices(engine)).toBe(0);
  });

  it('activeAssetCtx (by coin) carries the same field', async () => {
    const { engine, parser } = await setup();
    const eth = frame('hyperliquid', 'activeAssetCtx.json', (m) => (m.data.ctx.oraclePx = '3049.8')); // coin ETH, markPx "3051.05"
    expect(feed(engine, parser, eth)).toBe('data');
    expect(engine.quote('ETH-PERP', 'hyperliquid', 'USDC')!.fundingPrice).toBe(3049.8);
  });

  it('a zero, unreadable or off-book oracle price is counted and kept out; the funding still counts', async () => {
    const { engine, parser } = await setup();
    expect(feed(engine, parser, ctxs((c) => (c[0]!.oraclePx = '91200.0')))).toBe('data');
    expect(feed(engine, parser, ctxs((c) => (c[0]!.oraclePx = '0.0')))).toBe('data');
    expect(feed(engine, parser, ctxs((c) => (c[0]!.oraclePx = 'n/a')))).toBe('data');
    // 120,000 is 31.5 % above the book mid 91,234.5: another coin's price or a shifted decimal.
    expect(feed(engine, parser, ctxs((c) => (c[0]!.oraclePx = '120000.0')))).toBe('data');
    expect(rejectedPrices(engine)).toBe(3);
    expect(engine.quote('BTC-PERP', 'hyperliquid', 'USDC')!.fundingPrice).toBe(91200); // the last good one stands
    expect(engine.funding('BTC-PERP', 'hyperliquid', 'USDC')!.rate).toBe(0.0000125);
  });

  it('goes stale like a quote (detector.staleAfterMs after it was received)', async () => {
    const { engine, parser, clock } = await setup();
    expect(feed(engine, parser, ctxs((c) => (c[0]!.oraclePx = '91200.0')))).toBe('data');
    // Stamped with the venue time HL_T (received 50 ms later): its exchange age reaches the limit first.
    clock.t = HL_T + engineConfig().detector.staleAfterMs;
    expect(engine.quote('BTC-PERP', 'hyperliquid', 'USDC')!.fundingPrice).toBe(91200); // exactly at the limit: fresh
    clock.t += 1;
    expect(engine.quote('BTC-PERP', 'hyperliquid', 'USDC')!.fundingPrice).toBeNull();
  });

  it('a feed drop forgets it (no value from before the drop is used after it)', async () => {
    const { engine, parser } = await setup();
    expect(feed(engine, parser, ctxs((c) => (c[0]!.oraclePx = '91200.0')))).toBe('data');
    engine.setExchangeDown('hyperliquid', true);
    engine.setExchangeDown('hyperliquid', false);
    expect(engine.quote('BTC-PERP', 'hyperliquid', 'USDC')!.fundingPrice).toBeNull();
  });
});

describe('bybit: an unchanged mark is re-sent at most once a second, not with every quote frame', () => {
  it('deltas without a mark inside 1 s (venue time) carry no funding price; the next one after 1 s re-sends it', () => {
    const parser = new BybitParser(table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }]));
    const prices: number[] = [];
    const sink = { quote: () => undefined, funding: () => undefined, stats: (_m: unknown, _oi: number, _vol: number, _ts: number, px?: number) => void prices.push(px ?? NaN) };
    const delta = (ts: number, bid: string) => `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"${bid}"},"cs":1,"ts":${ts}}`;
    parser.parse(fixture('bybit', 'snapshot.json'), sink); // carries markPrice 28552.81 at T
    const T = 1_680_673_821_770;
    parser.parse(delta(T + 300, '28550.60'), sink);
    parser.parse(delta(T + 900, '28550.50'), sink);
    parser.parse(delta(T + 1_000, '28550.40'), sink);
    parser.parse(delta(T + 1_500, '28550.30'), sink);
    // Deltas without OI, volume or a fresh mark send no stats record at all; the 1 s re-send does.
    expect(prices).toEqual([28552.81, 28552.81]);
  });
});

describe('bybit: markPrice from the linear ticker, merged across deltas', () => {
  const T = 1_680_673_821_770; // snapshot.json ts
  const setup = () => {
    const engine = new Engine({ config: engineConfig(), now: () => T + 1500 });
    const meta = register(engine, table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }]));
    return { engine, parser: new BybitParser(meta) };
  };

  it('snapshot sets it; a delta without it re-sends the merged one; a delta with it moves it', () => {
    const { engine, parser } = setup();
    expect(feed(engine, parser, fixture('bybit', 'snapshot.json'))).toBe('data');
    expect(engine.quote('BTC-PERP', 'bybit')!.fundingPrice).toBe(28552.81); // book 28550.70 / 28550.80
    expect(feed(engine, parser, fixture('bybit', 'delta.json'))).toBe('data'); // no markPrice: unchanged
    expect(engine.quote('BTC-PERP', 'bybit')!.fundingPrice).toBe(28552.81);
    expect(feed(engine, parser, frame('bybit', 'delta.json', (m) => (m.data.markPrice = '28561.02')))).toBe('data');
    expect(engine.quote('BTC-PERP', 'bybit')!.fundingPrice).toBe(28561.02);
  });

  it('a damaged markPrice is counted once, not merged into later deltas', () => {
    const { engine, parser } = setup();
    expect(feed(engine, parser, fixture('bybit', 'snapshot.json'))).toBe('data');
    expect(feed(engine, parser, frame('bybit', 'delta.json', (m) => (m.data.markPrice = '-1')))).toBe('data');
    expect(feed(engine, parser, fixture('bybit', 'delta.json'))).toBe('data');
    expect(rejectedPrices(engine)).toBe(1);
    expect(engine.quote('BTC-PERP', 'bybit')!.fundingPrice).toBe(28552.81); // the snapshot's, still fresh
  });
});

describe('binance: markPriceUpdate `p`', () => {
  it('the mark price stream carries it next to the funding rate', () => {
    const E = 1597536008000; // markPrice.json E
    const engine = new Engine({ config: engineConfig(), now: () => E + 10 });
    const meta = register(engine, table('binance', [{ symbol: 'BTCUSDT', base: 'BTC' }]));
    const parser = binanceAdapter.createParser(meta);
    expect(feed(engine, parser, fixture('binance', 'markPrice.json'))).toBe('data');
    const q = engine.quote('BTC-PERP', 'binance')!;
    expect(q.fundingPrice).toBe(11857.56); // "p":"11857.56000000"; not "P" (estimated settle) nor "i" (index)
    expect(q.fundingRate).toBe(0.0001564);
  });
});

describe('bitget: ticker markPrice', () => {
  it('from the v3 ticker snapshot', () => {
    const engine = new Engine({ config: engineConfig(), now: () => 1780000005000 });
    const meta = register(engine, table('bitget', [{ symbol: 'BTCUSDT', base: 'BTC' }]));
    expect(feed(engine, bitgetAdapter.createParser(meta), fixture('bitget', 'ticker-snapshot.json'))).toBe('data');
    expect(engine.quote('BTC-PERP', 'bitget')!.fundingPrice).toBe(108312.5); // book 108312.4 / 108312.5, index 108340.21…
  });
});

describe('gate: futures.tickers mark_price', () => {
  it('the mark, not the last or index price', () => {
    const tsMs = 1796155230840; // tickers.json time_ms
    const engine = new Engine({ config: engineConfig(), now: () => tsMs + 10 });
    const meta = register(engine, table('gate', [{ symbol: 'BTC_USDT', base: 'BTC', contractValue: 0.0001, nextFundingMs: tsMs + 3_600_000 }]));
    expect(feed(engine, new GateParser(meta), fixture('gate', 'tickers.json'))).toBe('data');
    expect(engine.quote('BTC-PERP', 'gate')!.fundingPrice).toBe(91231.44); // last 91230.1, index 91228.97
  });
});

describe('kucoin: mark.index.price on the instrument channel we already subscribe', () => {
  it('markPrice (a JSON number), not indexPrice; the contract multiplier does not touch a price', () => {
    const ts = 1706068801000; // mark.json timestamp
    const engine = new Engine({ config: engineConfig(), now: () => ts + 10 });
    const meta = register(engine, table('kucoin', [{ symbol: 'XBTUSDTM', base: 'BTC', contractValue: 0.001 }]));
    expect(feed(engine, kucoinAdapter.createParser(meta), fixture('kucoin', 'mark.json'))).toBe('data');
    expect(engine.quote('BTC-PERP', 'kucoin')!.fundingPrice).toBe(39610.11);
  });
});

describe('okx: no reference price on tickers / funding-rate', () => {
  it('stays null: its settlements are valued at the book price', () => {
    const tsMs = 1640131263109; // tickers.json ts
    const engine = new Engine({ config: engineConfig(), now: () => tsMs + 10 });
    const meta = register(engine, table('okx', [{ symbol: 'WNCG-USDT-SWAP', base: 'WNCG' }]));
    expect(feed(engine, okxAdapter.createParser(meta), fixture('okx', 'tickers.json'))).toBe('data');
    const q = engine.quote('WNCG-PERP', 'okx')!;
    expect(q.bid).toBe(2.1737);
    expect(q.fundingPrice).toBeNull();
  });
});
