/** Source events → transitions: feed states (start-up is not "up"), broken positions, trading state. */
import { describe, expect, it } from 'vitest';
import type { FeedState } from '../../shared/feeds.js';
import type { Position } from '../../shared/position.js';
import { FeedTransitions, fromStrategyEvent } from '../../server/alerts/events.js';
import { AlertDeduper, ruleMatches } from '../../server/alerts/rules.js';
import type { AlertRule } from '../../shared/alerts.js';

const feed = (status: FeedState['status'], exchange = 'okx'): FeedState =>
  ({ exchange, status, connections: 1, subscriptions: 1, lastMessageAgeMs: 0, messages: 0, messagesPerSec: 0, errors: {}, reconnects: 0, metadata: 'loaded', lastError: null, downSinceMs: null }) as FeedState;

const rule = (over: Partial<AlertRule> = {}): AlertRule => ({ id: 'r', name: '', enabled: true, events: ['position_opened', 'position_broken', 'position_closed', 'trading_state', 'feed_down', 'feed_up'], minAprPct: null, minProfitBps: null, instruments: [], venues: [], allowCrossQuote: false, cooldownMs: 0, sinks: [], ...over });

describe('feed transitions', () => {
  it('start-up connecting → live is not news; live → down → live are one down and one up', () => {
    const t = new FeedTransitions();
    const kinds = (['connecting', 'connecting', 'live', 'live', 'backoff', 'stale', 'connecting', 'live', 'live'] as const).map((s) => t.next(feed(s), 0)?.kind ?? null);
    expect(kinds).toEqual([null, null, null, null, 'feed_down', null, null, 'feed_up', null]);
    // A removed venue is forgotten.
    expect(t.next({ ...feed('stopped'), removed: true }, 0)).toBeNull();
    expect(t.next(feed('live'), 0)).toBeNull();
  });
});

describe('strategy transitions', () => {
  it('a broken position alerts once however often it is updated; venues filter on both legs', () => {
    const p = { id: 'p1', instrument: 'BTC-PERP', state: 'broken', long: { exchange: 'bybit' }, short: { exchange: 'okx' }, notionalUsd: 1000, realisedPnlUsd: 0, exitReason: null, action: 'unwinding' } as unknown as Position;
    const gate = new AlertDeduper();
    const r = rule();
    let fired = 0;
    for (let i = 0; i < 5; i++) {
      const e = fromStrategyEvent({ kind: 'position_updated', tsMs: i, position: p })!;
      expect(e.kind).toBe('position_broken');
      if (ruleMatches(r, e) && gate.decide(r, e) === 'fire') fired++;
    }
    expect(fired).toBe(1);
    expect(fromStrategyEvent({ kind: 'position_updated', tsMs: 0, position: { ...p, state: 'open' } })).toBeNull();
    const e = fromStrategyEvent({ kind: 'position_opened', tsMs: 0, position: p })!;
    expect(ruleMatches(rule({ venues: ['bybit', 'okx'] }), e)).toBe(true);
    expect(ruleMatches(rule({ venues: ['bybit'] }), e)).toBe(false);
    expect(ruleMatches(rule({ instruments: ['ETH-PERP'] }), e)).toBe(false);
    expect(ruleMatches(rule({ events: ['position_closed'] }), e)).toBe(false);
  });
});
