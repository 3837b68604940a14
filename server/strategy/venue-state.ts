/**
 * Whether a leg's venue can be judged. A venue is `live` (its feed is connected), `waiting` (its feed
 * has not been live since this process started: a restart, a venue still connecting) or `down` (it was
 * live and lost its feed, or it is disabled). Only `down` is a feed down for the exit rules: a position
 * restored after a restart sees no quote until the feeds are up, and that is not a reason to close it.
 */
import type { Exchange } from '../../shared/exchanges.js';
import { isFeedLive, type FeedState } from '../../shared/feeds.js';

export type VenueFeedState = 'live' | 'waiting' | 'down';
export type VenueFeedView = (exchange: Exchange) => VenueFeedState;

/**
 * Without feed information (tests, replays driving the engine directly): a venue is down only when the
 * engine was told so (its feed dropped, or it is disabled), else live.
 */
export function venueViewFromEngine(isExchangeDown: ((exchange: Exchange) => boolean) | undefined): VenueFeedView {
  return (exchange) => (isExchangeDown?.(exchange) ? 'down' : 'live');
}

/**
 * From the feed manager's states: `live` when every socket of the venue is live; otherwise `down` once
 * the venue has been live since start, `waiting` before (also while its metadata fails at start). A
 * venue the feeds do not run (not configured) is down.
 */
export function venueViewFromFeeds(states: () => readonly FeedState[], isExchangeDown: (exchange: Exchange) => boolean): VenueFeedView {
  const seenLive = new Set<Exchange>();
  return (exchange) => {
    const state = states().find((s) => s.exchange === exchange);
    if (!state) return 'down';
    if (isFeedLive(state) && !isExchangeDown(exchange)) {
      seenLive.add(exchange);
      return 'live';
    }
    return seenLive.has(exchange) ? 'down' : 'waiting';
  };
}
