/**
 * The funding-history store (memory and real Redis), its retention and dedupe, and the board's realised
 * averages with hand-computed numbers (including an 8 h → 1 h interval change).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { FundingHistoryStore } from '../../server/funding/history-store.js';
import type { FundingLegRef, SettledFunding } from '../../server/funding/history-types.js';
import { historyRealisedSource, realisedBps8h } from '../../server/funding/realised.js';

const H = 3_600_000;
const DAY = 24 * H;
const NOW = Date.UTC(2026, 11, 1, 16); // a settlement time
const LEG: FundingLegRef = { instrument: 'BTC-PERP', venue: 'bybit', settle: 'USDT' };
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6381';

describe('funding history store (memory)', () => {
  it('keeps one point per settlement, oldest first, and answers ranges inclusively', () => {
    const store = new FundingHistoryStore({ now: () => NOW });
    expect(store.add(LEG, [{ timeMs: NOW, rate: 0.0001, intervalMs: 8 * H }, { timeMs: NOW - 8 * H, rate: 0.0002, intervalMs: 8 * H }])).toBe(2);
    expect(store.add(LEG, [{ timeMs: NOW, rate: 0.0001, intervalMs: 8 * H }])).toBe(0); // same figure: no change
    // The venue's history stamps the same settlement 48 ms late with its settled figure: it replaces ours.
    expect(store.add(LEG, [{ timeMs: NOW + 48, rate: 0.00011, intervalMs: 8 * H }])).toBe(1);
    expect(store.settlements(LEG, 0, NOW + H)).toEqual([
      { timeMs: NOW - 8 * H, rate: 0.0002, intervalMs: 8 * H },
      { timeMs: NOW + 48, rate: 0.00011, intervalMs: 8 * H },
    ]);
    expect(store.settlements(LEG, NOW - 8 * H, NOW - 8 * H)).toHaveLength(1);
    expect(store.settlements({ ...LEG, venue: 'okx' }, 0, NOW)).toEqual([]);
  });

  it('retention: older points are not taken, and prune drops what ages past it', () => {
    let now = NOW;
    const store = new FundingHistoryStore({ now: () => now, retentionMs: 35 * DAY });
    expect(store.add(LEG, [{ timeMs: NOW - 36 * DAY, rate: 0.0001, intervalMs: 8 * H }, { timeMs: NOW - 34 * DAY, rate: 0.0001, intervalMs: 8 * H }, { timeMs: NOW, rate: 0.0001, intervalMs: 8 * H }])).toBe(2);
    now = NOW + 2 * DAY;
    expect(store.prune()).toBe(1);
    expect(store.settlements(LEG, 0, now).map((p) => p.timeMs)).toEqual([NOW]);
  });
});

describe('realised averages (bps per 8 h)', () => {
  it('constant 8 h interval: Σ rate ÷ Σ interval × 8 h', () => {
    const store = new FundingHistoryStore({ now: () => NOW });
    store.add(LEG, [
      { timeMs: NOW - 24 * H, rate: 0.005, intervalMs: 8 * H }, // exactly 24 h old: outside (now − 24 h, now]
      { timeMs: NOW - 16 * H, rate: 0.0001, intervalMs: 8 * H },
      { timeMs: NOW - 8 * H, rate: 0.0002, intervalMs: 8 * H },
      { timeMs: NOW, rate: -0.00003, intervalMs: 8 * H },
    ]);
    // (0.0001 + 0.0002 − 0.00003) / 24 h × 8 h = 0.00009 = 0.9 bp
    expect(realisedBps8h(store, LEG, NOW, DAY)).toBeCloseTo(0.9, 10);
    // 3 d also takes the 0.005: (0.005 + 0.00027) / 32 h × 8 h = 0.0013175 = 13.175 bp
    expect(realisedBps8h(store, LEG, NOW, 3 * DAY)).toBeCloseTo(13.175, 10);
  });

  it('an 8 h → 1 h change weighs each settlement by the time it covered', () => {
    const store = new FundingHistoryStore({ now: () => NOW });
    const points: SettledFunding[] = [
      { timeMs: NOW - 16 * H, rate: 0.0004, intervalMs: 8 * H },
      { timeMs: NOW - 8 * H, rate: 0.0004, intervalMs: 8 * H },
    ];
    for (let h = 7; h >= 0; h--) points.push({ timeMs: NOW - h * H, rate: 0.0001, intervalMs: H });
    store.add(LEG, points);
    // Σ rate = 0.0008 + 8 × 0.0001 = 0.0016 over Σ interval = 24 h → 0.0016 / 3 = 0.000533… per 8 h = 5.333… bp
    // (a plain mean of the per-8 h figures would say (4 + 4 + 8 × 8) / 10 = 7.2 bp).
    expect(realisedBps8h(store, LEG, NOW, DAY)).toBeCloseTo(16 / 3, 10);
    const realised = historyRealisedSource(store).realised('BTC-PERP', 'bybit', 'USDT', NOW);
    expect(realised.avg24h).toBeCloseTo(16 / 3, 10);
    expect(realised.avg30d).toBeCloseTo(16 / 3, 10);
    expect(historyRealisedSource(store).realised('ETH-PERP', 'bybit', 'USDT', NOW)).toEqual({ avg24h: null, avg3d: null, avg7d: null, avg30d: null });
  });
});

describe('funding history store (real Redis)', () => {
  const prefix = `test:history:${process.pid}:${Date.now()}:`;
  const admin = new Redis(REDIS_URL, { lazyConnect: true });
  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it('writes behind, reloads the index and the backfill progress, one member per settlement, retention in Redis too', async () => {
    let now = NOW;
    const a = new FundingHistoryStore({ now: () => now, redisUrl: REDIS_URL, prefix });
    await a.open();
    a.add(LEG, [{ timeMs: NOW - 34 * DAY, rate: 0.0003, intervalMs: 8 * H }, { timeMs: NOW - 8 * H, rate: 0.0002, intervalMs: 8 * H }, { timeMs: NOW, rate: 0.0001, intervalMs: 8 * H }]);
    a.add(LEG, [{ timeMs: NOW + 48, rate: 0.00012, intervalMs: 8 * H }]); // same settlement, venue figure
    a.markBackfilled(LEG, { fromMs: NOW - 30 * DAY, toMs: NOW });
    await a.close();
    const zset = `${prefix}funding:history:BTC-PERP|bybit|USDT`;
    expect(await admin.zcard(zset)).toBe(3);

    now = NOW + 2 * DAY; // the −34 d point is now past the 35-day retention
    const b = new FundingHistoryStore({ now: () => now, redisUrl: REDIS_URL, prefix });
    await b.open();
    expect(b.settlements(LEG, 0, now)).toEqual([
      { timeMs: NOW - 8 * H, rate: 0.0002, intervalMs: 8 * H },
      { timeMs: NOW + 48, rate: 0.00012, intervalMs: 8 * H },
    ]);
    expect(b.backfilled(LEG)).toEqual([{ fromMs: NOW - 30 * DAY, toMs: NOW }]);
    expect(await admin.zcard(zset)).toBe(2);
    await b.close();
  });
});
