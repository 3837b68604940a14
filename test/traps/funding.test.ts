/**
 * Traps: "funding intervals assumed to be 8 h" and "funding sign and current vs predicted mixed up".
 * Real adapters parse fixture frames (re-stamped for the scenario) into the real Engine; the KuCoin
 * case runs the real StrategyRunner on MemoryPersistence (test/strategy/harness.ts) through two
 * funding settlements.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { Engine } from '../../server/engine/engine.js';
import { BinanceParser } from '../../server/venues/binance/adapter.js';
import { BybitParser } from '../../server/venues/bybit/adapter.js';
import { KucoinParser } from '../../server/venues/kucoin/adapter.js';
import { table } from '../feeds/helpers.js';
import { BTC, HOUR, Harness, T0 } from '../strategy/harness.js';
import { EngineSink, feed, frame, register } from './wire.js';

describe('trap: funding interval assumed to be 8 h', () => {
  it('Bybit 1 h vs Binance 8 h: the 8 h-normalised delta and the expected funding over the horizon', () => {
    const now = Date.UTC(2026, 0, 5, 10, 0, 0);
    const engine = new Engine({ config: DEFAULT_CONFIG, now: () => now }); // horizon 8 h
    // Bybit's metadata says 8 h; the frame's fundingIntervalHour ("1") must win.
    const bybit = new BybitParser(register(engine, table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC', fundingIntervalMs: 8 * HOUR }])));
    const binance = new BinanceParser(register(engine, table('binance', [{ symbol: 'BTCUSDT', base: 'BTC', fundingIntervalMs: 8 * HOUR }])));
    const snap = frame('bybit', 'snapshot-newer.json', (m) => {
      m.topic = 'tickers.BTCUSDT';
      Object.assign(m.data, { symbol: 'BTCUSDT', bid1Price: '100.6', ask1Price: '100.7', bid1Size: '100', fundingRate: '0.0001', fundingIntervalHour: '1', nextFundingTime: String(now + HOUR) });
      m.ts = now;
    });
    const book = frame('binance', 'bookTicker.json', (m) => Object.assign(m.data, { b: '99.9', a: '100', A: '100', T: now, E: now }));
    const mark = frame('binance', 'markPrice.json', (m) => Object.assign(m.data, { r: '0.0002', T: now + 6 * HOUR, E: now }));
    expect([feed(engine, bybit, snap), feed(engine, binance, book), feed(engine, binance, mark)]).toEqual(['data', 'data', 'data']);

    const opp = engine.opportunities().find((o) => o.longExchange === 'binance' && o.shortExchange === 'bybit')!;
    expect(opp).toBeDefined();
    expect(opp.shortFundingIntervalMs).toBe(HOUR);
    expect(opp.longFundingIntervalMs).toBe(8 * HOUR);
    expect(opp.shortFundingRate8h).toBeCloseTo(0.0008, 12); // 8 × 0.0001, not 0.0001
    expect(opp.longFundingRate8h).toBeCloseTo(0.0002, 12);
    expect(opp.fundingDelta8h).toBeCloseTo(0.0006, 12); // positive: the pair earns
    // Horizon (10:00, 18:00]: Bybit settles 11:00 … 18:00 (8 events, short receives), Binance at 16:00 (1, long pays).
    expect(opp.expectedFundingBps).toBeCloseTo((8 * 0.0001 - 0.0002) * 1e4, 9); // 6 bps
    expect(opp.spreadBps).toBeCloseTo(60, 9);
    expect(opp.projectedProfitBps).toBeCloseTo(opp.spreadBps + 6 - opp.feesBps - opp.slippageBps, 9);
  });

  it('the sign flips with the direction: the long side of a positive 1 h rate pays it eight times in 8 h', () => {
    const now = Date.UTC(2026, 0, 5, 10, 0, 0);
    const engine = new Engine({ config: DEFAULT_CONFIG, now: () => now });
    const bybit = new BybitParser(register(engine, table('bybit', [{ symbol: 'BTCUSDT', base: 'BTC' }])));
    const binance = new BinanceParser(register(engine, table('binance', [{ symbol: 'BTCUSDT', base: 'BTC' }])));
    // Now Bybit is the cheap venue (long Bybit, short Binance) and its positive 1 h rate is paid by our long.
    feed(engine, bybit, frame('bybit', 'snapshot-newer.json', (m) => {
      m.topic = 'tickers.BTCUSDT';
      Object.assign(m.data, { symbol: 'BTCUSDT', bid1Price: '99.9', ask1Price: '100', fundingRate: '0.0001', fundingIntervalHour: '1', nextFundingTime: String(now + HOUR) });
      m.ts = now;
    }));
    feed(engine, binance, frame('binance', 'bookTicker.json', (m) => Object.assign(m.data, { b: '100.6', a: '100.7', B: '100', T: now, E: now })));
    feed(engine, binance, frame('binance', 'markPrice.json', (m) => Object.assign(m.data, { r: '0.0002', T: now + 6 * HOUR, E: now })));
    const opp = engine.opportunities().find((o) => o.longExchange === 'bybit')!;
    expect(opp.fundingDelta8h).toBeCloseTo(0.0002 - 0.0008, 12); // −0.0006: the pair PAYS funding
    expect(opp.expectedFundingBps).toBeCloseTo((0.0002 - 8 * 0.0001) * 1e4, 9); // −6 bps
    expect(opp.breakEvenHours).toBeNull();
  });
});

describe('trap: current vs predicted funding (KuCoin granularity 60000)', () => {
  it('a predicted rate never overrides the current rate for the detector or for accrual, over two settlements', () => {
    const h = new Harness();
    const N = T0 + 2 * HOUR; // KuCoin's next settlement (REST)
    const meta = table('kucoin', [{ symbol: 'XBTUSDTM', base: 'BTC', contractValue: 0.001, fundingIntervalMs: 8 * HOUR, nextFundingMs: N }]);
    meta.get('XBTUSDTM')!.id = h.id(BTC, 'kucoin');
    const kucoin = new KucoinParser(meta);
    const sink = new EngineSink(h.engine);
    const push = (name: 'funding.json' | 'funding-predicted.json', rate: number) => {
      expect(kucoin.parse(frame('kucoin', name, (m) => Object.assign(m.data, { fundingRate: rate, timestamp: h.t })), sink)).toBe('data');
      h.engine.drain();
    };
    const kq = () => h.engine.quote(BTC, 'kucoin')!;

    push('funding-predicted.json', 0.000112); // nothing better known yet: stored, flagged predicted
    expect(kq()).toMatchObject({ fundingRate: 0.000112, fundingPredicted: true, nextFundingMs: N });
    push('funding.json', 0.000039); // the rate in force for N
    push('funding-predicted.json', 0.000112); // per-minute prediction: must not replace it
    push('funding-predicted.json', 0.0004);
    expect(kq()).toMatchObject({ fundingRate: 0.000039, fundingPredicted: false, fundingIntervalMs: 8 * HOUR, nextFundingMs: N });

    // Long KuCoin (ask 100), short Bybit (bid 100.5): 1000 / 100.5 = 9.950249 BTC per leg (sized on the
    // higher entry price); the long is marked at bid 99.9: 994.029851 USD.
    h.quote('kucoin', 99.9, 100.0);
    h.quote('bybit', 100.5, 100.6);
    const opp = h.engine.opportunities().find((o) => o.longExchange === 'kucoin' && o.shortExchange === 'bybit')!;
    expect(opp.longFundingRate8h).toBeCloseTo(0.000039, 12);
    expect(opp.longFundingPredicted).toBe(false);
    h.step();
    const p0 = h.only();
    expect(p0.long.exchange).toBe('kucoin');
    expect(p0.long.fundingRate).toBe(0.000039);

    h.advance(HOUR);
    push('funding-predicted.json', 0.0009); // a wild prediction just before settlement
    h.advance(HOUR); // at N
    let p = h.only();
    expect(p.long.fundingUsd).toBeCloseTo(-0.000039 * 994.0298507, 9); // the long pays the CURRENT rate
    expect(p.long.nextFundingMs).toBe(N + 8 * HOUR);

    // At N KuCoin publishes the rate for the next period; its predictions are ignored again.
    push('funding.json', -0.00002);
    expect(kq()).toMatchObject({ fundingRate: -0.00002, fundingPredicted: false, nextFundingMs: N + 8 * HOUR });
    push('funding-predicted.json', 0.003);
    expect(kq().fundingRate).toBe(-0.00002);
    h.advance(8 * HOUR);
    p = h.only();
    expect(p.long.fundingUsd).toBeCloseTo(-0.000039 * 994.0298507 + 0.00002 * 994.0298507, 9); // a negative rate: the long receives
    expect(p.short.fundingUsd).toBe(0); // Bybit published no funding: nothing is invented
  });
});
