/**
 * One venue symbol's L2 book as the venue sends it (its own price and size units), kept sorted: bids
 * descending, asks ascending. Snapshot replaces a side; a delta level with size 0 removes the price.
 * `view(n, priceDiv, sizeMul, ...)` copies the top n levels out, folded to the engine's units; a side whose
 * top n did not change since the last view hands the same (never mutated) copy over again, so a delta
 * that only touches deeper levels allocates nothing.
 */
import type { BookSide, DepthBook } from './types.js';

class Side {
  prices: number[] = [];
  sizes: number[] = [];
  /** The last copy handed over and the fold it was made with. */
  private cached: BookSide | null = null;
  private cachedN = 0;
  private cachedPriceDiv = 0;
  private cachedSizeMul = 0;
  /** Lowest level index changed since `cached` was made (Infinity = none). */
  private dirtyFrom = 0;
  constructor(private readonly descending: boolean) {}

  clear(): void {
    this.prices.length = 0;
    this.sizes.length = 0;
    this.dirtyFrom = 0;
  }

  private touch(i: number): void {
    if (i < this.dirtyFrom) this.dirtyFrom = i;
  }

  /** Index of `price`, or -(insertion point) - 1. */
  private find(price: number): number {
    let lo = 0;
    let hi = this.prices.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.prices[mid];
      if (p === price) return mid;
      if (this.descending ? p > price : p < price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  set(price: number, size: number): void {
    const i = this.find(price);
    if (i >= 0) {
      if (size === 0) {
        this.prices.splice(i, 1);
        this.sizes.splice(i, 1);
        this.touch(i);
      } else if (this.sizes[i] !== size) {
        this.sizes[i] = size;
        this.touch(i);
      }
    } else if (size !== 0) {
      const at = -i - 1;
      this.touch(at);
      if (at === this.prices.length) {
        // Past the worst level (a snapshot arrives best first): no shift.
        this.prices.push(price);
        this.sizes.push(size);
      } else {
        this.prices.splice(at, 0, price);
        this.sizes.splice(at, 0, size);
      }
    }
  }

  /**
   * Replaces the side with flat [price, size, ...] levels, as clear() then set() per level would. Levels
   * already strictly best-first (what venues send) are taken in one pass, and only from the first level
   * that differs is the last copy invalidated; any other order goes through set().
   */
  replace(flat: readonly number[]): void {
    const prices = this.prices;
    const sizes = this.sizes;
    let n = 0;
    let last = Number.NaN;
    for (let i = 0; i < flat.length; i += 2) {
      const price = flat[i];
      const size = flat[i + 1];
      if (n > 0 && !(this.descending ? price < last : price > last)) {
        this.clear();
        for (let j = 0; j < flat.length; j += 2) this.set(flat[j], flat[j + 1]);
        return;
      }
      if (size === 0) continue; // a zero size over an empty price is a no-op in set()
      if (n < prices.length) {
        if (prices[n] !== price || sizes[n] !== size) {
          this.touch(n);
          prices[n] = price;
          sizes[n] = size;
        }
      } else {
        this.touch(n);
        prices.push(price);
        sizes.push(size);
      }
      last = price;
      n++;
    }
    if (prices.length > n) {
      this.touch(n);
      prices.length = n;
      sizes.length = n;
    }
  }

  /** Keeps the best `n` levels (venues that send top-N books drop the rest implicitly). */
  truncate(n: number): void {
    if (this.prices.length > n) {
      this.touch(n);
      this.prices.length = n;
      this.sizes.length = n;
    }
  }

  copy(n: number, priceDiv: number, sizeMul: number): BookSide {
    // Levels from index n on are not in the copy: changes there leave it valid.
    if (this.cached !== null && this.dirtyFrom >= n && this.cachedN === n && this.cachedPriceDiv === priceDiv && this.cachedSizeMul === sizeMul) return this.cached;
    const len = Math.min(n, this.prices.length);
    const prices: number[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < len; i++) {
      prices.push(this.prices[i] / priceDiv);
      sizes.push(this.sizes[i] * sizeMul);
    }
    this.cached = { prices, sizes, length: len };
    this.cachedN = n;
    this.cachedPriceDiv = priceDiv;
    this.cachedSizeMul = sizeMul;
    this.dirtyFrom = Number.POSITIVE_INFINITY;
    return this.cached;
  }
}

export class L2Book {
  readonly bids = new Side(true);
  readonly asks = new Side(false);
  /** The venue's sequence number of the last applied update (its own meaning; -1 = none yet). */
  seq = -1;
  /** True between a snapshot and the next loss of sync. */
  synced = false;
  exchangeTsMs = 0;

  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.seq = -1;
    this.synced = false;
  }

  /** Applies levels as [price, size] pairs of numbers (parse strings before calling). */
  apply(side: 'bid' | 'ask', price: number, size: number): void {
    (side === 'bid' ? this.bids : this.asks).set(price, size);
  }

  /** Best bid ≥ best ask: the book is wrong (a missed delta), resync it. */
  crossed(): boolean {
    return this.bids.prices.length > 0 && this.asks.prices.length > 0 && this.bids.prices[0] >= this.asks.prices[0];
  }

  /**
   * The top `n` levels per side in engine units: price ÷ `priceDiv` (the symbol's price multiplier), size
   * × `sizeMul` (contract value × multiplier), as adapter.ts emitQuote folds the touch.
   */
  view(n: number, priceDiv: number, sizeMul: number, receivedMs: number): DepthBook {
    return { bids: this.bids.copy(n, priceDiv, sizeMul), asks: this.asks.copy(n, priceDiv, sizeMul), exchangeTsMs: this.exchangeTsMs, receivedMs };
  }
}
