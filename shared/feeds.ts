import type { Exchange } from './exchanges.js';

export type FeedStatus = 'connecting' | 'live' | 'stale' | 'backoff' | 'stopped';

/** Why a feed last failed. */
export interface FeedError {
  /**
   * The cause, machine-readable: an OS error code (`ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, …), `HTTP <status>`
   * for a refused handshake or REST call, or perpscan's own reason (`CLOSED`, `SILENT`, `NOT_LISTED`,
   * `NO_ENDPOINTS`, `ERROR`).
   */
  code: string;
  /** Human-readable, naming the step that failed (e.g. `metadata: connect ECONNREFUSED 127.0.0.1:9`). */
  message: string;
  atMs: number;
}

/** What the venue's instruments endpoint listed at the last good discovery, and what of it is subscribed. */
export interface FeedDiscovery {
  /** Linear perpetuals listed with status trading. */
  listed: number;
  /** Venue symbols subscribed (in the scanned universe). */
  subscribed: number;
  /** Entries of the venue's response skipped, by reason (malformed, not a linear perpetual, …). */
  skipped: Record<string, number>;
  /** When the last good discovery arrived (epoch ms); null before the first. */
  refreshedMs: number | null;
  /** Failed discoveries since the last good one (the last good table is kept meanwhile). */
  failures: number;
}

/** State of one venue's feed, for /api/feeds, the /ws stream and the dashboard. */
export interface FeedState {
  exchange: Exchange;
  /** `live` only when every socket of the venue is live (has delivered data since it last (re)subscribed). */
  status: FeedStatus;
  /** Open sockets for this venue (a venue may need several). */
  connections: number;
  subscriptions: number;
  /** ms since the last message; null before the first. */
  lastMessageAgeMs: number | null;
  /** Messages received since the venue was enabled (never decreases while it stays enabled). */
  messages: number;
  /** Messages per second over the last second or so (never negative). */
  messagesPerSec: number;
  /** Malformed or unknown messages dropped, by reason. */
  errors: Record<string, number>;
  reconnects: number;
  metadata: 'loading' | 'loaded' | 'failed';
  /** The most recent failure (kept after recovery, for the record); null when none yet. */
  lastError: FeedError | null;
  /** Since when the venue is not live (epoch ms); null while live. Set from the start until the first data. */
  downSinceMs: number | null;
  /** Configured instrument keys (an explicit market.instruments list) this venue does not list: not subscribed, never guessed. */
  unlisted?: string[];
  /** The venue's instrument discovery (issue 11 §2); absent where feeds do not discover (replay). */
  discovery?: FeedDiscovery;
  /** The venue was removed from the config: this is its last state, forget it. */
  removed?: true;
}

/** A feed is live when its status says so (and it was not removed from the config). */
export function isFeedLive(feed: FeedState): boolean {
  return feed.status === 'live' && feed.removed !== true;
}
