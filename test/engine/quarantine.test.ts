/**
 * Quote quarantine through the Engine facade: an implausible quote (another coin's price, a shifted
 * decimal, a crossed or absurdly wide book) never reaches the store's usable quotes or the detector, is
 * counted per venue and reason, and is released by itself when it converges.
 * Band: the default 5 % (config.detector.quarantineBandPct).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, applyConfigPatch, type Config } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { BroadcastRing } from '../../server/engine/bus.js';
import { Detector, TIME_NOW_MS, TIME_RECV_US } from '../../server/engine/detector.js';
import { InstrumentMap } from '../../server/engine/instruments.js';
import { MarketStore } from '../../server/engine/market-store.js';
import { btcOnFourVenues, engineConfig as config } from './btc-four-venues.js';

const T0 = 1_700_000_000_000;
const BIG = 1_000_000;

function setup(cfg: Config = config()) {
  const { clock, engine, ids, events } = btcOnFourVenues(cfg, T0);
  const quote = (ex: Exchange, bid: number, ask: number) => {
    engine.pushQuote(ids[ex], bid, ask, BIG, BIG, clock.t, 1);
    engine.drain();
  };
  const stored = (ex: Exchange) => engine.quote('BTC-PERP', ex);
  const counts = () => engine.stats().quarantine;
  return { engine, clock, ids, quote, events, stored, counts };
}

describe('quote quarantine', () => {
  it('keeps a quote far from the other venues out of the store and the detector, counted per venue and reason', () => {
    const { quote, events, stored, counts } = setup();
    quote('bybit', 100, 100.01);
    quote('okx', 100.02, 100.03);
    quote('binance', 100.01, 100.02);
    events();
    // another coin's price on kucoin: 10× the consensus (a shifted decimal)
    quote('kucoin', 1000, 1000.1);
    expect(events()).toEqual([]); // no phantom opportunity (spread would be ~9000 %)
    const k = stored('kucoin');
    expect(k?.usable).toBe(false); // never had an accepted quote: nothing usable
    expect(k?.bid).not.toBe(1000);
    expect(k?.quarantine).toBe('off_consensus');
    expect(counts().byExchange.kucoin).toEqual({ off_consensus: 1 });
    expect(counts().active).toEqual({ kucoin: 1 });
    expect(counts().total).toBe(1);
    // converges: released, stored, usable
    quote('kucoin', 100.0, 100.02);
    expect(stored('kucoin')).toMatchObject({ bid: 100, ask: 100.02, usable: true, quarantine: null });
    expect(counts().active).toEqual({});
    expect(counts().total).toBe(1); // a counter: never goes down
  });

  it('a bad frame after good ones leaves the last accepted quote in place (it ages normally)', () => {
    const { quote, events, stored, clock } = setup();
    quote('bybit', 100, 100.01);
    quote('okx', 100.02, 100.03);
    quote('kucoin', 100.01, 100.02);
    clock.t += 100;
    quote('kucoin', 10.001, 10.002); // decimal shifted down
    expect(events().filter((e) => e.kind === 'opened')).toEqual([]);
    expect(stored('kucoin')).toMatchObject({ bid: 100.01, ask: 100.02, receivedMs: T0, quarantine: 'off_consensus', usable: true });
  });

  it('rejects a crossed or locked book (bid >= ask) and a non-positive price, per venue', () => {
    const { quote, stored, counts, engine } = setup();
    quote('bybit', 100, 100.01);
    quote('okx', 100.02, 100.02); // locked: bid == ask
    quote('okx', 100.05, 100.02); // crossed
    quote('binance', 0, 100.02);
    expect(stored('okx')?.usable).toBe(false);
    expect(stored('binance')?.usable).toBe(false);
    expect(counts().byExchange).toEqual({ okx: { crossed_book: 2 }, binance: { non_positive: 1 } });
    expect(engine.stats().rejected.quote_crossed).toBe(2);
  });

  it('a book wider than the band is quarantined even with no other venue (spread_sanity)', () => {
    const { quote, stored, counts } = setup();
    quote('bybit', 100, 1000); // ask shifted by a decimal
    expect(stored('bybit')?.usable).toBe(false);
    expect(counts().byExchange.bybit).toEqual({ spread_sanity: 1 });
  });

  it('a single venue: a jump beyond the band from its own last accepted mid is held until it persists past staleAfterMs', () => {
    const { quote, stored, counts, clock } = setup();
    quote('bybit', 100, 100.01);
    clock.t += 1000;
    quote('bybit', 120, 120.01);
    expect(stored('bybit')).toMatchObject({ bid: 100, quarantine: 'price_jump' });
    clock.t += 1000;
    quote('bybit', 100.1, 100.11); // back: accepted
    expect(stored('bybit')).toMatchObject({ bid: 100.1, quarantine: null });
    clock.t += 1000;
    quote('bybit', 120, 120.01);
    clock.t += 5001; // the last accepted quote is now stale: nothing left to compare a lone venue with
    quote('bybit', 120, 120.01);
    expect(stored('bybit')).toMatchObject({ bid: 120, quarantine: null, usable: true });
    expect(counts().byExchange.bybit).toEqual({ price_jump: 2 });
  });

  it('a feed drop forgets the venue: its first quote after the reconnect is not compared with the price before the drop', () => {
    const { quote, stored, engine, clock } = setup();
    quote('bybit', 100, 100.01);
    quote('bybit', 120, 120.01);
    expect(stored('bybit')?.quarantine).toBe('price_jump');
    engine.setExchangeDown('bybit', true);
    engine.setExchangeDown('bybit', false);
    expect(stored('bybit')?.quarantine).toBe(null);
    clock.t += 100;
    quote('bybit', 200, 200.01);
    expect(stored('bybit')).toMatchObject({ bid: 200, quarantine: null, usable: true });
  });

  it('two venues that disagree: the newcomer is held (no majority, no history), nothing opens', () => {
    const { quote, stored, events } = setup(config({ thresholds: { minProfitBps: -10_000 } }));
    quote('bybit', 100, 100.01);
    quote('okx', 110, 110.01);
    expect(stored('okx')?.quarantine).toBe('off_consensus');
    expect(events()).toEqual([]);
  });

  it('two venues that both move: once the move has lasted quarantineConfirmMs, the first confirms the second and both are released', () => {
    const { quote, stored, clock } = setup();
    quote('bybit', 100, 100.01);
    quote('okx', 100.01, 100.02);
    clock.t += 500;
    quote('bybit', 107, 107.01); // a real 7 % move, seen first on bybit: held (it disagrees with okx and jumped)
    expect(stored('bybit')).toMatchObject({ bid: 100, quarantine: 'price_jump' });
    clock.t += 200;
    quote('okx', 107.02, 107.03); // bybit's move is only 200 ms old: no confirmation yet
    expect(stored('okx')).toMatchObject({ bid: 100.01, quarantine: 'price_jump' });
    clock.t += 500;
    quote('bybit', 107.01, 107.02); // still held, consistent with its previous held quote
    clock.t += 400; // bybit has now been held, consistently, for 1100 ms ≥ 1000
    quote('okx', 107.02, 107.03); // confirmed by bybit: accepted, and bybit's held quote is released
    expect(stored('okx')).toMatchObject({ bid: 107.02, quarantine: null });
    expect(stored('bybit')).toMatchObject({ bid: 107.01, quarantine: null, usable: true, receivedMs: T0 + 1200 });
  });

  it('one-off wrong prices on two venues do not confirm each other', () => {
    const { quote, stored, clock } = setup();
    quote('bybit', 100, 100.01);
    quote('okx', 100.01, 100.02);
    quote('binance', 100.02, 100.03);
    quote('kucoin', 100.01, 100.02);
    clock.t += 10;
    quote('bybit', 10, 10.001); // held
    quote('okx', 10.0005, 10.0015); // bybit's wrong quote is fleeting: 1 + 0 against 3 → held
    quote('binance', 10.001, 10.002); // still fleeting: held
    for (const ex of ['bybit', 'okx', 'binance'] as const) expect(stored(ex)?.quarantine).toBe('off_consensus');
  });

  it('a wrong first quote does not poison the consensus: the majority wins once it has lasted quarantineConfirmMs', () => {
    const { quote, stored, clock } = setup();
    quote('kucoin', 1000, 1000.1); // alone: accepted (nothing to compare with)
    quote('okx', 100, 100.01); // 1 against 1, no history: held
    expect(stored('okx')?.quarantine).toBe('off_consensus');
    quote('bybit', 100.01, 100.02); // okx's held quote is not yet confirmed: 1 against 1, no history → held
    expect(stored('bybit')?.quarantine).toBe('off_consensus');
    clock.t += 1000;
    quote('okx', 100, 100.01); // bybit, held consistently for 1 s, confirms: 2 against 1 → accepted; bybit released
    expect(stored('okx')).toMatchObject({ bid: 100, quarantine: null });
    expect(stored('bybit')).toMatchObject({ bid: 100.01, quarantine: null });
    quote('kucoin', 1000, 1000.1); // now 1 against 2: held
    expect(stored('kucoin')?.quarantine).toBe('off_consensus');
  });

  it('the band follows config.detector.quarantineBandPct', () => {
    const { quote, stored, engine } = setup();
    quote('bybit', 100, 100.01);
    quote('okx', 100.01, 100.02);
    quote('binance', 103, 103.01); // 3 % off: inside 5 %
    expect(stored('binance')?.quarantine).toBe(null);
    engine.setConfig(config({ detector: { quarantineBandPct: 2 } }));
    quote('binance', 103, 103.01);
    expect(stored('binance')?.quarantine).toBe('off_consensus');
  });
});

describe('spread sanity limit (thresholds.maxSpreadBps)', () => {
  const wide = config({ thresholds: { minSpreadBps: 5, minProfitBps: -10_000, maxSpreadBps: 500 }, detector: { quarantineBandPct: 50 } });

  it('a spread beyond the limit never opens an opportunity', () => {
    const { quote, events } = setup(wide);
    quote('bybit', 100, 100.01);
    quote('okx', 106, 106.01); // long bybit @100.01 / short okx @106: 599 bps > 500
    expect(events()).toEqual([]);
  });

  it('an open opportunity whose spread passes the limit closes with spread_implausible', () => {
    const { quote, events } = setup(wide);
    quote('bybit', 100, 100.01);
    quote('okx', 101, 101.01); // 99 bps: opens
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    quote('okx', 107, 107.01);
    const evs = events();
    expect(evs.map((e) => [e.kind, e.kind === 'closed' ? e.reason : null])).toEqual([['closed', 'spread_implausible']]);
  });
});

describe('config of the plausibility checks', () => {
  it('has defaults and refuses values that would switch them off or contradict the thresholds, naming the field', () => {
    expect(DEFAULT_CONFIG.detector.quarantineBandPct).toBe(5);
    expect(DEFAULT_CONFIG.thresholds.maxSpreadBps).toBe(500);
    expect(DEFAULT_CONFIG.strategy.notionalTolerancePct).toBe(2);
    const bad = (patch: unknown) => {
      const r = applyConfigPatch(DEFAULT_CONFIG, patch);
      return r.ok ? [] : r.errors.map((e) => e.field);
    };
    expect(bad({ detector: { quarantineBandPct: 0 } })).toEqual(['detector.quarantineBandPct']);
    expect(bad({ thresholds: { maxSpreadBps: 4 } })).toEqual(['thresholds.maxSpreadBps']); // not above minSpreadBps 5
    expect(bad({ strategy: { notionalTolerancePct: -1 } })).toEqual(['strategy.notionalTolerancePct']);
    expect(bad({ detector: { quarantineConfirmMs: 250 } })).toEqual([]);
  });
});

describe('a venue whose latest quote is quarantined is not used by the detector', () => {
  const wide = config({ thresholds: { minSpreadBps: 5, minProfitBps: -10_000, maxSpreadBps: 500 } });

  it('an open opportunity with that leg closes at once with quote_quarantined (not staleAfterMs later), and reopens on release', () => {
    const { quote, events, stored, clock } = setup(wide);
    quote('bybit', 100, 100.01);
    quote('okx', 101, 101.01); // long bybit @100.01 / short okx @101: 99 bps, opens
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    clock.t += 100;
    quote('okx', 10.1, 10.101); // a shifted decimal: held; the store keeps okx's last accepted 101/101.01
    expect(stored('okx')).toMatchObject({ bid: 101, usable: true, quarantine: 'price_jump' });
    const closed = events();
    expect(closed.map((e) => [e.kind, e.opportunity.id, e.kind === 'closed' ? e.reason : null])).toEqual([['closed', 'BTC-PERP|bybit|okx', 'quote_quarantined']]);
    expect(closed[0].tsMs).toBe(T0 + 100);
    clock.t += 100;
    quote('okx', 101, 101.01); // converged: accepted, the pair opens again
    expect(events().map((e) => [e.kind, e.opportunity.id])).toEqual([['opened', 'BTC-PERP|bybit|okx']]);
  });

  it('nothing opens against the held venue on its last accepted quote while the others move', () => {
    const { quote, events, stored, engine } = setup(wide);
    quote('bybit', 100, 100.01);
    quote('okx', 100.02, 100.03);
    quote('binance', 100.01, 100.02);
    quote('kucoin', 100.01, 100.02);
    expect(events()).toEqual([]);
    quote('kucoin', 1000, 1000.1); // another coin's price: held, kucoin's stored quote stays 100.01/100.02
    expect(stored('kucoin')).toMatchObject({ bid: 100.01, usable: true, quarantine: 'off_consensus' });
    quote('bybit', 99.5, 99.51); // bybit moves down 0.5 %: 50 bps against every other venue's bid
    const opened = events().filter((e) => e.kind === 'opened').map((e) => e.opportunity.id);
    expect(opened.sort()).toEqual(['BTC-PERP|bybit|binance', 'BTC-PERP|bybit|okx']);
    expect(engine.stats().detector.closed.quote_quarantined).toBe(0);
    quote('kucoin', 100.01, 100.02); // back with the consensus: accepted, its pair opens now
    expect(events().filter((e) => e.kind === 'opened').map((e) => e.opportunity.id)).toEqual(['BTC-PERP|bybit|kucoin']);
  });

  it('a crossed book (the current price of the venue unknown) closes an open opportunity on that leg with quote_quarantined', () => {
    const { quote, events, engine, clock } = setup(wide);
    quote('bybit', 100, 100.01);
    quote('okx', 101, 101.01);
    expect(events().map((e) => e.kind)).toEqual(['opened']);
    quote('okx', 101.05, 101.01); // crossed: rejected and counted; okx's last accepted quote stays in the store
    expect(events().map((e) => [e.kind, e.kind === 'closed' ? e.reason : null])).toEqual([['closed', 'quote_quarantined']]);
    clock.t += 10;
    quote('bybit', 100, 100.01); // an update on the other leg does not reopen it on okx's old quote
    engine.sweep();
    expect(events()).toEqual([]);
    expect(engine.opportunities()).toEqual([]);
  });

  it('the sweep closes an open opportunity whose leg became held without an update reaching the detector', () => {
    const instruments = new InstrumentMap();
    const store = new MarketStore(5000);
    instruments.onCreate((id) => store.addId(id, instruments.exchangeIndexOf(id)));
    const bus = new BroadcastRing<OpportunityEvent>(64);
    const held = new Set<number>();
    const detector = new Detector(instruments, store, bus, wide, undefined, { isHeld: (id) => held.has(id) });
    const sub = bus.subscribe('test');
    const bybit = instruments.register('bybit', 'BTCUSDT', { base: 'BTC', quote: 'USDT' });
    const okx = instruments.register('okx', 'BTC-USDT-SWAP', { base: 'BTC', quote: 'USDT' });
    store.setQuote(bybit, 100, 100.01, BIG, BIG, T0, T0, 1);
    store.setQuote(okx, 101, 101.01, BIG, BIG, T0, T0, 1);
    detector.time[TIME_NOW_MS] = T0;
    detector.time[TIME_RECV_US] = 1;
    detector.onUpdate(okx);
    expect(sub.popBatch(10).map((e) => e.kind)).toEqual(['opened']);
    detector.sweep(T0 + 10);
    expect(sub.popBatch(10)).toEqual([]); // nothing held yet: stays open
    held.add(okx);
    detector.sweep(T0 + 20);
    expect(sub.popBatch(10).map((e) => [e.kind, e.kind === 'closed' ? e.reason : null])).toEqual([['closed', 'quote_quarantined']]);
    expect(detector.counters().closed.quote_quarantined).toBe(1);
  });
});
