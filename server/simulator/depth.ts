/**
 * The simulated order books behind the twins' depth channels: one book per pair, consistent with the
 * pair's top of book (best bid/ask and their sizes ARE the twin's quote) and seeded deeper levels on a
 * ~1 bps grid whose sizes grow with distance and are redrawn every few updates (staggered per level), so
 * the book changes over time as a real one does. `update` brings a book to the pair's current state and
 * returns the levels that changed with the book's sequence numbers; each twin writes them in its venue's
 * own depth format. Faults (a dropped delta, a reset, a wrong checksum) are injected on demand for tests.
 *
 * Units: integer price ticks (× spec.tickSize = the venue's price) and lots (the twin's `lot`: contracts
 * on contract venues), as the pair's touch is kept.
 */
import type { Pair } from './market.js';

/** Levels per side each simulated book holds (the deepest snapshot a twin's stream sends; enough for any top-N view). */
export const SIM_DEPTH_LEVELS = 50;
/** Spacing of the levels behind the touch (bps of price). */
const LEVEL_STEP_BPS = 1;
/** Sequence number of a new book (as if the venue's book had been running for a while). */
export const FIRST_SEQ = 1000;
/** The growth anchor follows the touch only once it is this many levels away. */
const ANCHOR_STEPS = 8;
/** A level's size is redrawn every this many updates of its pair. */
const REDRAW_EVERY = 16;

export interface SimLevel {
  ticks: number;
  /** 0 = the level was removed (in an update). */
  lots: number;
}

/**
 * A fault to show on a book's next update. `gap`: the update is not sent (the next one does not follow
 * on); `reset`: the venue restarts the book (a fresh snapshot, sequence restarted where the venue does
 * so); `checksum`: the update is sent with a wrong checksum (venues that send one).
 */
export type DepthFault = 'gap' | 'reset' | 'checksum';

export interface SimDepthUpdate {
  /** Changed levels, best first; lots 0 = removed. */
  bids: SimLevel[];
  asks: SimLevel[];
  /** The book's sequence before and after the update (consecutive: seq = prevSeq + 1). */
  prevSeq: number;
  seq: number;
  /** A fault injected for this update (the twin applies it); null = none. */
  fault: DepthFault | null;
}

export class SimBook {
  bids: SimLevel[] = [];
  asks: SimLevel[] = [];
  /** Sequence number of the last update (the twins' update ids): starts mid-stream as a live book's, 1 after a reset. */
  seq = FIRST_SEQ;
  fault: DepthFault | null = null;
  /**
   * Price (ticks) the deeper levels' growth is measured from, per side. It moves only when the touch has
   * moved more than ANCHOR_STEPS levels away, so a one-tick move of the touch does not resize every level
   * (a real book's deep levels keep their sizes; its deltas carry a few levels, not the whole side).
   */
  bidAnchor = -1;
  askAnchor = -1;
  constructor(
    /** Lots of a level one step behind the touch, before its growth with distance. */
    readonly baseLots: number,
  ) {}
}

export class DepthModel {
  private readonly books = new Map<Pair, SimBook>();

  constructor(readonly levels = SIM_DEPTH_LEVELS) {}

  /** The book of `pair` at its current touch (made on first use). */
  book(pair: Pair): SimBook {
    let book = this.books.get(pair);
    if (book === undefined) {
      // Deeper levels scale with the touch sizes at the book's start (the venue's typical touch).
      book = new SimBook(Math.max(1, Math.round((pair.bidLots + pair.askLots) / 2)));
      book.bids = this.target(pair, book, true);
      book.asks = this.target(pair, book, false);
      this.books.set(pair, book);
    }
    return book;
  }

  /** Whether a book of `pair` is kept (it has had a subscriber). */
  has(pair: Pair): boolean {
    return this.books.has(pair);
  }

  /** Forgets the book (nobody subscribes to it any more); the next subscriber gets a fresh one. */
  drop(pair: Pair): void {
    this.books.delete(pair);
  }

  /** The next update of `pair`'s book shows `fault`. Makes the book if there is none yet. */
  inject(pair: Pair, fault: DepthFault): void {
    this.book(pair).fault = fault;
  }

  /**
   * Brings `pair`'s book to its current touch and deep levels: the changed levels and the new sequence
   * number, or null when nothing changed (no sequence number is used then). A `reset` fault restarts
   * the sequence at 1.
   */
  update(pair: Pair): SimDepthUpdate | null {
    const book = this.book(pair);
    const bids = this.target(pair, book, true);
    const asks = this.target(pair, book, false);
    const dBids = diff(book.bids, bids, true);
    const dAsks = diff(book.asks, asks, false);
    const fault = book.fault;
    if (dBids.length === 0 && dAsks.length === 0 && fault === null) return null;
    book.fault = null;
    book.bids = bids;
    book.asks = asks;
    const prevSeq = book.seq;
    book.seq = fault === 'reset' ? 1 : prevSeq + 1;
    return { bids: dBids, asks: dAsks, prevSeq, seq: book.seq, fault };
  }

  /** The levels a side should have now: the touch, then a grid of levels behind it. */
  private target(pair: Pair, book: SimBook, bid: boolean): SimLevel[] {
    const touch = bid ? pair.bidTicks : pair.askTicks;
    const out: SimLevel[] = [{ ticks: touch, lots: Math.max(1, bid ? pair.bidLots : pair.askLots) }];
    const step = Math.max(1, Math.round((touch * LEVEL_STEP_BPS) / 1e4));
    // Grid levels strictly behind the touch, aligned to multiples of `step` (they stay put while the touch moves).
    let t = bid ? Math.floor((touch - 1) / step) * step : Math.ceil((touch + 1) / step) * step;
    let anchor = bid ? book.bidAnchor : book.askAnchor;
    if (anchor < 0 || Math.abs(touch - anchor) > ANCHOR_STEPS * step) anchor = touch;
    if (bid) book.bidAnchor = anchor;
    else book.askAnchor = anchor;
    for (let k = 1; k < this.levels && t > 0; k++) {
      out.push({ ticks: t, lots: levelLots(pair, book, t, Math.max(1, Math.round(Math.abs(t - anchor) / step))) });
      t += bid ? -step : step;
    }
    return out;
  }
}

/** Size of the level at `ticks`, `k` levels from the side's anchor: grows with distance, redrawn every REDRAW_EVERY updates. */
function levelLots(pair: Pair, book: SimBook, ticks: number, k: number): number {
  const h = hash(pair.index, ticks, 0);
  const epoch = Math.floor((pair.seq + (h % REDRAW_EVERY)) / REDRAW_EVERY);
  const draw = hash(pair.index, ticks, epoch + 1) / 4294967296; // [0, 1)
  return Math.max(1, Math.round(book.baseLots * (1 + 0.25 * k) * (0.5 + draw)));
}

/** 32-bit integer hash of three integers (deterministic across platforms). */
function hash(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (b >>> 0) ^ Math.floor(b / 4294967296), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ c, 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** Levels of `next` that differ from `prev` (new or resized), and prev's levels missing from next (lots 0), best first. */
function diff(prev: readonly SimLevel[], next: readonly SimLevel[], descending: boolean): SimLevel[] {
  const out: SimLevel[] = [];
  let i = 0;
  let j = 0;
  const better = (a: number, b: number) => (descending ? a > b : a < b);
  while (i < prev.length || j < next.length) {
    const p = prev[i];
    const n = next[j];
    if (n === undefined || (p !== undefined && better(p.ticks, n.ticks))) {
      out.push({ ticks: p!.ticks, lots: 0 });
      i++;
    } else if (p === undefined || better(n.ticks, p.ticks)) {
      out.push({ ticks: n.ticks, lots: n.lots });
      j++;
    } else {
      if (p.lots !== n.lots) out.push({ ticks: n.ticks, lots: n.lots });
      i++;
      j++;
    }
  }
  return out;
}
