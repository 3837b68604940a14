/**
 * Same ticker, different token (issue 11 §3): a venue whose quotes for an instrument sit far off the
 * other venues' consensus is held by the quarantine, so it never pairs; when that lasts without a break
 * for detector.reviewAfterMs the symbol is flagged for review (engine stats → /api/system → dashboard)
 * with its price, the consensus and since when. A passing blip is not flagged.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import { Engine } from '../../server/engine/index.js';
import { btcOnFourVenues, engineConfig as config } from './btc-four-venues.js';

const T0 = 1_700_000_000_000;
const BIG = 1_000_000;
const OPEN_ALL = { minSpreadBps: -10_000, minFundingDelta8h: -0.05, minConfidence: 0, minProfitBps: -10_000, hysteresisBps: 0 };
const REVIEW_MS = 30_000;

function setup() {
  const { clock, engine, ids, events } = btcOnFourVenues(config({ thresholds: OPEN_ALL, detector: { reviewAfterMs: REVIEW_MS } }), T0);
  const quote = (ex: Exchange, bid: number, ask: number) => {
    engine.pushQuote(ids[ex], bid, ask, BIG, BIG, clock.t, 1);
    engine.drain();
  };
  /** One second of market: the three honest venues near 100, kucoin at `kucoinMid`. */
  const second = (kucoinMid: number) => {
    clock.t += 1000;
    quote('bybit', 100, 100.02);
    quote('okx', 100.01, 100.03);
    quote('binance', 99.99, 100.01);
    quote('kucoin', kucoinMid - 0.05, kucoinMid + 0.05);
  };
  const review = () => engine.stats().quarantine.review;
  return { clock, engine, events, second, review };
}

describe('review flag: same ticker, another token', () => {
  it('a venue 50× off the consensus never opens an opportunity and is flagged once held for reviewAfterMs', () => {
    const { engine, events, second, review } = setup();
    const firstHeldMs = T0 + 1000;
    for (let s = 0; s < 29; s++) second(5000);
    const evs = events();
    // Honest venues pair among themselves (OPEN_ALL), kucoin never does.
    expect(evs.length).toBeGreaterThan(0);
    expect(evs.filter((e) => e.opportunity.longExchange === 'kucoin' || e.opportunity.shortExchange === 'kucoin')).toEqual([]);
    expect(engine.quote('BTC-PERP', 'kucoin')?.quarantine).toBe('off_consensus');
    expect(review()).toEqual([]); // held for 28 s: not yet

    second(5000);
    second(5000); // held 30 s since its first off-consensus quote
    const flags = review();
    expect(flags).toHaveLength(1);
    const f = flags[0];
    expect(f).toMatchObject({ instrument: 'BTC-PERP', exchange: 'kucoin', symbol: 'XBTUSDTM', settle: 'USDT', sinceMs: firstHeldMs, lastQuoteMs: T0 + 31_000 });
    expect(f.price).toBeCloseTo(5000, 9);
    expect(f.consensusPrice).toBeCloseTo(100.01, 9); // median of 100.01, 100.02, 100.00
    expect(f.deviationPct).toBeCloseTo((5000 / 100.01 - 1) * 100, 6);
    expect(events().filter((e) => e.opportunity.longExchange === 'kucoin' || e.opportunity.shortExchange === 'kucoin')).toEqual([]);
    expect(engine.stats().quarantine.active).toEqual({ kucoin: 1 });

    // The venue's quotes come back to the consensus (the listing was fixed): accepted, flag cleared, it pairs again.
    second(100.01);
    expect(review()).toEqual([]);
    expect(engine.quote('BTC-PERP', 'kucoin')?.quarantine).toBeNull();
    expect(events().some((e) => e.opportunity.longExchange === 'kucoin' || e.opportunity.shortExchange === 'kucoin')).toBe(true);
  });

  it('a passing blip is not flagged, and an accepted quote restarts the clock', () => {
    const { second, review } = setup();
    for (let s = 0; s < 5; s++) second(100.01);
    for (let s = 0; s < 20; s++) second(5000); // held 20 s
    second(100.01); // accepted: the run of held quotes is broken
    for (let s = 0; s < 20; s++) second(5000); // held 20 s again: 40 s in all, never 30 s in a row
    expect(review()).toEqual([]);
    for (let s = 0; s < 11; s++) second(5000);
    expect(review().map((f) => [f.exchange, f.sinceMs])).toEqual([['kucoin', T0 + 27_000]]);
  });

  it('one vote per venue: a venue’s USDC leg does not vouch for its USDT leg, and a USDC leg elsewhere is a witness', () => {
    const clock = { t: T0 };
    const engine = new Engine({ config: config({ thresholds: OPEN_ALL, detector: { reviewAfterMs: REVIEW_MS } }), now: () => clock.t });
    const bybitUsdt = engine.registerInstrument('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' });
    const bybitUsdc = engine.registerInstrument('bybit', 'BTCPERP', { base: 'BTC', quote: 'USDC' });
    const okxUsdc = engine.registerInstrument('okx', 'BTC-USDC-SWAP', { base: 'BTC', quote: 'USDC' });
    const binance = engine.registerInstrument('binance', 'BTCUSDT', { base: 'BTC', quote: 'USDT' });
    const quote = (id: number, mid: number) => {
      engine.pushQuote(id, mid - 0.05, mid + 0.05, BIG, BIG, clock.t, 1);
      engine.drain();
    };
    for (let s = 0; s <= 31; s++) {
      clock.t = T0 + s * 1000;
      quote(okxUsdc, 100.0);
      quote(binance, 100.02);
      quote(bybitUsdc, 5000); // the other token, listed in both currencies on one venue
      quote(bybitUsdt, 5000);
    }
    // okx's USDC leg and binance's USDT leg agree with each other (2 venues) against bybit (1 venue, 2 legs).
    expect(engine.quote('BTC-PERP', 'okx', 'USDC')?.quarantine).toBeNull();
    expect(engine.quote('BTC-PERP', 'bybit', 'USDT')?.quarantine).toBe('off_consensus');
    expect(engine.quote('BTC-PERP', 'bybit', 'USDC')?.quarantine).toBe('off_consensus');
    expect(engine.stats().quarantine.review.map((f) => [f.symbol, f.settle]).sort()).toEqual([
      ['BTCPERP', 'USDC'],
      ['BTCUSDT', 'USDT'],
    ]);
    expect(engine.opportunities().every((o) => o.longExchange !== 'bybit' && o.shortExchange !== 'bybit')).toBe(true);
    expect(engine.opportunities().map((o) => o.id).sort()).toEqual(['BTC-PERP|binance|okx:USDC', 'BTC-PERP|okx:USDC|binance']);
  });

  it('a feed drop forgets the hold (the first quote after a reconnect is judged afresh)', () => {
    const { engine, second, review } = setup();
    for (let s = 0; s < 31; s++) second(5000);
    expect(review()).toHaveLength(1);
    engine.setExchangeDown('kucoin', true);
    expect(review()).toEqual([]);
  });
});
