/**
 * What the dashboard says about the venues' feeds, from the FeedStates the stream carries: LIVE only when
 * every configured venue is live, DEGRADED naming the venues down, DOWN when none is. No I/O, no framework.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { type FeedState, isFeedLive } from '../../../shared/feeds.js';
import { exName } from './format.js';

export type FeedHealthLevel = 'live' | 'degraded' | 'down' | 'none';

export interface FeedHealth {
  level: FeedHealthLevel;
  /** Configured venues (removed ones left out), by name. */
  feeds: FeedState[];
  /** The venues not live, by name. */
  down: FeedState[];
  downVenues: ReadonlySet<Exchange>;
  /** Header text: `LIVE`, `DEGRADED · <venue names> down` (`DEGRADED · <n> of <m> venues down` beyond two), `DOWN`, `NO FEEDS`. */
  label: string;
}

/** Venues named in the DEGRADED label; more are counted. */
const MAX_NAMED_DOWN = 2;

export function feedHealth(all: readonly FeedState[]): FeedHealth {
  const feeds = all.filter((f) => f.removed !== true).sort((a, b) => a.exchange.localeCompare(b.exchange));
  const down = feeds.filter((f) => !isFeedLive(f));
  const downVenues = new Set(down.map((f) => f.exchange));
  if (feeds.length === 0) return { level: 'none', feeds, down, downVenues, label: 'NO FEEDS' };
  if (down.length === 0) return { level: 'live', feeds, down, downVenues, label: 'LIVE' };
  if (down.length === feeds.length) return { level: 'down', feeds, down, downVenues, label: 'DOWN' };
  // Beyond two names the header pill would not fit a phone's width; the banner below names every venue.
  const which = down.length <= MAX_NAMED_DOWN ? down.map((f) => exName(f.exchange)).join(', ') : `${down.length} of ${feeds.length} venues`;
  return { level: 'degraded', feeds, down, downVenues, label: `DEGRADED · ${which} down` };
}

/** The exchanges of `legs` whose feed is down (in the order given, no repeats). */
export function downLegs(legs: readonly Exchange[], downVenues: ReadonlySet<Exchange>): Exchange[] {
  return legs.filter((ex, i) => downVenues.has(ex) && legs.indexOf(ex) === i);
}

/** What the feed is doing about it, in a few words. */
export function feedActivity(feed: FeedState): string {
  switch (feed.status) {
    case 'backoff':
      return feed.metadata === 'failed' ? 'retrying the venue’s REST metadata' : 'reconnecting';
    case 'connecting':
      return feed.metadata === 'loading' ? 'loading metadata' : 'connecting';
    case 'stale':
      return 'silent, reconnecting';
    case 'stopped':
      return 'stopped';
    default:
      return 'live';
  }
}
