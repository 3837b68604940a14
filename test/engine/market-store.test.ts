import { describe, expect, it } from 'vitest';
import { MarketStore } from '../../server/engine/market-store.js';

const T0 = 1_700_000_000_000;

describe('MarketStore', () => {
  it('keeps the latest quote and funding per id', () => {
    const s = new MarketStore(5000);
    s.addId(3, 1);
    s.setQuote(3, 100, 101, 2, 3, T0 - 5, T0, 1);
    s.setQuote(3, 100.5, 100.6, 4, 5, T0 - 1, T0 + 10, 2);
    s.setFunding(3, 0.0001, 3_600_000, T0 + 3_600_000, true, T0, T0);
    expect([s.bid[3], s.ask[3], s.bidSize[3], s.askSize[3], s.quoteExchangeTsMs[3], s.quoteReceivedMs[3]]).toEqual([100.5, 100.6, 4, 5, T0 - 1, T0 + 10]);
    expect([s.fundingRate[3], s.fundingIntervalMs[3], s.nextFundingMs[3], s.fundingPredicted[3]]).toEqual([0.0001, 3_600_000, T0 + 3_600_000, 1]);
    expect(s.exchange[3]).toBe(1);
  });

  it('a quote older than staleAfterMs is not usable; exactly at the limit still is', () => {
    const s = new MarketStore(5000);
    s.addId(0, 0);
    expect(s.usable(0, T0)).toBe(false); // never quoted
    expect(s.quoteAgeMs(0, T0)).toBe(Number.POSITIVE_INFINITY);
    s.setQuote(0, 1, 2, 1, 1, 0, T0, 0);
    expect(s.usable(0, T0 + 5000)).toBe(true);
    expect(s.usable(0, T0 + 5001)).toBe(false);
    s.staleAfterMs = 10_000; // configurable at run time
    expect(s.usable(0, T0 + 5001)).toBe(true);
    expect(s.quoteAgeMs(0, T0 + 5001)).toBe(5001);
  });

  it('a quote of an exchange whose feed is down is not usable', () => {
    const s = new MarketStore(5000);
    s.addId(0, 2);
    s.setQuote(0, 1, 2, 1, 1, 0, T0, 0);
    s.setExchangeDown(2, true);
    expect(s.fresh(0, T0)).toBe(true);
    expect(s.usable(0, T0)).toBe(false);
    s.setExchangeDown(2, false);
    expect(s.usable(0, T0)).toBe(true);
  });

  it('grows by doubling and keeps values', () => {
    const s = new MarketStore();
    s.addId(5, 0);
    s.setQuote(5, 7, 8, 1, 1, 0, T0, 0);
    s.addId(1000, 3);
    expect(s.capacity).toBe(1024);
    expect(s.bid[5]).toBe(7);
    expect(s.exchange[1000]).toBe(3);
  });
});
