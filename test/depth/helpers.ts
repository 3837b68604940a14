/** A DepthSink that records what a depth parser hands over, for tests. */
import type { InstrumentMeta } from '../../server/feeds/adapter.js';
import type { BookSide, DepthBook, DepthResyncReason, DepthSink } from '../../server/depth/types.js';

export class RecordingDepthSink implements DepthSink {
  readonly books: Array<{ symbol: string; book: DepthBook }> = [];
  readonly resyncs: Array<{ symbol: string; reason: DepthResyncReason }> = [];
  readonly snapshotsNeeded: string[] = [];

  book(meta: InstrumentMeta, book: DepthBook): void {
    this.books.push({ symbol: meta.symbol, book });
  }
  resync(meta: InstrumentMeta, reason: DepthResyncReason): void {
    this.resyncs.push({ symbol: meta.symbol, reason });
  }
  snapshotNeeded(meta: InstrumentMeta): void {
    this.snapshotsNeeded.push(meta.symbol);
  }
  get last(): DepthBook | undefined {
    return this.books.at(-1)?.book;
  }
}

/** A side as [price, size] pairs (sizes rounded to 1e-9 so folded products compare exactly). */
export function levels(side: BookSide): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < side.length; i++) out.push([side.prices[i]!, Math.round(side.sizes[i]! * 1e9) / 1e9]);
  return out;
}
