/**
 * Fuzz of the kucoin, gate, bitget and hyperliquid depth parsers: 100,000 mutated or truncated depth frames
 * per venue from its real-format depth fixtures (`test/fixtures/<venue>/depth*.json`), seeded and
 * reproducible. (bybit, okx and binance: test/depth/fuzz.test.ts; these parsers answer a venue's error
 * frame `venue_error`, counted once, as the quote parsers do.) Every 8th
 * frame goes in undamaged (in file order) so snapshots keep re-syncing the books and damaged deltas meet
 * live books, as on a socket. No exception may escape; every frame has an outcome and a rejected (or
 * venue-error) frame is counted exactly once; invalid JSON is never accepted; every resync is counted
 * by reason; and every book handed over is sane: positive finite prices and sizes, bids strictly
 * descending, asks strictly ascending, not crossed, at most the requested levels, an epoch-ms or 0 time.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import { isEpochMs, type InstrumentMeta, type ParseOutcome } from '../../server/feeds/adapter.js';
import type { BookSide, DepthBook, DepthResyncReason, DepthSink } from '../../server/depth/types.js';
import { VENUES } from '../../server/venues/index.js';
import { CASES, metaTable } from './cases.js';
import { fixture, totalErrors } from '../feeds/helpers.js';
import { isJson, mutate } from '../helpers/mutate.js';
import { mulberry32 } from '../helpers/random.js';

const N = 100_000;
const LEVELS = 20;
const OUTCOMES: ParseOutcome[] = ['data', 'ack', 'pong', 'welcome', 'ignored', 'venue_error', 'reconnect_notice', 'rejected'];

function depthFixtures(ex: string): string[] {
  const dir = fileURLToPath(new URL(`../fixtures/${ex}/`, import.meta.url));
  return readdirSync(dir)
    .filter((f) => /^depth.*\.json$/.test(f))
    .sort();
}

/** What a side must look like: positive finite levels, strictly ordered best first, at most LEVELS. */
function sideProblem(s: BookSide, descending: boolean): string | null {
  if (s.length > LEVELS || s.prices.length !== s.length || s.sizes.length !== s.length) return 'length';
  for (let i = 0; i < s.length; i++) {
    if (!(s.prices[i] > 0 && Number.isFinite(s.prices[i]) && s.sizes[i] > 0 && Number.isFinite(s.sizes[i]))) return `level ${i}`;
    if (i > 0 && (descending ? s.prices[i] >= s.prices[i - 1] : s.prices[i] <= s.prices[i - 1])) return `order at ${i}`;
  }
  return null;
}

class CheckingSink implements DepthSink {
  books = 0;
  resyncs = 0;
  snapshotRequests = 0;
  problems: string[] = [];
  book(meta: InstrumentMeta, b: DepthBook): void {
    this.books++;
    const problem =
      sideProblem(b.bids, true) ??
      sideProblem(b.asks, false) ??
      (b.bids.length > 0 && b.asks.length > 0 && b.bids.prices[0] >= b.asks.prices[0] ? 'crossed' : null) ??
      (b.exchangeTsMs === 0 || isEpochMs(b.exchangeTsMs) ? null : `time ${b.exchangeTsMs}`);
    if (problem !== null && this.problems.length < 5) this.problems.push(`${meta.symbol}: ${problem}`);
  }
  resync(_meta: InstrumentMeta, _reason: DepthResyncReason): void {
    this.resyncs++;
  }
  snapshotNeeded(): void {
    this.snapshotRequests++;
  }
}

const VENUES_HERE: Exchange[] = ['kucoin', 'gate', 'bitget', 'hyperliquid'];
const cases = CASES.filter(([ex]) => VENUES_HERE.includes(ex)).map(([ex, c]) => ({
  ex,
  depth: VENUES[ex].adapter.depth!,
  meta: () => metaTable(ex, c.meta),
  frames: depthFixtures(ex).map((f) => fixture(ex, f)),
}));

describe('depth fuzz: 100,000 damaged depth frames per venue', () => {
  it('has a depth channel and depth fixtures for each of its venues', () => {
    expect(cases.map((c) => [c.ex, c.frames.length > 3, typeof c.depth.createParser]).sort()).toEqual(VENUES_HERE.map((ex) => [ex, true, 'function']).sort());
  });

  for (const c of cases) {
    it(`${c.ex}: no exception escapes, every frame is counted, every book handed over is sane`, { timeout: 180_000 }, () => {
      const rnd = mulberry32(0xd3b7 + c.ex.length);
      const p = c.depth.createParser(c.meta(), LEVELS);
      const sink = new CheckingSink();
      const failures: string[] = [];
      const outcomes: Record<string, number> = {};
      let counted = 0;
      let cleanAt = 0;
      for (let i = 0; i < N; i++) {
        const frame = i % 8 === 0 ? c.frames[cleanAt++ % c.frames.length] : mutate(c.frames[i % c.frames.length], rnd);
        const before = totalErrors(p.errors);
        const eventsBefore = sink.books + sink.resyncs;
        let outcome: ParseOutcome;
        try {
          outcome = p.parse(frame, sink);
        } catch (e) {
          throw new Error(`parse threw on ${JSON.stringify(frame)}: ${(e as Error).message}`);
        }
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        const added = totalErrors(p.errors) - before;
        if (outcome === 'rejected' || outcome === 'venue_error') counted++;
        const problem = !OUTCOMES.includes(outcome)
          ? 'unknown outcome'
          : added !== (outcome === 'rejected' || outcome === 'venue_error' ? 1 : 0)
            ? 'not counted exactly once'
            : outcome !== 'rejected' && outcome !== 'welcome' && outcome !== 'pong' && !isJson(frame)
              ? 'invalid JSON accepted'
              : outcome !== 'data' && sink.books + sink.resyncs !== eventsBefore
                ? 'books or resyncs from a non-data frame'
                : null;
        if (problem !== null && failures.length < 5) failures.push(`${problem}: ${JSON.stringify(frame)} → ${outcome}`);
      }
      console.log(`${c.ex} depth fuzz`, JSON.stringify({ outcomes, books: sink.books, resyncs: p.resyncs }));
      expect(failures).toEqual([]);
      expect(sink.problems).toEqual([]);
      expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(N);
      expect(totalErrors(p.errors)).toBe(counted);
      expect(totalErrors(p.resyncs)).toBe(sink.resyncs);
      // Not vacuous: books were kept and handed over, damage was seen and refused.
      expect(sink.books).toBeGreaterThan(N / 50);
      expect(outcomes.rejected ?? 0).toBeGreaterThan(N / 10);
    });
  }
});
