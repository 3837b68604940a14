import { describe, expect, it } from 'vitest';
import { PaperExecutor, type OrderRequest } from '../../server/strategy/execution.js';
import { BTC, Harness, T0 } from './harness.js';

function order(h: Harness, over: Partial<OrderRequest> = {}): OrderRequest {
  return {
    clientOrderId: 'o-1',
    positionId: 'p',
    purpose: 'entry',
    instrument: BTC,
    exchange: 'okx',
    symbol: 'BTC-USDT-SWAP',
    side: 'buy',
    quantity: 10,
    decisionMs: h.t,
    decisionUs: h.t * 1000,
    maxQuoteAgeMs: 2000,
    timeoutMs: 10_000,
    ...over,
  };
}

function executor(h: Harness): PaperExecutor {
  let us = T0 * 1000;
  return new PaperExecutor({ quote: (i, e) => h.engine.quote(i, e), config: () => h.config, now: h.now, nowUs: () => (us += 40) });
}

describe('PaperExecutor', () => {
  it('fills at the ask for a buy and the bid for a sell, with the venue taker fee and latency', () => {
    const h = new Harness();
    h.quote('okx', 99.9, 100.0);
    const x = executor(h);
    x.submit(order(h));
    x.submit(order(h, { clientOrderId: 'o-2', side: 'sell', exchange: 'okx' }));
    const [buy, sell] = x.poll(h.t);
    expect(buy).toMatchObject({ status: 'filled', terminal: true, reason: null });
    expect(buy.fill).toMatchObject({ id: 'o-1', price: 100, quantity: 10, notionalUsd: 1000, latencyUs: 40, fillMs: T0 });
    expect(buy.fill?.feeUsd).toBeCloseTo(0.5, 12); // okx 5 bps
    expect(sell.fill).toMatchObject({ price: 99.9, quantity: 10 });
    expect(sell.fill?.feeUsd).toBeCloseTo(0.4995, 12);
    expect(x.poll(h.t)).toEqual([]);
  });

  it('is idempotent by client order id: a duplicate re-reports and never trades again', () => {
    const h = new Harness();
    h.quote('okx', 99.9, 100.0);
    const x = executor(h);
    x.submit(order(h));
    const [first] = x.poll(h.t);
    h.quote('okx', 109.9, 110.0); // the market moved: a second execution would fill at 110
    x.submit(order(h));
    const [again] = x.poll(h.t);
    expect(again).toEqual(first);
    expect(again.fill?.price).toBe(100);
  });

  it('rejects with a machine-readable reason: no quote, unusable, stale, invalid', () => {
    const h = new Harness();
    const x = executor(h);
    x.submit(order(h, { clientOrderId: 'a', instrument: 'SOL-PERP' })); // not listed on okx here
    h.quote('okx', 99.9, 100.0);
    h.engine.setExchangeDown('okx', true);
    x.submit(order(h, { clientOrderId: 'b' }));
    h.engine.setExchangeDown('okx', false);
    h.quote('okx', 99.9, 100.0); // the venue's new snapshot (a pre-drop quote is never used again)
    h.t += 1500;
    x.submit(order(h, { clientOrderId: 'c', maxQuoteAgeMs: 1000 }));
    x.submit(order(h, { clientOrderId: 'd', quantity: Number.NaN }));
    expect(x.poll(h.t).map((r) => [r.clientOrderId, r.status, r.reason, r.fill])).toEqual([
      ['a', 'rejected', 'no_quote', null],
      ['b', 'rejected', 'quote_unusable', null],
      ['c', 'rejected', 'stale_quote', null],
      ['d', 'rejected', 'invalid_order', null],
    ]);
  });
});
