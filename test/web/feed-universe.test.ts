import { describe, expect, it } from 'vitest';
import type { FeedState } from '../../shared/feeds.js';
import { skippedCount, universeCell, universeTitle } from '../../web/src/lib/feed-universe.js';

function feed(over: Partial<FeedState> = {}): FeedState {
  return { exchange: 'okx', status: 'live', connections: 2, subscriptions: 600, lastMessageAgeMs: 10, messages: 1, messagesPerSec: 1, errors: {}, reconnects: 0, metadata: 'loaded', lastError: null, downSinceMs: null, ...over };
}

describe('System panel: universe cell', () => {
  it('shows subscribed/listed and the skipped count; the metadata state before the first discovery', () => {
    const f = feed({ discovery: { listed: 412, subscribed: 300, skipped: { missing_symbol: 2, not_linear: 1 }, refreshedMs: Date.UTC(2026, 11, 1, 20, 0, 0), failures: 1 } });
    expect(skippedCount(f)).toBe(3);
    expect(universeCell(f)).toBe('300/412 +3 skipped');
    const title = universeTitle(f);
    expect(title).toContain('300 subscribed of 412 listed');
    expect(title).toContain('missing_symbol 2, not_linear 1');
    expect(title).toContain('1 failed refresh since');
    expect(universeCell(feed({ metadata: 'loading', discovery: { listed: 0, subscribed: 0, skipped: {}, refreshedMs: null, failures: 0 } }))).toBe('loading');
    expect(universeCell(feed({ metadata: 'failed' }))).toBe('failed'); // a producer without discovery (replay)
    expect(universeCell(feed({ discovery: { listed: 5, subscribed: 5, skipped: {}, refreshedMs: 1, failures: 0 } }))).toBe('5/5');
  });
});
