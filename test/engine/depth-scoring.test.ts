import { describe, expect, it } from 'vitest';
import { L2Book } from '../../server/depth/l2-book.js';
import { PairDepthSlippage, VwapFill, bookFresh, bookUsable, capacityUsd, pairDepthSlippage, sideSlippageBps, vwapFill } from '../../server/engine/depth-scoring.js';
import { book, side } from '../helpers/depth-books.js';
import { mulberry32 } from '../helpers/random.js';

/** A deep one-level side: fills anything asked at its touch (0 bps). */
const DEEP_BID: [number, number] = [99, 1e9];
const DEEP_ASK: [number, number] = [101, 1e9];

describe('VWAP of a USD notional on one side (hand-computed)', () => {
  it('one level: fills at the touch, no slippage', () => {
    const out = vwapFill(side([[100, 10]]), 500, new VwapFill());
    expect(out).toMatchObject({ price: 100, filledUsd: 500, filledQty: 5, thin: false });
    expect(sideSlippageBps(side([[100, 10]]), 500, 5)).toBe(0);
  });

  it('many levels: $200 @100 + $303 @101 + $497 @102', () => {
    const asks = side([[100, 2], [101, 3], [102, 5]]);
    const out = vwapFill(asks, 1000, new VwapFill());
    const qty = 2 + 3 + 497 / 102;
    expect(out.filledQty).toBeCloseTo(qty, 12);
    expect(out.price).toBeCloseTo(1000 / qty, 12); // ≈ 101.2910
    expect(out.filledUsd).toBeCloseTo(1000, 9);
    expect(out.thin).toBe(false);
    // distances 0, 100, 200 bps: (200·0 + 303·100 + 497·200) / 1000 = 129.7 bps
    expect(sideSlippageBps(asks, 1000, 5)).toBeCloseTo(129.7, 9);
    // bids walk downward; the distance is the same in bps: $500 @100 + $500 @99.8 (20 bps) → 10 bps
    expect(sideSlippageBps(side([[100, 5], [99.8, 100]]), 1000, 5)).toBeCloseTo(10, 9);
  });

  it('book thinner than the notional: fills what it holds, says so, charges the rest beyond the last level', () => {
    const asks = side([[100, 2], [101, 3], [102, 5]]); // holds $1013
    const out = vwapFill(asks, 2000, new VwapFill());
    expect(out.thin).toBe(true);
    expect(out.filledUsd).toBeCloseTo(1013, 9);
    expect(out.filledQty).toBeCloseTo(10, 12);
    expect(out.price).toBeCloseTo(101.3, 12);
    // (30 300 + 510·200 + 987·(200 + 5)) / 2000 = 334 635 / 2000
    expect(sideSlippageBps(asks, 2000, 5)).toBeCloseTo(167.3175, 9);
    expect(sideSlippageBps(side([]), 2000, 7)).toBe(7);
  });

  it('skips zero-size levels', () => {
    const out = vwapFill(side([[100, 1], [100.5, 0], [101, 10]]), 201, new VwapFill());
    expect(out.filledQty).toBeCloseTo(2, 12); // $100 @100 + $101 @101
    expect(out.price).toBeCloseTo(100.5, 12);
  });

  it('books folded from a venue price multiplier and contract size (L2Book.view) price the same USD', () => {
    // Venue quotes per 1000 units; one contract = 1000 units. Asks 10 ×1, 11 ×1 → 0.010 ×1000 ($10), 0.011 ×1000 ($11).
    const l2 = new L2Book();
    l2.apply('ask', 10, 1);
    l2.apply('ask', 11, 1);
    l2.apply('bid', 9, 4);
    const folded = l2.view(20, 1000, 1000, 0);
    const out = vwapFill(folded.asks, 15, new VwapFill());
    expect(out.filledQty).toBeCloseTo(1000 + 5 / 0.011, 9);
    expect(out.price).toBeCloseTo(15 / (1000 + 5 / 0.011), 12); // ≈ 0.0103125
    // $5 of $15 at 1000 bps (0.011 vs 0.010)
    expect(sideSlippageBps(folded.asks, 15, 5)).toBeCloseTo(5000 / 15, 9);
  });
});

describe('pair entry/exit slippage from two books', () => {
  it('entry walks long asks + short bids, exit the long bids + short asks', () => {
    const long = book([[99.9, 5], [99.7, 100]], [[100, 2], [101, 100]]); // bids $499.5 @0, rest @ ≈20.02 bps; asks $200 @0, rest @100 bps
    const short = book([[100.5, 100]], [[100.6, 1], [100.7, 100]]);
    const out = new PairDepthSlippage();
    expect(pairDepthSlippage(long, short, 1000, 5, out)).toBe(true);
    // entry: long asks (800·100)/1000 = 80, short bids 0
    expect(out.entryBps).toBeCloseTo(80, 9);
    // exit: long bids 500.5·(0.2/99.9·1e4)/1000 + short asks 899.4·(0.1/100.6·1e4)/1000
    const exit = (500.5 * ((0.2 / 99.9) * 1e4)) / 1000 + (899.4 * ((0.1 / 100.6) * 1e4)) / 1000;
    expect(out.exitBps).toBeCloseTo(exit, 9);
  });

  it('crossed or empty books are rejected (the caller keeps the touch estimate)', () => {
    const ok = book([DEEP_BID], [DEEP_ASK]);
    const crossed = book([[101, 1]], [[100, 1]]);
    const locked = book([[100, 1]], [[100, 1]]);
    const noBids = book([], [[100, 1]]);
    const noAsks = book([[100, 1]], []);
    const out = new PairDepthSlippage();
    out.entryBps = -1;
    for (const bad of [crossed, locked, noBids, noAsks]) {
      expect(bookUsable(bad)).toBe(false);
      expect(pairDepthSlippage(ok, bad, 1000, 5, out)).toBe(false);
      expect(pairDepthSlippage(bad, ok, 1000, 5, out)).toBe(false);
      expect(capacityUsd(ok, bad, 50, 2)).toBeNull();
    }
    expect(out.entryBps).toBe(-1); // left alone
    expect(bookUsable(ok)).toBe(true);
  });

  it('freshness by the venue stamp (0 = none sent)', () => {
    expect(bookFresh(book([DEEP_BID], [DEEP_ASK], 9000, 0), 9000, 5000)).toBe(true);
    expect(bookFresh(book([DEEP_BID], [DEEP_ASK], 9000, 4000), 9000, 5000)).toBe(true);
    expect(bookFresh(book([DEEP_BID], [DEEP_ASK], 9000, 3999), 9000, 5000)).toBe(false); // venue time 5.001 s old
  });
});

describe('capacityUsd: largest notional still reaching minProfitBps (hand-computed)', () => {
  // Exit sides are deep one-level books (0 bps) unless a case says otherwise.
  it('one thin leg: solved inside the segment', () => {
    const long = book([DEEP_BID], [[100, 5], [101, 10]]); // $500 @0, $1010 @100 bps
    const short = book([[100, 100]], [DEEP_ASK]);
    // room = 20 − 10 = 10 bps; (N − 500)·100 / N = 10 → N = 50 000 / 90
    expect(capacityUsd(long, short, 20, 10)).toBeCloseTo(50_000 / 90, 9);
  });

  it('breakpoints of both legs merged', () => {
    const long = book([DEEP_BID], [[100, 5], [101, 10]]); // $500 @0, then 100 bps
    const short = book([[100, 3], [99, 10]], [DEEP_ASK]); // $300 @0, then 100 bps
    // room 30: short alone passes 30 bps before $500: 100(N − 300)/N = 30 → N = 30 000 / 70
    expect(capacityUsd(long, short, 40, 10)).toBeCloseTo(30_000 / 70, 9);
    // room 60: S(500) = 40 ≤ 60; beyond, both at 100 bps: 200 − 80 000/N = 60 → N = 80 000 / 140
    const n = capacityUsd(long, short, 70, 10)!;
    expect(n).toBeCloseTo(80_000 / 140, 9);
    // and at that size the walked slippage is exactly the room
    expect(sideSlippageBps(long.asks, n, 5) + sideSlippageBps(short.bids, n, 5)).toBeCloseTo(60, 9);
  });

  it('exit sides count: the long bids are thin', () => {
    const long = book([[99, 2], [98.01, 100]], [DEEP_ASK]); // bids $198 @0, then 100 bps
    const short = book([DEEP_BID], [DEEP_ASK]);
    // room 25: 100(N − 198)/N = 25 → N = 19 800 / 75 = 264
    expect(capacityUsd(long, short, 30, 5)).toBeCloseTo(264, 9);
  });

  it('capped by what the books hold when profit never falls below the threshold', () => {
    const long = book([DEEP_BID], [[100, 5], [101, 10]]); // holds $1510; slippage at $1510 = 101 000 / 1510 ≈ 66.9 bps
    const short = book([[100, 100]], [DEEP_ASK]);
    expect(capacityUsd(long, short, 300, 10)).toBeCloseTo(1510, 9);
  });

  it('0 when even the touch falls short; the threshold met exactly at the touch walks the touch levels', () => {
    const long = book([DEEP_BID], [[100, 5], [101, 10]]);
    const short = book([[100, 100]], [DEEP_ASK]);
    expect(capacityUsd(long, short, 9.99, 10)).toBe(0);
    expect(capacityUsd(long, short, 10, 10)).toBeCloseTo(500, 9); // 0 bps of room: the whole touch level
  });

  it('agrees with a bisection on the walked slippage, on seeded random books', () => {
    const rnd = mulberry32(14);
    /** A side of 1..8 levels from `touch`, each 0..30 bps further, sizes 0.1..5 (one zero now and then). */
    const randomSide = (touch: number, dir: 1 | -1): Array<[number, number]> => {
      const out: Array<[number, number]> = [];
      let p = touch;
      for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n; i++) {
        out.push([p, rnd() < 0.1 ? 0 : 0.1 + rnd() * 4.9]);
        p *= 1 + (dir * rnd() * 30) / 1e4;
      }
      return out;
    };
    const slip = (l: ReturnType<typeof book>, s: ReturnType<typeof book>, n: number) =>
      sideSlippageBps(l.asks, n, 0) + sideSlippageBps(s.bids, n, 0) + sideSlippageBps(l.bids, n, 0) + sideSlippageBps(s.asks, n, 0);
    const held = (levels: Array<[number, number]>) => levels.reduce((a, [p, q]) => a + p * q, 0);
    for (let run = 0; run < 200; run++) {
      const lb = randomSide(99.9, -1);
      const la = randomSide(100, 1);
      const sb = randomSide(100.2, -1);
      const sa = randomSide(100.3, 1);
      const long = book(lb, la);
      const short = book(sb, sa);
      const room = rnd() * 40;
      const got = capacityUsd(long, short, 10 + room, 10)!;
      const cap = Math.min(held(lb), held(la), held(sb), held(sa));
      // Bisection on the non-increasing profit: the largest N ≤ cap with slippage ≤ room.
      let lo = 0;
      let hi = cap;
      if (slip(long, short, cap) <= room) lo = cap;
      else
        for (let i = 0; i < 200; i++) {
          const mid = (lo + hi) / 2;
          if (slip(long, short, mid) <= room) lo = mid;
          else hi = mid;
        }
      expect(got).toBeCloseTo(lo, 6);
    }
  });
});
