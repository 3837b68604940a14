/**
 * bench/depth (`npm run bench -- depth`): the cost of scoring with order books (issue 14 §3).
 *
 * 1. A simulator in this process lists DEPTH_INSTRUMENTS synthetic instruments on every venue at
 *    DEPTH_RATE quote msgs/s. The server's own feed code records CAPTURE_S seconds of every venue's quote
 *    frames (bench/universe/capture.ts); then, for every venue whose adapter has a depth channel, the
 *    depth channel of the first DEPTH_CANDIDATES instruments (the candidates) is recorded the same way
 *    (capture.ts, the venue's own VenueDepth.plan). Venues without a depth channel, or whose twin sent no
 *    depth, are listed as missing.
 * 2. Per venue, in-process and in CPU time (the machine is shared): depth messages/s through parse →
 *    L2 book → Engine.pushDepth (DepthStore + rescore of the touched pairs, capacity included when an
 *    event is built), on an engine holding every venue's quotes (replayed first).
 * 3. capacity_p99_us: capacityUsd on the recorded books of every (long venue, short venue) pair of each
 *    candidate, one call timed at a time.
 * 4. cpu_ratio_vs_universe: CPU per message with depth on ÷ CPU per message of the universe's quotes
 *    alone, both measured here in this run on frames from the same simulator: with depth on, the server
 *    handles the quote stream plus the candidates' depth stream, so the figure is
 *    (Rq·q + Rd·d) / (Rq + Rd) ÷ q, with Rq, Rd the recorded rates (msgs/s) and q, d the parse + engine
 *    CPU µs per quote / depth message. Socket reads and the client stream cost the same per message with
 *    or without depth and are left out (the universe bench measures them with the whole server).
 *
 * The engine clock is frozen at the replay's start with detector.staleAfterMs at one hour, so every
 * replayed quote and book stays fresh however long the measurement runs.
 *
 * Env: DEPTH_INSTRUMENTS (100), DEPTH_CANDIDATES (50), DEPTH_RATE (20000), DEPTH_CAPTURE_S (3),
 * DEPTH_MEASURE_S (1, CPU seconds per measurement). Writes bench/results/depth.json.
 */
import { DEFAULT_CONFIG, type Config } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { DepthBook, DepthParser, DepthSink } from '../../server/depth/types.js';
import { capacityUsd } from '../../server/engine/depth-scoring.js';
import { Engine } from '../../server/engine/engine.js';
import type { InstrumentMeta, MetadataTable, UpdateSink } from '../../server/feeds/adapter.js';
import { ADAPTERS } from '../../server/feeds/endpoints.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import { startSimulator } from '../../server/simulator/index.js';
import { throughput } from '../ingest/ccxt.js';
import { nowNs, report, Samples, writeResult } from '../lib.js';
import { captureFrames } from '../universe/capture.js';
import { syntheticKeys, universeSimulatorOptions } from '../universe/universe.js';
import { captureDepth, type CapturedDepth } from './capture.js';

const INSTRUMENTS = Number(process.env.DEPTH_INSTRUMENTS ?? 100);
const CANDIDATES = Number(process.env.DEPTH_CANDIDATES ?? 50);
const RATE = Number(process.env.DEPTH_RATE ?? 20_000);
const CAPTURE_S = Number(process.env.DEPTH_CAPTURE_S ?? 3);
const MEASURE_S = Number(process.env.DEPTH_MEASURE_S ?? 1);
const LEVELS = DEFAULT_CONFIG.depth.levels;
const CAPACITY_SAMPLES = 50_000;
/** Slippage room given to capacityUsd (base profit − minProfitBps): enough to walk several levels. */
const CAPACITY_ROOM_BPS = 10;

const keys = syntheticKeys(INSTRUMENTS);
const candidateKeys = new Set(keys.slice(0, CANDIDATES));
const benchConfig: Config = {
  ...DEFAULT_CONFIG,
  detector: { ...DEFAULT_CONFIG.detector, staleAfterMs: 3_600_000 },
  market: { ...DEFAULT_CONFIG.market, instruments: keys },
};

// ---------------------------------------------------------------------------------------------------
// 1. Record

const fetchJson = createFetchJson();
const sim = await startSimulator({ seed: 1, messagesPerSec: RATE, dislocationsPerMin: 600, ...universeSimulatorOptions(INSTRUMENTS) });
const quotes = await captureFrames(sim.endpoints, keys, CAPTURE_S);
const depthVenues = EXCHANGES.filter((ex) => ADAPTERS[ex].depth !== undefined);
const depthCaptured = new Map<Exchange, CapturedDepth>();
const missing: Record<string, string> = {};
for (const ex of EXCHANGES) if (!depthVenues.includes(ex)) missing[ex] = 'no depth channel in its adapter';
await Promise.all(
  depthVenues.map(async (ex) => {
    const symbols = [...quotes.meta[ex].values()].filter((m) => candidateKeys.has(m.key)).map((m) => m.symbol);
    try {
      const c = await captureDepth(ADAPTERS[ex].depth!, sim.endpoints[ex], quotes.meta[ex], symbols, LEVELS, CAPTURE_S, fetchJson);
      depthCaptured.set(ex, c);
    } catch (e) {
      missing[ex] = `capture failed: ${(e as Error).message}`;
    }
  }),
);
await sim.close();

// ---------------------------------------------------------------------------------------------------
// 2. Replay

/** An engine with every venue's recorded instruments registered; `metas` per venue re-keyed to its ids. */
function makeEngine(): { engine: Engine; tables: Record<Exchange, MetadataTable> } {
  const frozen = Date.now();
  const engine = new Engine({ config: benchConfig, now: () => frozen });
  const tables = {} as Record<Exchange, MetadataTable>;
  for (const ex of EXCHANGES) {
    const table: MetadataTable = new Map();
    for (const m of quotes.meta[ex].values()) table.set(m.symbol, { ...m, id: engine.registerInstrument(ex, m.symbol, { base: m.base, quote: m.quote }) });
    tables[ex] = table;
  }
  return { engine, tables };
}

function quoteSink(engine: Engine): UpdateSink {
  return {
    quote: (m: InstrumentMeta, bid, ask, bs, as, ts) => void engine.pushQuote(m.id, bid, ask, bs, as, ts, ts * 1000),
    funding: (m: InstrumentMeta, rate, iv, next, predicted, ts) => void engine.pushFunding(m.id, rate, iv, next, predicted, ts, ts * 1000),
  };
}

// The universe's quote frames, every venue in turn, through parse + engine.
const quoteFrames: Array<[Exchange, string]> = [];
for (const ex of EXCHANGES) for (const raw of quotes.frames[ex]) quoteFrames.push([ex, raw]);
const universeUs = (() => {
  const { engine, tables } = makeEngine();
  const sink = quoteSink(engine);
  const parsers = Object.fromEntries(EXCHANGES.map((ex) => [ex, ADAPTERS[ex].createParser(tables[ex])]));
  const perSec = throughput(quoteFrames.length, (i) => {
    const [ex, raw] = quoteFrames[i];
    if (parsers[ex].parse(raw, sink) === 'data') engine.drain();
  }, MEASURE_S);
  return 1e6 / perSec;
})();

// Depth: one engine holding every venue's quotes; each venue's recorded depth frames through a fresh parser per pass.
const { engine, tables } = makeEngine();
{
  const sink = quoteSink(engine);
  for (const ex of EXCHANGES) {
    const parser = ADAPTERS[ex].createParser(tables[ex]);
    for (const raw of quotes.frames[ex]) parser.parse(raw, sink);
  }
  engine.drain();
}

interface VenueResult {
  frames: number;
  capture_s: number;
  offered_msgs_per_s: number;
  /** Parse → book → pushDepth (store + rescore) per CPU second. */
  msgs_per_s: number;
  us_per_msg: number;
  /** The parser alone (book kept and folded, nothing stored or rescored). */
  parse_only_us_per_msg: number;
  books_per_pass: number;
  resyncs_per_pass: number;
  parser_errors: Record<string, number>;
}
const venues: Partial<Record<Exchange, VenueResult>> = {};
for (const [ex, captured] of depthCaptured) {
  const depth = ADAPTERS[ex].depth!;
  const table = tables[ex];
  let books = 0;
  let resyncs = 0;
  const wanted: InstrumentMeta[] = [];
  const sink: DepthSink = {
    book: (meta: InstrumentMeta, book: DepthBook) => {
      books++;
      engine.pushDepth(meta.id, book);
    },
    resync: (meta: InstrumentMeta) => {
      resyncs++;
      engine.dropDepth(meta.id, 'gap');
    },
    snapshotNeeded: (meta: InstrumentMeta) => void wanted.push(meta),
  };
  let parser: DepthParser = depth.createParser(table, LEVELS);
  const frames = captured.frames;
  const step = (i: number) => {
    if (i === 0) {
      parser = depth.createParser(table, LEVELS);
      books = resyncs = 0;
    }
    parser.parse(frames[i], sink);
    while (wanted.length > 0) {
      const meta = wanted.pop()!;
      const body = captured.snapshots.get(meta.symbol);
      if (body !== undefined && body !== null) parser.applySnapshot?.(meta, body, sink);
    }
  };
  for (let i = 0; i < frames.length; i++) step(i); // one counted pass
  const booksPerPass = books;
  const resyncsPerPass = resyncs;
  if (booksPerPass === 0) {
    missing[ex] = `no book from ${frames.length} recorded depth frames (the twin sends no depth?)`;
    continue;
  }
  const perSec = throughput(frames.length, step, MEASURE_S);
  // The parser alone (books built and folded, handed to a sink that keeps nothing): what the engine adds is the rest.
  const idle: DepthSink = { book: () => undefined, resync: () => undefined, snapshotNeeded: (meta) => void wanted.push(meta) };
  let bare: DepthParser = depth.createParser(table, LEVELS);
  const parseOnlyPerSec = throughput(frames.length, (i) => {
    if (i === 0) bare = depth.createParser(table, LEVELS);
    bare.parse(frames[i], idle);
    while (wanted.length > 0) {
      const meta = wanted.pop()!;
      const body = captured.snapshots.get(meta.symbol);
      if (body !== undefined && body !== null) bare.applySnapshot?.(meta, body, idle);
    }
  }, MEASURE_S);
  venues[ex] = {
    frames: frames.length,
    capture_s: captured.seconds,
    offered_msgs_per_s: frames.length / captured.seconds,
    msgs_per_s: perSec,
    us_per_msg: 1e6 / perSec,
    parse_only_us_per_msg: 1e6 / parseOnlyPerSec,
    books_per_pass: booksPerPass,
    resyncs_per_pass: resyncsPerPass,
    parser_errors: { ...parser.errors },
  };
}

// ---------------------------------------------------------------------------------------------------
// 3. capacityUsd on the recorded books

const capacity = new Samples(CAPACITY_SAMPLES);
{
  const pairs: Array<[DepthBook, DepthBook]> = [];
  for (const key of candidateKeys) {
    const held: DepthBook[] = [];
    for (const ex of Object.keys(venues) as Exchange[]) {
      const id = engine.instruments.idFor(key, ex);
      const book = id < 0 ? undefined : engine.depth.get(id);
      if (book) held.push(book);
    }
    for (const a of held) for (const b of held) if (a !== b) pairs.push([a, b]);
  }
  let sink = 0;
  for (let n = 0; pairs.length > 0 && n < CAPACITY_SAMPLES; n++) {
    const [long, short] = pairs[n % pairs.length];
    const t0 = nowNs();
    const c = capacityUsd(long, short, 2 + CAPACITY_ROOM_BPS, 2);
    capacity.add((nowNs() - t0) / 1000);
    sink += c ?? 0;
  }
  if (!Number.isFinite(sink)) console.log('(capacity sink)', sink); // keeps the calls observable
}
const cap = capacity.summary();

// ---------------------------------------------------------------------------------------------------
// 4. CPU per message with depth on ÷ the universe's

const quoteRate = quoteFrames.length / CAPTURE_S;
let depthRate = 0;
let depthUsWeighted = 0;
for (const v of Object.values(venues)) {
  depthRate += v.offered_msgs_per_s;
  depthUsWeighted += v.offered_msgs_per_s * v.us_per_msg;
}
const depthUs = depthRate > 0 ? depthUsWeighted / depthRate : Number.NaN;
const depthOnUs = (quoteRate * universeUs + depthUsWeighted) / (quoteRate + depthRate);
const ratio = depthOnUs / universeUs;

report(`depth: parse → book → rescore, ${CANDIDATES} candidates of ${INSTRUMENTS} instruments, ${LEVELS} levels`, [
  ...Object.entries(venues).map(([ex, v]): [string, string] => [
    ex,
    `${v.msgs_per_s.toFixed(0)} msgs/s (${v.us_per_msg.toFixed(2)} µs/msg, parse alone ${v.parse_only_us_per_msg.toFixed(2)}; ${v.frames} frames, ${v.offered_msgs_per_s.toFixed(0)}/s offered, ${v.books_per_pass} books, ${v.resyncs_per_pass} resyncs)`,
  ]),
  ...Object.entries(missing).map(([ex, why]): [string, string] => [`${ex} (missing)`, why]),
  ['capacityUsd p50 / p99 / max µs', `${cap.p50.toFixed(2)} / ${cap.p99.toFixed(2)} / ${cap.max.toFixed(2)} (${cap.count} calls)`],
  ['universe quotes: msgs/s recorded, µs/msg', `${quoteRate.toFixed(0)}, ${universeUs.toFixed(2)}`],
  ['depth: msgs/s recorded, µs/msg', `${depthRate.toFixed(0)}, ${depthUs.toFixed(2)}`],
  ['CPU µs/msg with depth on', depthOnUs],
  ['cpu_ratio_vs_universe (goal ≤ 1.5)', ratio],
]);
const file = writeResult('depth', {
  instruments: INSTRUMENTS,
  candidates: CANDIDATES,
  levels: LEVELS,
  sim_rate_setting: RATE,
  capture_s: CAPTURE_S,
  venues,
  missing_venues: missing,
  capacity_p50_us: cap.p50,
  capacity_p99_us: cap.p99,
  capacity_max_us: cap.max,
  capacity_calls: cap.count,
  universe_quote_msgs_per_s: quoteRate,
  universe_us_per_msg: universeUs,
  depth_msgs_per_s: depthRate,
  depth_us_per_msg: depthUs,
  depth_on_us_per_msg: depthOnUs,
  cpu_ratio_vs_universe: ratio,
});
console.log(`\nwrote ${file}`);
process.exit(0);
