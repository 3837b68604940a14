/**
 * Detector scoring with depth (issue 14 §2) through the Engine facade: books arrive by Engine.pushDepth,
 * then the quotes re-arrive (each rescores the pair). BTC on bybit (long) and okx (short): long ask 100.01, short bid 100.40 →
 * spread 0.39 / 100.01 · 1e4 = 38.99610039 bps; fees 2·(5.5 + 5) = 21; no funding → base 17.99610039 bps.
 * Notional $1000, impact 5 bps, minProfitBps 2 (defaults).
 */
import { describe, expect, it } from 'vitest';
import type { DepthBook } from '../../server/depth/types.js';
import type { Opportunity } from '../../shared/opportunity.js';
import { book } from '../helpers/depth-books.js';
import { btcOnFourVenues, engineConfig } from './btc-four-venues.js';

const T0 = 1_700_000_000_000;
const BASE = 17.99610039;
const dist = (p: number, touch: number) => (Math.abs(p - touch) / touch) * 1e4;

function setup() {
  const { clock, engine, ids, events } = btcOnFourVenues(engineConfig(), T0);
  const books = { set: (id: number, b: DepthBook) => void engine.pushDepth(id, b) };
  /** Scores the pair with the current books (the quotes re-arrive) and returns the bybit→okx opportunity. */
  const rescore = (): Opportunity | undefined => {
    engine.pushQuote(ids.bybit, 100, 100.01, 4, 4, clock.t, 1);
    engine.pushQuote(ids.okx, 100.4, 100.41, 5, 5, clock.t, 1);
    engine.drain();
    events();
    return engine.opportunities().find((o) => o.id === 'BTC-PERP|bybit|okx');
  };
  return { clock, books, ids, rescore, engine };
}

// Long (bybit): asks $900.09 at the touch, then 100.31 (29.997 bps); bids deep at 100. Short (okx): bids
// deep at 100.40 for the entry; asks 100.41 ×1, then 100.51 (9.959 bps).
const longBook = (t: number) => book([[100, 1000]], [[100.01, 9], [100.31, 1000]], t);
const shortBook = (t: number) => book([[100.4, 1000]], [[100.41, 1], [100.51, 1000]], t);

describe('detector with depth', () => {
  it('without books: the touch estimate, entry = exit, no capacity', () => {
    const { rescore } = setup();
    const o = rescore()!;
    // touch sizes 4 and 5 units: long $1000/100.01 = 9.999 units, 5.999 beyond → 5 bps · 59.996 %; short 9.960 units, 4.960 beyond
    const longTouch = (5 * (1000 / 100.01 - 4)) / (1000 / 100.01);
    const shortTouch = (5 * (1000 / 100.4 - 5)) / (1000 / 100.4);
    expect(o.slippageSource).toBe('touch');
    expect(o.entrySlippageBps).toBeCloseTo(longTouch + shortTouch, 9);
    expect(o.exitSlippageBps).toBeCloseTo(longTouch + shortTouch, 9);
    expect(o.slippageBps).toBeCloseTo(2 * (longTouch + shortTouch), 9);
    expect(o.projectedProfitBps).toBeCloseTo(BASE - 2 * (longTouch + shortTouch), 6);
    expect(o.capacityUsd).toBeNull();
  });

  it('fresh books on both legs: VWAP entry and exit from the books, and the capacity', () => {
    const { rescore, books, ids, clock } = setup();
    books.set(ids.bybit, longBook(clock.t));
    books.set(ids.okx, shortBook(clock.t));
    const o = rescore()!;
    const entry = (99.91 * dist(100.31, 100.01)) / 1000; // $99.91 beyond the long touch
    const exit = (899.59 * dist(100.51, 100.41)) / 1000; // short buys back $100.41 at the touch, $899.59 at 100.51
    expect(o.slippageSource).toBe('depth');
    expect(o.entrySlippageBps).toBeCloseTo(entry, 9);
    expect(o.exitSlippageBps).toBeCloseTo(exit, 9);
    expect(o.slippageBps).toBeCloseTo(entry + exit, 9);
    expect(o.projectedProfitBps).toBeCloseTo(BASE - entry - exit, 6);
    // Capacity, room = BASE − 2. Breakpoints: $100.41 (short asks) then $900.09 (long asks).
    // On (100.41, 900.09]: S = 9.959 − 9.959·100.41 / N, at most 9.959·(1 − 100.41/900.09) ≈ 8.85 < room.
    // Beyond: D = 29.997 + 9.959, K = −(29.997·900.09 + 9.959·100.41) → N = K / (room − D)
    const dL = dist(100.31, 100.01);
    const dS = dist(100.51, 100.41);
    const room = BASE - 2;
    expect(o.capacityUsd!).toBeCloseTo((dL * 900.09 + dS * 100.41) / (dL + dS - room), 3);
  });

  it('a stale or crossed book on one leg: back to the touch estimate', () => {
    const { rescore, books, ids, clock } = setup();
    books.set(ids.bybit, longBook(clock.t));
    books.set(ids.okx, shortBook(clock.t));
    expect(rescore()!.slippageSource).toBe('depth');
    // stamped by the venue 5.001 s ago (detector.staleAfterMs 5000): old news
    books.set(ids.bybit, book([[100, 1000]], [[100.01, 9], [100.31, 1000]], clock.t, clock.t - 5001));
    expect(rescore()!.slippageSource).toBe('touch');
    books.set(ids.bybit, book([[100.02, 1000]], [[100.01, 9]], clock.t)); // crossed
    const o = rescore()!;
    expect(o.slippageSource).toBe('touch');
    expect(o.capacityUsd).toBeNull();
    books.set(ids.bybit, longBook(clock.t));
    expect(rescore()!.slippageSource).toBe('depth');
    // no new book for 5.001 s: the store stops serving both, the pair is scored at the touch again
    clock.t += 5001;
    expect(rescore()!.slippageSource).toBe('touch');
  });

  it('a thin book can keep a pair from opening that the touch estimate would open', () => {
    const { rescore, books, ids, clock } = setup();
    // long asks: $100.01 at the touch, then 200 bps away: entry ≈ 0.89999 · 200 = 180 bps ≫ BASE
    books.set(ids.bybit, book([[100, 1000]], [[100.01, 1], [102.01, 1000]], clock.t));
    books.set(ids.okx, shortBook(clock.t));
    expect(rescore()).toBeUndefined();
  });
});
