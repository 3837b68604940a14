/** Pure logic behind the readable dashboard: held display order, filter input and count, 24-hour ticks, ages, latency verdicts. */
import { describe, expect, it } from 'vitest';
import { ageSince, fmtClock, fmtTimeTicks } from '../../web/src/lib/format.js';
import { budgetVerdict, fmtLatency, latencyUnit } from '../../web/src/lib/latency.js';
import { feedLastMessageServerMs, StreamStore, type OpportunityRow } from '../../web/src/lib/stream-store.js';
import {
  COLUMNS,
  countLabel,
  DEFAULT_SORT,
  DisplayOrder,
  EMPTY_FILTER,
  FIXED_COLUMNS_PX,
  isFilterActive,
  MIN_INSTRUMENT_PX,
  NARROWEST_TABLE_PX,
  parseMinProfit,
  POINTER_IDLE_MS,
  pointerHolds,
  settledClosed,
  sortRows,
} from '../../web/src/lib/table.js';
import { closed, frame, opportunity, snapshot, stats } from './make.js';

const NOW = 1_700_000_000_000;

function row(name: string, profit: number, state: OpportunityRow['state'] = 'open'): OpportunityRow {
  const o = opportunity(`${name}-PERP`, 'okx', 'bybit', profit);
  return { id: o.id, opportunity: o, state, lastSeq: 1, changedMs: NOW, direction: 'none', closeReason: null, lifetimeMs: null, closingSinceMs: null };
}

const names = (rows: OpportunityRow[]) => rows.map((r) => r.opportunity.instrument.split('-')[0]);
const live = (...rows: OpportunityRow[]) => sortRows(rows, DEFAULT_SORT, EMPTY_FILTER, NOW);

describe('display order', () => {
  it('takes the live order at most once per interval', () => {
    const order = new DisplayOrder(1000);
    expect(names(order.next(live(row('A', 3), row('B', 2)), 0, false, 'k'))).toEqual(['A', 'B']);
    // B overtakes A 200 ms later: held until a second has passed since the last reorder.
    expect(names(order.next(live(row('A', 3), row('B', 5)), 200, false, 'k'))).toEqual(['A', 'B']);
    expect(names(order.next(live(row('A', 3), row('B', 5)), 999, false, 'k'))).toEqual(['A', 'B']);
    expect(names(order.next(live(row('A', 3), row('B', 5)), 1000, false, 'k'))).toEqual(['B', 'A']);
    // …and the next change again waits a second from that reorder.
    expect(names(order.next(live(row('A', 9), row('B', 5)), 1500, false, 'k'))).toEqual(['B', 'A']);
    expect(names(order.next(live(row('A', 9), row('B', 5)), 2000, false, 'k'))).toEqual(['A', 'B']);
  });

  it('shows fresh values in held slots', () => {
    const order = new DisplayOrder(1000);
    order.next(live(row('A', 3), row('B', 2)), 0, false, 'k');
    const shown = order.next(live(row('A', 3), row('B', 7)), 100, false, 'k');
    expect(shown.map((r) => r.opportunity.projectedProfitBps)).toEqual([3, 7]);
  });

  it('never reorders while held, however long; appends new rows at the bottom', () => {
    const order = new DisplayOrder(1000);
    order.next(live(row('A', 3), row('B', 2)), 0, false, 'k');
    expect(names(order.next(live(row('A', 1), row('B', 2), row('C', 9)), 5000, true, 'k'))).toEqual(['A', 'B', 'C']);
    expect(names(order.next(live(row('A', 1), row('B', 2), row('C', 9)), 60_000, true, 'k'))).toEqual(['A', 'B', 'C']);
    expect(names(order.next(live(row('A', 1), row('B', 2), row('C', 9)), 60_001, false, 'k'))).toEqual(['C', 'B', 'A']);
  });

  it('re-sorts at once when the reader changes the sort or filter', () => {
    const order = new DisplayOrder(1000);
    order.next(live(row('A', 3), row('B', 2)), 0, true, 'sort-1');
    expect(names(order.next(live(row('A', 3), row('B', 5)), 10, true, 'sort-2'))).toEqual(['B', 'A']);
  });

  it('keeps a closing row in its slot through reorders; it leaves only at a reorder after the store dropped it', () => {
    const order = new DisplayOrder(1000);
    order.next(live(row('A', 9), row('B', 5), row('C', 1)), 0, false, 'k');
    // B closes; C now beats A. At the reorder B stays in slot 2.
    expect(names(order.next(live(row('A', 2), row('B', 5, 'closing'), row('C', 8)), 1000, false, 'k'))).toEqual(['C', 'B', 'A']);
    // The store drops B between reorders: B stays as a faded ghost.
    const held = order.next(live(row('A', 2), row('C', 8)), 1500, false, 'k');
    expect(names(held)).toEqual(['C', 'B', 'A']);
    expect(held[1].state).toBe('closing');
    // Next reorder: B goes.
    expect(names(order.next(live(row('A', 2), row('C', 8)), 2000, false, 'k'))).toEqual(['C', 'A']);
  });
});

describe('pointer hold', () => {
  it('holds only while the pointer is inside and moved within the idle time', () => {
    expect(POINTER_IDLE_MS).toBe(3000);
    expect(pointerHolds(false, NOW, NOW)).toBe(false);
    expect(pointerHolds(true, NOW, NOW)).toBe(true);
    expect(pointerHolds(true, NOW, NOW + 2999)).toBe(true);
    expect(pointerHolds(true, NOW, NOW + 3000)).toBe(false);
    expect(pointerHolds(true, NOW, NOW + 600_000)).toBe(false);
  });

  it('a pointer resting on the table lets a closed row leave and the order move after the idle time', () => {
    const order = new DisplayOrder(1000);
    const enteredMs = 0; // pointer enters the rows and then rests there
    const held = (t: number) => pointerHolds(true, enteredMs, t);
    order.next(live(row('A', 9), row('B', 5), row('C', 1)), 0, held(0), 'k');
    // B closes and the store drops it; C overtakes A. While the pointer is fresh, nothing moves.
    const during = order.next(live(row('A', 2), row('C', 8)), 2500, held(2500), 'k');
    expect(names(during)).toEqual(['A', 'B', 'C']);
    expect(during[1].state).toBe('closing');
    // Three seconds without a move: the order is taken again, B is gone (to Recently Closed), C leads.
    expect(names(order.next(live(row('A', 2), row('C', 8)), 3000, held(3000), 'k'))).toEqual(['C', 'A']);
    // A new row joins in its sorted place, not at the bottom.
    expect(names(order.next(live(row('A', 2), row('C', 8), row('D', 5)), 4000, held(4000), 'k'))).toEqual(['C', 'D', 'A']);
  });

  it('a pointer that keeps moving keeps the order held', () => {
    const order = new DisplayOrder(1000);
    order.next(live(row('A', 3), row('B', 2)), 0, pointerHolds(true, 0, 0), 'k');
    let lastMoveMs = 0;
    for (let t = 500; t <= 20_000; t += 500) {
      if (t % 2000 === 0) lastMoveMs = t; // reading: the pointer moves every 2 s
      expect(names(order.next(live(row('A', 1), row('B', 9)), t, pointerHolds(true, lastMoveMs, t), 'k'))).toEqual(['A', 'B']);
    }
  });
});

describe('filter input and count', () => {
  it('accepts an empty box or a finite number; marks anything else', () => {
    expect(parseMinProfit('')).toEqual({ valid: true, value: null });
    expect(parseMinProfit('  12.5 ')).toEqual({ valid: true, value: 12.5 });
    expect(parseMinProfit('−3')).toEqual({ valid: true, value: -3 });
    expect(parseMinProfit('abc')).toEqual({ valid: false, value: null });
    expect(parseMinProfit('1e999')).toEqual({ valid: false, value: null });
    expect(parseMinProfit('12bps')).toEqual({ valid: false, value: null });
  });

  it('reads "x of N" under a filter, N from the server when it filters the stream', () => {
    expect(isFilterActive(EMPTY_FILTER)).toBe(false);
    expect(isFilterActive({ ...EMPTY_FILTER, exchange: 'okx' })).toBe(true);
    expect(countLabel(12, 12, null, false)).toBe('12');
    expect(countLabel(3, 12, null, true)).toBe('3 of 12');
    expect(countLabel(0, 0, 40, true)).toBe('0 of 40');
  });

  it('gives every column but the instrument a fixed width and a unit for every figure', () => {
    expect(COLUMNS.filter((c) => c.widthPx === null).map((c) => c.key)).toEqual(['instrument']);
    // Seventeen columns with two-line per-leg cells: at 1280 px the instrument column keeps its minimum.
    expect(FIXED_COLUMNS_PX).toBeLessThanOrEqual(NARROWEST_TABLE_PX - MIN_INSTRUMENT_PX);
    for (const c of COLUMNS.filter((c) => c.numeric)) expect(c.unit, c.key).not.toBe('');
  });
});

describe('24-hour times', () => {
  // 2026-12-01 15:04:05 local time: the afternoon shows whether a 12-hour clock slipped in.
  const afternoon = new Date(2026, 11, 1, 15, 4, 5).getTime();

  it('prints clock times with hours 00–23', () => {
    expect(fmtClock(afternoon)).toBe('15:04:05');
    expect(fmtClock(new Date(2026, 11, 1, 0, 5, 0).getTime())).toBe('00:05:00');
  });

  it('labels chart ticks 24-hour, with seconds only when ticks are seconds apart', () => {
    const s = afternoon / 1000;
    expect(fmtTimeTicks([s, s + 10], 10)).toEqual(['15:04:05', '15:04:15']);
    expect(fmtTimeTicks([s, s + 300], 300)).toEqual(['15:04', '15:09']);
    const hours = fmtTimeTicks([s, s + 3600 * 9], 3600 * 9);
    expect(hours[0]).toMatch(/^01 Dec 15:04$/);
    expect(hours[1]).toMatch(/^02 Dec 00:04$/);
  });
});

describe('ages on the server clock', () => {
  it('never goes negative', () => {
    expect(ageSince(1000, 1200)).toBe(0);
    expect(ageSince(1500, 1200)).toBe(300);
    expect(ageSince(1500, null)).toBe(null);
  });

  it("dates a feed's last message from the message that carried it, whatever the local clock says", () => {
    let local = NOW + 60_000; // the browser's clock runs a minute ahead of the server's
    const store = new StreamStore({ now: () => local });
    const feed = { exchange: 'okx' as const, status: 'live' as const, connections: 1, subscriptions: 3, lastMessageAgeMs: 250, messages: 10, messagesPerSec: 5, errors: {}, reconnects: 0, metadata: 'loaded' as const, lastError: null, downSinceMs: null };
    store.applyFrame(frame(1, snapshot(1, [], { tsMs: NOW, feeds: [feed], stats: stats({ tsMs: NOW }) })));
    const view = store.value.feeds[0];
    expect(feedLastMessageServerMs(view)).toBe(NOW - 250);
    local += 400;
    const serverNow = local - store.value.clockOffsetMs;
    expect(ageSince(serverNow, feedLastMessageServerMs(view))).toBe(650);
    expect(feedLastMessageServerMs({ ...view, feed: { ...feed, lastMessageAgeMs: null } })).toBe(null);
  });
});

describe('latency budget', () => {
  const sample = (p99Us: number, count = 100) => ({ p50Us: p99Us / 2, p99Us, count });

  it('says "no samples" for a stage that measured nothing, instead of judging its zeros', () => {
    expect(budgetVerdict('end_to_end', undefined)).toBe('no_samples');
    expect(budgetVerdict('end_to_end', { p50Us: 0, p99Us: 0, count: 0 })).toBe('no_samples');
    expect(budgetVerdict('bus_to_sent', { p50Us: 0, p99Us: 0, count: 0 })).toBe('no_samples');
  });

  it('shows p99 and its budget in the same unit', () => {
    expect(latencyUnit('end_to_end')).toBe('ms');
    expect(latencyUnit('receive_to_parsed')).toBe('µs');
    expect(fmtLatency(7000, 'ms')).toBe('7.00');
    expect(fmtLatency(5000, 'ms')).toBe('5.00');
    expect(fmtLatency(812, 'ms')).toBe('0.81');
    expect(fmtLatency(40, 'µs')).toBe('40');
    expect(budgetVerdict('end_to_end', sample(812))).toBe('ok');
  });
});

describe('store: closed rows', () => {
  it('keeps a closed row as closing for its hold, then drops it (the table then fades it out of its slot)', () => {
    let local = NOW;
    const store = new StreamStore({ now: () => local, closingHoldMs: 1500 });
    const a = opportunity('BTC-PERP', 'okx', 'bybit', 5);
    store.applyFrame(frame(1, snapshot(1, [a])));
    store.applyFrame(frame(2, closed(2, a, 'spread_below_min')));
    expect(store.value.rows.map((r) => r.state)).toEqual(['closing']);
    // While it fades in the table it is not yet in Recently Closed…
    expect(settledClosed(store.value.recentlyClosed, store.value.rows)).toEqual([]);
    local += 1500;
    store.tick(local);
    expect(store.value.rows).toEqual([]);
    // …then it is.
    expect(settledClosed(store.value.recentlyClosed, store.value.rows).map((c) => c.reason)).toEqual(['spread_below_min']);
  });
});

describe('recently closed while a row fades', () => {
  it('holds back only the newest closing of a fading id', () => {
    const o = opportunity('BTC-PERP', 'okx', 'bybit', 5);
    const other = opportunity('ETH-PERP', 'okx', 'bybit', 5);
    const list = [
      { opportunity: o, reason: 'spread_below_min' as const, lifetimeMs: 1, closedMs: 3 },
      { opportunity: other, reason: 'stale_quote' as const, lifetimeMs: 1, closedMs: 2 },
      { opportunity: o, reason: 'stale_quote' as const, lifetimeMs: 1, closedMs: 1 },
    ];
    const fading = { ...row('BTC', 5, 'closing'), id: o.id };
    expect(settledClosed(list, [fading]).map((c) => c.closedMs)).toEqual([2, 1]);
    expect(settledClosed(list, []).map((c) => c.closedMs)).toEqual([3, 2, 1]);
  });
});
