/**
 * What a venue module offers the ingest benchmark (`server/venues/<venue>/bench.ts`, optional): frames
 * in the venue's real wire shape for generated prices, and the ccxt.pro class that handles them, so
 * bench/ingest compares parsers without naming a venue.
 */
export interface IngestFrameContext {
  /** Frames to generate. */
  count: number;
  bases: readonly string[];
  /** The venue's native USDT-perpetual symbol of a base (from its symbols module). */
  symbol(base: string): string;
  /** Exchange time of the first frame (epoch ms); frames are 2 ms apart. */
  t0: number;
  /** The bench's seeded PRNG (shared across venues, called in registry order). */
  rnd(): number;
  /** A price string near the base's reference price. */
  px(base: string): string;
  /** A size string. */
  sz(): string;
  /**
   * A touch [bid, ask] as price strings, the bid a few ticks below the ask (a real book never crosses, and
   * the engine rejects a crossed quote before its store and detector, so crossed frames would skip work).
   */
  touch(base: string): [string, string];
}

/** ccxt.pro's frames for the information in our frames, on the channels ccxt itself subscribes to. */
export interface CcxtFrameSet {
  /** '' for the set the ratio is taken on; otherwise a suffix of extra result fields (`ratio_vs_ccxt_<label>`). */
  label: string;
  frames: string[];
  /** What these frames are and how they pair with ours (printed and written to the results). */
  note: string;
}

export interface VenueIngestBench {
  frames(ctx: IngestFrameContext): string[];
  /** ccxt.pro exchange class id whose `handleMessage` parses the same frames. */
  ccxtId: string;
  /**
   * Only where ccxt.pro gets some of the same information from other channels than ours (its handler has
   * nothing for ours): ccxt's frames carrying exactly the coin-updates of `ours` (same coins, prices, sizes,
   * rates), so both sides process the same information and the ratio is per coin-update, not per frame.
   * `symbols` = the native symbols of the bench's bases, in order (the universe order of positional frames).
   * `updates` = coin-updates in `ours` (one coin's touch, or one coin's funding/mark context, is one).
   * Without it, ccxt handles `ours` itself.
   */
  ccxtFrames?(ours: readonly string[], symbols: readonly string[]): { updates: number; sets: CcxtFrameSet[] };
}
