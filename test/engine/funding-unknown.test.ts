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
import type { UpdateSink } from '../../server/feeds/adapter.js';
import { okxAdapter } from '../../server/venues/okx/adapter.js';
import { fixture, table } from '../feeds/helpers.js';
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
  return { engine, ids, quote, funding, events };
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

  /** An OKX parser over metadata whose 8 h interval is only assumed, feeding `engine`, and a push in the real format without nextFundingTime. */
  function assumedOkxLeg(engine: ReturnType<typeof setup>['engine'], okxId: number) {
    // OKX public/instruments lists no interval: discovery marks the 8 h as assumed (test/venues/funding-interval-assumed.test.ts).
    const meta = table('okx', [{ symbol: 'BTC-USDT-SWAP', base: 'BTC', fundingIntervalMs: 8 * H }]);
    Object.assign(meta.get('BTC-USDT-SWAP')!, { fundingIntervalAssumed: true, id: okxId });
    const parser = okxAdapter.createParser(meta);
    const toEngine: UpdateSink = {
      quote: () => undefined,
      funding: (m, rate, intervalMs, next, predicted, ts) => {
        engine.pushFunding(m.id, rate, intervalMs, next, predicted, ts, 1);
        engine.drain();
      },
    };
    // The real push format without nextFundingTime (test/fixtures/okx/funding-rate-old.json), on this test's clock.
    const push = JSON.parse(fixture('okx', 'funding-rate-old.json').replaceAll('WNCG-USDT-SWAP', 'BTC-USDT-SWAP')) as { data: Array<Record<string, string>> };
    push.data[0]!.fundingTime = String(T0 + H);
    return { parser, toEngine, push };
  }

  it('a leg whose interval is only ASSUMED (the venue gave none) is funding unknown: no open until the venue gives one', () => {
    const { engine, ids, quote, funding, events } = setup();
    const { parser, toEngine, push } = assumedOkxLeg(engine, ids.okx);
    funding('bybit', 0.0001);
    quote('bybit', 100, 100.01);
    quote('okx', 100.4, 100.41); // 39 bps spread: opens once funding is known on both legs
    expect(parser.parse(JSON.stringify(push), toEngine)).toBe('data');
    expect(engine.funding('BTC-PERP', 'okx')).toMatchObject({ rate: 0.00048105, intervalMs: 0, nextFundingMs: T0 + H });
    expect(events()).toEqual([]); // never scored as a known 8 h
    push.data[0]!.nextFundingTime = String(T0 + 9 * H); // the venue's own spacing: 8 h
    expect(parser.parse(JSON.stringify(push), toEngine)).toBe('data');
    const evs = events();
    expect(evs.map((e) => [e.kind, e.opportunity.id])).toEqual([['opened', 'BTC-PERP|bybit|okx']]);
    expect(evs[0]!.opportunity.shortFundingIntervalMs).toBe(8 * H);
    expect(fundingUnknown(evs[0]!.opportunity)).toBe(false);
  });

  it('with requireFunding off, the assumed-interval leg opens on its spread, flagged, with no funding counted', () => {
    const { engine, ids, quote, funding, events } = setup(false);
    const { parser, toEngine, push } = assumedOkxLeg(engine, ids.okx);
    funding('bybit', 0.0001);
    parser.parse(JSON.stringify(push), toEngine);
    quote('bybit', 100, 100.01);
    quote('okx', 100.4, 100.41);
    const o = events()[0]!.opportunity;
    expect([o.shortFundingIntervalMs, o.shortNextFundingMs]).toEqual([0, T0 + H]); // the okx (short) leg: rate and time known, interval not
    expect(fundingUnknown(o)).toBe(true);
    expect(o.expectedFundingBps).toBe(0);
  });
});
