/**
 * Base of the venues' JSON depth parsers (DepthParser): the drop and resync counters, the JSON guard, one
 * L2Book per venue symbol, and the two ways a book leaves a parser — `publish` (in sync: the folded top N
 * to the sink, a crossed book turned into a resync) and `lose` (out of sync until the venue's next
 * snapshot). A venue keeps only its message routing, its sequence rule and its field extraction.
 */
import { count, isRecord, num, type InstrumentMeta, type MetadataTable, type ParseOutcome } from '../feeds/adapter.js';
import { L2Book } from './l2-book.js';
import type { DepthParser, DepthResyncReason, DepthSink } from './types.js';

/**
 * Reads `[price, size]` levels (decimal strings or JSON numbers; extra elements ignored) into `out` as flat
 * price, size pairs. False when `raw` is not an array or a level is not a positive price with a size ≥ 0.
 */
export function readLevels(raw: unknown, out: number[]): boolean {
  if (!Array.isArray(raw)) return false;
  for (const level of raw) {
    if (!Array.isArray(level) || level.length < 2) return false;
    const price = num(level[0]);
    const size = num(level[1]);
    if (!(price > 0 && size >= 0)) return false;
    out.push(price, size);
  }
  return true;
}

export abstract class JsonDepthParser implements DepthParser {
  readonly errors: Record<string, number> = {};
  readonly resyncs: Record<string, number> = {};
  private readonly books = new Map<string, L2Book>();
  /** Scratch level buffers (a frame is read whole before any of it is applied). */
  protected readonly bidBuf: number[] = [];
  protected readonly askBuf: number[] = [];

  constructor(
    protected readonly meta: MetadataTable,
    /** Levels per side handed to the sink. */
    protected readonly levels: number,
    private readonly clock: () => number = Date.now,
  ) {}

  abstract parse(raw: string, sink: DepthSink): ParseOutcome;

  reset(): void {
    this.books.clear();
  }

  protected reject(reason: string): ParseOutcome {
    count(this.errors, reason);
    return 'rejected';
  }

  /** The frame as a JSON object, or null after counting it as `invalid_json` / `not_an_object`. */
  protected parseObject(raw: string): Record<string, unknown> | null {
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      this.reject('invalid_json');
      return null;
    }
    if (isRecord(msg)) return msg;
    this.reject('not_an_object');
    return null;
  }

  /** The book of `symbol` (created empty and out of sync on first use). */
  protected book(symbol: string): L2Book {
    let b = this.books.get(symbol);
    if (b === undefined) this.books.set(symbol, (b = new L2Book()));
    return b;
  }

  /** Reads a frame's two sides into `bidBuf`/`askBuf`; false when either is malformed. */
  protected readSides(bids: unknown, asks: unknown): boolean {
    this.bidBuf.length = 0;
    this.askBuf.length = 0;
    return readLevels(bids, this.bidBuf) && readLevels(asks, this.askBuf);
  }

  /** Replaces the whole book with `bidBuf`/`askBuf` (a snapshot) and marks it in sync. */
  protected replace(book: L2Book): void {
    book.bids.clear();
    book.asks.clear();
    this.applyBuffers(book);
    book.synced = true;
  }

  /** Applies `bidBuf`/`askBuf` as level changes (size 0 removes the price). */
  protected applyBuffers(book: L2Book): void {
    const b = this.bidBuf;
    const a = this.askBuf;
    for (let i = 0; i < b.length; i += 2) book.apply('bid', b[i], b[i + 1]);
    for (let i = 0; i < a.length; i += 2) book.apply('ask', a[i], a[i + 1]);
  }

  /**
   * The book is in sync after a change: hand its folded top N to the sink — unless it is crossed (best bid
   * ≥ best ask: a missed update), which is a loss of sync like a gap.
   */
  protected publish(meta: InstrumentMeta, book: L2Book, sink: DepthSink): ParseOutcome {
    if (book.crossed()) {
      this.lose(meta, book, 'crossed', sink);
      return 'data';
    }
    // The engine's units, as adapter.ts emitQuote folds the touch: price per one unit of the underlying,
    // size in units of the underlying (contracts × contract value × the listed multiplier).
    const pm = meta.priceMultiplier ?? 1;
    sink.book(meta, book.view(this.levels, pm, meta.contractValue * pm, this.clock()));
    return 'data';
  }

  /** The book lost sync: cleared, counted by reason, reported; it stays unusable until the next snapshot. */
  protected lose(meta: InstrumentMeta, book: L2Book, reason: DepthResyncReason, sink: DepthSink): void {
    book.clear();
    count(this.resyncs, reason);
    sink.resync(meta, reason);
  }
}
