/**
 * Legs of different settle currencies (issue 11 §3): a leg is (instrument, venue, settle currency), so a
 * venue's USDT and USDC markets of one underlying are distinct ids; legs pair only across venues; a USDT
 * leg against a USDC leg is a cross-quote opportunity (scored only with detector.allowCrossQuote), and
 * the money figures of the other pairs are exactly what they were.
 * Default fees (bps): bybit 5.5, okx 5, kucoin 6, binance 5. Notional $1000, impact 5 bps, horizon 8 h.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { Opportunity, OpportunityClosed, OpportunityEvent, SettleCurrency } from '../../shared/opportunity.js';
import { Engine } from '../../server/engine/index.js';
import { InstrumentMap, LEG_COUNT, isSupportedSettle } from '../../server/engine/instruments.js';
import { decodeEvents, EventEncoder } from '../../server/persistence/codec.js';
import { engineConfig as config } from './btc-four-venues.js';
import { twinProbe } from '../venues/twin-probe.js';

const T0 = 1_700_000_000_000;
const BIG = 1_000_000;
/** Thresholds every pair passes: every scored direction opens and its values can be read. */
const OPEN_ALL = { minSpreadBps: -10_000, minFundingDelta8h: -0.05, minConfidence: 0, minProfitBps: -10_000, hysteresisBps: 0 };

type LegName = `${Exchange}:${SettleCurrency}`;

/** An engine with BTC registered on the given legs; `quote` pushes and drains. */
function setup(legs: readonly LegName[], cfg: Config = config({ thresholds: OPEN_ALL })) {
  const clock = { t: T0 };
  const engine = new Engine({ config: cfg, now: () => clock.t });
  const sub = engine.bus.subscribe('test');
  const ids = new Map<LegName, number>();
  for (const leg of legs) {
    const [ex, settle] = leg.split(':') as [Exchange, SettleCurrency];
    ids.set(leg, engine.registerInstrument(ex, twinProbe(ex).btcSymbols[settle], { base: 'BTC', quote: settle }));
  }
  const quote = (leg: LegName, bid: number, ask: number) => {
    engine.pushQuote(ids.get(leg)!, bid, ask, BIG, BIG, clock.t, 1);
    engine.drain();
  };
  const events = (): OpportunityEvent[] => sub.popBatch(10_000);
  const opened = (evs: OpportunityEvent[]) => evs.filter((e) => e.kind === 'opened').map((e) => e.opportunity);
  return { engine, clock, ids, quote, events, opened };
}

describe('instrument map: a leg per (instrument, venue, settle currency)', () => {
  it('gives a venue’s USDT and USDC markets of one underlying distinct ids under one instrument key', () => {
    const m = new InstrumentMap();
    const usdt = m.register('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' });
    const usdc = m.register('bybit', 'BTCPERP', { base: 'BTC', quote: 'USDC' });
    const okx = m.register('okx', 'BTC-USDC-SWAP', { base: 'BTC', quote: 'usdc' }); // case-insensitive
    expect(new Set([usdt, usdc, okx]).size).toBe(3);
    expect([m.instrumentOf(usdt), m.instrumentOf(usdc), m.instrumentOf(okx)]).toEqual(['BTC-PERP', 'BTC-PERP', 'BTC-PERP']);
    expect(m.instrumentCount).toBe(1);
    expect([m.settleOf(usdt), m.settleOf(usdc), m.settleOf(okx)]).toEqual(['USDT', 'USDC', 'USDC']);
    expect(m.idFor('BTC-PERP', 'bybit')).toBe(usdt); // USDT when the settle is omitted
    expect(m.idFor('BTC-PERP', 'bybit', 'USDC')).toBe(usdc);
    expect(m.idFor('BTC-PERP', 'okx')).toBe(okx); // no USDT leg: the venue's only (USDC) leg
    expect(m.idFor('BTC-PERP', 'okx', 'USDC')).toBe(okx);
    expect(m.legIndexOf(usdt)).not.toBe(m.legIndexOf(usdc));
    expect(m.legId(m.instrumentIndexOf(usdc), m.legIndexOf(usdc))).toBe(usdc);
    expect(m.idsFor('BTC-PERP')).toEqual([usdt, usdc, okx]);
    expect(m.exchangesFor('BTC-PERP')).toEqual(['bybit', 'okx']); // each venue once
    // a second spelling of the same leg is still an alias, not a new id
    expect(m.register('bybit', 'btcperp', { base: 'BTC', quote: 'USDC' })).toBe(usdc);
    expect(m.size).toBe(3);
    expect(LEG_COUNT).toBe(EXCHANGES.length * 2); // venues × 2 settle currencies
  });

  it('refuses a settle currency it cannot pair (callers filter with isSupportedSettle)', () => {
    const m = new InstrumentMap();
    expect(isSupportedSettle('USDC')).toBe(true);
    expect(isSupportedSettle('USD')).toBe(false);
    expect(() => m.register('okx', 'BTC-USD-SWAP', { base: 'BTC', quote: 'USD' })).toThrow(/unsupported settle/);
    expect(m.size).toBe(0);
  });

  it('the engine refuses (-1, counted) a market in a settle currency it does not pair; records pushed with -1 are rejected', () => {
    const engine = new Engine({ config: config(), now: () => T0 });
    expect(engine.registerInstrument('kucoin', 'XBTUSDM', { base: 'BTC', quote: 'USD' })).toBe(-1);
    expect(engine.stats().instruments).toEqual({ ids: 0, instruments: 0, refusedSettle: 1 });
    engine.pushQuote(-1, 100, 100.01, 1, 1, T0, 1);
    engine.drain();
    expect(engine.stats().rejected.unknown_id).toBe(1);
    expect(engine.registerInstrument('kucoin', 'XBTUSDCM', { base: 'BTC', quote: 'USDC' })).toBe(0);
  });

  it('a pre-registered USDT guess is replaced by the venue’s USDT spelling only, never by its USDC market', () => {
    const m = new InstrumentMap();
    const [guess] = m.preRegister(['PEPE-PERP'], ['bybit'], (_ex, base) => `${base}USDT`);
    const usdc = m.register('bybit', 'PEPEPERP', { base: 'PEPE', quote: 'USDC' });
    expect(usdc).not.toBe(guess);
    expect(m.symbolOf(guess)).toBe('PEPEUSDT');
    expect(m.register('bybit', '1000PEPEUSDT', { base: 'PEPE', quote: 'USDT' })).toBe(guess);
    expect(m.symbolOf(guess)).toBe('1000PEPEUSDT');
  });
});

describe('detector: cross-quote pairs', () => {
  it('pairs a USDT leg on one venue with a USDC leg on another: crossQuote set, each leg’s currency, an id naming the USDC leg', () => {
    const { quote, events } = setup(['bybit:USDT', 'okx:USDC'], config());
    quote('bybit:USDT', 100, 100.01);
    quote('okx:USDC', 100.4, 100.41);
    const evs = events();
    expect(evs.map((e) => [e.kind, e.opportunity.id])).toEqual([['opened', 'BTC-PERP|bybit|okx:USDC']]);
    const o = evs[0].opportunity;
    expect(o).toMatchObject({ longExchange: 'bybit', shortExchange: 'okx', longSymbol: 'BTCUSDT', shortSymbol: 'BTC-USDC-SWAP' });
    expect(o).toMatchObject({ longSettle: 'USDT', shortSettle: 'USDC', crossQuote: true });
    // Same figures as a USDT/USDT pair at these prices: (100.4 − 100.01)/100.01 · 1e4 = 38.9961 bps, fees 2·(5.5+5) = 21
    expect(o.spreadBps).toBeCloseTo(38.99610039, 6);
    expect(o.feesBps).toBe(21);
    expect(o.projectedProfitBps).toBeCloseTo(17.99610039, 6);
  });

  it('never pairs the USDT and USDC markets of one venue, however far apart', () => {
    const { quote, events, engine } = setup(['bybit:USDT', 'bybit:USDC']);
    quote('bybit:USDT', 100, 100.01);
    quote('bybit:USDC', 101, 101.01); // 1 %: inside the quarantine band, a 99 bps "spread" if it were a pair
    quote('bybit:USDT', 99, 99.01);
    expect(events()).toEqual([]);
    expect(engine.stats().detector.evaluations).toBe(0);
    expect(engine.opportunities()).toEqual([]);
  });

  it('keeps opportunity ids unique when two legs on one venue differ only by settle', () => {
    const { quote, events, opened } = setup(['bybit:USDT', 'okx:USDT', 'okx:USDC']);
    quote('okx:USDT', 100.4, 100.41);
    quote('okx:USDC', 100.4, 100.41);
    quote('bybit:USDT', 100, 100.01);
    const ids = opened(events()).map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['BTC-PERP|bybit|okx', 'BTC-PERP|bybit|okx:USDC', 'BTC-PERP|okx|bybit', 'BTC-PERP|okx:USDC|bybit']));
    expect(ids).toHaveLength(4); // okx USDT × okx USDC never pair
  });

  it('allowCrossQuote=false suppresses exactly the cross-quote pairs; turning it off closes the open ones', () => {
    const legs: LegName[] = ['bybit:USDT', 'okx:USDT', 'okx:USDC', 'binance:USDC'];
    const drive = (allow: boolean) => {
      const s = setup(legs, config({ thresholds: OPEN_ALL, detector: { allowCrossQuote: allow } }));
      s.quote('bybit:USDT', 100, 100.01);
      s.quote('okx:USDT', 100.4, 100.41);
      s.quote('okx:USDC', 100.3, 100.31);
      s.quote('binance:USDC', 100.2, 100.21);
      return { ...s, ids: s.opened(s.events()).map((o) => o.id).sort() };
    };
    const allowed = drive(true);
    const refused = drive(false);
    const cross = allowed.engine.opportunities().filter((o) => o.crossQuote);
    expect(cross.length).toBeGreaterThan(0);
    // Same-settle pairs are the same set either way; only the cross ones disappear.
    expect(refused.ids).toEqual(allowed.ids.filter((id) => !cross.some((o) => o.id === id)));
    expect(refused.engine.opportunities().every((o) => !o.crossQuote)).toBe(true);
    expect(refused.ids).toEqual(['BTC-PERP|bybit|okx', 'BTC-PERP|binance:USDC|okx:USDC', 'BTC-PERP|okx:USDC|binance:USDC', 'BTC-PERP|okx|bybit'].sort());

    // Live switch: the cross ones close with config_changed, the rest stay open.
    const before = allowed.engine.opportunities().length;
    allowed.engine.setConfig(config({ thresholds: OPEN_ALL, detector: { allowCrossQuote: false } }));
    const closed = allowed.events().filter((e): e is OpportunityClosed => e.kind === 'closed');
    expect(closed.map((e) => e.opportunity.id).sort()).toEqual(cross.map((o) => o.id).sort());
    expect(closed.every((e) => e.reason === 'config_changed' && e.opportunity.crossQuote)).toBe(true);
    expect(allowed.engine.opportunities()).toHaveLength(before - cross.length);
    // and nothing cross-quote reopens on the next quotes
    allowed.quote('okx:USDC', 100.3, 100.31);
    expect(allowed.opened(allowed.events()).filter((o) => o.crossQuote)).toEqual([]);
  });

  it('leaves the money figures of non-cross pairs unchanged by the extra USDC legs', () => {
    const drive = (legs: LegName[]) => {
      const s = setup(legs);
      s.engine.pushFunding(s.ids.get('bybit:USDT')!, 0.0001, 8 * 3_600_000, T0 + 3_600_000, false, T0, 1);
      s.engine.pushFunding(s.ids.get('okx:USDT')!, -0.0002, 4 * 3_600_000, T0 + 1_800_000, false, T0, 1);
      s.engine.drain();
      s.quote('bybit:USDT', 100, 100.01);
      if (s.ids.has('okx:USDC')) s.quote('okx:USDC', 100.3, 100.31);
      if (s.ids.has('binance:USDC')) s.quote('binance:USDC', 99.9, 99.95);
      s.quote('okx:USDT', 100.4, 100.41);
      return new Map(s.engine.opportunities().map((o) => [o.id, o]));
    };
    const plain = drive(['bybit:USDT', 'okx:USDT']);
    const mixed = drive(['bybit:USDT', 'okx:USDT', 'okx:USDC', 'binance:USDC']);
    const money = (o: Opportunity) => {
      const { spreadBps, feesBps, slippageBps, expectedFundingBps, projectedProfitBps, projectedProfitUsd, fundingDelta8h, confidence, breakEvenHours, longSettle, shortSettle, crossQuote } = o;
      return { spreadBps, feesBps, slippageBps, expectedFundingBps, projectedProfitBps, projectedProfitUsd, fundingDelta8h, confidence, breakEvenHours, longSettle, shortSettle, crossQuote };
    };
    expect([...plain.keys()].sort()).toEqual(['BTC-PERP|bybit|okx', 'BTC-PERP|okx|bybit']);
    for (const [id, o] of plain) {
      expect(money(mixed.get(id)!)).toEqual(money(o));
      expect(o).toMatchObject({ longSettle: 'USDT', shortSettle: 'USDT', crossQuote: false });
    }
    expect([...mixed.values()].some((o) => o.crossQuote)).toBe(true);
  });

  it('persists the settle fields: a cross-quote event round-trips through the stream codec', () => {
    const { quote, events } = setup(['bybit:USDC', 'okx:USDT']);
    quote('bybit:USDC', 100, 100.01);
    quote('okx:USDT', 100.4, 100.41);
    const evs = events();
    expect(evs.length).toBeGreaterThan(0);
    const enc = new EventEncoder();
    for (const e of evs) enc.add(e);
    const decoded = decodeEvents(enc.take());
    expect(decoded.malformed).toBe(false);
    expect(decoded.events).toEqual(evs);
    expect(decoded.events.map((e) => e.opportunity.id)).toContain('BTC-PERP|bybit:USDC|okx');
  });
});
