/**
 * The start-up backfill against the venue twins over real HTTP: paced below the venue's documented limit
 * (measured at the twin), resumable against real Redis (a restart reads only what the first run had not
 * covered, and stores no duplicates), visible through its status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Exchange } from '../../shared/exchanges.js';
import type { SettleCurrency } from '../../shared/instrument-key.js';
import type { FetchJson } from '../../server/feeds/adapter.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import { FundingBackfill, type BackfillLeg } from '../../server/funding/backfill.js';
import { FundingHistoryStore } from '../../server/funding/history-store.js';
import { historyGuardOf } from '../../server/simulator/funding-history.js';
import { startSimulator, type Simulator } from '../../server/simulator/index.js';
import { VENUES } from '../../server/venues/index.js';
import { BYBIT_HISTORY_LIMIT } from '../../server/venues/bybit/history.js';

const DAY = 86_400_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6381';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, universe: 30, churn: false, messagesPerSec: 20 });
});
afterAll(async () => {
  await sim.close();
});

function legsOf(venue: Exchange): BackfillLeg[] {
  return sim.model.listed(venue).map((p) => ({ instrument: p.spec.key, venue, settle: p.settle as SettleCurrency, symbol: p.symbol, intervalMs: p.fundingIntervalMs }));
}

/** A fetch that notes the symbol and start time of every request. */
function recording(): { fetchJson: FetchJson; asked: Array<{ symbol: string; fromMs: number; toMs: number }> } {
  const inner = createFetchJson(5_000);
  const asked: Array<{ symbol: string; fromMs: number; toMs: number }> = [];
  return {
    asked,
    fetchJson: (url, init) => {
      const u = new URL(url);
      asked.push({ symbol: u.searchParams.get('symbol') ?? '', fromMs: Number(u.searchParams.get('startTime')), toMs: Number(u.searchParams.get('endTime')) });
      return inner(url, init);
    },
  };
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('funding backfill', () => {
  it('stays under its pace (and far under the documented limit) measured at the twin', async () => {
    const store = new FundingHistoryStore({ now: Date.now });
    const legs = legsOf('bybit');
    const pace = 20;
    const backfill = new FundingBackfill({
      store,
      sources: { bybit: { history: VENUES.bybit.adapter.fundingHistory!, rest: sim.endpoints.bybit.rest } },
      legs: () => legs,
      fetchJson: createFetchJson(5_000),
      now: Date.now,
      maxRequestsPerSecond: pace,
      idleMs: 50,
    });
    const startServed = historyGuardOf(sim.model, 'bybit')?.served.length ?? 0;
    backfill.start();
    await until(() => backfill.status().venues[0]!.state === 'done', 20_000);
    await backfill.stop();
    const served = historyGuardOf(sim.model, 'bybit')!.served.slice(startServed);
    const status = backfill.status().venues[0]!;
    expect(status.legsDone).toBe(legs.length);
    expect(status.requests).toBe(served.length);
    expect(served.length).toBeGreaterThanOrEqual(legs.length);
    // Most requests in any 1 s at the twin: the pace (20), with one of slack for arrival jitter.
    let maxPerSecond = 0;
    for (let i = 0; i < served.length; i++) {
      let j = i;
      while (j < served.length && served[j]! < served[i]! + 1000) j++;
      maxPerSecond = Math.max(maxPerSecond, j - i);
    }
    expect(maxPerSecond).toBeLessThanOrEqual(pace + 1);
    expect(maxPerSecond).toBeLessThan(BYBIT_HISTORY_LIMIT.count / (BYBIT_HISTORY_LIMIT.windowMs / 1000));
    expect(historyGuardOf(sim.model, 'bybit')!.refused).toBe(0);
    // Every leg holds its 30 days: one settlement per interval.
    for (const leg of legs) {
      const n = store.settlements(leg, Date.now() - 30 * DAY, Date.now()).length;
      expect(n).toBeGreaterThanOrEqual(Math.floor((30 * DAY) / leg.intervalMs) - 1);
    }
  });

  it('resumes after a restart from the per-leg progress in Redis: no done range read again, no duplicates', async () => {
    const prefix = `test:backfill:${process.pid}:${Date.now()}:`;
    const admin = new Redis(REDIS_URL);
    const legs = legsOf('bybit');
    const run = (store: FundingHistoryStore, fetchJson: FetchJson) =>
      new FundingBackfill({
        store,
        sources: { bybit: { history: VENUES.bybit.adapter.fundingHistory!, rest: sim.endpoints.bybit.rest } },
        legs: () => legs,
        fetchJson,
        now: Date.now,
        maxRequestsPerSecond: 10,
        idleMs: 50,
      });
    try {
      // First run: stopped after 8 requests.
      const first = recording();
      const storeA = new FundingHistoryStore({ now: Date.now, redisUrl: REDIS_URL, prefix });
      await storeA.open();
      const a = run(storeA, first.fetchJson);
      const firstEndMs = Date.now();
      a.start();
      await until(() => a.status().venues[0]!.requests >= 8, 10_000);
      await a.stop();
      await storeA.close();
      const doneFirst = new Set(first.asked.map((q) => q.symbol));
      expect(doneFirst.size).toBeGreaterThanOrEqual(7);
      expect(doneFirst.size).toBeLessThan(legs.length);

      // Restart: a new store reads the progress from Redis.
      const second = recording();
      const storeB = new FundingHistoryStore({ now: Date.now, redisUrl: REDIS_URL, prefix });
      await storeB.open();
      const doneBefore = new Map(legs.map((l) => [l.symbol, [...storeB.backfilled(l)]]));
      // Every page the first run received was recorded, for exactly the legs it asked about.
      expect(new Set([...doneBefore].filter(([, r]) => r.length > 0).map(([symbol]) => symbol))).toEqual(doneFirst);
      const b = run(storeB, second.fetchJson);
      b.start();
      await until(() => b.status().venues[0]!.state === 'done', 20_000);
      await b.stop();
      for (const q of second.asked) {
        // Nothing the first run recorded as read is asked again.
        for (const done of doneBefore.get(q.symbol) ?? []) expect(q.toMs < done.fromMs || q.fromMs > done.toMs, `${q.symbol} ${q.fromMs}..${q.toMs}`).toBe(true);
        // A leg the first run finished is asked only for the gap since then, never its 30 days again.
        if (doneFirst.has(q.symbol) && (doneBefore.get(q.symbol) ?? []).some((d) => d.fromMs <= Date.now() - 29 * DAY)) expect(q.fromMs).toBeGreaterThan(firstEndMs - 60_000);
      }
      expect(new Set(second.asked.map((q) => q.symbol)).size).toBe(legs.length);
      // No duplicates, in memory or in Redis; every leg complete.
      for (const leg of legs) {
        const points = storeB.settlements(leg, 0, Date.now());
        expect(new Set(points.map((p) => p.timeMs)).size).toBe(points.length);
        expect(points.length).toBeGreaterThanOrEqual(Math.floor((30 * DAY) / leg.intervalMs) - 1);
        expect(await admin.zcard(`${prefix}funding:history:${leg.instrument}|bybit|${leg.settle}`)).toBe(points.length);
      }
      await storeB.close();
    } finally {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  });
});
