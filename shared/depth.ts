/** Order-book (depth) feed state per venue, for /api/depth, /metrics and the System panel (issue 14 §1). */
import type { Exchange } from './exchanges.js';
import type { FeedStatus } from './feeds.js';

export interface DepthVenueStatus {
  exchange: Exchange;
  /** `live` when every depth socket has delivered data; `stopped` when the venue has no candidates (or no depth channel). */
  status: FeedStatus;
  connections: number;
  /** Venue symbols whose depth channel is subscribed (candidates listed by the venue). */
  symbols: number;
  /** Books in sync now (handed to the engine). */
  books: number;
  /** Depth frames received (never reset). */
  messages: number;
  /** Sequence gaps detected (each one resyncs the book). */
  gaps: number;
  /** Checksum mismatches (each one resyncs the book). */
  checksumFailures: number;
  /** Books resynced for any reason: gaps, checksum mismatches, venue resets, crossed books, disconnects. */
  resyncs: number;
  /** REST snapshots fetched (venues whose stream carries only diffs), and those that failed. */
  restSnapshots: number;
  restSnapshotFailures: number;
  /** Malformed or unknown depth frames dropped, by reason. */
  errors: Record<string, number>;
}

export interface DepthStatus {
  enabled: boolean;
  /** Levels per side kept for scoring (config depth.levels). */
  levels: number;
  /** Candidate instruments (open opportunity or close to the entry threshold, capped). */
  candidates: number;
  /** Venues with a depth channel. */
  venues: DepthVenueStatus[];
}
