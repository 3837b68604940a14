/**
 * Issue 13 §6.2: a leg whose funding is unknown (no funding record received yet) makes the pair "funding
 * unknown": it is not opened by default (detector.requireFunding, default true); with requireFunding off it
 * may open on its spread, flagged (shared `fundingUnknown`: the leg's interval and next settlement are 0), its profit counting no funding for the pair (never a
 * carry of zero presented as known).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { fundingUnknown } from '../../shared/opportunity.js';
import type { Exchange } from '../../shared/exchanges.js';
import { btcOnFourVenues, engineConfig } from './btc-four-venues.js';

const T0 = 1_700_000_000_000;
const H = 3_600_000;
const BIG = 1_000_000;

function setup(requireFunding?: boolean) {
  const cfg = engineConfig({ detector: { requireFunding: requireFunding ?? DEFAULT_CONFIG.detector.requireFunding } });
  const { clock, engine, ids, events } = btcOnFourVenues(cfg, T0);
  const quote = (ex: Exchange, bid: number, ask: number) => {
    engine.pushQuote(ids[ex], bid, ask, BIG, BIG, clock.t, 1);
    engine.drain();
  };
  const funding = (ex: Exchange, rate: number) => {
    engine.pushFunding(ids[ex], rate, 8 * H, T0 + H, false, clock.t, 1);
    engine.drain();
  };
  return { engine, quote, funding, events };
}

describe('funding unknown', () => {
  it('requireFunding is on by default', () => {
    expect(DEFAULT_CONFIG.detector.requireFunding).toBe(true);
  });

  it('a pair with a leg that has no funding yet does not open; it opens once both legs have funding', () => {
    const { quote, funding, events } = setup();
    funding('bybit', 0.0001);
    quote('bybit', 100, 100.01);
    quote('okx', 100.4, 100.41); // 39 bps spread, profitable on price alone; okx funding unknown
    expect(events()).toEqual([]);
    funding('okx', 0.0001);
    const evs = events();
    expect(evs.map((e) => [e.kind, e.opportunity.id])).toEqual([['opened', 'BTC-PERP|bybit|okx']]);
    expect(fundingUnknown(evs[0].opportunity)).toBe(false);
  });

  it('with requireFunding off, the pair opens on its spread and is flagged: no funding counted, none presented as known', () => {
    const { quote, funding, events } = setup(false);
    funding('bybit', 0.0003); // the short leg's funding alone would add 3 bps·events: not counted while okx is unknown
    quote('okx', 100, 100.01);
    quote('bybit', 100.4, 100.41);
    const evs = events();
    expect(evs.map((e) => [e.kind, e.opportunity.id])).toEqual([['opened', 'BTC-PERP|okx|bybit']]);
    const o = evs[0].opportunity;
    expect(fundingUnknown(o)).toBe(true);
    expect([o.longFundingIntervalMs, o.longNextFundingMs]).toEqual([0, 0]); // the okx (long) leg: unknown, not a zero rate
    expect(o.expectedFundingBps).toBe(0);
    // spread 0.39/100.01 = 38.9961 bps − fees 2·(5+5.5) = 21 → 17.9961, no funding term
    expect(o.projectedProfitBps).toBeCloseTo(17.99610039, 6);
  });

  it('with requireFunding off, an unknown leg never passes a positive funding threshold', () => {
    const cfg = engineConfig({ detector: { requireFunding: false }, thresholds: { minFundingDelta8h: 0.00001 } });
    const { clock, engine, ids, events } = btcOnFourVenues(cfg, T0);
    engine.pushFunding(ids.bybit, 0.001, 8 * H, T0 + H, false, clock.t, 1);
    engine.pushQuote(ids.okx, 100, 100.01, BIG, BIG, clock.t, 1);
    engine.pushQuote(ids.bybit, 100.4, 100.41, BIG, BIG, clock.t, 1);
    engine.drain();
    expect(events()).toEqual([]);
  });
});
