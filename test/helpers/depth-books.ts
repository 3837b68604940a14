/** Depth books built by hand for scoring tests (engine units: price per unit, size in units). */
import type { BookSide, DepthBook } from '../../server/depth/types.js';

/** A side from [price, size] pairs, best first. */
export function side(levels: ReadonlyArray<readonly [number, number]>): BookSide {
  return { prices: levels.map((l) => l[0]), sizes: levels.map((l) => l[1]), length: levels.length };
}

export function book(bids: ReadonlyArray<readonly [number, number]>, asks: ReadonlyArray<readonly [number, number]>, receivedMs = 0, exchangeTsMs = 0): DepthBook {
  return { bids: side(bids), asks: side(asks), receivedMs, exchangeTsMs };
}
