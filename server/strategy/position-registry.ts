/**
 * Which positions the runner knows: every book by id, the live ones (opening/open/closing/broken) in
 * creation order, and a bounded tail of closed ones (persistence keeps more). Also hands out `pos-N` ids.
 */
import { LIVE_STATES, type Book } from './book.js';

export class PositionRegistry {
  private readonly books = new Map<string, Book>();
  private readonly live = new Map<string, Book>();
  /** Ids of closed positions still in memory, oldest first. */
  private closedOrder: string[] = [];
  private lastSeq = 0;

  constructor(private readonly maxClosed: number) {}

  /** The id of the next position (`pos-N`, never reused). */
  nextId(): string {
    return `pos-${++this.lastSeq}`;
  }

  /** A position just opened. */
  add(book: Book): void {
    this.books.set(book.p.id, book);
    this.live.set(book.p.id, book);
  }

  /** Replaces everything with restored books (oldest first); ids continue after `lastSeq`. */
  replace(books: readonly Book[], lastSeq: number): void {
    this.books.clear();
    this.live.clear();
    this.closedOrder = [];
    this.lastSeq = Math.max(this.lastSeq, lastSeq);
    for (const book of books) {
      this.books.set(book.p.id, book);
      if (LIVE_STATES.has(book.p.state)) this.live.set(book.p.id, book);
      else this.closedOrder.push(book.p.id);
    }
    this.trimClosed();
  }

  /** A live position reached `closed`. */
  retire(book: Book): void {
    this.live.delete(book.p.id);
    this.closedOrder.push(book.p.id);
    this.trimClosed();
  }

  get(id: string): Book | undefined {
    return this.books.get(id);
  }

  all(): IterableIterator<Book> {
    return this.books.values();
  }

  /** Live books in creation order (the map itself: do not add or retire while iterating). */
  liveView(): IterableIterator<Book> {
    return this.live.values();
  }

  /** A copy, so a pass may close positions while it iterates. */
  liveBooks(): Book[] {
    return [...this.live.values()];
  }

  /** Instruments with a live position. */
  busyInstruments(): Set<string> {
    const out = new Set<string>();
    for (const b of this.live.values()) out.add(b.p.instrument);
    return out;
  }

  /** Opportunities a live position was opened on. */
  liveOpportunities(): Set<string> {
    const out = new Set<string>();
    for (const b of this.live.values()) out.add(b.p.opportunityId);
    return out;
  }

  private trimClosed(): void {
    while (this.closedOrder.length > this.maxClosed) {
      const id = this.closedOrder.shift();
      if (id !== undefined) this.books.delete(id);
    }
  }
}
