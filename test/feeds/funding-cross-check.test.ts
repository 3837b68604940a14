/**
 * The funding cross-check (server/feeds/funding-cross-check.ts): a fake source venue publishing figures about
 * two other venues, compared with a REAL engine fed funding: a match, a mismatch flagged (rate, next time),
 * a figure we have no funding for, invalid figures (null, NaN), a throwing source counted and retried, and
 * the rounds' cadence. Generic: the venues are whichever the registry lists first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { FetchJson, FundingReference } from '../../server/feeds/adapter.js';
import { Engine } from '../../server/engine/engine.js';
import { compareFunding, FundingCrossCheckRunner, type FundingLookup, type FundingSource } from '../../server/feeds/funding-cross-check.js';
import { sleep, waitFor } from './helpers.js';

const [SOURCE, A, B] = EXCHANGES as readonly Exchange[];
const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 22, 0, 0);
const NEXT = T0 + 2 * H;

/** A real engine with funding for BTC on A (8 h), ETH on A (4 h) and BTC on B (1 h, USDC-settled). */
function engineWithFunding(): Engine {
  const engine = new Engine({ config: DEFAULT_CONFIG, now: () => T0 });
  const push = (ex: Exchange, symbol: string, base: string, quote: string, rate: number, intervalMs: number, next: number) => {
    const id = engine.registerInstrument(ex, symbol, { base, quote });
    expect(id).toBeGreaterThanOrEqual(0);
    engine.pushFunding(id, rate, intervalMs, next, false, T0, T0 * 1000);
  };
  push(A, 'BTC_A', 'BTC', 'USDT', 0.0001, 8 * H, NEXT); // 1 bps per 8 h
  push(A, 'ETH_A', 'ETH', 'USDT', 0.0002, 4 * H, NEXT); // 4 bps per 8 h
  push(B, 'BTC_B', 'BTC', 'USDC', 0.00001, H, NEXT); // 0.8 bps per 8 h
  engine.drain();
  return engine;
}

const lookupOf = (engine: Engine): FundingLookup => (venue, key, settle) => engine.funding(key, venue, settle);

const ref = (venue: Exchange, key: string, rate: number, over: Partial<FundingReference> = {}): FundingReference => ({ venue, key, settle: 'USDT', rate, intervalMs: null, nextFundingMs: null, ...over });

describe('compareFunding (pure)', () => {
  it('normalises both sides to 8 h (their interval when given, else ours), flags rate and next-time mismatches, counts unmatched and invalid', () => {
    const engine = engineWithFunding();
    expect(engine.funding('BTC-PERP', A, 'USDT')).toMatchObject({ rate: 0.0001, intervalMs: 8 * H, nextFundingMs: NEXT });
    const refs: FundingReference[] = [
      ref(A, 'BTC-PERP', 0.0001, { intervalMs: 8 * H, nextFundingMs: NEXT }), // match
      ref(A, 'ETH-PERP', 0.0002), // no interval given: ours (4 h) → 4 bps both sides, match
      ref(B, 'BTC-PERP', 0.0001, { settle: 'USDC', intervalMs: 8 * H, nextFundingMs: NEXT }), // 1 vs 0.8 bps: under 0.5, not flagged
      ref(A, 'SOL-PERP', 0.0001), // we have none: unmatched
      ref(B, 'BTC-PERP', 0.0001), // USDT leg on B: we have only USDC → unmatched
      ref(A, 'BTC-PERP', Number.NaN), // invalid
      { ...ref(A, 'ETH-PERP', 0), rate: null as unknown as number }, // invalid (null)
      ref(A, 'BTC-PERP', 0.0001, { intervalMs: 8 * H, nextFundingMs: NEXT + 8 * H }), // next time a whole interval off: flagged
      ref(A, 'ETH-PERP', 0.0003, { intervalMs: 4 * H }), // 6 vs 4 bps: flagged, +2
    ];
    const c = compareFunding(SOURCE, refs, lookupOf(engine), T0);
    expect(c).toMatchObject({ source: SOURCE, checkedMs: T0, references: 9, compared: 5, unmatched: 2, invalid: 2, flagged: 2, thresholdBps: 0.5, failures: 0, lastError: null });
    expect(c.maxAbsDiff8hBps).toBeCloseTo(2, 9);
    // Flagged first, the larger difference first among them.
    expect(c.rows[0]).toMatchObject({ instrument: 'ETH-PERP', venue: A, flagged: true, theirIntervalMs: 4 * H, ourIntervalMs: 4 * H });
    expect(c.rows[0].theirs8hBps).toBeCloseTo(6, 9);
    expect(c.rows[0].ours8hBps).toBeCloseTo(4, 9);
    expect(c.rows[0].diff8hBps).toBeCloseTo(2, 9);
    expect(c.rows[1]).toMatchObject({ instrument: 'BTC-PERP', venue: A, flagged: true, theirNextMs: NEXT + 8 * H, ourNextMs: NEXT });
    expect(c.rows[1].diff8hBps).toBeCloseTo(0, 9);
    const usdc = c.rows.find((r) => r.venue === B)!;
    expect(usdc).toMatchObject({ settle: 'USDC', flagged: false });
    expect(usdc.diff8hBps).toBeCloseTo(0.2, 9);
    expect(c.rows.filter((r) => !r.flagged)).toHaveLength(3);
    expect(JSON.stringify(c)).not.toMatch(/NaN|null,"rate"/);
  });

  it('keeps the worst maxRows rows; nothing compared gives a null max', () => {
    const engine = engineWithFunding();
    const many = Array.from({ length: 30 }, (_, i) => ref(A, 'BTC-PERP', 0.0001 + i * 1e-6));
    const c = compareFunding(SOURCE, many, lookupOf(engine), T0, { maxRows: 20 });
    expect(c.compared).toBe(30);
    expect(c.rows).toHaveLength(20);
    expect(c.rows[0].diff8hBps).toBeCloseTo(0.29, 6); // 29e-6 per 8 h
    const none = compareFunding(SOURCE, [ref(A, 'XRP-PERP', 0.0001)], lookupOf(engine), T0);
    expect(none).toMatchObject({ compared: 0, unmatched: 1, flagged: 0, maxAbsDiff8hBps: null, rows: [] });
  });
});

describe('FundingCrossCheckRunner', () => {
  let runner: FundingCrossCheckRunner | null = null;
  afterEach(() => runner?.stop());

  const fetchJson: FetchJson = async () => {
    throw new Error('the fake source does not fetch');
  };

  it('asks each source once per round, publishes each result, counts a throwing source and keeps its last good result', async () => {
    const engine = engineWithFunding();
    let fail = false;
    const calls: Array<{ rest: string; nowMs: number }> = [];
    const good: FundingSource = {
      exchange: SOURCE,
      rest: 'http://127.0.0.1:9/source',
      fundingReferences: async (rest, _f, nowMs) => {
        calls.push({ rest, nowMs });
        if (fail) throw new Error('HTTP 429 /info');
        return [ref(A, 'BTC-PERP', 0.0001, { intervalMs: 8 * H }), ref(A, 'ETH-PERP', 0.0004, { intervalMs: 4 * H }), ref(A, 'DOGE-PERP', 0.0001)];
      },
    };
    const broken: FundingSource = { exchange: B, rest: 'http://127.0.0.1:9/b', fundingReferences: () => Promise.reject(new Error('boom')) };
    const published: string[] = [];
    runner = new FundingCrossCheckRunner({ sources: () => [good, broken], lookup: lookupOf(engine), fetchJson, now: () => T0 });
    runner.onResult((c) => published.push(`${c.source}:${c.failures}:${c.flagged}`));

    // Before any round: one entry per source, not checked yet.
    expect(runner.checks().map((c) => [c.source, c.checkedMs])).toEqual([
      [SOURCE, null],
      [B, null],
    ]);
    await runner.runOnce();
    expect(calls).toEqual([{ rest: 'http://127.0.0.1:9/source', nowMs: T0 }]);
    const [g, b] = runner.checks();
    expect(g).toMatchObject({ source: SOURCE, checkedMs: T0, compared: 2, unmatched: 1, flagged: 1, failures: 0, lastError: null });
    expect(g.rows[0]).toMatchObject({ instrument: 'ETH-PERP', flagged: true });
    expect(b).toMatchObject({ source: B, checkedMs: null, failures: 1, lastError: { message: 'boom', atMs: T0 } });
    expect(published.sort()).toEqual([`${B}:1:0`, `${SOURCE}:0:1`].sort());

    // A failed round keeps the last good figures and counts; the next good round clears nothing but refreshes them.
    fail = true;
    await runner.runOnce();
    expect(runner.checks()[0]).toMatchObject({ checkedMs: T0, compared: 2, flagged: 1, failures: 1, lastError: { message: 'HTTP 429 /info' } });
    fail = false;
    await runner.runOnce();
    expect(runner.checks()[0]).toMatchObject({ compared: 2, failures: 1 });
    expect(runner.checks()[1].failures).toBe(3);
  });

  it('a source that returns garbage (not a list) is a failure, not a crash', async () => {
    const engine = engineWithFunding();
    const odd: FundingSource = { exchange: SOURCE, rest: 'x', fundingReferences: async () => ({ nope: true }) as unknown as FundingReference[] };
    runner = new FundingCrossCheckRunner({ sources: () => [odd], lookup: lookupOf(engine), fetchJson });
    await runner.runOnce();
    expect(runner.checks()[0]).toMatchObject({ failures: 1, checkedMs: null });
  });

  it('runs firstDelayMs after start, again that soon while nothing could be compared, then every intervalMs; never two calls at once per source', async () => {
    const engine = engineWithFunding();
    let calls = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const src: FundingSource = {
      exchange: SOURCE,
      rest: 'x',
      fundingReferences: async () => {
        const call = ++calls;
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await sleep(5);
        concurrent--;
        // Our funding "arrives" between the second and the third call: decided by the call, not by when the
        // test gets to run, so a stalled test cannot let a round slip past in either state.
        return [ref(A, call >= 3 ? 'BTC-PERP' : 'NOPE-PERP', 0.0001)];
      },
    };
    // intervalMs far above every wait below: a quick round and an interval round cannot be confused even when
    // the process stalls for a few hundred ms.
    runner = new FundingCrossCheckRunner({ sources: () => [src], lookup: lookupOf(engine), fetchJson, firstDelayMs: 200, intervalMs: 10_000 });
    runner.start();
    await sleep(100);
    expect(calls).toBe(0);
    await waitFor('the first round', () => calls >= 1, 3000);
    // Nothing compared yet: the next round comes after firstDelayMs again (not intervalMs).
    await waitFor('a quick second round', () => calls >= 2, 3000);
    await waitFor('a quick third round that compares', () => runner!.checks()[0].compared === 1, 3000);
    // Compared: the next round is intervalMs away. Several firstDelayMs later, still the third call only.
    await sleep(1000);
    expect(calls).toBe(3);
    expect(maxConcurrent).toBe(1);
    runner.stop();
  });
});
