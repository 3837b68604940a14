import { describe, expect, it } from 'vitest';
import { DEFAULT_TAKER_FEE_BPS, EXCHANGES } from '../../shared/exchanges.js';
import { DEFAULT_DISLOCATIONS_PER_MIN, DEFAULT_INSTRUMENTS, DEFAULT_RATE } from '../../server/simulator/index.js';
import { askPrice, bidPrice, fundingRate, MarketModel, nextFundingMs, type Pair } from '../../server/simulator/market.js';

const model = (seed: number, dislocationsPerMin = DEFAULT_DISLOCATIONS_PER_MIN) =>
  new MarketModel({ seed, exchanges: [...EXCHANGES], instruments: DEFAULT_INSTRUMENTS, dislocationsPerMin });

function trace(m: MarketModel, n: number, dt = 1 / DEFAULT_RATE): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = m.next(dt) as Pair;
    out.push(`${p.exchange}:${p.symbol}:${p.bidTicks}:${p.askTicks}:${p.bidLots}:${p.askLots}`);
  }
  return out;
}

describe('market model', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = trace(model(9), 5000);
    expect(trace(model(9), 5000)).toEqual(a);
    const b = trace(model(10), 5000);
    expect(b.filter((x, i) => x !== a[i]).length).toBeGreaterThan(4000);
  });

  it('keeps funding drift off the price sequence', () => {
    const plain = model(4);
    const drifted = model(4);
    const a = trace(plain, 1000);
    drifted.driftFunding(5);
    expect(trace(drifted, 1000)).toEqual(a);
  });

  it('quotes bid < ask with sizes of at least one lot on every venue', () => {
    const m = model(5);
    for (let i = 0; i < 20_000; i++) {
      const p = m.next(1 / DEFAULT_RATE) as Pair;
      expect(p.bidTicks).toBeLessThan(p.askTicks);
      expect(p.bidLots).toBeGreaterThanOrEqual(1);
    }
  });

  it('has positive and negative funding, and 1 h / 4 h intervals on some venues, with aligned next times', () => {
    const m = model(1);
    for (let i = 0; i < 50; i++) m.driftFunding(60);
    const rates = m.pairs.map(fundingRate);
    expect(rates.some((r) => r > 0)).toBe(true);
    expect(rates.some((r) => r < 0)).toBe(true);
    const intervals = new Set(m.pairs.map((p) => p.fundingIntervalMs / 3_600_000));
    expect(intervals).toEqual(new Set([1, 4, 8]));
    for (const ex of EXCHANGES) expect(m.byExchange[ex].some((p) => p.fundingIntervalMs !== 8 * 3_600_000)).toBe(true);
    const now = Date.UTC(2026, 10, 25, 7, 59, 59, 999);
    for (const p of m.pairs) {
      const next = nextFundingMs(p, now);
      expect(next).toBeGreaterThan(now);
      expect(next - now).toBeLessThanOrEqual(p.fundingIntervalMs);
      expect(next % p.fundingIntervalMs).toBe(0);
    }
  });

  it('with default settings, spreads net of round-trip taker fees appear in most seconds and disappear again', () => {
    const m = model(1);
    const perSecond: number[] = [];
    for (let s = 0; s < 300; s++) {
      for (let i = 0; i < DEFAULT_RATE; i++) m.next(1 / DEFAULT_RATE);
      let open = 0;
      for (let k = 0; k < DEFAULT_INSTRUMENTS.length; k++) {
        const legs = m.pairs.filter((p) => p.instrumentIndex === k);
        for (const sell of legs)
          for (const buy of legs) {
            if (sell === buy) continue;
            const gross = ((bidPrice(sell) - askPrice(buy)) / askPrice(buy)) * 1e4;
            if (gross - 2 * (DEFAULT_TAKER_FEE_BPS[sell.exchange] + DEFAULT_TAKER_FEE_BPS[buy.exchange]) > 0) open++;
          }
      }
      perSecond.push(open);
    }
    const withSome = perSecond.filter((n) => n > 0).length / perSecond.length;
    expect(withSome).toBeGreaterThan(0.7);
    expect(perSecond.filter((n) => n === 0).length).toBeGreaterThan(0); // they also close
    expect(m.dislocationsStarted).toBeGreaterThan(60);
    expect(m.activeDislocations().length).toBeLessThan(10);
  });
});
