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
}

export interface VenueIngestBench {
  frames(ctx: IngestFrameContext): string[];
  /** ccxt.pro exchange class id whose `handleMessage` parses the same frames. */
  ccxtId: string;
}
