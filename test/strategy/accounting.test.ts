import { describe, expect, it } from 'vitest';
import {
  closeSpreadBps,
  fundingPayment,
  fundingPer8h,
  legMargin,
  legPricePnl,
  liquidationDistancePct,
  liquidationPrice,
  utcDay,
} from '../../server/strategy/accounting.js';
import { walkBook } from '../../server/strategy/execution.js';

describe('accounting', () => {
  it('marks a long at bid and a short at ask with the right sign', () => {
    // long 10 @ 100 marked at 100.20: +0.20·10 = +2.0; short 10 @ 100.50 marked at 100.45: +0.05·10 = +0.5
    expect(legPricePnl('long', 10, 100, 100.2)).toBeCloseTo(2.0, 10);
    expect(legPricePnl('short', 10, 100.5, 100.45)).toBeCloseTo(0.5, 10);
    expect(legPricePnl('short', 10, 100.5, 101)).toBeCloseTo(-5, 10);
  });

  it('estimates margin and liquidation from leverage and maintenance margin', () => {
    // 10 @ 100 at 5x: margin 1000/5 = 200
    expect(legMargin(10, 100, 5)).toBe(200);
    // long: 100·(1 − 0.2 + 0.005) = 80.5; short: 100·(1 + 0.2 − 0.005) = 119.5
    expect(liquidationPrice('long', 100, 5, 0.005)).toBeCloseTo(80.5, 10);
    expect(liquidationPrice('short', 100, 5, 0.005)).toBeCloseTo(119.5, 10);
    // distance at mark 100: long (100 − 80.5)/100 = 19.5 %; short (119.5 − 100)/100 = 19.5 %
    expect(liquidationDistancePct('long', 100, 80.5)).toBeCloseTo(19.5, 10);
    expect(liquidationDistancePct('short', 100, 119.5)).toBeCloseTo(19.5, 10);
    // at 10x, mmr 0.5 %: long liq 100·(1 − 0.1 + 0.005) = 90.5; mark 95 → (95 − 90.5)/95 = 4.7368 %
    expect(liquidationDistancePct('long', 95, liquidationPrice('long', 100, 10, 0.005))).toBeCloseTo(4.736842, 5);
  });

  it('signs funding: a positive rate makes the long pay and the short receive', () => {
    // rate 0.0001 on 10 @ 100 = 1000 notional → 0.10
    expect(fundingPayment('long', 0.0001, 10, 100)).toBeCloseTo(-0.1, 12);
    expect(fundingPayment('short', 0.0001, 10, 100)).toBeCloseTo(0.1, 12);
    // negative rate: shorts pay longs
    expect(fundingPayment('long', -0.0002, 10, 100)).toBeCloseTo(0.2, 12);
    expect(fundingPayment('short', -0.0002, 10, 100)).toBeCloseTo(-0.2, 12);
    // 0.0001 per 1 h = 0.0008 per 8 h
    expect(fundingPer8h(0.0001, 3_600_000)).toBeCloseTo(0.0008, 12);
  });

  it('measures the close-side spread in the entry spread sign', () => {
    // long bid 99.90, short ask 100.60: (100.60 − 99.90)/99.90·1e4 = 70.0700 bps
    expect(closeSpreadBps(99.9, 100.6)).toBeCloseTo(70.07007, 4);
    // converged: short ask below long bid → negative
    expect(closeSpreadBps(100, 99.99)).toBeCloseTo(-1, 10);
  });

  it('names the UTC day', () => {
    expect(utcDay(Date.UTC(2026, 0, 5, 23, 59, 59, 999))).toBe('2026-01-05');
    expect(utcDay(Date.UTC(2026, 0, 6))).toBe('2026-01-06');
  });
});

describe('walkBook', () => {
  it('fills within the touch at the touch price', () => {
    expect(walkBook([{ price: 100, size: 20 }], 10, 'buy', 5)).toEqual({ price: 100, quantity: 10, visibleQuantity: 10 });
  });

  it('fills beyond the visible size at the last price worsened by the impact', () => {
    // buy 10 with 4 visible @ 100: 4·100 + 6·100.05 = 1000.30 → VWAP 100.03
    const buy = walkBook([{ price: 100, size: 4 }], 10, 'buy', 5);
    expect(buy?.price).toBeCloseTo(100.03, 10);
    expect(buy?.visibleQuantity).toBe(4);
    // sell 10 with 4 visible @ 100: 4·100 + 6·99.95 = 999.70 → VWAP 99.97
    expect(walkBook([{ price: 100, size: 4 }], 10, 'sell', 5)?.price).toBeCloseTo(99.97, 10);
  });

  it('walks deeper levels when they are offered', () => {
    // 3 @ 100 + 5 @ 100.10 + 2 beyond at 100.10·1.0005 = 100.15005 → (300 + 500.5 + 200.3001)/10 = 100.08001
    expect(walkBook([{ price: 100, size: 3 }, { price: 100.1, size: 5 }], 10, 'buy', 5)?.price).toBeCloseTo(100.08001, 8);
  });

  it('returns null without a price or a quantity', () => {
    expect(walkBook([{ price: 0, size: 10 }], 1, 'buy', 5)).toBeNull();
    expect(walkBook([{ price: 100, size: 10 }], 0, 'buy', 5)).toBeNull();
  });
});
