/**
 * Depth-aware scoring of one (long, short) pair (issue 14 §2), as pure functions over BookSide levels.
 *
 * Units: prices per one unit of the underlying, sizes in units (server/depth/types.ts); notionals in USD
 * per leg (the same USD amount on each leg, as the touch estimate in scoring.ts); slippage in bps of that
 * notional. Conventions as scoring.ts: the long leg buys (walks the asks) and later sells (exits into
 * the bids of the same book); the short leg sells into the bids and later buys back from the asks.
 *
 * Hot path: nothing here allocates; results go to caller-owned scratch objects (VwapFill, PairDepthSlippage).
 */
import type { BookSide, DepthBook } from '../depth/types.js';

/** The fill of a USD notional on one side: written by vwapFill (reused by the caller). */
export class VwapFill {
  /** Volume-weighted average price of the filled part (0 when nothing filled). */
  price = 0;
  /** Filled notional, USD (≤ the asked notional). */
  filledUsd = 0;
  /** Filled quantity, units of the underlying. */
  filledQty = 0;
  /** The side held less than the notional (filledUsd < notional). */
  thin = false;
}

/**
 * A book usable for scoring: both sides present, positive finite touches, not crossed (best bid < best
 * ask). A crossed or one-sided book is a feed error or a book in the middle of a resync: the caller
 * falls back to the touch estimate.
 */
export function bookUsable(book: DepthBook): boolean {
  const b = book.bids;
  const a = book.asks;
  if (b.length <= 0 || a.length <= 0) return false;
  const bid = b.prices[0];
  const ask = a.prices[0];
  return bid > 0 && ask > 0 && Number.isFinite(bid) && Number.isFinite(ask) && bid < ask;
}

/**
 * The venue stamped the book within `staleAfterMs` of `nowMs` (or sends no stamp): a book received now but
 * stamped long ago is old news, as for quotes (MarketStore.fresh). Its ARRIVAL age is the DepthStore's
 * business (it serves no book older than the limit, by the engine clock).
 */
export function bookFresh(book: DepthBook, nowMs: number, staleAfterMs: number): boolean {
  return book.exchangeTsMs === 0 || nowMs - book.exchangeTsMs <= staleAfterMs;
}

/**
 * Walks `side` (best first) for `notionalUsd`: level i holds prices[i] · sizes[i] USD. Writes the VWAP,
 * the filled USD and quantity, and whether the side ran out first, into `out`. Levels with a non-positive
 * size are skipped (a venue's zero-size placeholder).
 */
export function vwapFill(side: BookSide, notionalUsd: number, out: VwapFill): VwapFill {
  let remaining = notionalUsd > 0 ? notionalUsd : 0;
  let qty = 0;
  for (let i = 0; i < side.length && remaining > 0; i++) {
    const p = side.prices[i];
    const size = side.sizes[i];
    if (!(size > 0) || !(p > 0)) continue;
    const levelUsd = p * size;
    const takeUsd = levelUsd < remaining ? levelUsd : remaining;
    qty += takeUsd / p;
    remaining -= takeUsd;
  }
  const filled = (notionalUsd > 0 ? notionalUsd : 0) - remaining;
  out.filledUsd = filled;
  out.filledQty = qty;
  out.price = qty > 0 ? filled / qty : 0;
  out.thin = remaining > 0;
  return out;
}

/**
 * Slippage of filling `notionalUsd` on one side, in bps of the notional, against that side's touch:
 * Σ usd_i · |p_i − touch| / touch · 1e4 / notional. The part the levels do not hold is charged at the
 * last level's distance plus `impactBps` (the assumption of execution.ts walkBook and of the touch
 * estimate's `detector.slippageImpactBps`). An empty side costs `impactBps` for all of it.
 */
export function sideSlippageBps(side: BookSide, notionalUsd: number, impactBps: number): number {
  if (!(notionalUsd > 0)) return 0;
  if (side.length <= 0) return impactBps;
  const touch = side.prices[0];
  let remaining = notionalUsd;
  let costBpsUsd = 0;
  let lastDistBps = 0;
  for (let i = 0; i < side.length && remaining > 0; i++) {
    const p = side.prices[i];
    const size = side.sizes[i];
    if (!(size > 0) || !(p > 0)) continue;
    const levelUsd = p * size;
    const takeUsd = levelUsd < remaining ? levelUsd : remaining;
    lastDistBps = (Math.abs(p - touch) / touch) * 1e4;
    costBpsUsd += takeUsd * lastDistBps;
    remaining -= takeUsd;
  }
  return (costBpsUsd + remaining * (lastDistBps + impactBps)) / notionalUsd;
}

/** Entry and exit slippage of a pair from its two books (written by pairDepthSlippage; reused by the caller). */
export class PairDepthSlippage {
  /** Long buys the long book's asks + short sells the short book's bids, bps of notional. */
  entryBps = 0;
  /** Long sells the long book's bids + short buys the short book's asks, bps of notional. */
  exitBps = 0;
}

/**
 * Entry and exit slippage of (long, short) at `notionalUsd` on each leg. The exit is estimated on the
 * opposite sides of the SAME books (the exit book is unknown when scoring; today's is the best guess).
 * Returns false, leaving `out` alone, when either book is unusable (crossed or one-sided): the caller
 * keeps the touch estimate.
 */
export function pairDepthSlippage(long: DepthBook, short: DepthBook, notionalUsd: number, impactBps: number, out: PairDepthSlippage): boolean {
  if (!bookUsable(long) || !bookUsable(short)) return false;
  out.entryBps = sideSlippageBps(long.asks, notionalUsd, impactBps) + sideSlippageBps(short.bids, notionalUsd, impactBps);
  out.exitBps = sideSlippageBps(long.bids, notionalUsd, impactBps) + sideSlippageBps(short.asks, notionalUsd, impactBps);
  return true;
}

// Per-side walk state of capacityUsd, in the order long asks, short bids, long bids, short asks.
const SIDES = 4;
const walkSides: BookSide[] = [];
const walkLevel = new Int32Array(SIDES);
/** USD filled on the side before its current level. */
const walkBefore = new Float64Array(SIDES);
/** Σ usd · distance (bps) of the levels before the current one. */
const walkCost = new Float64Array(SIDES);

/** Total USD the side holds (the sum of price · size over its valid levels). */
function sideUsd(side: BookSide): number {
  let usd = 0;
  for (let i = 0; i < side.length; i++) if (side.sizes[i] > 0 && side.prices[i] > 0) usd += side.prices[i] * side.sizes[i];
  return usd;
}

/** Moves side k's cursor to its next level with positive size; returns that level's USD (0 = side exhausted). */
function nextLevelUsd(k: number): number {
  const side = walkSides[k];
  for (let i = walkLevel[k]; i < side.length; i++) {
    if (side.sizes[i] > 0 && side.prices[i] > 0) {
      walkLevel[k] = i;
      return side.prices[i] * side.sizes[i];
    }
  }
  walkLevel[k] = side.length;
  return 0;
}

/**
 * The largest notional (USD per leg) at which the projected profit still reaches `minProfitBps`, on the
 * merged books of both legs; capped by what the books hold (the smallest total of the four sides walked).
 * null when either book is unusable. 0 when even the touch does not reach it.
 *
 * `baseProfitBps` = touch spread + expected funding − fees (everything that does not depend on size).
 * profit(N) = base − S(N), S(N) = Σ over the four sides of slippage(N), where one side's slippage is
 * s(N) = (Σ_{levels before} usd_i · d_i + d_j · (N − B_j)) / N while N lies in level j (d_i = bps
 * distance of level i from the touch, nondecreasing in i; B_j = USD before level j). s(N) is the running
 * mean of a nondecreasing step function, so it is nondecreasing and profit(N) is NON-INCREASING in N:
 * capacity is where it crosses minProfitBps. Between two consecutive breakpoints of the MERGED walk (a
 * level boundary on any of the four sides) every side stays in one level, so S(N) = D + K / N with
 * D = Σ d_k and K = Σ (C_k − d_k · B_k) constants (C_k = cost before the level). Walking breakpoints
 * until profit at a breakpoint falls below the threshold, then solving D + K / N = base − minProfit
 * inside that segment (N = K / (base − minProfit − D)), is therefore exact, in O(total levels).
 * Spread "at the VWAPs" is the touch spread less the entry slippage, so it is not counted twice.
 */
export function capacityUsd(long: DepthBook, short: DepthBook, baseProfitBps: number, minProfitBps: number): number | null {
  if (!bookUsable(long) || !bookUsable(short)) return null;
  const room = baseProfitBps - minProfitBps; // slippage the profit can absorb, bps
  if (!(room >= 0)) return 0;
  walkSides[0] = long.asks;
  walkSides[1] = short.bids;
  walkSides[2] = long.bids;
  walkSides[3] = short.asks;
  let cap = Number.POSITIVE_INFINITY;
  for (let k = 0; k < SIDES; k++) {
    const usd = sideUsd(walkSides[k]);
    if (usd < cap) cap = usd;
    walkLevel[k] = 0;
    walkBefore[k] = 0;
    walkCost[k] = 0;
  }
  let n = 0; // the breakpoint reached so far
  while (n < cap) {
    // This segment: each side in its current level; the segment ends at the nearest level end.
    let end = cap;
    let d = 0;
    let kConst = 0;
    for (let k = 0; k < SIDES; k++) {
      const levelUsd = nextLevelUsd(k);
      const side = walkSides[k];
      if (levelUsd === 0) return cap; // rounding left a side exhausted just short of the cap
      const dist = (Math.abs(side.prices[walkLevel[k]] - side.prices[0]) / side.prices[0]) * 1e4;
      d += dist;
      kConst += walkCost[k] - dist * walkBefore[k];
      const levelEnd = walkBefore[k] + levelUsd;
      if (levelEnd < end) end = levelEnd;
    }
    // S(end) = d + kConst / end; within the segment S rises toward it.
    if (d + kConst / end > room) {
      // d > room here (kConst ≤ 0), so the solution is positive and lies in (n, end].
      const solved = kConst / (room - d);
      return solved > n ? solved : n;
    }
    n = end;
    // Step every side whose level ends at this breakpoint.
    for (let k = 0; k < SIDES; k++) {
      const side = walkSides[k];
      const i = walkLevel[k];
      if (i >= side.length) continue;
      const levelUsd = side.prices[i] * side.sizes[i];
      if (walkBefore[k] + levelUsd <= n) {
        walkCost[k] += levelUsd * (Math.abs(side.prices[i] - side.prices[0]) / side.prices[0]) * 1e4;
        walkBefore[k] += levelUsd;
        walkLevel[k] = i + 1;
      }
    }
  }
  return cap;
}
