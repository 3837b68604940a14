/**
 * The strategy on a cross-quote opportunity (a USDT leg against a USDC leg, issue 11 §3): the position
 * keeps each leg's settle currency, and every quote it reads for a leg — entry checks, the paper fill,
 * the marks — is that leg's market, not the venue's other-currency market of the same underlying.
 */
import { describe, expect, it } from 'vitest';
import { BTC, Harness } from './harness.js';

describe('strategy on a cross-quote opportunity', () => {
  it('enters, fills and marks each leg on its own settle currency’s market', () => {
    const h = new Harness();
    const bybitUsdc = h.engine.registerInstrument('bybit', 'BTCPERP', { base: 'BTC', quote: 'USDC' });
    const usdc = (bid: number, ask: number) => {
      h.engine.pushQuote(bybitUsdc, bid, ask, 1000, 1000, h.t, 0);
      h.engine.drain();
    };
    // okx USDT 99.90/100.00; bybit USDT 100.00/100.10 (no pair: 0 bps); bybit USDC 100.50/100.60 (50 bps against okx)
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 100.0, 100.1);
    usdc(100.5, 100.6);
    const opp = h.engine.opportunities();
    expect(opp.map((o) => [o.id, o.crossQuote])).toEqual([[`${BTC}|okx|bybit:USDC`, true]]);
    h.step();
    const p = h.only();
    expect(p.opportunityId).toBe(`${BTC}|okx|bybit:USDC`);
    expect(p.state).toBe('open');
    expect(p.long).toMatchObject({ exchange: 'okx', symbol: 'BTC-USDT-SWAP', settle: 'USDT', entryPrice: 100.0 });
    // sold at the USDC market's bid, not the USDT market's 100.00
    expect(p.short).toMatchObject({ exchange: 'bybit', symbol: 'BTCPERP', settle: 'USDC', entryPrice: 100.5 });
    expect(h.runner.fills().map((f) => [f.exchange, f.side, f.price])).toEqual([
      ['okx', 'buy', 100.0],
      ['bybit', 'sell', 100.5],
    ]);

    // Marks follow each leg's own market: the short is marked at the USDC ask.
    h.t += 100;
    usdc(100.3, 100.4);
    h.advance(0); // refreshes okx and bybit USDT, steps
    expect(h.only().short.markPrice).toBe(100.4);
    expect(h.only().long.markPrice).toBe(99.9);
  });
});
