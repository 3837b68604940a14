import { describe, expect, it } from 'vitest';
import type { Leg } from '../../shared/position.js';
import type { StrategyQuote } from '../../server/strategy/engine-view.js';
import { settleFunding } from '../../server/strategy/funding.js';
import { BTC, HOUR, Harness, STD_QTY, T0 } from './harness.js';

/**
 * Position (Harness.openStandard): long okx STD_QTY (9.950249) BTC marked at bid 99.90 (notional L),
 * short bybit STD_QTY BTC marked at ask 100.60 (notional S); entry fees 0.997512.
 */
const L = STD_QTY * 99.9; // 994.029851
const S = STD_QTY * 100.6; // 1000.995025
const ENTRY_FEES = STD_QTY * (100 + 100.5) * 0.0005; // 0.997512
/** The next settlement of both legs of openEightHourly, 4 h after the start. */
const T4H = T0 + 4 * HOUR;

/** Both venues at 0.0001 every 8 h, next settlement T4H; the standard position open. */
function openEightHourly(): Harness {
  const h = new Harness();
  h.funding('okx', 0.0001, 8 * HOUR, T4H);
  h.funding('bybit', 0.0001, 8 * HOUR, T4H);
  h.openStandard();
  return h;
}

/** Up to T4H, the bybit feed publishing its mark 100.42 `ageMs` before it (a stats record, as the parser does). */
function settleWithMarkBefore(h: Harness, ageMs: number): void {
  h.advance(4 * HOUR - ageMs);
  h.engine.pushStats(h.id(BTC, 'bybit'), Number.NaN, Number.NaN, h.t, 0, 100.42);
  h.engine.drain();
  h.advance(ageMs);
}

describe('funding accrual at the venues\' funding timestamps', () => {
  it('8 h interval, positive rate: the long pays, the short receives, once per timestamp', () => {
    const h = openEightHourly();
    h.advance(4 * HOUR - 1);
    expect(h.only().fundingUsd).toBe(0);
    h.advance(1); // at T4H
    let p = h.only();
    // long −0.0001·L = −0.099403; short +0.0001·S = +0.100100
    expect(L).toBeCloseTo(994.0298507, 6);
    expect(S).toBeCloseTo(1000.9950249, 6);
    expect(p.long.fundingUsd).toBeCloseTo(-0.0001 * L, 12);
    expect(p.short.fundingUsd).toBeCloseTo(0.0001 * S, 12);
    expect(p.fundingUsd).toBeCloseTo(0.0006965174, 9);
    expect(p.long.nextFundingMs).toBe(T4H + 8 * HOUR);
    expect(p.short.nextFundingMs).toBe(T4H + 8 * HOUR);
    // the venues have not rolled their next time yet: no second accrual for T4H
    h.advance(1000);
    h.advance(HOUR);
    p = h.only();
    expect(p.fundingUsd).toBeCloseTo(0.0006965174, 9);
    // realised = funding − fees: 0.000697 − 0.997512
    expect(ENTRY_FEES).toBeCloseTo(0.9975124378, 9);
    expect(p.realisedPnlUsd).toBeCloseTo(0.0006965174 - 0.9975124378, 9);
    const pf = h.runner.portfolio();
    expect(pf.fundingUsd).toBeCloseTo(0.0006965174, 9);
    expect(pf.realisedPnlUsd).toBeCloseTo(0.0006965174 - ENTRY_FEES, 9);
  });

  it('1 h interval, negative rate: the long receives, the short pays on its own 8 h schedule', () => {
    const h = new Harness();
    h.funding('okx', -0.0002, HOUR, T0 + HOUR);
    h.funding('bybit', -0.0001, 8 * HOUR, T0 + 8 * HOUR);
    h.openStandard();
    h.advance(HOUR); // T0+1h: long +0.0002·L = +0.198806
    expect(h.only().long.fundingUsd).toBeCloseTo(0.1988059701, 9);
    h.advance(HOUR); // T0+2h: okx never rolled its time: the leg steps one interval, same rate → +0.198806
    expect(h.only().long.fundingUsd).toBeCloseTo(2 * 0.1988059701, 9);
    h.funding('okx', 0.0001, HOUR, T0 + 3 * HOUR); // the new period's rate: positive, long pays
    h.advance(HOUR); // T0+3h: −0.0001·L = −0.099403
    expect(h.only().long.fundingUsd).toBeCloseTo(2 * 0.1988059701 - 0.0994029851, 9);
    expect(h.only().short.fundingUsd).toBe(0);
    h.advance(5 * HOUR); // T0+8h: okx settles T0+4h..T0+8h (5 more × −0.099403), bybit short pays 0.0001·S = −0.100100
    const p = h.only();
    expect(p.long.fundingUsd).toBeCloseTo(2 * 0.1988059701 - 6 * 0.0994029851, 9);
    expect(p.short.fundingUsd).toBeCloseTo(-0.1000995025, 9);
    expect(p.long.nextFundingMs).toBe(T0 + 9 * HOUR);
    expect(p.short.nextFundingMs).toBe(T0 + 16 * HOUR);
  });

  it('settles with the rate in force for the period, not the next one published at the timestamp', () => {
    const h = new Harness();
    h.funding('okx', 0.0002, HOUR, T0 + HOUR);
    h.openStandard();
    h.funding('okx', 0.0009, HOUR, T0 + HOUR, true); // a predicted rate never replaces the real one
    h.t = T0 + HOUR;
    h.funding('okx', 0.0009, HOUR, T0 + 2 * HOUR); // at T the venue already shows the next period
    h.advance(0);
    const p = h.only();
    // −0.0002·L = −0.198806 (not −0.0009·L)
    expect(p.long.fundingUsd).toBeCloseTo(-0.1988059701, 9);
    expect(p.long.nextFundingMs).toBe(T0 + 2 * HOUR);
    expect(p.long.fundingRate).toBe(0.0009); // learned for the next settlement
    h.advance(HOUR);
    expect(h.only().long.fundingUsd).toBeCloseTo(-0.1988059701 - 0.0009 * L, 9); // −0.0009·L = −0.894627
  });

  it('books the current rate published 40 ms before the settlement, after the last strategy pass (captured at push time; issue 13 §6.1)', () => {
    const h = new Harness();
    const T = T0 + HOUR;
    h.funding('okx', 0.0002, HOUR, T);
    h.openStandard();
    h.advance(HOUR - 250); // last pass before T, at T − 250 ms: the leg knows 0.0002
    expect(h.only().long.fundingRate).toBe(0.0002);
    h.t = T - 40;
    h.funding('okx', 0.0005, HOUR, T); // the venue's final current rate for T, between two passes
    h.t = T;
    h.funding('okx', 0.0007, HOUR, T + HOUR); // at T the venue already shows the next period
    h.advance(0); // the pass at T
    const p = h.only();
    // −0.0005·L (not the 0.0002 the leg saw at its last pass, nor the next period's 0.0007)
    expect(p.long.fundingUsd).toBeCloseTo(-0.0005 * L, 12);
    expect(p.long.nextFundingMs).toBe(T + HOUR);
    expect(p.long.fundingRate).toBe(0.0007);
  });

  it('a rate for the settlement published after it (or a predicted one) is not the settled rate', () => {
    const h = new Harness();
    const T = T0 + HOUR;
    h.funding('okx', 0.0002, HOUR, T);
    h.openStandard();
    h.advance(HOUR - 250);
    h.t = T - 40;
    h.funding('okx', 0.0009, HOUR, T, true); // predicted: never the settled rate
    h.t = T + 30;
    h.funding('okx', 0.0006, HOUR, T); // stamped after T: not what settled at T
    h.advance(0);
    expect(h.only().long.fundingUsd).toBeCloseTo(-0.0002 * L, 12);
  });

  it('does not charge a settlement that happened before the entry', () => {
    const h = new Harness();
    h.t = T0 + 1000;
    h.funding('okx', 0.0002, HOUR, T0); // venue still shows the 10:00 settlement a second after it
    h.openStandard();
    expect(h.only().long.nextFundingMs).toBe(T0 + HOUR);
    h.advance(10);
    expect(h.only().long.fundingUsd).toBe(0);
  });
});

describe('settleFunding (one leg)', () => {
  const leg = (over: Partial<Leg> = {}): Leg => ({
    exchange: 'okx',
    symbol: 'BTC-USDT-SWAP',
    side: 'short',
    quantity: 2,
    entryPrice: 100,
    markPrice: 100,
    marginUsd: 40,
    liquidationPrice: 119.5,
    liquidationDistancePct: 19.5,
    fundingUsd: 0,
    feesUsd: 0,
    unrealisedPnlUsd: 0,
    nextFundingMs: 0,
    ...over,
  });
  const quote = (rate: number, next: number, predicted = false): StrategyQuote => ({
    exchange: 'okx',
    symbol: 'BTC-USDT-SWAP',
    instrument: 'BTC-PERP',
    bid: 99.9,
    ask: 100,
    bidSize: 1,
    askSize: 1,
    fundingRate: rate,
    fundingIntervalMs: 8 * HOUR,
    nextFundingMs: next,
    fundingPredicted: predicted,
    receivedMs: T0,
    ageMs: 0,
    usable: true,
  });

  it('never adopts a settlement time that is already past', () => {
    const l = leg();
    expect(settleFunding(l, quote(0.001, T0 - 1), T0)).toEqual([]);
    expect(l.nextFundingMs).toBe(0);
    expect(settleFunding(l, quote(0.001, T0 + HOUR), T0)).toEqual([]);
    expect(l.nextFundingMs).toBe(T0 + HOUR);
  });

  it('an interval switched to 1 h after the leg projected its next settlement: the venue\'s earlier settlement is booked, not skipped (issue 12)', () => {
    // Short leg on an 8 h venue; the T0 settlement is booked before the venue rolls its next time.
    const l = leg({ nextFundingMs: T0, fundingRate: 0.0001, fundingIntervalMs: 8 * HOUR });
    expect(settleFunding(l, quote(0.0001, T0), T0).map((x) => x.fundingMs)).toEqual([T0]);
    expect(l.nextFundingMs).toBe(T0 + 8 * HOUR); // projected with the old interval
    // The rate was at its cap: the venue now settles hourly (next T0 + 1 h, rate per 1 h).
    const hourly = { ...quote(0.003, T0 + HOUR), fundingIntervalMs: HOUR };
    expect(settleFunding(l, hourly, T0 + 60_000)).toEqual([]);
    expect(l.nextFundingMs).toBe(T0 + HOUR);
    expect(l.fundingIntervalMs).toBe(HOUR);
    const s = settleFunding(l, hourly, T0 + HOUR);
    expect(s.map((x) => [x.fundingMs, x.rate])).toEqual([[T0 + HOUR, 0.003]]);
    expect(l.fundingUsd).toBeCloseTo((0.0001 + 0.003) * 2 * 100, 12);
    expect(l.nextFundingMs).toBe(T0 + 2 * HOUR); // the next hourly one (quote not rolled yet: one 1 h step)
    // Never re-books the settlement already booked when the quote still shows it.
    expect(settleFunding(l, hourly, T0 + HOUR + 1000)).toEqual([]);
    expect(l.nextFundingMs).toBe(T0 + 2 * HOUR);
  });

  it('an hourly leg whose venue reverted to 4 h books no settlement at the hourly times that no longer exist (issue 12)', () => {
    const l = leg({ nextFundingMs: T0, fundingRate: 0.0002, fundingIntervalMs: HOUR });
    const hourly = { ...quote(0.0002, T0), fundingIntervalMs: HOUR };
    expect(settleFunding(l, hourly, T0).map((x) => x.fundingMs)).toEqual([T0]);
    expect(l.nextFundingMs).toBe(T0 + HOUR); // projected hourly (the quote has not rolled yet)
    // 16 quiet periods: the venue's next settlement is now 4 h on (its 4 h grid), rate per 4 h.
    const fourHourly = { ...quote(0.0001, T0 + 4 * HOUR), fundingIntervalMs: 4 * HOUR };
    expect(settleFunding(l, fourHourly, T0 + 120_000)).toEqual([]);
    expect(l.nextFundingMs).toBe(T0 + 4 * HOUR);
    expect(l.fundingIntervalMs).toBe(4 * HOUR);
    expect(settleFunding(l, fourHourly, T0 + HOUR)).toEqual([]); // no phantom hourly settlement
    expect(settleFunding(l, fourHourly, T0 + 3 * HOUR + 59 * 60_000)).toEqual([]);
    expect(settleFunding(l, fourHourly, T0 + 4 * HOUR).map((x) => [x.fundingMs, x.rate])).toEqual([[T0 + 4 * HOUR, 0.0001]]);
  });

  it('a venue clock slightly ahead (next time already rolled just before the leg\'s time) never skips the real settlement', () => {
    const l = leg({ nextFundingMs: T0, fundingRate: 0.0001, fundingIntervalMs: 8 * HOUR });
    const rolled = quote(0.0003, T0 + 8 * HOUR);
    expect(settleFunding(l, rolled, T0 - 5000)).toEqual([]);
    expect(l.nextFundingMs).toBe(T0);
    expect(settleFunding(l, rolled, T0).map((x) => [x.fundingMs, x.rate])).toEqual([[T0, 0.0001]]);
  });

  it('books each missed settlement once after an outage, on the leg\'s own interval', () => {
    const l = leg({ nextFundingMs: T0, fundingRate: 0.0001, fundingIntervalMs: 8 * HOUR });
    // 17 h later, no quote: T0, T0+8h, T0+16h → 3 × 0.0001·2·100 = 0.06 received by the short
    const s = settleFunding(l, null, T0 + 17 * HOUR);
    expect(s.map((x) => x.fundingMs)).toEqual([T0, T0 + 8 * HOUR, T0 + 16 * HOUR]);
    expect(l.fundingUsd).toBeCloseTo(0.06, 12);
    expect(l.nextFundingMs).toBe(T0 + 24 * HOUR);
    expect(settleFunding(l, null, T0 + 17 * HOUR)).toEqual([]); // idempotent
  });
});

describe('settlement notional at the venue\'s funding reference price (mark / oracle), else the book', () => {
  const leg = (over: Partial<Leg> = {}): Leg => ({
    exchange: 'hyperliquid', symbol: 'BTC', settle: 'USDC', side: 'long', quantity: 0.5, entryPrice: 91_000, markPrice: 91_234, marginUsd: 9_000,
    liquidationPrice: 73_000, liquidationDistancePct: 20, fundingUsd: 0, feesUsd: 0, unrealisedPnlUsd: 0, nextFundingMs: T0, fundingRate: 0.0000125,
    fundingIntervalMs: HOUR, ...over,
  });
  const quote = (fundingPrice: number | null | undefined, rate: number, next: number, intervalMs = HOUR): StrategyQuote => ({
    exchange: 'hyperliquid', symbol: 'BTC', instrument: 'BTC-PERP', bid: 91_234, ask: 91_235, bidSize: 1, askSize: 1, fundingRate: rate,
    fundingIntervalMs: intervalMs, nextFundingMs: next, fundingPredicted: false, receivedMs: T0, ageMs: 0, usable: true,
    ...(fundingPrice === undefined ? {} : { fundingPrice }),
  });

  it('hourly long on the oracle price: 0.5 BTC × 91,190 × 0.0000125 = 0.5699375 paid (at the book bid it would be 0.5702125)', () => {
    const l = leg();
    const out = settleFunding(l, quote(91_190, 0.00001, T0 + HOUR), T0 + 20);
    expect(out).toEqual([{ fundingMs: T0, rate: 0.0000125, price: 91_190, priceSource: 'reference', notionalUsd: 45_595, amountUsd: expect.closeTo(-0.5699375, 12) }]);
    expect(l.fundingUsd).toBeCloseTo(-0.5699375, 12);
    expect(l.lastFunding).toEqual({ fundingMs: T0, rate: 0.0000125, price: 91_190, priceSource: 'reference', quantity: 0.5, amountUsd: expect.closeTo(-0.5699375, 12) });
  });

  it('8-hourly short on the mark price: 3 × 100.42 × 0.0001 = 0.030126 received (book ask 100.6 would give 0.03018)', () => {
    const l = leg({ exchange: 'bybit', symbol: 'BTCUSDT', settle: 'USDT', side: 'short', quantity: 3, markPrice: 100.6, fundingRate: 0.0001, fundingIntervalMs: 8 * HOUR });
    const out = settleFunding(l, { ...quote(100.42, 0.0002, T0 + 8 * HOUR, 8 * HOUR), exchange: 'bybit', symbol: 'BTCUSDT' }, T0 + 5);
    expect(out.map((s) => [s.price, s.priceSource, s.notionalUsd, s.amountUsd])).toEqual([[100.42, 'reference', expect.closeTo(301.26, 12), expect.closeTo(0.030126, 15)]]);
    expect(l.fundingUsd).toBeCloseTo(0.030126, 15);
  });

  it('no fresh reference price (absent, null, no quote): the book price, and the settlement says so', () => {
    for (const q of [quote(undefined, 0.00001, T0 + HOUR), quote(null, 0.00001, T0 + HOUR), null]) {
      const l = leg();
      const [s] = settleFunding(l, q, T0 + 20);
      // 0.5 × 91,234 (the long's bid) × 0.0000125 = 0.5702125 paid.
      expect([s!.price, s!.priceSource, s!.amountUsd]).toEqual([91_234, 'book', expect.closeTo(-0.5702125, 12)]);
      expect(l.lastFunding?.priceSource).toBe('book');
    }
  });

  it('several settlements owed after an outage are each valued at the price known now, each recorded in turn', () => {
    const l = leg({ nextFundingMs: T0 - 2 * HOUR });
    const out = settleFunding(l, quote(91_000, 0.0000125, T0 + HOUR), T0 + 20);
    // T0−2 h, T0−1 h, T0: 3 × 0.5 × 91,000 × 0.0000125 = 3 × 0.56875 = 1.70625 paid.
    expect(out.map((s) => s.fundingMs)).toEqual([T0 - 2 * HOUR, T0 - HOUR, T0]);
    expect(l.fundingUsd).toBeCloseTo(-1.70625, 12);
    expect(l.lastFunding!.fundingMs).toBe(T0);
  });
});

describe('the runner books funding at the reference price the engine holds (real Engine, MemoryPersistence)', () => {
  it('short bybit paid on its mark 100.42, long okx (no reference price on its stream) on its bid; persisted and restored', async () => {
    const h = openEightHourly();
    settleWithMarkBefore(h, 1000); // one second before the settlement
    const p = h.only();
    // short bybit: +0.0001 × STD_QTY × 100.42 = +0.0001 × 999.203980 = +0.0999204 (book ask 100.6 would give +0.1000995)
    expect(p.short.fundingUsd).toBeCloseTo(0.0001 * STD_QTY * 100.42, 12);
    expect(0.0001 * STD_QTY * 100.42).toBeCloseTo(0.099920398, 9);
    expect(p.short.lastFunding).toEqual({ fundingMs: T4H, rate: 0.0001, price: 100.42, priceSource: 'reference', quantity: STD_QTY, amountUsd: p.short.fundingUsd });
    // long okx: −0.0001 × L (bid 99.9) = −0.0994030
    expect(p.long.fundingUsd).toBeCloseTo(-0.0001 * L, 12);
    expect(p.long.lastFunding).toMatchObject({ price: 99.9, priceSource: 'book' });
    expect(p.fundingUsd).toBeCloseTo(0.0001 * STD_QTY * 100.42 - 0.0001 * L, 12);
    // Persisted with the position; a restart restores it as saved.
    const runner = await h.restart();
    const restored = runner.positions()[0]!;
    expect(restored.short.lastFunding).toEqual(p.short.lastFunding);
    expect(restored.fundingUsd).toBeCloseTo(p.fundingUsd, 12);
  });

  it('a reference price older than detector.staleAfterMs is not used', () => {
    const h = openEightHourly();
    settleWithMarkBefore(h, 6000); // 6 s > 5 s: stale at T4H
    expect(h.only().short.lastFunding).toMatchObject({ price: 100.6, priceSource: 'book' });
    expect(h.only().short.fundingUsd).toBeCloseTo(0.0001 * S, 12);
  });
});
