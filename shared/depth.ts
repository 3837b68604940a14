/** Order-book (depth) feed state per venue, for /api/depth, /metrics and the System panel (issue 14 §1). */
import Type, { type Static } from 'typebox';
import { EXCHANGES, type Exchange } from './exchanges.js';
import type { FeedStatus } from './feeds.js';
import type { SameShape } from './schemas.js';

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

const Count = (description: string) => Type.Integer({ minimum: 0, description });

export const DepthVenueStatusSchema = Type.Object(
  {
    exchange: Type.Enum(EXCHANGES),
    status: Type.Enum(['connecting', 'live', 'stale', 'backoff', 'stopped']),
    connections: Count('Open depth sockets'),
    symbols: Count('Venue symbols whose depth channel is subscribed'),
    books: Count('Books in sync now'),
    messages: Count('Depth frames received'),
    gaps: Count('Sequence gaps detected (each resyncs the book)'),
    checksumFailures: Count('Checksum mismatches (each resyncs the book)'),
    resyncs: Count('Books resynced for any reason (gaps, checksums, resets, crossed books, disconnects)'),
    restSnapshots: Count('REST snapshots fetched (diff-only venues)'),
    restSnapshotFailures: Count('REST snapshots that failed'),
    errors: Type.Record(Type.String(), Type.Integer(), { description: 'Malformed or unknown depth frames dropped, by reason' }),
  },
  { title: 'DepthVenueStatus', additionalProperties: false },
);

export const DepthStatusSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    levels: Count('Levels per side kept for scoring'),
    candidates: Count('Candidate instruments'),
    venues: Type.Array(DepthVenueStatusSchema),
  },
  { title: 'DepthStatus', additionalProperties: false },
);

// A compile error here: the type and its schema disagree; change both.
const schemaMatchesType: SameShape<Static<typeof DepthStatusSchema>, DepthStatus> = true;
void schemaMatchesType;
