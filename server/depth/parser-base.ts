/**
 * What every venue's depth parser shares: the drop and resync counters, one L2Book per symbol, the JSON
 * guard, strict level reading (a frame with one bad level changes nothing), and the hand-over of a
 * folded top-N view (a crossed book is a lost delta: resync). A venue keeps only its message routing and
 * its sequence / checksum rules.
 */
import { count, jsonObject, num, type InstrumentMeta, type MetadataTable, type ParseOutcome } from '../feeds/adapter.js';
import { L2Book } from './l2-book.js';
import { ScannedLevels, scanFrame, type ScanKeys } from './frame-scan.js';
import type { DepthParser, DepthResyncReason, DepthSink } from './types.js';

/** Levels of one frame side as flat [price, size, price, size, ...] numbers (reused scratch arrays). */
export type FlatLevels = number[];

export abstract class JsonDepthParser implements DepthParser {
  readonly errors: Record<string, number> = {};
  readonly resyncs: Record<string, number> = {};
  protected readonly books = new Map<string, L2Book>();
  protected readonly bidScratch: FlatLevels = [];
  protected readonly askScratch: FlatLevels = [];
  /** The frame keys holding levels, read by scanFrame instead of JSON.parse (none: JSON.parse only). */
  protected readonly scanKeys: ScanKeys | null = null;
  /** False: every frame goes through JSON.parse (the differential test's reference path). */
  useFrameScan = true;

  constructor(
    protected readonly meta: MetadataTable,
    /** Levels per side handed to the engine. */
    protected readonly levels: number,
    /** Epoch ms for DepthBook.receivedMs. */
    protected readonly clock: () => number = Date.now,
  ) {}

  abstract parse(raw: string, sink: DepthSink): ParseOutcome;

  reset(): void {
    this.books.clear();
  }

  forget(symbol: string): void {
    this.books.delete(symbol);
  }

  protected reject(reason: string): ParseOutcome {
    count(this.errors, reason);
    return 'rejected';
  }

  /** The frame as an object (level keys possibly as ScannedLevels: read them with readLevels), or null (counted). */
  protected parseObject(raw: string): Record<string, unknown> | null {
    if (this.useFrameScan && this.scanKeys !== null) {
      const scanned = scanFrame(raw, this.scanKeys);
      if (scanned !== null) return scanned;
    }
    return jsonObject(raw, this.errors);
  }

  protected bookOf(symbol: string): L2Book {
    let book = this.books.get(symbol);
    if (book === undefined) this.books.set(symbol, (book = new L2Book()));
    return book;
  }

  /** The book lost sync: it is cleared (unusable until the next snapshot), counted and reported. */
  protected loseSync(meta: InstrumentMeta, book: L2Book, reason: DepthResyncReason, sink: DepthSink): void {
    book.clear();
    count(this.resyncs, reason);
    sink.resync(meta, reason);
  }

  /** Hands the book's folded top N over; a crossed book (a missed delta) is resynced instead. */
  protected publish(meta: InstrumentMeta, book: L2Book, sink: DepthSink): void {
    if (book.crossed()) {
      this.loseSync(meta, book, 'crossed', sink);
      return;
    }
    const pm = meta.priceMultiplier ?? 1;
    sink.book(meta, book.view(this.levels, pm, meta.contractValue * pm, this.clock()));
  }
}

/**
 * Reads a side's levels (`[[price, size, ...], ...]`, numbers or decimal strings; extra fields ignored)
 * (or a side scanFrame already read) into `out` as flat pairs. False when the side is not an array or any level is malformed (price ≤ 0,
 * size < 0, non-numeric): the caller rejects the whole frame.
 */
export function readLevels(raw: unknown, out: FlatLevels): boolean {
  out.length = 0;
  if (raw instanceof ScannedLevels) {
    // Already numbers (num() of each level's first two fields); the same checks as below.
    const flat = raw.flat;
    for (let i = 0; i < flat.length; i += 2) {
      const price = flat[i]!;
      const size = flat[i + 1]!;
      if (!(price > 0) || !(size >= 0)) return false;
      out.push(price, size);
    }
    return true;
  }
  if (!Array.isArray(raw)) return false;
  for (let i = 0; i < raw.length; i++) {
    const level: unknown = raw[i];
    if (!Array.isArray(level) || level.length < 2) return false;
    const price = num(level[0]);
    const size = num(level[1]);
    if (!(price > 0) || !(size >= 0)) return false;
    out.push(price, size);
  }
  return true;
}

/** Applies flat levels to one side (size 0 removes the price). */
export function applyLevels(book: L2Book, side: 'bid' | 'ask', flat: FlatLevels): void {
  for (let i = 0; i < flat.length; i += 2) book.apply(side, flat[i], flat[i + 1]);
}

/** Replaces both sides with a snapshot's levels. */
export function applySnapshotLevels(book: L2Book, bids: FlatLevels, asks: FlatLevels): void {
  book.bids.replace(bids);
  book.asks.replace(asks);
}
