/**
 * The engine's depth: the latest in-sync book per instrument id (a venue symbol) with the engine-clock
 * time it arrived. A book older than the quote staleness limit (config detector.staleAfterMs) is not
 * served, as a stale quote is not used; a book that lost sync is dropped at once (Engine.dropDepth).
 */
import type { DepthBook, DepthResyncReason, DepthView } from './types.js';

export class DepthStore implements DepthView {
  private readonly books: Array<DepthBook | undefined> = [];
  private readonly receivedMs: number[] = [];
  private heldCount = 0;
  /** Books stored, and books dropped by reason (never reset). */
  pushed = 0;
  readonly dropped: Partial<Record<DepthResyncReason | 'released', number>> = {};

  constructor(
    /** Engine clock, epoch ms. */
    private readonly now: () => number,
    /** A book older than this (ms since it arrived) is not served. */
    public staleAfterMs: number,
  ) {}

  get(id: number): DepthBook | undefined {
    const book = this.books[id];
    if (book === undefined) return undefined;
    return this.now() - this.receivedMs[id]! > this.staleAfterMs ? undefined : book;
  }

  /** Engine-clock receive time of `id`'s book, or null when none is held. */
  receivedAt(id: number): number | null {
    return this.books[id] === undefined ? null : this.receivedMs[id]!;
  }

  set(id: number, book: DepthBook, nowMs: number): void {
    if (this.books[id] === undefined) this.heldCount++;
    this.books[id] = book;
    this.receivedMs[id] = nowMs;
    this.pushed++;
  }

  /** Forgets `id`'s book; true when one was held. */
  drop(id: number, reason: DepthResyncReason | 'released'): boolean {
    if (this.books[id] === undefined) return false;
    this.books[id] = undefined;
    this.heldCount--;
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    return true;
  }

  /** Ids with a book (stale ones included). */
  ids(): number[] {
    const out: number[] = [];
    this.books.forEach((b, id) => {
      if (b !== undefined) out.push(id);
    });
    return out;
  }

  /** Books held (stale ones included). */
  get size(): number {
    return this.heldCount;
  }
}
