/** The dashboard's reading of feed states: header level and label, down venues, and the store forgetting removed venues. */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { FeedState } from '../../shared/feeds.js';
import { downLegs, feedActivity, feedHealth } from '../../web/src/lib/feed-health.js';
import { StreamStore } from '../../web/src/lib/stream-store.js';
import { frame, snapshot } from './make.js';

function feed(exchange: Exchange, over: Partial<FeedState> = {}): FeedState {
  const live = (over.status ?? 'live') === 'live';
  return {
    exchange,
    status: 'live',
    connections: live ? 1 : 0,
    subscriptions: live ? 5 : 0,
    lastMessageAgeMs: live ? 10 : null,
    messages: live ? 100 : 0,
    messagesPerSec: live ? 20 : 0,
    errors: {},
    reconnects: 0,
    metadata: 'loaded',
    lastError: live ? null : { code: 'ECONNREFUSED', message: 'socket: connect ECONNREFUSED 127.0.0.1:9', atMs: 1_000 },
    downSinceMs: live ? null : 1_000,
    ...over,
  };
}

describe('feedHealth', () => {
  it('LIVE only when every configured venue is live', () => {
    const h = feedHealth([feed('okx'), feed('bybit')]);
    expect(h).toMatchObject({ level: 'live', label: 'LIVE', down: [] });
    expect(h.downVenues.size).toBe(0);
  });

  it('DEGRADED names the venues down; DOWN when none is live; a removed venue does not count', () => {
    const degraded = feedHealth([feed('okx', { status: 'backoff' }), feed('bybit'), feed('kucoin', { status: 'connecting', metadata: 'loading' }), feed('binance', { status: 'stopped', removed: true })]);
    expect(degraded.level).toBe('degraded');
    expect(degraded.label).toBe('DEGRADED · KuCoin, OKX down');
    expect([...degraded.downVenues].sort()).toEqual(['kucoin', 'okx']);
    expect(degraded.feeds.map((f) => f.exchange)).toEqual(['bybit', 'kucoin', 'okx']);

    // Beyond two venues down the label counts them (the pill must fit a phone); the banner names each.
    const many = feedHealth([feed('okx', { status: 'backoff' }), feed('bybit'), feed('kucoin', { status: 'stale' }), feed('binance', { status: 'connecting' })]);
    expect(many.label).toBe('DEGRADED · 3 of 4 venues down');
    expect([...many.downVenues].sort()).toEqual(['binance', 'kucoin', 'okx']);

    const down = feedHealth([feed('okx', { status: 'backoff' }), feed('bybit', { status: 'stale' })]);
    expect(down).toMatchObject({ level: 'down', label: 'DOWN' });
    expect(feedHealth([])).toMatchObject({ level: 'none', label: 'NO FEEDS' });
  });

  it('stale and connecting are not live (a venue whose second socket is not up yet is connecting)', () => {
    for (const status of ['stale', 'connecting', 'backoff', 'stopped'] as const) expect(feedHealth([feed('okx', { status })]).level).toBe('down');
  });

  it('downLegs lists the legs on a down venue once, in order', () => {
    const down = new Set<Exchange>(['okx', 'kucoin']);
    expect(downLegs(['bybit', 'okx'], down)).toEqual(['okx']);
    expect(downLegs(['kucoin', 'okx'], down)).toEqual(['kucoin', 'okx']);
    expect(downLegs(['bybit', 'binance'], down)).toEqual([]);
  });

  it('says what a down feed is doing', () => {
    expect(feedActivity(feed('okx', { status: 'backoff', metadata: 'failed' }))).toMatch(/retrying/);
    expect(feedActivity(feed('okx', { status: 'backoff' }))).toBe('reconnecting');
    expect(feedActivity(feed('okx', { status: 'stale' }))).toMatch(/silent/);
  });
});

describe('StreamStore feed states', () => {
  it('forgets a venue the stream reports as removed, and one the REST list no longer has', () => {
    const store = new StreamStore({ now: () => 5_000 });
    store.applyFrame(frame(1, snapshot(1, [], { feeds: [feed('okx'), feed('bybit', { status: 'backoff' })] })));
    expect(feedHealth(store.value.feeds.map((f) => f.feed)).level).toBe('degraded');
    store.applyFrame(frame(2, { type: 'feed', seq: 2, tsMs: 2, feed: feed('bybit', { status: 'stopped', removed: true }) }));
    expect(store.value.feeds.map((f) => f.feed.exchange)).toEqual(['okx']);
    expect(feedHealth(store.value.feeds.map((f) => f.feed)).level).toBe('live');

    store.applyFrame(frame(3, { type: 'feed', seq: 3, tsMs: 3, feed: feed('kucoin', { status: 'connecting' }) }));
    store.updateFeeds([feed('okx')]);
    expect(store.value.feeds.map((f) => f.feed.exchange)).toEqual(['okx']);
  });
});
