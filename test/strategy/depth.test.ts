/**
 * The strategy with L2 books (issue 14 §2): a new position is sized at min(strategy.notionalUsd,
 * capacityUsd, risk room); paper fills walk the book level by level, may fill partially, and the filled
 * part of a short entry is unwound as any failed entry is. Standard pair: long okx (ask 100.00), short
 * bybit (bid 100.50): 50 bps spread, fees 2·(5 + 5) = 20 bps.
 */
import { describe, expect, it } from 'vitest';
import { book } from '../helpers/depth-books.js';
import { BTC, Harness, STD_QTY, testConfig } from './harness.js';

function withBooks(h: Harness) {
  const set = (ex: 'okx' | 'bybit', bids: Array<[number, number]>, asks: Array<[number, number]>) => void h.engine.pushDepth(h.id(BTC, ex), book(bids, asks, h.t));
  return { set };
}

describe('strategy with depth', () => {
  it('sizes a new position at the capacity and books fees on the walked prices', () => {
    // The detector scores at $500, the strategy wants $1000.
    const h = new Harness({ config: testConfig({ detector: { notionalUsd: 500 } }) });
    const { set } = withBooks(h);
    set('okx', [[99.9, 1000]], [[100, 6], [101, 1000]]); // $600 at the touch, then 100 bps
    set('bybit', [[100.5, 1000]], [[100.6, 1000]]);
    h.openStandard();
    // At $500 everything fills at the touch: profit 50 − 20 = 30 bps. Capacity at minProfitBps 0 (room 30):
    // 100·(N − 600) / N = 30 → N = 60 000 / 70 = 857.142857
    const opp = h.engine.opportunities()[0];
    expect(opp.slippageSource).toBe('depth');
    expect(opp.capacityUsd!).toBeCloseTo(60_000 / 70, 9);
    const p = h.only();
    expect(p.state).toBe('open');
    expect(p.notionalUsd).toBeCloseTo(60_000 / 70, 9);
    const qty = 60_000 / 70 / 100.5; // sized on the short bid: 8.528785 BTC
    expect(p.long.quantity).toBeCloseTo(qty, 9);
    const [buy, sell] = h.runner.fills();
    // long walks okx asks: 6 @ 100 + (qty − 6) @ 101
    const longUsd = 6 * 100 + (qty - 6) * 101;
    expect(buy.notionalUsd).toBeCloseTo(longUsd, 9);
    expect(buy.price).toBeCloseTo(longUsd / qty, 9);
    expect(buy.feeUsd).toBeCloseTo(longUsd * 0.0005, 12);
    expect(sell.price).toBe(100.5);
    expect(p.long.entryPrice).toBeCloseTo(longUsd / qty, 9);
  });

  it('a book thinner than the order fills partially; the filled legs are unwound', () => {
    const h = new Harness();
    const { set } = withBooks(h);
    // Only okx has a book: the pair is scored at the touch (no capacity, size $1000); the okx asks hold
    // 4 BTC at 100 and 1.5 at 100.2, less than the 9.950249 BTC ordered.
    set('okx', [[99.9, 1000]], [[100, 4], [100.2, 1.5]]);
    h.quote('okx', 99.9, 100.0);
    h.quote('bybit', 100.5, 100.6);
    expect(h.engine.opportunities()[0]).toMatchObject({ slippageSource: 'touch', capacityUsd: null });
    h.step();
    const p = h.only();
    expect(p.state).toBe('closed');
    expect(p.exitReason).toBe('leg_failed');
    const fills = h.runner.fills();
    expect(fills.map((f) => [f.purpose, f.side, f.exchange])).toEqual([
      ['entry', 'buy', 'okx'],
      ['entry', 'sell', 'bybit'],
      ['unwind', 'sell', 'okx'],
      ['unwind', 'buy', 'bybit'],
    ]);
    const [buy, sell, unwindLong, unwindShort] = fills;
    // long: 5.5 of STD_QTY (9.950249) filled: 400 + 150.3 = 550.3 USD, VWAP 100.054545
    expect(buy.quantity).toBeCloseTo(5.5, 12);
    expect(buy.notionalUsd).toBeCloseTo(550.3, 9);
    expect(buy.price).toBeCloseTo(550.3 / 5.5, 9);
    expect(buy.feeUsd).toBeCloseTo(550.3 * 0.0005, 12);
    expect(sell.quantity).toBeCloseTo(STD_QTY, 12);
    // unwind: long sells 5.5 into the okx bids at 99.9, short buys STD_QTY back at the bybit touch 100.6
    expect(unwindLong).toMatchObject({ price: 99.9 });
    expect(unwindLong.quantity).toBeCloseTo(5.5, 12);
    expect(unwindShort).toMatchObject({ price: 100.6 });
    expect(unwindShort.quantity).toBeCloseTo(STD_QTY, 12);
    const fees = (550.3 + 1000 + 5.5 * 99.9 + STD_QTY * 100.6) * 0.0005;
    const pricePnl = 5.5 * 99.9 - 550.3 + STD_QTY * (100.5 - 100.6);
    expect(p.feesUsd).toBeCloseTo(fees, 9);
    expect(p.realisedPnlUsd).toBeCloseTo(pricePnl - fees, 9);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'entry_failed' });
    expect(h.runner.rejections()[0].detail).toContain('book held 5.5');
  });

  it('a capacity below the minimum entry is a rejection', () => {
    const h = new Harness({ config: testConfig({ detector: { notionalUsd: 50 } }) });
    const { set } = withBooks(h);
    set('okx', [[99.9, 1000]], [[100, 0.5], [110, 1000]]); // $50 at the touch, then 1000 bps
    set('bybit', [[100.5, 1000]], [[100.6, 1000]]);
    h.openStandard();
    // room 30 bps: 1000·(N − 50)/N = 30 → N = 50 000 / 970 = 51.546392 < 10 % of $1000
    expect(h.runner.positions()).toHaveLength(0);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'capacity_below_min', detail: 'capacity 51.55 on the books: 51.55 left < minimum entry 100.00' });
  });
});
