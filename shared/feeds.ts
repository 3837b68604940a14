import type { Exchange } from './exchanges.js';

export type FeedStatus = 'connecting' | 'live' | 'stale' | 'backoff' | 'stopped';

/** State of one venue's feed, for /api/feeds and the dashboard's system panel. */
export interface FeedState {
  exchange: Exchange;
  status: FeedStatus;
  /** Open sockets for this venue (a venue may need several). */
  connections: number;
  subscriptions: number;
  /** ms since the last message; null before the first. */
  lastMessageAgeMs: number | null;
  messages: number;
  messagesPerSec: number;
  /** Malformed or unknown messages dropped, by reason. */
  errors: Record<string, number>;
  reconnects: number;
  metadata: 'loading' | 'loaded' | 'failed';
  lastError: string | null;
  /** Configured instruments (venue-native symbols) this venue does not list: not subscribed, never guessed. */
  unlisted?: string[];
}
