/**
 * The simulator's book model (server/simulator/depth.ts): consistent with the pair's touch after every
 * model update, deeper levels behind it and changing over time, updates that rebuild the book exactly
 * from the previous one with consecutive sequence numbers, and faults on demand.
 */
import { describe, expect, it } from 'vitest';
import { DepthModel, FIRST_SEQ, SIM_DEPTH_LEVELS, type SimLevel } from '../../server/simulator/depth.js';
import { MarketModel, type Pair } from '../../server/simulator/market.js';

function model(): MarketModel {
  return new MarketModel({ seed: 3, exchanges: ['bybit', 'okx'], instruments: ['BTC-PERP', 'ETH-PERP'], dislocationsPerMin: 0 });
}

/** Applies an update's levels to a copy of a side (lots 0 removes), kept best first. */
function apply(side: readonly SimLevel[], changes: readonly SimLevel[], descending: boolean): SimLevel[] {
  const m = new Map(side.map((l) => [l.ticks, l.lots]));
  for (const c of changes) if (c.lots === 0) m.delete(c.ticks);
  else m.set(c.ticks, c.lots);
  return [...m].map(([ticks, lots]) => ({ ticks, lots })).sort((a, b) => (descending ? b.ticks - a.ticks : a.ticks - b.ticks));
}

describe('simulated order books', () => {
  it('follow the touch; deltas rebuild the book exactly with consecutive sequence numbers; deep levels change', () => {
    const market = model();
    const depth = new DepthModel();
    const pair = market.live('bybit')[0]!;
    const book = depth.book(pair);
    expect(book.seq).toBe(FIRST_SEQ);
    let bids = [...book.bids];
    let asks = [...book.asks];
    const deepSizes = new Set<number>();
    let updates = 0;
    for (let i = 0; i < 2000; i++) {
      const p = market.next(0.01);
      if (p !== pair) continue;
      const u = depth.update(pair);
      if (u === null) continue;
      updates++;
      expect(u.seq).toBe(u.prevSeq + 1);
      bids = apply(bids, u.bids, true);
      asks = apply(asks, u.asks, false);
      expect(bids).toEqual(book.bids);
      expect(asks).toEqual(book.asks);
      // Top of book = the twin's quote; the levels behind it are strictly worse; never crossed.
      expect(bids[0]).toEqual({ ticks: pair.bidTicks, lots: pair.bidLots });
      expect(asks[0]).toEqual({ ticks: pair.askTicks, lots: pair.askLots });
      expect(bids.length).toBe(SIM_DEPTH_LEVELS);
      for (let k = 1; k < bids.length; k++) expect(bids[k]!.ticks).toBeLessThan(bids[k - 1]!.ticks);
      for (let k = 1; k < asks.length; k++) expect(asks[k]!.ticks).toBeGreaterThan(asks[k - 1]!.ticks);
      expect(bids[0]!.ticks).toBeLessThan(asks[0]!.ticks);
      deepSizes.add(bids[10]!.lots);
    }
    expect(updates).toBeGreaterThan(50);
    expect(deepSizes.size).toBeGreaterThan(5); // deeper levels change over time
  });

  it('injects a fault on the next update only: gap, checksum, reset (sequence back to 1)', () => {
    const market = model();
    const depth = new DepthModel();
    const pair: Pair = market.live('okx')[0]!;
    depth.book(pair);
    const step = () => {
      for (;;) {
        if (market.next(0.01) !== pair) continue;
        const u = depth.update(pair);
        if (u) return u;
      }
    };
    depth.inject(pair, 'gap');
    expect(step().fault).toBe('gap');
    expect(step().fault).toBeNull();
    depth.inject(pair, 'checksum');
    expect(step().fault).toBe('checksum');
    depth.inject(pair, 'reset');
    const r = step();
    expect(r.fault).toBe('reset');
    expect(r.seq).toBe(1);
    expect(step().seq).toBe(2);
  });
});
