/**
 * engine.setInstrumentListed: a venue symbol leaving the scanned universe (delisted by its venue, or
 * excluded) closes the open opportunities it is a leg of, with the reason given, and stays unusable —
 * even for a quote already queued — until it is listed again. The per-id counterpart of setExchangeDown.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { OpportunityClosed } from '../../shared/opportunity.js';
import { btcOnFourVenues, engineConfig } from './btc-four-venues.js';

const T0 = 1_764_000_000_000;
const OPEN_ALL = { minSpreadBps: -10_000, minFundingDelta8h: -0.05, minConfidence: 0, minProfitBps: -10_000, hysteresisBps: 0 };

function setup() {
  const { clock, engine, ids, events } = btcOnFourVenues(engineConfig({ thresholds: OPEN_ALL }), T0);
  const quote = (ex: Exchange, bid: number, ask: number) => {
    engine.pushQuote(ids[ex], bid, ask, 10, 10, clock.t, 1);
    engine.drain();
  };
  return { engine, ids, events, quote };
}

describe('engine.setInstrumentListed', () => {
  it('closes only the pairs with that leg, with instrument_delisted; the leg stays unusable until listed again', () => {
    const { engine, ids, events, quote } = setup();
    quote('bybit', 100, 100.01);
    quote('okx', 100.02, 100.03);
    quote('binance', 100.01, 100.02);
    const open = engine.opportunities().map((o) => o.id).sort();
    expect(open).toEqual(['BTC-PERP|binance|bybit', 'BTC-PERP|binance|okx', 'BTC-PERP|bybit|binance', 'BTC-PERP|bybit|okx', 'BTC-PERP|okx|binance', 'BTC-PERP|okx|bybit']);
    events();

    engine.pushQuote(ids.okx, 100.05, 100.06, 10, 10, T0, 1); // queued before the delisting, drained after
    engine.setInstrumentListed(ids.okx, false);
    const closed = events().filter((e): e is OpportunityClosed => e.kind === 'closed');
    expect(closed.map((e) => e.opportunity.id).sort()).toEqual(['BTC-PERP|binance|okx', 'BTC-PERP|bybit|okx', 'BTC-PERP|okx|binance', 'BTC-PERP|okx|bybit']);
    expect(new Set(closed.map((e) => e.reason))).toEqual(new Set(['instrument_delisted']));
    expect(engine.opportunities().map((o) => o.id).sort()).toEqual(['BTC-PERP|binance|bybit', 'BTC-PERP|bybit|binance']);
    expect(engine.stats().detector.closed.instrument_delisted).toBe(4);
    expect(engine.isInstrumentListed(ids.okx)).toBe(false);

    engine.drain();
    quote('okx', 100.02, 100.03);
    expect(engine.quoteById(ids.okx)!.usable).toBe(false);
    expect(engine.opportunities().some((o) => o.id.includes('okx'))).toBe(false);

    engine.setInstrumentListed(ids.okx, true);
    quote('okx', 100.02, 100.03);
    expect(engine.quoteById(ids.okx)!.usable).toBe(true);
    expect(engine.opportunities().filter((o) => o.id.includes('okx')).length).toBe(4);
  });

  it('an exclusion closes with config_changed; an unknown id is ignored', () => {
    const { engine, ids, events, quote } = setup();
    quote('bybit', 100, 100.01);
    quote('kucoin', 100.02, 100.03);
    events();
    engine.setInstrumentListed(ids.kucoin, false, 'config_changed');
    const closed = events().filter((e): e is OpportunityClosed => e.kind === 'closed');
    expect(closed.length).toBe(2);
    expect(new Set(closed.map((e) => e.reason))).toEqual(new Set(['config_changed']));
    expect(() => engine.setInstrumentListed(999, false)).not.toThrow();
  });
});
