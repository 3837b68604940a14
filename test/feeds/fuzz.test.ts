/**
 * Fuzz: 100,000 mutated or truncated frames per adapter (seeded, reproducible). No exception may
 * escape; every frame is accounted for (rejected frames counted exactly once); whatever is emitted is
 * sane; invalid JSON is always rejected. A venue with merge state is primed with an undamaged snapshot
 * once (its case data's `fuzz.prime`) and then lives on across cases, as on a live socket: a damaged
 * delta corrupts what later frames emit.
 *
 * What the parser emits goes on, as in production, into a real Engine (store + detector) and a real
 * StrategyRunner, next to two reference venues quoting each instrument 40 bps below its undamaged
 * price (so real opportunities open and the strategy trades). After
 * every frame: no quote the detector may score is more than 10 % off that price, no opportunity has a
 * leg that far off or a spread beyond thresholds.maxSpreadBps, and no entry exceeds the configured
 * notional by more than strategy.notionalTolerancePct.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../shared/exchanges.js';
import type { ParseOutcome, VenueParser } from '../../server/feeds/adapter.js';
import { MAX_ERROR_REASONS, isEpochMs } from '../../server/feeds/adapter.js';
import { DEFAULT_CONFIG, applyConfigPatch, type Config } from '../../shared/config.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import type { MetadataTable } from '../../server/feeds/adapter.js';
import { Engine } from '../../server/engine/engine.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { StrategyRunner } from '../../server/strategy/runner.js';
import { EngineSink, register } from '../traps/wire.js';
import { CollectingSink, type Update, fixture, totalErrors } from './helpers.js';
import { VENUES } from '../../server/venues/index.js';
import { CASES, metaTable } from '../venues/cases.js';
import { mulberry32 } from '../helpers/random.js';
import { isJson, mutate } from '../helpers/mutate.js';

const N = 100_000;
const OUTCOMES: ParseOutcome[] = ['data', 'ack', 'pong', 'welcome', 'ignored', 'venue_error', 'reconnect_notice', 'rejected'];
/** True when every emitted update has plausible values. */
function sane(updates: Update[]): boolean {
  return updates.every((u) =>
    !(u.ts === 0 || isEpochMs(u.ts)) // 0: the venue sent no exchange time (unknown)
      ? false
      : u.kind === 'quote'
        ? u.bid > 0 && u.ask > 0 && u.bidSize >= 0 && u.askSize >= 0 && Number.isFinite(u.bid + u.ask + u.bidSize + u.askSize)
        : Number.isFinite(u.rate) && (u.intervalMs > 0 || u.intervalMs === 0) && isEpochMs(u.nextFundingMs), // interval 0 = unknown (knownFundingIntervalMs)
  );
}


interface Case {
  exchange: Exchange;
  frames: string[];
  /** The metadata the parser is built on (registered with the downstream engine). */
  meta: () => MetadataTable;
  make: (meta: MetadataTable) => VenueParser;
  /** Frames fed (unmutated) before each mutated one, e.g. the snapshot a delta merges into. */
  prime?: string[];
  /** Frame sequences a fresh connection starts with (parser reset first), e.g. a greeting first. */
  connections: string[][];
  /** Reasons a data frame may count once (part of it dropped, the rest emitted). */
  partial: ReadonlySet<string>;
}

/** Every registered venue, from its protocol case data (test/fixtures/<venue>/protocol.ts). */
const cases: Case[] = CASES.map(([exchange, c]) => ({
  exchange,
  frames: c.fuzz.files.map((f) => fixture(exchange, f)),
  meta: () => metaTable(exchange, c.meta),
  make: (meta) => VENUES[exchange].adapter.createParser(meta),
  prime: c.fuzz.prime?.map((f) => fixture(exchange, f)),
  connections: (c.fuzz.connections ?? []).map((seq) => seq.map((f) => fixture(exchange, f))),
  partial: new Set(c.fuzz.partial ?? []),
}));

/** Plain text compared loosely (case, surrounding white space, a final period), as a greeting is read. */
const loose = (s: string) => s.trim().replace(/\.$/, '').toLowerCase();

/** A fresh connection's sequence starts every this many frames (when the case has any). */
const CONNECTION_EVERY = 25;

/** Business time of the downstream engine: after every fixture timestamp (the latest is Aug 2026). */
const ENGINE_NOW_MS = Date.UTC(2026, 7, 10);

/** The undamaged mid of each symbol, from the case's frames parsed in order (after the prime). */
function cleanMids(c: Case): Map<string, number> {
  const p = c.make(c.meta());
  const sink = new CollectingSink();
  for (const f of [...(c.prime ?? []), ...c.frames]) p.parse(f, sink);
  const mids = new Map<string, number>();
  for (const u of sink.take()) if (u.kind === 'quote' && !mids.has(u.symbol)) mids.set(u.symbol, (u.bid + u.ask) / 2);
  return mids;
}

function downstreamConfig(): Config {
  // requireFunding off: the reference venues quote without funding (the test judges prices).
  const r = applyConfigPatch(DEFAULT_CONFIG, { thresholds: { minSpreadBps: 5, minProfitBps: 0 }, detector: { requireFunding: false }, strategy: { minOpportunityAgeMs: 0, minProfitBps: 1 } });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/**
 * A real engine and strategy behind the fuzzed parser: each symbol with a clean price is also quoted at
 * that price by two other venues (the consensus), so what the fuzzed venue contributes can be judged.
 */
function downstream(c: Case, meta: MetadataTable) {
  const config = downstreamConfig();
  const engine = new Engine({ config, now: () => ENGINE_NOW_MS });
  register(engine, meta);
  const mids = cleanMids(c);
  const refs = EXCHANGES.filter((ex) => ex !== c.exchange).slice(0, 2);
  const watched: Array<{ id: number; key: string; mid: number }> = [];
  for (const m of meta.values()) {
    const mid = mids.get(m.symbol);
    if (mid === undefined) continue;
    watched.push({ id: m.id, key: engine.instruments.instrumentOf(m.id), mid });
    for (const ex of refs) {
      const id = engine.registerInstrument(ex, `REF-${m.symbol}`, { base: m.base, quote: m.quote });
      // 40 bps below the fuzzed venue: buying there and selling on the fuzzed venue is a real opportunity.
      const refMid = mid * (1 - 0.004);
      engine.pushQuote(id, refMid * (1 - 1e-4), refMid * (1 + 1e-4), 1e6, 1e6, ENGINE_NOW_MS, 0);
    }
  }
  engine.drain();
  const runner = new StrategyRunner({ engine, config, persistence: new MemoryPersistence(), now: () => ENGINE_NOW_MS, nowUs: () => ENGINE_NOW_MS * 1000 });
  const tap = engine.bus.subscribe('fuzz');
  const trades = runner.events.subscribe('fuzz');
  const midOf = new Map(watched.map((w) => [w.key, w.mid]));
  const maxLegNotional = config.strategy.notionalUsd * (1 + config.strategy.notionalTolerancePct / 100);
  /** What reached the store, the detector and the strategy after one frame: a problem, or null. */
  const check = (): string | null => {
    engine.drain();
    for (const w of watched) {
      if (!engine.store.usable(w.id, ENGINE_NOW_MS)) continue;
      const mid = (engine.store.bid[w.id] + engine.store.ask[w.id]) / 2;
      if (Math.abs(mid / w.mid - 1) > 0.1) return `stored ${w.key} mid ${mid} vs ${w.mid}`;
    }
    for (const e of tap.popBatch(10_000)) {
      if (e.kind === 'closed') continue;
      const o = e.opportunity;
      const ref = midOf.get(o.instrument) ?? NaN;
      if (!(Math.abs(o.spreadBps) <= config.thresholds.maxSpreadBps)) return `opportunity ${o.id} spread ${o.spreadBps} bps`;
      if (!(Math.abs(o.longAsk / ref - 1) <= 0.1 && Math.abs(o.shortBid / ref - 1) <= 0.1)) return `opportunity ${o.id} legs ${o.longAsk} / ${o.shortBid} vs ${ref}`;
    }
    runner.step(ENGINE_NOW_MS);
    for (const e of trades.popBatch(10_000)) {
      if (e.kind !== 'fill') continue;
      const f = e.fill;
      if (f.purpose === 'entry' && f.notionalUsd > maxLegNotional + 1e-6) return `entry ${f.exchange} ${f.side} ${f.quantity} @ ${f.price} = ${f.notionalUsd} USD`;
    }
    return null;
  };
  return { engine, runner, check, watched };
}

describe('fuzz: 100,000 damaged frames per adapter', () => {
  for (const c of cases) {
    it(`${c.exchange}: no exception escapes, every bad frame is counted, nothing implausible reaches the engine or the strategy`, { timeout: 180_000 }, () => {
      const rnd = mulberry32(0x5eed + c.exchange.length);
      const meta = c.meta();
      const p = c.make(meta);
      const sink = new CollectingSink();
      const down = downstream(c, meta);
      expect(down.watched.length).toBeGreaterThan(0);
      const toEngine = new EngineSink(down.engine);
      for (const f of c.prime ?? []) p.parse(f, toEngine);
      let downstreamProblems = 0;
      let rejected = 0;
      let venueErrors = 0;
      const failures: string[] = [];
      /** Frames of the current fresh connection still to feed, and whether the next one is its first. */
      let pending: string[] = [];
      let firstOfConnection = false;
      const firstOutcomes: Partial<Record<ParseOutcome, number>> = {};
      /** The case's plain-text connection frames (greetings): read as welcome anywhere, loosely spelt. */
      const greetings = new Set(c.connections.flat().filter((f) => !isJson(f)).map(loose));
      for (let i = 0; i < N; i++) {
        if (pending.length === 0 && c.connections.length > 0 && i % CONNECTION_EVERY === 0) {
          p.reset(); // a new connection, as FeedManager does on a drop
          pending = [...c.connections[Math.floor(rnd() * c.connections.length)]];
          firstOfConnection = true;
        }
        const next = pending.shift();
        const first = firstOfConnection;
        firstOfConnection = false;
        const m = next === undefined ? mutate(c.frames[i % c.frames.length], rnd) : rnd() < 0.5 ? mutate(next, rnd) : next;
        const before = totalErrors(p.errors);
        const reasonsBefore = { ...p.errors };
        let outcome: ParseOutcome;
        try {
          outcome = p.parse(m, sink);
        } catch (e) {
          throw new Error(`parse threw on ${JSON.stringify(m)}: ${(e as Error).message}`);
        }
        const added = totalErrors(p.errors) - before;
        if (first) firstOutcomes[outcome] = (firstOutcomes[outcome] ?? 0) + 1;
        // A data frame that dropped part of itself (a venue's declared partial reason) counts once.
        const partialDrop = outcome === 'data' && added === 1 && Object.keys(p.errors).every((k) => p.errors[k] === (reasonsBefore[k] ?? 0) || c.partial.has(k));
        if (outcome === 'rejected') rejected++;
        if (outcome === 'venue_error') venueErrors++;
        const updates = sink.take();
        for (const u of updates) {
          const um = meta.get(u.symbol)!;
          // The downstream engine judges prices, not fixture dates: the frames' exchange times (2021–2026)
          // are far from its clock and would make every quote stale by exchange age, so they go in as
          // unknown (0). The parser-level check (sane) still judges each emitted timestamp.
          if (u.kind === 'quote') toEngine.quote(um, u.bid, u.ask, u.bidSize, u.askSize, 0);
          else toEngine.funding(um, u.rate, u.intervalMs, u.nextFundingMs, u.predicted, 0);
        }
        const downstreamProblem = down.check();
        if (downstreamProblem !== null) {
          downstreamProblems++;
          if (failures.length < 5) failures.push(`downstream: ${downstreamProblem} after ${JSON.stringify(m)}`);
        }
        const problem = !OUTCOMES.includes(outcome)
          ? 'unknown outcome'
          : added !== (outcome === 'rejected' || outcome === 'venue_error' ? 1 : 0) && !partialDrop
            ? 'not counted exactly once'
            : // Invalid JSON can never pass (a bare-text `pong` is the only non-JSON frame a venue sends; plain
              // text as a connection's first frame may be its greeting, and only a greeting).
              outcome !== 'rejected' && m !== 'pong' && !isJson(m) && !(outcome === 'welcome' && (first || greetings.has(loose(m))))
              ? 'invalid JSON accepted'
              : outcome !== 'data' && updates.length > 0
                ? 'updates from a non-data frame'
                : !sane(updates)
                  ? 'insane update'
                  : null;
        if (problem !== null && failures.length < 5) failures.push(`${problem}: ${JSON.stringify(m)} → ${outcome}`);
      }
      expect(failures).toEqual([]);
      expect(downstreamProblems).toBe(0);
      if (c.connections.length > 0) {
        // Fresh connections were fuzzed: first frames read as a greeting, and damaged ones counted, never thrown.
        console.log(`${c.exchange} first frames`, JSON.stringify(firstOutcomes));
        expect(firstOutcomes.welcome ?? 0).toBeGreaterThan(0);
        expect(firstOutcomes.rejected ?? 0).toBeGreaterThan(0);
      }
      // The downstream check is not vacuous: damaged prices were held out, real ones scored and traded.
      const engineStats = down.engine.stats();
      console.log(`${c.exchange} downstream`, JSON.stringify({ quarantine: engineStats.quarantine.byExchange, opened: engineStats.detector.opened, entries: down.runner.fills().filter((f) => f.purpose === 'entry').length }));
      expect(engineStats.quarantine.total).toBeGreaterThan(0);
      expect(engineStats.detector.opened).toBeGreaterThan(0);
      expect(down.runner.fills().some((f) => f.purpose === 'entry')).toBe(true);
      expect(totalErrors(p.errors)).toBe(rejected + venueErrors);
      // Reasons may carry venue-sent codes: the counter must stay bounded.
      expect(Object.keys(p.errors).length).toBeLessThanOrEqual(MAX_ERROR_REASONS + 1);
      expect(rejected).toBeGreaterThan(N / 3);
    });
  }
});
