/**
 * Detector through the Engine facade: records are pushed into the pipeline, drained, and the events
 * read from the bus. Every expected number is computed by hand in the comments.
 * Default fees (bps): bybit 5.5, okx 5, kucoin 6, binance 5. Notional $1000, impact 5 bps, horizon 8 h.
 */
import { DEFAULT_INSTRUMENT_KEYS } from '../../server/feeds/metadata.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { OpportunityClosed, OpportunityEvent } from '../../shared/opportunity.js';
import { defaultSymbol } from '../../server/venues/index.js';
import { Engine, nowUs } from '../../server/engine/index.js';
import { btcOnFourVenues, engineConfig as config } from './btc-four-venues.js';

const T0 = 1_700_000_000_000;
const H = 3_600_000;
const BIG = 1_000_000; // touch size that covers any notional: no slippage

/** Thresholds every pair passes: lets a test read the scored values of both directions. */
const OPEN_ALL = { minSpreadBps: -10_000, minFundingDelta8h: -0.05, minConfidence: 0, minProfitBps: -10_000, hysteresisBps: 0 };

function setup(cfg: Config = config()) {
  const { clock, engine, sub, ids, events } = btcOnFourVenues(cfg, T0);
  const quote = (ex: Exchange, bid: number, ask: number, bidSize = BIG, askSize = BIG) => {
    engine.pushQuote(ids[ex], bid, ask, bidSize, askSize, clock.t, 1);
    engine.drain();
  };
  const funding = (ex: Exchange, rate: number, intervalMs: number, nextFundingMs: number, predicted = false) => {
    engine.pushFunding(ids[ex], rate, intervalMs, nextFundingMs, predicted, clock.t, 1);
    engine.drain();
  };
  const find = (evs: OpportunityEvent[], long: Exchange, short: Exchange) =>
    evs.filter((e) => e.opportunity.longExchange === long && e.opportunity.shortExchange === short);
  return { engine, clock, sub, ids, quote, funding, events, find };
}

describe('detector', () => {
  it('scores the spread in both directions and opens only the profitable one', () => {
    const { quote, events, engine } = setup();
    quote('bybit', 100, 100.01);
    quote('okx', 100.4, 100.41);
    const evs = events();
    // long bybit @100.01, short okx @100.40: 0.39 / 100.01 · 1e4 = 38.9961 bps; fees 2·(5.5+5) = 21 → profit 17.9961
    // long okx @100.41, short bybit @100: −0.41 / 100.41 · 1e4 = −40.83 bps → not opened
    expect(evs.map((e) => [e.kind, e.opportunity.id])).toEqual([['opened', 'BTC-PERP|bybit|okx']]);
    const o = evs[0].opportunity;
    expect(o.spreadBps).toBeCloseTo(38.99610039, 6);
    expect(o.feesBps).toBe(21);
    expect(o.slippageBps).toBe(0);
    expect(o.projectedProfitBps).toBeCloseTo(17.99610039, 6);
    expect(o.projectedProfitUsd).toBeCloseTo(1.799610039, 6); // bps / 1e4 · $1000
    expect(o.longAsk).toBe(100.01);
    expect(o.shortBid).toBe(100.4);
    expect(o.longSymbol).toBe('BTCUSDT');
    expect(o.shortSymbol).toBe('BTC-USDT-SWAP');
    // confidence: 38.996/50·50 + 0 + 20 = 58.996
    expect(o.confidence).toBeCloseTo(58.99610039, 6);
    expect(engine.opportunities().map((x) => x.id)).toEqual(['BTC-PERP|bybit|okx']);

    // the market flips: okx now cheap. long okx @99.51, short bybit @100: 0.49/99.51·1e4 = 49.2413 → opens;
    // long bybit @100.01, short okx @99.5: −51.0 → the open one closes (spread_below_min)
    quote('okx', 99.5, 99.51);
    const flip = events();
    expect(flip.map((e) => [e.kind, e.opportunity.id])).toEqual([
      ['opened', 'BTC-PERP|okx|bybit'],
      ['closed', 'BTC-PERP|bybit|okx'],
    ]);
    expect(flip[0].opportunity.spreadBps).toBeCloseTo(49.24128228, 6);
    expect((flip[1] as OpportunityClosed).reason).toBe('spread_below_min');
    expect(flip[1].opportunity.spreadBps).toBeCloseTo(-50.9949005, 5); // (99.5 − 100.01)/100.01·1e4
  });

  it('fees count entry and exit of both legs, per exchange', () => {
    const { quote, events, find } = setup(config({ thresholds: OPEN_ALL }));
    quote('kucoin', 99.99, 100);
    quote('binance', 99.99, 100);
    const evs = events();
    // kucoin 6 + binance 5 → 2 · 11 = 22 bps; spread (99.99 − 100)/100 = −1 bps → profit −23
    for (const e of [...find(evs, 'kucoin', 'binance'), ...find(evs, 'binance', 'kucoin')]) {
      expect(e.opportunity.feesBps).toBe(22);
      expect(e.opportunity.projectedProfitBps).toBeCloseTo(-23, 10);
    }
    expect(find(evs, 'kucoin', 'binance')).toHaveLength(1);
    expect(find(evs, 'binance', 'kucoin')).toHaveLength(1);
  });

  it('funding sign: the short receives positive funding, the long pays it (both ways)', () => {
    const { quote, funding, events, find } = setup(config({ thresholds: OPEN_ALL }));
    funding('bybit', 0.0001, 8 * H, T0 + H);
    funding('okx', -0.0001, 8 * H, T0 + H);
    quote('bybit', 99.99, 100);
    quote('okx', 99.99, 100);
    const evs = events();
    // spread (99.99 − 100)/100 = −1 bps both ways (a locked book, bid = ask, is rejected)
    // long okx (pays −0.0001 = receives 1 bp), short bybit (receives +0.0001 = 1 bp):
    // delta8h = 0.0001 − (−0.0001) = 0.0002; one event each in 8 h → expected (1·0.0001 − 1·(−0.0001))·1e4 = +2 bps
    const earn = find(evs, 'okx', 'bybit')[0].opportunity;
    expect(earn.fundingDelta8h).toBeCloseTo(0.0002, 12);
    expect(earn.expectedFundingBps).toBeCloseTo(2, 10);
    expect(earn.fundingAprPct).toBeCloseTo(21.9, 8); // 0.0002 · 3 · 365 · 100
    // fees 2·(5+5.5) = 21, spread −1 → profit = −1 + 2 − 21 = −20; break-even (21 + 1) / (2 bps / 8 h) = 88 h
    expect(earn.projectedProfitBps).toBeCloseTo(-20, 10);
    expect(earn.breakEvenHours).toBeCloseTo(88, 8);
    // confidence 0 + 0.0002/0.01·30 + 20 = 20.6
    expect(earn.confidence).toBeCloseTo(20.6, 10);
    // the other direction pays: delta −0.0002, expected −2 bps, no break-even
    const pay = find(evs, 'bybit', 'okx')[0].opportunity;
    expect(pay.fundingDelta8h).toBeCloseTo(-0.0002, 12);
    expect(pay.expectedFundingBps).toBeCloseTo(-2, 10);
    expect(pay.breakEvenHours).toBeNull();
    expect(pay.confidence).toBe(20);
  });

  it('normalises 1 h / 4 h / 8 h funding intervals and counts the events in the horizon', () => {
    const { quote, funding, events, find } = setup(config({ thresholds: OPEN_ALL }));
    funding('bybit', 0.0001, 1 * H, T0 + 0.5 * H); // 8h: 0.0008, 8 events in (T0, T0+8h]
    funding('okx', 0.0002, 4 * H, T0 + 0.5 * H, true); // 8h: 0.0004, events at +0.5 h, +4.5 h = 2
    funding('binance', 0.0003, 8 * H, T0 + 0.5 * H); // 8h: 0.0003, 1 event
    for (const ex of ['bybit', 'okx', 'binance'] as const) quote(ex, 99.99, 100);
    const evs = events();
    const a = find(evs, 'binance', 'bybit').at(-1)!.opportunity;
    expect(a.shortFundingRate8h).toBeCloseTo(0.0008, 12);
    expect(a.longFundingRate8h).toBeCloseTo(0.0003, 12);
    expect(a.fundingDelta8h).toBeCloseTo(0.0005, 12);
    expect(a.expectedFundingBps).toBeCloseTo(5, 10); // (8·0.0001 − 1·0.0003)·1e4
    expect(a.longFundingIntervalMs).toBe(8 * H);
    expect(a.shortFundingIntervalMs).toBe(1 * H);
    const b = find(evs, 'okx', 'bybit').at(-1)!.opportunity;
    expect(b.longFundingRate8h).toBeCloseTo(0.0004, 12);
    expect(b.fundingDelta8h).toBeCloseTo(0.0004, 12);
    expect(b.expectedFundingBps).toBeCloseTo(4, 10); // (8·0.0001 − 2·0.0002)·1e4
    expect(b.longFundingPredicted).toBe(true);
    expect(b.shortFundingPredicted).toBe(false);
    const c = find(evs, 'okx', 'binance').at(-1)!.opportunity;
    expect(c.fundingDelta8h).toBeCloseTo(-0.0001, 12); // 0.0003 − 0.0004
    expect(c.expectedFundingBps).toBeCloseTo(-1, 10); // (1·0.0003 − 2·0.0002)·1e4
  });

  it('slippage beyond the touch uses the impact, entry and exit', () => {
    const { quote, events } = setup(config({ thresholds: OPEN_ALL }));
    // long bybit ask 100 with 4 BTC visible: $1000 = 10 BTC → 6 beyond → 60 % · 5 bps = 3 bps
    // short okx bid 100.5 with 5 BTC: 9.950249 BTC → 4.950249 beyond → 49.75 % · 5 = 2.4875 bps
    // entry 5.4875 bps, ×2 for the exit = 10.975 bps
    quote('bybit', 99.9, 100, BIG, 4);
    quote('okx', 100.5, 100.6, 5, BIG);
    const o = events().find((e) => e.opportunity.id === 'BTC-PERP|bybit|okx')!.opportunity;
    expect(o.slippageBps).toBeCloseTo(10.975, 9);
    // spread 50 bps − fees 21 − slippage 10.975 = 18.025
    expect(o.projectedProfitBps).toBeCloseTo(18.025, 9);
    expect(o.longAskSize).toBe(4);
    expect(o.shortBidSize).toBe(5);
  });

  it('thresholds gate opening; config changes apply on the next update', () => {
    const { engine, quote, events } = setup(config({ thresholds: { minSpreadBps: 5, minProfitBps: 10, hysteresisBps: 2 } }));
    quote('bybit', 99.99, 100);
    quote('okx', 100.3, 100.31); // spread 30, fees 21 → profit 9 < 10: not opened
    expect(events()).toEqual([]);
    engine.setConfig(config({ thresholds: { minSpreadBps: 5, minProfitBps: 8, hysteresisBps: 2 } }));
    expect(events()).toEqual([]); // nothing until the next update
    quote('okx', 100.3, 100.31);
    const opened = events();
    expect(opened.map((e) => e.kind)).toEqual(['opened']);
    expect(opened[0].opportunity.projectedProfitBps).toBeCloseTo(9, 9);

    engine.setConfig(config({ thresholds: { minSpreadBps: 5, minProfitBps: 8, minConfidence: 80, hysteresisBps: 2 } }));
    quote('okx', 100.3, 100.31);
    // confidence 30/50·50 + 20 = 50 < 80 − 2 → closes with the matching reason
    const closed = events();
    expect(closed.map((e) => [e.kind, (e as OpportunityClosed).reason])).toEqual([['closed', 'confidence_below_min']]);
  });

  it('hysteresis: an open opportunity hovering just under the open threshold does not close', () => {
    const { quote, events, clock } = setup(config({ thresholds: { minSpreadBps: 5, minProfitBps: 8, hysteresisBps: 2 } }));
    quote('bybit', 99.99, 100);
    quote('okx', 100.3, 100.31); // profit 30 − 21 = 9 ≥ 8: opens
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    clock.t += 10;
    quote('okx', 100.28, 100.29); // profit 28 − 21 = 7: below 8 but above 8 − 2 = 6 → stays open, moved → updated
    const mid = events();
    expect(mid.map((e) => e.kind)).toEqual(['updated']);
    expect(mid[0].opportunity.projectedProfitBps).toBeCloseTo(7, 9);
    expect(mid[0].opportunity.updateCount).toBe(2);
    expect(mid[0].opportunity.peakProfitBps).toBeCloseTo(9, 9);
    expect(mid[0].opportunity.firstSeenMs).toBe(T0);
    clock.t += 10;
    quote('okx', 100.269, 100.279); // profit 26.9 − 21 = 5.9 < 6 → closes, unprofitable (spread 26.9 ≥ 5 − 2)
    const end = events();
    expect(end.map((e) => [e.kind, (e as OpportunityClosed).reason])).toEqual([['closed', 'unprofitable']]);
    const c = end[0] as OpportunityClosed;
    expect(c.lifetimeMs).toBe(20);
    expect(c.opportunity.peakProfitBps).toBeCloseTo(9, 9);
    expect(c.opportunity.projectedProfitBps).toBeCloseTo(5.9, 9);
  });

  it('funding below the minimum closes with funding_below_min (hysteresis in fraction units)', () => {
    const { quote, funding, events } = setup(
      config({ thresholds: { minSpreadBps: 5, minProfitBps: 0, minFundingDelta8h: 0.0001, hysteresisBps: 0.5 } }),
    );
    funding('okx', 0.0002, 8 * H, T0 + H); // short okx receives 0.0002
    funding('bybit', 0, 8 * H, T0 + H); // a known zero: an unknown leg never passes a positive funding threshold
    quote('bybit', 99.99, 100);
    quote('okx', 100.3, 100.31); // delta 0.0002 ≥ 0.0001 → opens
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    funding('okx', 0.00006, 8 * H, T0 + H); // delta 0.00006 ≥ 0.0001 − 0.00005 = 0.00005 → still open
    expect(events().map((e) => e.kind)).toEqual(['updated']);
    funding('okx', 0.00004, 8 * H, T0 + H); // 0.00004 < 0.00005 → closes
    const evs = events();
    expect(evs.map((e) => [e.kind, (e as OpportunityClosed).reason])).toEqual([['closed', 'funding_below_min']]);
  });

  it('updated only when a value moved more than epsilon, or at the bounded rate', () => {
    const { quote, events, clock } = setup(config({ detector: { updateEpsilonBps: 0.1, maxUpdateIntervalMs: 1000 } }));
    quote('bybit', 99.99, 100);
    quote('okx', 100.3, 100.31);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    clock.t += 10;
    quote('okx', 100.3, 100.31); // nothing changed → nothing
    quote('okx', 100.3005, 100.31); // spread +0.05 bps ≤ 0.1 → nothing yet
    expect(events()).toEqual([]);
    clock.t += 1000; // 1010 ms since the last event, and a change is pending → updated
    quote('okx', 100.3005, 100.31);
    const evs = events();
    expect(evs.map((e) => e.kind)).toEqual(['updated']);
    expect(evs[0].opportunity.spreadBps).toBeCloseTo(30.05, 9);
    expect(evs[0].opportunity.updateCount).toBe(4); // opening + three evaluations
    clock.t += 2000;
    quote('okx', 100.3005, 100.31); // due, but nothing changed since the last event → nothing
    expect(events()).toEqual([]);
  });

  it('a stale leg closes the opportunity (on the next update, or by sweep)', () => {
    const { engine, quote, events, clock } = setup(config({ detector: { staleAfterMs: 5000 } }));
    quote('bybit', 99.99, 100);
    quote('okx', 100.3, 100.31);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    clock.t += 5001;
    quote('okx', 100.3, 100.31); // bybit's quote is now 5001 ms old
    const evs = events();
    expect(evs.map((e) => [e.kind, (e as OpportunityClosed).reason])).toEqual([['closed', 'stale_quote']]);
    expect(evs[0].opportunity.longQuoteAgeMs).toBe(5001);
    expect(engine.opportunities()).toEqual([]);

    quote('bybit', 99.99, 100); // both fresh again → re-opens
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    clock.t += 6000; // no update arrives at all
    engine.sweep();
    expect(events().map((e) => [e.kind, (e as OpportunityClosed).reason])).toEqual([['closed', 'stale_quote']]);
    expect(engine.quote('BTC-PERP', 'bybit')?.usable).toBe(false);
  });

  it('a feed going down closes its opportunities with feed_down; none open while it is down', () => {
    const { engine, quote, events } = setup();
    quote('bybit', 99.99, 100);
    quote('okx', 100.3, 100.31);
    quote('kucoin', 100.3, 100.31);
    // long bybit / short okx (30 − 21 = 9) and long bybit / short kucoin (30 − 2·(5.5+6) = 7) open
    expect(events().map((e) => e.opportunity.id).sort()).toEqual(['BTC-PERP|bybit|kucoin', 'BTC-PERP|bybit|okx']);
    engine.setExchangeDown('okx', true);
    const evs = events();
    expect(evs.map((e) => [e.kind, e.opportunity.id, (e as OpportunityClosed).reason])).toEqual([
      ['closed', 'BTC-PERP|bybit|okx', 'feed_down'],
    ]);
    quote('okx', 100.3, 100.31);
    expect(events()).toEqual([]);
    expect(engine.quote('BTC-PERP', 'okx')?.usable).toBe(false);
    engine.setExchangeDown('okx', false);
    quote('okx', 100.3, 100.31);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    expect(engine.stats().detector.closed.feed_down).toBe(1);
  });

  it('removing an exchange from config.market closes its opportunities (config_changed) and ignores it', () => {
    const { engine, quote, events } = setup();
    quote('bybit', 99.99, 100);
    quote('okx', 100.3, 100.31);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    const base = config();
    engine.setConfig({ ...base, market: { ...base.market, exchanges: base.market.exchanges.filter((e) => e !== 'okx') } });
    expect(events().map((e) => [e.kind, (e as OpportunityClosed).reason])).toEqual([['closed', 'config_changed']]);
    quote('okx', 100.3, 100.31);
    expect(events()).toEqual([]);
    expect(engine.stats().exchangesDisabled).toEqual(['okx']);
    engine.setConfig(base);
    quote('okx', 100.3, 100.31);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
  });

  it('removing an instrument from config.market closes its opportunities (config_changed) and forgets its quotes', () => {
    const { engine, quote, events } = setup();
    quote('bybit', 99.99, 100);
    quote('okx', 100.3, 100.31);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    const base = config();
    const without = { ...base, market: { ...base.market, instruments: (base.market.instruments as string[]).filter((k) => k !== 'BTC-PERP') } };
    engine.setConfig(without);
    expect(events().map((e) => [e.kind, (e as OpportunityClosed).reason])).toEqual([['closed', 'config_changed']]);
    // The pre-change quotes are gone: a fresh quote on one venue alone cannot reopen the pair.
    expect(engine.quote('BTC-PERP', 'bybit')?.usable).toBe(false);
    quote('okx', 100.3, 100.31);
    expect(events()).toEqual([]);
    // Re-added, fresh quotes on both legs open it again.
    engine.setConfig(base);
    quote('bybit', 99.99, 100);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
  });

  it('events carry increasing bus sequence numbers, business time and the trigger’s recvUs', () => {
    const { engine, ids, events, clock } = setup();
    engine.pushQuote(ids.bybit, 99.99, 100, BIG, BIG, 0, 111);
    engine.pushQuote(ids.okx, 100.3, 100.31, BIG, BIG, 0, 222);
    engine.drain();
    clock.t += 5;
    engine.pushQuote(ids.okx, 100.5, 100.51, BIG, BIG, 0, 333);
    engine.drain();
    const evs = events();
    expect(evs.map((e) => [e.kind, e.seq, e.tsMs, e.recvUs])).toEqual([
      ['opened', 1, T0, 222],
      ['updated', 2, T0 + 5, 333],
    ]);
  });
});

describe('sanity rejection', () => {
  it('rejects and counts bad quotes and funding by reason, never using them', () => {
    const { engine, ids, quote, events, clock } = setup();
    const t = clock.t;
    engine.pushQuote(ids.okx, 101, 100, 1, 1, t, 1); // crossed
    engine.pushQuote(ids.okx, Number.NaN, 100, 1, 1, t, 1); // price
    engine.pushQuote(ids.okx, 0, 100, 1, 1, t, 1); // price ≤ 0
    engine.pushQuote(ids.okx, 100, 100.1, -1, 1, t, 1); // size
    engine.pushQuote(ids.okx, 100, 100.1, 1, 1, t / 1000, 1); // timestamp in seconds
    engine.pushQuote(ids.okx, 100, 100.1, 1, 1, t + 31 * 86_400_000, 1); // absurdly far
    engine.pushQuote(999, 100, 100.1, 1, 1, t, 1); // unknown id
    engine.pushFunding(ids.okx, 0.06, 8 * H, t + H, false, t, 1); // |rate| > 5 % per interval (percent, not fraction)
    engine.pushFunding(ids.okx, Number.POSITIVE_INFINITY, 8 * H, t + H, false, t, 1);
    engine.pushFunding(ids.okx, 0.0001, 10 * 60_000, t + H, false, t, 1); // interval 10 min
    engine.pushFunding(ids.okx, 0.0001, 48 * H, t + H, false, t, 1); // interval 48 h
    engine.pushFunding(ids.okx, 0.0001, 8 * H, (t + H) / 1000, false, t, 1); // next funding in seconds
    engine.pushFunding(ids.okx, 0.0001, 8 * H, t + 40 * 86_400_000, false, t, 1); // 40 days out
    engine.pushFunding(ids.okx, 0.0001, 8 * H, t + H, false, 1_700_000_000, 1); // ts in seconds
    expect(engine.drain()).toBe(14);
    const s = engine.stats();
    expect(s.rejected).toEqual({
      unknown_id: 1,
      price_invalid: 2,
      quote_crossed: 1,
      size_invalid: 1,
      timestamp_invalid: 3,
      funding_rate_out_of_bounds: 2,
      funding_interval_out_of_bounds: 2,
      funding_time_invalid: 2,
      funding_price_invalid: 0,
    });
    expect(s.rejectedTotal).toBe(14);
    expect(s.updates).toBe(14);
    const q = engine.quote('BTC-PERP', 'okx')!;
    expect(q.bid).toBe(0);
    expect(q.fundingRate).toBe(0);
    expect(q.usable).toBe(false);
    // a crossed quote that would be a huge "spread" never opens anything
    quote('bybit', 99.99, 100);
    engine.pushQuote(ids.okx, 120, 110, BIG, BIG, t, 1);
    engine.drain();
    expect(events()).toEqual([]);
    // exchange timestamp 0 = "venue sent none": accepted
    engine.pushQuote(ids.okx, 100.3, 100.31, BIG, BIG, 0, 1);
    engine.drain();
    expect(events().map((e) => e.kind)).toEqual(['opened']);
  });
});

describe('engine facade', () => {
  it('quote() shows the store; stats() counts updates, drops and subscriber progress', () => {
    const clock = { t: T0 };
    const engine = new Engine({ config: config(), now: () => clock.t, pipelineCapacity: 4, busCapacity: 8 });
    const sub = engine.bus.subscribe('strategy');
    const id = engine.registerInstrument('kucoin', 'XBTUSDTM', { base: 'BTC', quote: 'USDT' });
    for (let i = 0; i < 6; i++) engine.pushQuote(id, 100 + i, 101 + i, 1, 2, T0, 0); // 4 fit, 2 dropped
    expect(engine.drain(2)).toBe(2);
    expect(engine.drain()).toBe(2);
    engine.pushFunding(id, 0.0001, 4 * H, T0 + H, true, T0, 0);
    clock.t += 100;
    engine.drain();
    const q = engine.quote('BTC-PERP', 'kucoin')!;
    expect(q).toMatchObject({ id, exchange: 'kucoin', symbol: 'XBTUSDTM', instrument: 'BTC-PERP', bid: 103, ask: 104, bidSize: 1, askSize: 2 });
    expect(q).toMatchObject({ fundingRate: 0.0001, fundingIntervalMs: 4 * H, nextFundingMs: T0 + H, fundingPredicted: true, usable: true });
    expect(q.ageMs).toBe(100);
    expect(engine.quote('ETH-PERP', 'kucoin')).toBeNull();
    const s = engine.stats();
    expect(s.updates).toBe(5);
    expect(s.quotes).toBe(4);
    expect(s.fundings).toBe(1);
    expect(s.pipeline).toEqual({ capacity: 4, pending: 0, pushed: 5, dropped: 2 });
    expect(s.bus.subscribers).toEqual([{ name: 'strategy', pending: 0, missed: 0, popped: 0 }]);
    expect(s.instruments).toEqual({ ids: 1, instruments: 1, refusedSettle: 0 });
    sub.close();
  });

  it('latency histograms count stamped records and published events; foreign-clock stamps are ignored', () => {
    const { engine, ids, events } = setup();
    engine.pushQuote(ids.bybit, 99.99, 100, BIG, BIG, 0, nowUs());
    engine.pushQuote(ids.okx, 100.3, 100.31, BIG, BIG, 0, nowUs());
    engine.pushQuote(ids.okx, 100.3, 100.31, BIG, BIG, 0, 1_000_000); // a replay's recorded µs: not a latency
    engine.pushQuote(ids.okx, 100.3, 100.31, BIG, BIG, 0, 0); // unstamped
    engine.drain();
    const lat = engine.stats().latencyUs;
    expect(lat.pipeline_to_detected.count).toBe(2);
    expect(lat.pipeline_to_detected.p50Us).toBeGreaterThanOrEqual(0);
    expect(events().length).toBe(1);
    expect(lat.detected_to_bus.count).toBe(1);
  });

  it('every bus subscriber (strategy, dashboard, persistence) sees every event in order', () => {
    const { engine, quote, events } = setup();
    const dashboard = engine.bus.subscribe('dashboard');
    const persistence = engine.bus.subscribe('persistence');
    quote('bybit', 99.99, 100);
    quote('okx', 100.3, 100.31); // opened
    quote('okx', 100.5, 100.51); // updated
    quote('okx', 99, 99.01); // okx now cheap: the reverse pair opens, then bybit→okx closes
    const seqs = (evs: OpportunityEvent[]) => evs.map((e) => [e.seq, e.kind, e.opportunity.id]);
    const expected = [
      [1, 'opened', 'BTC-PERP|bybit|okx'],
      [2, 'updated', 'BTC-PERP|bybit|okx'],
      [3, 'opened', 'BTC-PERP|okx|bybit'],
      [4, 'closed', 'BTC-PERP|bybit|okx'],
    ];
    expect(seqs(events())).toEqual(expected);
    expect(seqs(dashboard.popBatch(100))).toEqual(expected);
    expect(seqs(persistence.popBatch(2))).toEqual(expected.slice(0, 2));
    expect(seqs(persistence.popBatch(2))).toEqual(expected.slice(2));
    expect(engine.opportunities().map((o) => o.id)).toEqual(['BTC-PERP|okx|bybit']);
  });

  it('preRegister registers the config market with the venues’ default symbols', () => {
    const engine = new Engine({ config: config(), now: () => T0 });
    const ids = engine.preRegister(DEFAULT_INSTRUMENT_KEYS, DEFAULT_CONFIG.market.exchanges, defaultSymbol);
    expect(ids.length).toBe(DEFAULT_INSTRUMENT_KEYS.length * DEFAULT_CONFIG.market.exchanges.length);
    expect(engine.instruments.id('kucoin', 'XBTUSDTM')).toBeGreaterThanOrEqual(0);
    expect(engine.instruments.exchangesFor('SOL-PERP')).toEqual([...DEFAULT_CONFIG.market.exchanges]);
  });
});
