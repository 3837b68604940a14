/**
 * The seams of depth-aware scoring (issue 14). Venue modules parse depth frames into L2Book (l2-book.ts)
 * and hand a folded top-N view to a DepthSink; the engine keeps the latest view per instrument id
 * (DepthView) and rescores the touched pairs; scoring walks BookSide levels (VWAP, capacity).
 *
 * Units are the engine's (adapter.ts emitQuote): prices per ONE unit of the underlying, sizes in units of
 * the underlying. Venue modules fold contracts / multipliers before handing a book over.
 */
import type { ConnectionPlan, FetchJson, InstrumentMeta, MetadataTable, ParseOutcome, SubscriptionChange, VenueEndpoints } from '../feeds/adapter.js';

/**
 * One side of a book, best level first (bids descending, asks ascending); `length` levels are valid.
 * Plain number arrays: a book is copied out per message, and a small typed array costs ~10× an array to make.
 */
export interface BookSide {
  readonly prices: readonly number[];
  readonly sizes: readonly number[];
  readonly length: number;
}

/** A consistent top-N view of one venue symbol's book (copied out: it never changes after hand-over). */
export interface DepthBook {
  readonly bids: BookSide;
  readonly asks: BookSide;
  /** The venue's time of the update (epoch ms; 0 = the venue sends none). */
  readonly exchangeTsMs: number;
  /** Local receive time (epoch ms). */
  readonly receivedMs: number;
}

/** Why a book lost sync; it is unusable until the venue's next snapshot. */
export type DepthResyncReason = 'gap' | 'checksum' | 'reset' | 'crossed' | 'disconnected';

export interface DepthSink {
  /** The book of `meta` changed (snapshot or delta applied, still in sync): its folded top N. */
  book(meta: InstrumentMeta, book: DepthBook): void;
  /** The book of `meta` lost sync: drop it from scoring until the next `book`. */
  resync(meta: InstrumentMeta, reason: DepthResyncReason): void;
  /**
   * A diff-only venue's parser (VenueDepth.snapshotUrl) is buffering `meta`'s deltas and needs the REST
   * snapshot: the feed GETs it (once per request in flight) and hands the body to DepthParser.applySnapshot.
   */
  snapshotNeeded(meta: InstrumentMeta): void;
}

/** Parses one venue's depth frames; keeps per-symbol books and their sequence state. Never throws. */
export interface DepthParser {
  parse(raw: string, sink: DepthSink): ParseOutcome;
  /** Forget every book (the connection dropped); the caller reports `disconnected` for the symbols it carried. */
  reset(): void;
  /** Forget one symbol's book and sequence state (released from the candidates, or about to be resubscribed). */
  forget(symbol: string): void;
  /** Diff-only venues: applies the REST snapshot body (parsed JSON) of `meta`'s book, then the buffered deltas after it. */
  applySnapshot?(meta: InstrumentMeta, body: unknown, sink: DepthSink): ParseOutcome;
  /** Dropped frames by reason (never reset). */
  readonly errors: Record<string, number>;
  /** Sync losses by reason (never reset): gaps, checksum mismatches, resets. */
  readonly resyncs: Record<string, number>;
}

/** A venue's depth channel: sockets for candidate symbols only, within the venue's limits. */
export interface VenueDepth {
  /** Socket plans carrying the depth channel of `symbols` with at least `levels` levels per side. */
  plan(endpoints: VenueEndpoints, symbols: string[], levels: number, fetchJson: FetchJson): Promise<ConnectionPlan[]>;
  /** As VenueAdapter.liveChange, for the depth sockets; null = re-make them. */
  liveChange?(plans: readonly ConnectionPlan[], symbols: readonly string[], add: readonly string[], remove: readonly string[]): SubscriptionChange[] | null;
  createParser(meta: MetadataTable, levels: number): DepthParser;
  /**
   * Frames that make the venue send a fresh snapshot of `symbol` on the socket carrying it (an unsubscribe
   * then a subscribe of its depth channel), sent after a loss of sync. Venues whose stream has snapshots.
   */
  resubscribe?(symbol: string): string[];
  /**
   * Diff-only venues (the stream never sends a snapshot): the REST snapshot URL of `symbol` with at least
   * `levels` levels; the parser asks for it through DepthSink.snapshotNeeded.
   */
  snapshotUrl?(endpoints: VenueEndpoints, symbol: string, levels: number): string;
}

/** The engine's latest in-sync book per instrument id (a venue symbol), for scoring. */
export interface DepthView {
  /**
   * The book, or undefined when none is held (never subscribed, out of sync, released) or when it is older
   * than the quote staleness limit (config detector.staleAfterMs, by the engine's receive time).
   */
  get(id: number): DepthBook | undefined;
}
