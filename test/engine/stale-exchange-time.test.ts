/**
 * Issue 13 §6.3: a quote is stale when EITHER its receive age or its exchange-timestamp age exceeds
 * detector.staleAfterMs. A frame received now but stamped months ago (a replayed or stuck venue) must not
 * open an opportunity; a venue whose clock is a little behind (feed latency, skew) still counts.
 */
import { describe, expect, it } from 'vitest';
import { btcOnFourVenues, engineConfig } from './btc-four-venues.js';
import type { Exchange } from '../../shared/exchanges.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const BIG = 1_000_000;

function setup() {
  const cfg = engineConfig({ detector: { staleAfterMs: 5000 } });
  const { clock, engine, ids, events } = btcOnFourVenues(cfg, T0);
  const quote = (ex: Exchange, bid: number, ask: number, exchangeTsMs: number) => {
    engine.pushQuote(ids[ex], bid, ask, BIG, BIG, exchangeTsMs, 1);
    engine.drain();
  };
  return { clock, engine, quote, events };
}

describe('stale quotes: receive age and exchange-timestamp age', () => {
  it('a quote received now but stamped 90 days ago opens nothing and is not usable', () => {
    const { quote, events, engine } = setup();
    quote('bybit', 100, 100.01, T0);
    quote('okx', 100.4, 100.41, T0 - 90 * DAY);
    expect(events()).toEqual([]);
    expect(engine.quote('BTC-PERP', 'okx')?.usable).toBe(false);
    expect(engine.quote('BTC-PERP', 'bybit')?.usable).toBe(true);
  });

  it('an exchange clock behind by less than the limit (latency, skew) still opens; ahead of ours too', () => {
    const { quote, events } = setup();
    quote('bybit', 100, 100.01, T0 - 4000);
    quote('okx', 100.4, 100.41, T0 + 2000);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
  });

  it('an open opportunity closes (stale_quote) once a leg\'s exchange time is older than the limit, though frames keep arriving', () => {
    const { clock, quote, events, engine } = setup();
    quote('bybit', 100, 100.01, T0);
    quote('okx', 100.4, 100.41, T0);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    clock.t = T0 + 6000;
    quote('bybit', 100, 100.01, T0 + 6000);
    quote('okx', 100.4, 100.41, T0); // a venue repeating an old stamp: received now, exchange age 6 s
    const evs = events();
    expect(evs.map((e) => e.kind)).toEqual(['closed']);
    expect(evs[0].kind === 'closed' && evs[0].reason).toBe('stale_quote');
    expect(engine.opportunities()).toEqual([]);
  });

  it('the sweep closes on exchange age alone', () => {
    const { clock, quote, events, engine } = setup();
    quote('bybit', 100, 100.01, T0 - 3000);
    quote('okx', 100.4, 100.41, T0);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    clock.t = T0 + 2500; // receive ages 2.5 s; bybit's exchange age 5.5 s
    engine.sweep();
    const evs = events();
    expect(evs.map((e) => e.kind)).toEqual(['closed']);
    expect(evs[0].kind === 'closed' && evs[0].reason).toBe('stale_quote');
  });

  it('a quote without an exchange time (0) ages by its receive time only', () => {
    const { quote, events } = setup();
    quote('bybit', 100, 100.01, 0);
    quote('okx', 100.4, 100.41, 0);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
  });
});
