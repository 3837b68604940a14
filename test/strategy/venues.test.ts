/**
 * Feed down means the venue's feed is down — not "no quote since start". A restart must not close the
 * positions it restores: exit rules wait for the legs' venues to go live (bounded, then a warning), and
 * restored marks are flagged stale until usable quotes re-mark them. Also: `broken` carries the action.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { StrategyRunner } from '../../server/strategy/runner.js';
import type { FeedState } from '../../shared/feeds.js';
import { venueViewFromFeeds, type VenueFeedState } from '../../server/strategy/venue-state.js';
import { Harness, VenueRejectingExecutor, paperFor, testConfig } from './harness.js';

/** A harness with one open position (long okx / short bybit), persisted in `store`. */
function openedIn(store: MemoryPersistence, patch: unknown = {}): Harness {
  const h = new Harness({ persistence: store, config: testConfig(patch) });
  h.openStandard();
  h.advance(1000);
  expect(h.only()).toMatchObject({ state: 'open', markStale: false });
  return h;
}

/** "Process restart": a fresh engine (no quotes at all) and a runner restored from `store`. */
async function restarted(store: MemoryPersistence, t: number, venues?: (ex: Exchange) => VenueFeedState, patch: unknown = {}): Promise<Harness> {
  const h = new Harness({ persistence: store, config: testConfig(patch) });
  h.t = t;
  h.runner = new StrategyRunner({ engine: h.engine, config: h.config, persistence: store, now: h.now, venues, venueWaitMs: 30_000 });
  await h.runner.restore();
  return h;
}

describe('feed down is a connection state, not a missing quote', () => {
  it('a restored position with no quote yet stays open with its book intact (engine view: venues not reported down)', async () => {
    const store = new MemoryPersistence();
    const a = openedIn(store, { exits: { onFeedDown: 'close' } });
    const before = a.only();
    const b = await restarted(store, a.t, undefined, { exits: { onFeedDown: 'close' } });
    expect(b.only().markStale).toBe(true);
    for (let i = 0; i < 150; i++) b.advance(100); // 15 s of passes, no market data at all
    const after = b.only();
    expect(after.state).toBe('open');
    expect(after.markStale).toBe(true); // PnL at marks from before the stop is not current
    expect(b.runner.portfolio().staleMarkPositions).toBe(1);
    expect(after.transitions).toEqual(before.transitions);
    for (const leg of ['long', 'short'] as const) {
      expect(after[leg]).toMatchObject({ quantity: before[leg].quantity, entryPrice: before[leg].entryPrice, feesUsd: before[leg].feesUsd, fundingUsd: before[leg].fundingUsd });
    }
    expect(b.runner.fills()).toEqual(a.runner.fills());
  });

  it('waits for venues that have not been live since start; once live and quoted, the rules run on fresh marks', async () => {
    const store = new MemoryPersistence();
    const a = openedIn(store, { exits: { onFeedDown: 'close', takeProfitUsd: 2 } });
    const state: Record<string, VenueFeedState> = { okx: 'waiting', bybit: 'waiting' };
    const b = await restarted(store, a.t, (ex) => state[ex] ?? 'down', { exits: { onFeedDown: 'close', takeProfitUsd: 2 } });
    b.step();
    expect(b.only()).toMatchObject({ state: 'open', markStale: true, warning: null });
    expect(b.only().action).toBe('exit rules wait for the okx and bybit feed to go live (at most 30 s after start)');
    state.okx = 'live';
    b.quote('okx', 100.41, 100.5); // would take profit (long +4.1 − 1.0 − fees) — but bybit still waits
    b.step();
    expect(b.only()).toMatchObject({ state: 'open', action: 'exit rules wait for the bybit feed to go live (at most 30 s after start)' });
    state.bybit = 'live';
    b.quote('bybit', 100.5, 100.6);
    b.step();
    expect(b.only()).toMatchObject({ state: 'closed', exitReason: 'take_profit', markStale: false });
  });

  it('a venue still not live after the bound counts as down: feed_down with a visible warning', async () => {
    const store = new MemoryPersistence();
    const a = openedIn(store, { exits: { onFeedDown: 'hold' } });
    const b = await restarted(store, a.t, (ex) => (ex === 'bybit' ? 'waiting' : 'live'), { exits: { onFeedDown: 'hold' } });
    b.quote('okx', 99.9, 100.0);
    b.advance(29_000);
    expect(b.only().action).toMatch(/wait for the bybit feed/);
    b.advance(1_000);
    const p = b.only();
    expect(p).toMatchObject({ state: 'open', action: null, warning: 'bybit feed not live 30 s after start: counted as down' });
    // onFeedDown: close would now close it with feed_down
    b.setConfig({ exits: { onFeedDown: 'close' } });
    b.advance(100);
    expect(b.only()).toMatchObject({ state: 'closing', exitReason: 'feed_down' });
  });

  it('a live venue with a stale quote holds the position (no feed_down, no price rule on stale marks)', () => {
    const h = new Harness({ config: testConfig({ exits: { onFeedDown: 'close', maxHoldingMs: 1000 } }) });
    h.openStandard();
    h.advance(6000, { refresh: false }); // quotes older than staleAfterMs (5 s), feeds not reported down
    expect(h.only()).toMatchObject({ state: 'open', markStale: true });
    h.advance(100); // fresh quotes again: max holding time fires on fresh marks
    expect(h.only()).toMatchObject({ state: 'closed', exitReason: 'max_holding_time' });
  });

  it('a venue whose feed drops is feed down (onFeedDown: close)', () => {
    const h = new Harness({ config: testConfig({ exits: { onFeedDown: 'close' } }) });
    h.openStandard();
    h.engine.setExchangeDown('okx', true);
    h.advance(100);
    expect(h.only()).toMatchObject({ state: 'closing', exitReason: 'feed_down', markStale: true });
  });
});

describe('broken: a naked leg, still a live position, with the action being taken', () => {
  it('stays live and open-counted, says what it is doing, and clears that when flat', () => {
    let refuseUnwind = true;
    const h = new Harness({
      executor: (x) => new VenueRejectingExecutor(paperFor(x), (o) => o.exchange === 'bybit' || (o.purpose === 'unwind' && refuseUnwind)),
    });
    h.openStandard();
    let p = h.only();
    expect(p.state).toBe('broken');
    // STD_QTY = 1000 / 100.50 = 9.9502488 BTC (8 significant digits in the text)
    expect(p.action).toBe('unwinding naked long leg (9.9502488 on okx): retrying every step');
    expect(p.warning).toMatch(/^naked long leg \(9\.9502488 on okx\): long leg unwind venue_rejected/);
    expect(h.runner.portfolio().openPositions).toBe(1);
    const emitted = h.seen.filter((e) => e.kind === 'position_updated' && e.position.state === 'broken');
    expect(emitted.length).toBeGreaterThan(0);
    expect(emitted.every((e) => e.kind === 'position_updated' && typeof e.position.action === 'string')).toBe(true);
    refuseUnwind = false;
    h.advance(100);
    p = h.only();
    expect(p).toMatchObject({ state: 'closed', action: null, warning: null });
  });
});

describe('venue states from the feed manager', () => {
  const state = (exchange: Exchange, status: FeedState['status']): FeedState => ({
    exchange,
    status,
    connections: status === 'live' ? 1 : 0,
    subscriptions: 0,
    lastMessageAgeMs: null,
    messages: 0,
    messagesPerSec: 0,
    errors: {},
    reconnects: 0,
    metadata: 'loaded',
    lastError: null,
    downSinceMs: null,
  });

  it('waiting until first live, live while every socket is, down once lost (and when not run or disabled)', () => {
    let feeds: FeedState[] = [state('okx', 'connecting'), state('bybit', 'backoff')];
    const disabled = new Set<Exchange>();
    const view = venueViewFromFeeds(() => feeds, (ex) => disabled.has(ex));
    expect([view('okx'), view('bybit'), view('kucoin')]).toEqual(['waiting', 'waiting', 'down']);
    feeds = [state('okx', 'live'), state('bybit', 'stale')];
    expect([view('okx'), view('bybit')]).toEqual(['live', 'waiting']);
    feeds = [state('okx', 'backoff'), state('bybit', 'live')];
    expect([view('okx'), view('bybit')]).toEqual(['down', 'live']);
    feeds = [state('okx', 'connecting'), state('bybit', 'live')];
    disabled.add('bybit');
    expect([view('okx'), view('bybit')]).toEqual(['down', 'down']);
  });
});
