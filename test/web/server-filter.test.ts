/** The browser filter → `/ws` subscribe filter mapping, and the store taking the server's filtered snapshot. */
import { describe, expect, it } from 'vitest';
import { sameStreamFilter, toStreamFilter } from '../../web/src/lib/server-filter.js';
import { StreamStore } from '../../web/src/lib/stream-store.js';
import { EMPTY_FILTER, matchesFilter, matchesInstrument } from '../../web/src/lib/table.js';
import { closed, frame, opened, opportunity, snapshot, updated } from './make.js';

const KEYS = ['BTC-PERP', 'ETH-PERP', 'PEPE-PERP', '1000PEPE-PERP'];

describe('toStreamFilter', () => {
  it('sends nothing for an empty browser filter', () => {
    expect(toStreamFilter(EMPTY_FILTER, KEYS)).toEqual({});
  });

  it('sends the minimum profit, clamped to what the server accepts', () => {
    expect(toStreamFilter({ ...EMPTY_FILTER, minProfitBps: 4.5 }, KEYS)).toEqual({ minProfitBps: 4.5 });
    expect(toStreamFilter({ ...EMPTY_FILTER, minProfitBps: 100_000 }, KEYS)).toEqual({ minProfitBps: 10_000 });
    expect(toStreamFilter({ ...EMPTY_FILTER, minProfitBps: Number.NaN }, KEYS)).toEqual({});
  });

  it('sends an instrument for a whole known key (the table then shows that key only), never for other substrings', () => {
    expect(toStreamFilter({ ...EMPTY_FILTER, instrument: ' btc-perp ' }, KEYS)).toEqual({ instruments: ['BTC-PERP'] });
    expect(toStreamFilter({ ...EMPTY_FILTER, instrument: 'btc' }, KEYS)).toEqual({}); // a substring: the table decides
    // A whole key selects that instrument though it is inside another key (the table matches it exactly too).
    expect(toStreamFilter({ ...EMPTY_FILTER, instrument: 'PEPE-PERP' }, KEYS)).toEqual({ instruments: ['PEPE-PERP'] });
    expect(matchesInstrument('1000PEPE-PERP', 'pepe-perp')).toBe(false);
    expect(matchesInstrument('PEPE-PERP', 'pepe-perp')).toBe(true);
    expect(matchesInstrument('1000PEPE-PERP', 'pepe')).toBe(true); // other text: substring
    expect(toStreamFilter({ ...EMPTY_FILTER, instrument: '1000PEPE-PERP' }, KEYS)).toEqual({ instruments: ['1000PEPE-PERP'] });
    // A whole key not seen yet (the universe is "all"): the table shows exactly it, so the server may filter on it.
    expect(toStreamFilter({ ...EMPTY_FILTER, instrument: 'XRP-PERP' }, KEYS)).toEqual({ instruments: ['XRP-PERP'] });
    expect(toStreamFilter({ ...EMPTY_FILTER, instrument: 'xrp-perp' }, [])).toEqual({ instruments: ['XRP-PERP'] });
  });

  it('never sends exchanges: the server keeps both legs in the set, the table either leg', () => {
    const f = { ...EMPTY_FILTER, exchange: 'okx' as const, minProfitBps: 2 };
    expect(toStreamFilter(f, KEYS)).toEqual({ minProfitBps: 2 });
    // An okx → bybit row is shown by the table; a server filter {exchanges:['okx']} would have dropped it.
    expect(matchesFilter(opportunity('BTC-PERP', 'okx', 'bybit', 5), f)).toBe(true);
  });

  it('whatever it sends lets through every opportunity the table shows (a superset)', () => {
    const opps = KEYS.flatMap((k, i) => [opportunity(k, 'okx', 'bybit', i * 3 - 2), opportunity(k, 'binance', 'kucoin', i * 5)]);
    const filters = [
      { ...EMPTY_FILTER, instrument: 'pepe', minProfitBps: 1 },
      { ...EMPTY_FILTER, instrument: 'ETH-PERP', exchange: 'kucoin' as const },
      { ...EMPTY_FILTER, minProfitBps: 4 },
    ];
    for (const f of filters) {
      const sf = toStreamFilter(f, KEYS);
      for (const o of opps.filter((x) => matchesFilter(x, f))) {
        if (sf.instruments) expect(sf.instruments).toContain(o.instrument);
        if (sf.minProfitBps !== undefined) expect(o.projectedProfitBps).toBeGreaterThanOrEqual(sf.minProfitBps);
      }
    }
  });

  it('sameStreamFilter ignores instrument order and treats missing fields as unset', () => {
    expect(sameStreamFilter({ instruments: ['A-B-PERP', 'C-D-PERP'] }, { instruments: ['C-D-PERP', 'A-B-PERP'] })).toBe(true);
    expect(sameStreamFilter({}, { minProfitBps: 0 })).toBe(false);
    expect(sameStreamFilter({ minProfitBps: 1 }, { minProfitBps: 1 })).toBe(true);
  });
});

describe('StreamStore: the filtered snapshot the server sends after a subscribe', () => {
  it('replaces the open rows mid-stream: rows that stopped matching go, without counting as closed', () => {
    let now = 1_700_000_000_000;
    const store = new StreamStore({ now: () => now, closingHoldMs: 1500 });
    const low = opportunity('BTC-PERP', 'okx', 'bybit', 2);
    const high = opportunity('ETH-PERP', 'binance', 'kucoin', 9);
    const gone = opportunity('SOL-PERP', 'okx', 'kucoin', 4);
    store.applyFrame(frame(1, snapshot(10, [low, high, gone])));
    store.applyFrame(frame(2, closed(11, gone)));
    expect(store.value.rows.find((r) => r.id === gone.id)!.state).toBe('closing');
    const closedBefore = store.value.recentlyClosed.length;

    // Subscribe {minProfitBps: 5}: the server flushes, then sends a snapshot of only what passes.
    expect(store.applyFrame(frame(3, snapshot(12, [high])))).toEqual({ ok: true });
    const v = store.value;
    expect(v.rows.find((r) => r.id === low.id)).toBeUndefined(); // not lingering as open
    expect(v.rows.find((r) => r.id === high.id)!.state).toBe('open');
    expect(v.rows.find((r) => r.id === gone.id)!.state).toBe('closing'); // its close was real: it finishes its hold
    expect(v.recentlyClosed).toHaveLength(closedBefore); // dropping `low` is not a close
    expect(v.counters.snapshots).toBe(2);

    // Events after it apply as usual; an `updated` for an id the client does not hold is an upsert.
    store.applyFrame(frame(4, updated(13, { ...high, projectedProfitBps: 11 }), updated(14, { ...low, projectedProfitBps: 6 }), opened(15, gone)));
    expect(store.value.rows.find((r) => r.id === high.id)!.opportunity.projectedProfitBps).toBe(11);
    expect(store.value.rows.find((r) => r.id === low.id)!.state).toBe('open');
    now += 2000;
    store.tick(now);
    expect(store.value.rows.map((r) => r.id).sort()).toEqual([low.id, high.id, gone.id].sort());
  });
});
