/**
 * Fuzz of every venue's depth parser (each registered venue with a depth channel): 100,000 mutated or
 * truncated depth frames per venue from its real-format depth fixtures (`test/fixtures/<venue>/depth*.json`),
 * seeded and reproducible. A venue's error frame is `venue_error`, counted once, as the quote parsers do.
 * Every 8th frame goes in undamaged (in file order) so snapshots keep re-syncing the books and damaged
 * deltas meet live books, as on a socket. A diff-only venue's REST snapshot body
 * (`depth-snapshot-rest.json`) is applied every 10th frame, undamaged or damaged. No exception may escape;
 * every frame has an outcome and a rejected (or venue-error) frame or REST body is counted exactly once;
 * invalid JSON is never accepted; every resync counted is reported to the sink with its reason (but a venue
 * reset whose snapshot replaces the book at once); error reasons stay bounded; and every book handed over
 * is sane: positive finite prices and sizes, bids strictly descending, asks strictly ascending, not
 * crossed, at most the requested levels, an epoch-ms or 0 time.
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

/** The REST snapshot body of a diff-only venue (not a socket frame). */
const REST_SNAPSHOT = 'depth-snapshot-rest.json';

function depthFixtures(ex: string): string[] {
  const dir = fileURLToPath(new URL(`../fixtures/${ex}/`, import.meta.url));
  return readdirSync(dir)
    .filter((f) => /^depth.*\.json$/.test(f) && f !== REST_SNAPSHOT)
    .sort();
}

function restSnapshot(ex: Exchange): string | null {
  const dir = fileURLToPath(new URL(`../fixtures/${ex}/`, import.meta.url));
  return readdirSync(dir).includes(REST_SNAPSHOT) ? fixture(ex, REST_SNAPSHOT) : null;
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
  /** Resyncs reported, by reason. */
  readonly reasons: Record<string, number> = {};
  resync(_meta: InstrumentMeta, reason: DepthResyncReason): void {
    this.resyncs++;
    this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
  }
  snapshotNeeded(): void {
    this.snapshotRequests++;
  }
}

/**
 * What is wrong with the resyncs one step (a frame, or a REST snapshot body) counted in the parser against
 * those it reported to the sink, by reason; null when they agree. One exception: a venue reset whose new
 * snapshot replaces the book in the same step (the book is never out of sync, so the feed must neither drop
 * it nor resubscribe) is counted but not reported, and that step reports the book's new state instead: a
 * book handed over, or another resync. `inPlace` is 1 for such a step.
 */
function resyncProblem(counted: Delta, reported: Delta, books: number): { problem: string | null; inPlace: number } {
  const reasons = new Set([...Object.keys(counted), ...Object.keys(reported)]);
  let inPlace = 0;
  for (const r of reasons) {
    const c = counted[r] ?? 0;
    const rep = reported[r] ?? 0;
    if (c === rep) continue;
    const otherReported = Object.entries(reported).some(([k, n]) => k !== r && n > 0);
    if (r === 'reset' && c === rep + 1 && (books > 0 || otherReported)) inPlace = 1;
    else return { problem: `resync ${r}: counted ${c}, reported ${rep}`, inPlace: 0 };
  }
  return { problem: null, inPlace };
}

type Delta = Record<string, number>;

/** `after - before` per key (counters only grow). */
function delta(after: Record<string, number>, before: Record<string, number>): Delta {
  const d: Delta = {};
  for (const [k, n] of Object.entries(after)) if (n !== (before[k] ?? 0)) d[k] = n - (before[k] ?? 0);
  return d;
}

function parseable(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}


const cases = CASES.flatMap(([ex, c]) => {
  const depth = VENUES[ex].adapter.depth;
  return depth ? [{ ex, depth, meta: () => metaTable(ex, c.meta), frames: depthFixtures(ex).map((f) => fixture(ex, f)), rest: restSnapshot(ex) }] : [];
});

describe('depth fuzz: 100,000 damaged depth frames per venue', () => {
  it('every venue with a depth channel has depth fixtures (at least three frames)', () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(c.frames.length, c.ex).toBeGreaterThanOrEqual(3);
    // A diff-only venue builds no book without its REST snapshot body.
    for (const c of cases) expect(c.rest !== null, c.ex).toBe(c.depth.snapshotUrl !== undefined);
  });

  for (const c of cases) {
    it(`${c.ex}: no exception escapes, every frame is counted, every book handed over is sane`, { timeout: 180_000 }, () => {
      const rnd = mulberry32(0xd3b7 + c.ex.length);
      const meta = c.meta();
      const p = c.depth.createParser(meta, LEVELS);
      const sink = new CheckingSink();
      const failures: string[] = [];
      const outcomes: Record<string, number> = {};
      /** Frames and REST bodies rejected (or venue errors): each must add exactly one error. */
      let counted = 0;
      let inPlaceResets = 0;
      let cleanAt = 0;
      /** Runs one step; the problem with how it counted, or null. */
      const step = (run: () => ParseOutcome, input: string, isFrame: boolean): string | null => {
        const before = totalErrors(p.errors);
        const resyncsBefore = { ...p.resyncs };
        const reasonsBefore = { ...sink.reasons };
        const booksBefore = sink.books;
        const eventsBefore = sink.books + sink.resyncs;
        let outcome: ParseOutcome;
        try {
          outcome = run();
        } catch (e) {
          throw new Error(`${isFrame ? 'parse' : 'applySnapshot'} threw on ${JSON.stringify(input)}: ${(e as Error).message}`);
        }
        if (isFrame) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        const added = totalErrors(p.errors) - before;
        if (outcome === 'rejected' || outcome === 'venue_error') counted++;
        const resync = resyncProblem(delta(p.resyncs, resyncsBefore), delta(sink.reasons, reasonsBefore), sink.books - booksBefore);
        inPlaceResets += resync.inPlace;
        const problem = !OUTCOMES.includes(outcome)
          ? 'unknown outcome'
          : added !== (outcome === 'rejected' || outcome === 'venue_error' ? 1 : 0)
            ? 'not counted exactly once'
            : isFrame && outcome !== 'rejected' && outcome !== 'welcome' && outcome !== 'pong' && !isJson(input)
              ? 'invalid JSON accepted'
              : outcome !== 'data' && sink.books + sink.resyncs !== eventsBefore
                ? 'books or resyncs from a non-data frame'
                : resync.problem;
        return problem === null ? null : `${problem}: ${isFrame ? '' : 'REST body '}${JSON.stringify(input)} → ${outcome}`;
      };
      const m = meta.values().next().value!;
      for (let i = 0; i < N; i++) {
        const frame = i % 8 === 0 ? c.frames[cleanAt++ % c.frames.length] : mutate(c.frames[i % c.frames.length], rnd);
        const problem = step(() => p.parse(frame, sink), frame, true);
        if (problem !== null && failures.length < 5) failures.push(problem);
        if (c.rest !== null && i % 10 === 0) {
          // A body the feed fetched (it hands over parsed JSON only); its errors are the parser's too.
          const text = rnd() < 0.5 ? c.rest : mutate(c.rest, rnd);
          const body = parseable(text);
          const restProblem = body === undefined ? null : step(() => p.applySnapshot!(m, body, sink), text, false);
          if (restProblem !== null && failures.length < 5) failures.push(restProblem);
        }
      }
      console.log(`${c.ex} depth fuzz`, JSON.stringify({ outcomes, books: sink.books, resyncs: p.resyncs, inPlaceResets }));
      expect(failures).toEqual([]);
      expect(sink.problems).toEqual([]);
      expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(N);
      expect(totalErrors(p.errors)).toBe(counted);
      expect(totalErrors(p.resyncs)).toBe(sink.resyncs + inPlaceResets);
      // Error reasons stay bounded however the frames are damaged (count() folds the rest into `other`).
      expect(Object.keys(p.errors).length).toBeLessThanOrEqual(64);
      // Not vacuous: books were kept and handed over, damage was seen and refused.
      expect(sink.books).toBeGreaterThan(N / 50);
      expect(outcomes.rejected ?? 0).toBeGreaterThan(N / 10);
    });
  }
});
