import { describe, expect, it } from 'vitest';
import { StreamStore, type StreamView } from '../../web/src/lib/stream-store.js';
import { closed, frame, opened, opportunity, position, snapshot, updated } from './make.js';

function storeAt(start = 1_700_000_000_000) {
  let now = start;
  const store = new StreamStore({ now: () => now, closingHoldMs: 1500, historyPoints: 5 });
  return { store, advance: (ms: number) => (now += ms), now: () => now };
}

const idsOf = (v: StreamView) => v.rows.map((r) => r.id);

describe('StreamStore: snapshot and merge', () => {
  it('takes the snapshot, then merges opened/updated events by id', () => {
    const { store } = storeAt();
    const a = opportunity('BTC-PERP', 'okx', 'bybit', 5);
    const b = opportunity('ETH-PERP', 'binance', 'kucoin', 9);
    expect(store.applyFrame(frame(1, snapshot(10, [a])))).toEqual({ ok: true });
    expect(store.value.synced).toBe(true);
    expect(idsOf(store.value)).toEqual([a.id]);

    store.applyFrame(frame(2, opened(11, b), updated(12, { ...a, projectedProfitBps: 7, spreadBps: 29 })));
    const v = store.value;
    expect(v.rows).toHaveLength(2);
    const rowA = v.rows.find((r) => r.id === a.id)!;
    expect(rowA.opportunity.projectedProfitBps).toBe(7);
    expect(rowA.direction).toBe('up');
    expect(v.rows.find((r) => r.id === b.id)!.state).toBe('open');
    expect(v.lastSeq).toBe(12);

    store.applyFrame(frame(3, updated(13, { ...a, projectedProfitBps: 3, spreadBps: 25 })));
    expect(store.value.rows.find((r) => r.id === a.id)!.direction).toBe('down');
  });

  it('drops an opportunity event older than what the row already holds', () => {
    const { store } = storeAt();
    const a = opportunity('BTC-PERP', 'okx', 'bybit', 5);
    store.applyFrame(frame(1, snapshot(10, [])));
    store.applyFrame(frame(2, opened(20, a), updated(22, { ...a, projectedProfitBps: 8 })));
    store.applyFrame(frame(3, updated(21, { ...a, projectedProfitBps: 1 })));
    expect(store.value.rows[0].opportunity.projectedProfitBps).toBe(8);
    expect(store.value.counters.outOfOrder).toBe(1);
  });

  it('a resync snapshot replaces the rows', () => {
    const { store } = storeAt();
    const a = opportunity('BTC-PERP', 'okx', 'bybit', 5);
    const b = opportunity('SOL-PERP', 'okx', 'binance', 4);
    store.applyFrame(frame(1, snapshot(10, [a])));
    store.beginConnection();
    expect(store.value.synced).toBe(false);
    store.applyFrame(frame(1, snapshot(50, [b])));
    expect(idsOf(store.value)).toEqual([b.id]);
    expect(store.value.counters.snapshots).toBe(2);
  });
});

describe('StreamStore: closed lifecycle', () => {
  it('marks a closed row as closing, lists it with reason and lifetime, then removes it after the hold', () => {
    const { store, advance, now } = storeAt();
    const a = opportunity('BTC-PERP', 'okx', 'bybit', 5);
    store.applyFrame(frame(1, snapshot(1, [a])));
    store.applyFrame(frame(2, closed(2, { ...a, updatedMs: a.updatedMs + 4000 }, 'stale_quote', 4000)));

    let v = store.value;
    expect(v.rows[0].state).toBe('closing');
    expect(v.rows[0].closeReason).toBe('stale_quote');
    expect(v.recentlyClosed[0]).toMatchObject({ reason: 'stale_quote', lifetimeMs: 4000 });
    expect(v.recentlyClosed[0].opportunity.id).toBe(a.id);

    advance(1000);
    store.tick(now());
    expect(store.value.rows).toHaveLength(1);
    advance(600);
    store.tick(now());
    v = store.value;
    expect(v.rows).toHaveLength(0);
    expect(v.recentlyClosed).toHaveLength(1);
  });

  it('an opportunity that reopens while closing is open again', () => {
    const { store } = storeAt();
    const a = opportunity('BTC-PERP', 'okx', 'bybit', 5);
    store.applyFrame(frame(1, snapshot(1, [a])));
    store.applyFrame(frame(2, closed(2, a)));
    store.applyFrame(frame(3, opened(3, { ...a, projectedProfitBps: 6 })));
    expect(store.value.rows[0]).toMatchObject({ state: 'open', closeReason: null });
  });

  it('keeps far more than the seed’s 10 recently closed, newest first', () => {
    const { store } = storeAt();
    store.applyFrame(frame(1, snapshot(1, [])));
    for (let i = 0; i < 260; i++) {
      const o = opportunity(`C${i}-PERP`, 'okx', 'bybit', 3, { updatedMs: 1_700_000_000_000 + i });
      store.applyFrame(frame(2 + i * 2, opened(10 + i * 2, o)));
      store.applyFrame(frame(3 + i * 2, closed(11 + i * 2, o)));
    }
    const list = store.value.recentlyClosed;
    expect(list.length).toBe(260);
    expect(list[0].opportunity.instrument).toBe('C259-PERP');
    expect(list[259].opportunity.instrument).toBe('C0-PERP');
  });
});

describe('StreamStore: frame sequence', () => {
  it('reports a gap in frame numbers and applies nothing from that frame', () => {
    const { store } = storeAt();
    const a = opportunity('BTC-PERP', 'okx', 'bybit', 5);
    store.applyFrame(frame(1, snapshot(1, [])));
    const r = store.applyFrame(frame(3, opened(5, a)));
    expect(r).toMatchObject({ ok: false, reason: 'gap' });
    expect(store.value.rows).toHaveLength(0);
    expect(store.value.counters.gaps).toBe(1);
  });

  it('requires the first frame of a connection to hold a snapshot', () => {
    const { store } = storeAt();
    const r = store.applyFrame(frame(1, opened(5, opportunity('BTC-PERP', 'okx', 'bybit', 5))));
    expect(r).toMatchObject({ ok: false, reason: 'no_snapshot' });
  });

  it('asks for a resync when the server says this client missed events', () => {
    const { store } = storeAt();
    store.applyFrame(frame(1, snapshot(1, [])));
    const r = store.applyFrame(frame(2, { type: 'missed', seq: 9, tsMs: 1, count: 42 }));
    expect(r).toMatchObject({ ok: false, reason: 'missed' });
  });

  it('counts malformed frames and messages without throwing', () => {
    const { store } = storeAt();
    expect(store.applyFrame(null)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(store.applyFrame({ frame: 'x' })).toMatchObject({ ok: false, reason: 'malformed' });
    store.applyFrame(frame(1, snapshot(1, [])));
    const bad = { frame: 2, messages: [42, { type: 'opportunity', seq: 3, tsMs: 1, event: 'updated' }, { type: 'brand_new', seq: 4, tsMs: 1 }] };
    expect(store.applyFrame(bad)).toEqual({ ok: true });
    const c = store.value.counters;
    expect(c.malformed).toBe(4); // null frame, bad frame, the number, the opportunity without a body
    expect(c.unknownTypes).toBe(1);
    expect(store.applyFrame(frame(3, opened(5, opportunity('BTC-PERP', 'okx', 'bybit', 5))))).toEqual({ ok: true });
  });
});

describe('StreamStore: positions, portfolio, feeds, history', () => {
  it('moves a closed position from the open list to closed trades', () => {
    const { store } = storeAt();
    store.applyFrame(frame(1, snapshot(1, [], { positions: [position('p1')] })));
    store.applyFrame(frame(2, { type: 'position', seq: 2, tsMs: 1, event: 'opened', position: position('p2') }));
    expect(store.value.positions.map((p) => p.id).sort()).toEqual(['p1', 'p2']);
    store.applyFrame(frame(3, { type: 'position', seq: 3, tsMs: 1, event: 'closed', position: position('p1', 'closed') }));
    expect(store.value.positions.map((p) => p.id)).toEqual(['p2']);
    expect(store.value.closedPositions.map((p) => p.id)).toEqual(['p1']);
  });

  it('follows trading state, feed state, stats and config version', () => {
    const { store } = storeAt();
    store.applyFrame(frame(1, snapshot(1, [])));
    store.applyFrame(
      frame(
        2,
        { type: 'trading_state', seq: 2, tsMs: 1, state: 'halted', reason: 'kill switch' },
        {
          type: 'feed',
          seq: 3,
          tsMs: 1,
          feed: { exchange: 'okx', status: 'backoff', connections: 0, subscriptions: 0, lastMessageAgeMs: 900, messages: 10, messagesPerSec: 0, errors: {}, reconnects: 2, metadata: 'loaded', lastError: { code: 'CLOSED', message: 'closed by venue (1006)', atMs: 1_000 }, downSinceMs: 1_000 },
        },
        { type: 'config', seq: 4, tsMs: 1, version: 7 },
      ),
    );
    const v = store.value;
    expect(v.tradingState).toBe('halted');
    expect(v.tradingStateReason).toBe('kill switch');
    expect(v.feeds.map((f) => [f.feed.exchange, f.feed.status])).toEqual([['okx', 'backoff']]);
    expect(v.configVersion).toBe(7);
  });

  it('refreshes feed states polled over REST, with the time they were received', () => {
    const { store, advance, now } = storeAt();
    store.applyFrame(frame(1, snapshot(1, [])));
    advance(5000);
    store.updateFeeds([{ exchange: 'bybit', status: 'live', connections: 1, subscriptions: 5, lastMessageAgeMs: 12, messages: 900, messagesPerSec: 50, errors: {}, reconnects: 0, metadata: 'loaded', lastError: null, downSinceMs: null }]);
    expect(store.value.feeds).toEqual([{ feed: expect.objectContaining({ exchange: 'bybit', lastMessageAgeMs: 12 }), receivedMs: now(), asOfServerMs: now() - store.value.clockOffsetMs }]);
  });

  it('keeps a bounded spread/profit history per opportunity for the chart', () => {
    const { store } = storeAt();
    const a = opportunity('BTC-PERP', 'okx', 'bybit', 5);
    store.applyFrame(frame(1, snapshot(1, [a])));
    for (let i = 1; i <= 8; i++) store.applyFrame(frame(1 + i, updated(1 + i, { ...a, updatedMs: a.updatedMs + i * 100, projectedProfitBps: 5 + i, spreadBps: 27 + i })));
    const h = store.history(a.id)!;
    expect(h.t).toHaveLength(5); // historyPoints
    expect(h.profitBps.at(-1)).toBe(13);
    expect(h.spreadBps.at(-1)).toBe(35);
    expect(h.t.at(-1)).toBeCloseTo((a.updatedMs + 800) / 1000, 6);
    expect([...h.t].sort((x, y) => x - y)).toEqual(h.t);
  });

  it('estimates the server clock offset from message timestamps', () => {
    const { store } = storeAt(1_700_000_000_250);
    store.applyFrame(frame(1, snapshot(1, [], { tsMs: 1_700_000_000_000 })));
    expect(store.value.clockOffsetMs).toBe(250);
  });

  it('batches notifications through the scheduler it was given', () => {
    const queue: (() => void)[] = [];
    const store = new StreamStore({ schedule: (fn) => queue.push(fn) });
    const seen: number[] = [];
    store.subscribe((v) => seen.push(v.rows.length));
    store.applyFrame(frame(1, snapshot(1, [opportunity('BTC-PERP', 'okx', 'bybit', 5)])));
    store.applyFrame(frame(2, opened(2, opportunity('ETH-PERP', 'okx', 'bybit', 5))));
    expect(queue).toHaveLength(1);
    queue.shift()!();
    expect(seen).toEqual([0, 2]);
  });
});
