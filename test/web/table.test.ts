import { describe, expect, it } from 'vitest';
import { StreamStore } from '../../web/src/lib/stream-store.js';
import { DEFAULT_SORT, EMPTY_FILTER, isFlashing, isStale, sortRows, toggleSort } from '../../web/src/lib/table.js';
import { streamUrl } from '../../web/src/lib/urls.js';
import { frame, opened, opportunity, snapshot, updated } from './make.js';

const NOW = 1_700_000_000_000;

function rows() {
  const store = new StreamStore({ now: () => NOW });
  store.applyFrame(
    frame(
      1,
      snapshot(1, [
        opportunity('BTC-PERP', 'okx', 'bybit', 4, { confidence: 90 }),
        opportunity('ETH-PERP', 'binance', 'kucoin', 12, { confidence: 40 }),
        opportunity('SOL-PERP', 'kucoin', 'okx', 7, { confidence: 70 }),
        opportunity('BTC-PERP', 'binance', 'bybit', 7, { confidence: 10 }),
      ]),
    ),
  );
  return store.value.rows;
}

const names = (rs: ReturnType<typeof rows>) => rs.map((r) => `${r.opportunity.instrument.split('-')[0]}:${r.opportunity.longExchange}`);

describe('opportunities table ordering', () => {
  it('sorts by projected profit, best first, by default; ties break on id', () => {
    expect(names(sortRows(rows(), DEFAULT_SORT, EMPTY_FILTER, NOW))).toEqual(['ETH:binance', 'BTC:binance', 'SOL:kucoin', 'BTC:okx']);
  });

  it('sorts by any column and flips direction on the second click', () => {
    let sort = toggleSort(DEFAULT_SORT, 'confidence');
    expect(sort).toEqual({ key: 'confidence', dir: 'desc' });
    expect(names(sortRows(rows(), sort, EMPTY_FILTER, NOW))).toEqual(['BTC:okx', 'SOL:kucoin', 'ETH:binance', 'BTC:binance']);
    sort = toggleSort(sort, 'confidence');
    expect(names(sortRows(rows(), sort, EMPTY_FILTER, NOW))[0]).toBe('BTC:binance');
    expect(toggleSort(sort, 'instrument')).toEqual({ key: 'instrument', dir: 'asc' });
  });

  it('filters by instrument, exchange (either leg) and minimum profit', () => {
    expect(names(sortRows(rows(), DEFAULT_SORT, { ...EMPTY_FILTER, instrument: 'btc' }, NOW))).toEqual(['BTC:binance', 'BTC:okx']);
    expect(names(sortRows(rows(), DEFAULT_SORT, { ...EMPTY_FILTER, exchange: 'okx' }, NOW))).toEqual(['SOL:kucoin', 'BTC:okx']);
    expect(names(sortRows(rows(), DEFAULT_SORT, { ...EMPTY_FILTER, minProfitBps: 7 }, NOW))).toEqual(['ETH:binance', 'BTC:binance', 'SOL:kucoin']);
  });

  it('keeps the order stable as updates re-sort rows', () => {
    let now = NOW;
    const store = new StreamStore({ now: () => now });
    const a = opportunity('BTC-PERP', 'okx', 'bybit', 4);
    const b = opportunity('ETH-PERP', 'okx', 'bybit', 6);
    store.applyFrame(frame(1, snapshot(1, [a, b])));
    expect(names(sortRows(store.value.rows, DEFAULT_SORT, EMPTY_FILTER, now))).toEqual(['ETH:okx', 'BTC:okx']);
    now += 100;
    store.applyFrame(frame(2, updated(2, { ...a, projectedProfitBps: 9 }), opened(3, opportunity('SOL-PERP', 'okx', 'bybit', 1))));
    expect(names(sortRows(store.value.rows, DEFAULT_SORT, EMPTY_FILTER, now))).toEqual(['BTC:okx', 'ETH:okx', 'SOL:okx']);
    const btc = store.value.rows.find((r) => r.id === a.id)!;
    expect(isFlashing(btc, now + 100)).toBe(true);
    expect(isFlashing(btc, now + 100, 50)).toBe(false);
    expect(isFlashing(btc, now + 5000)).toBe(false);
  });
});

describe('row marks', () => {
  it('marks a row stale once its older quote used half of staleAfterMs', () => {
    const o = opportunity('BTC-PERP', 'okx', 'bybit', 4, { longQuoteAgeMs: 1000, shortQuoteAgeMs: 200, updatedMs: NOW });
    expect(isStale(o, NOW + 1000, 5000)).toBe(false);
    expect(isStale(o, NOW + 1600, 5000)).toBe(true);
  });
});

describe('stream URL', () => {
  it('derives ws(s) from the page location, in the page directory', () => {
    expect(streamUrl({ protocol: 'http:', host: '127.0.0.1:8080', pathname: '/' })).toBe('ws://127.0.0.1:8080/ws');
    expect(streamUrl({ protocol: 'https:', host: 'example.test', pathname: '/perpscan/' })).toBe('wss://example.test/perpscan/ws');
    expect(streamUrl({ protocol: 'https:', host: 'example.test', pathname: '/perpscan/index.html' })).toBe('wss://example.test/perpscan/ws');
  });
});
