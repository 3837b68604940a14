/**
 * bench/ingest: raw wire frames (each venue's real shapes) → adapter parse → engine (push + drain per
 * frame, as the live feed does), in frames/s per venue and per-frame p50/p99; then the same information
 * through ccxt.pro's own WebSocket message handler for that venue (JSON.parse + handleMessage with an
 * in-process client object, no network), interleaved round by round, and the speed ratio.
 *
 * The ratio is per coin-update of the same information. Where ccxt's handler reads our frames, both sides
 * get the same frames (one coin-update each) and the ratio is msgs_per_s ÷ ccxt_msgs_per_s. Where ccxt
 * subscribes to other channels for that information (the venue's `ccxtFrames`, e.g. per-coin contexts where
 * we take one positional frame for the whole dex), ccxt gets its own frames carrying exactly our frames'
 * coin-updates, and the ratio compares the time each side takes for the whole set:
 * (msgs_per_s ÷ frames) ÷ (ccxt_msgs_per_s ÷ ccxt_frames) = coin_updates_per_s ÷ ccxt_coin_updates_per_s.
 *
 *   npx tsx bench/ingest/main.ts [--seconds 1] [--rounds 3]
 *
 * The machine is shared: throughput is per CPU second, and every figure is the best of `rounds` runs.
 */
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import { Engine } from '../../server/engine/engine.js';
import type { InstrumentMeta, MetadataTable, UpdateSink, VenueParser } from '../../server/feeds/adapter.js';
import { defaultMetadata } from '../../server/feeds/metadata.js';
import type { CcxtFrameSet, VenueIngestBench } from '../../server/venues/bench-types.js';
import { VENUES } from '../../server/venues/index.js';
import { Samples, fmt, report, writeResult } from '../lib.js';
import { ccxtHandler, ccxtMarket, throughput as cpuThroughput, type CcxtRun } from './ccxt.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const SECONDS = arg('--seconds', 1);
const ROUNDS = arg('--rounds', 3);
const FRAMES = 20_000;
const BASES = ['BTC', 'ETH', 'SOL', 'XRP', 'DOGE'];
const PRICES: Record<string, number> = { BTC: 91_000, ETH: 3050, SOL: 140, XRP: 2.1, DOGE: 0.16 };
const KEYS = BASES.map((b) => `${b}-PERP`);
const T0 = 1_795_600_000_000;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(42);
const decimalsOf = (base: string) => (base === 'BTC' ? 1 : base === 'ETH' ? 2 : 4);
const px = (base: string) => (PRICES[base] * (1 + (rnd() - 0.5) * 0.002)).toFixed(decimalsOf(base));
const sz = () => (rnd() * 20).toFixed(3);
/** A two-sided touch, 1–5 ticks wide (never crossed: the engine rejects a crossed quote before doing its work). */
const touch = (base: string): [string, string] => {
  const d = decimalsOf(base);
  const bid = Number(px(base));
  return [bid.toFixed(d), (bid + (1 + Math.floor(rnd() * 5)) * 10 ** -d).toFixed(d)];
};

/** The live feed's sink: push into the engine with a receive stamp. */
class EngineSink implements UpdateSink {
  constructor(private readonly engine: Engine) {}
  quote(m: InstrumentMeta, bid: number, ask: number, bs: number, as: number, ts: number): void {
    this.engine.pushQuote(m.id, bid, ask, bs, as, ts, ts * 1000);
  }
  funding(m: InstrumentMeta, rate: number, intervalMs: number, next: number, predicted: boolean, ts: number): void {
    this.engine.pushFunding(m.id, rate, intervalMs, next, predicted, ts, ts * 1000);
  }
  /** Open interest and volume, as the live sink pushes them (ccxt's handlers parse those fields too). */
  stats(m: InstrumentMeta, oiUsd: number, volumeUsd: number, ts: number): void {
    this.engine.pushStats(m.id, oiUsd, volumeUsd, ts, ts * 1000);
  }
}
const NULL_SINK: UpdateSink = { quote() {}, funding() {} };

interface Venue {
  exchange: Exchange;
  frames: string[];
  makeParser: (meta: MetadataTable) => VenueParser;
  ccxtId: string;
  /** ccxt's frame sets for the information in `frames`: the first is the one the ratio is taken on. */
  ccxtSets: CcxtFrameSet[];
  /** True when ccxt gets its own frames (other channels than ours) rather than `frames`. */
  ownCcxtFrames: boolean;
  /** Coin-updates in `frames` (= in each ccxt set). */
  updates: number;
}
/** Each registered venue with an ingest bench (`server/venues/<venue>/bench.ts`), in registry order (the PRNG is shared). */
const venues: Venue[] = [];
for (const exchange of EXCHANGES) {
  let bench: VenueIngestBench;
  try {
    bench = ((await import(`../../server/venues/${exchange}/bench.ts`)) as { ingestBench: VenueIngestBench }).ingestBench;
  } catch {
    console.log(`${exchange}: no server/venues/${exchange}/bench.ts, not in this bench`);
    continue;
  }
  const mod = VENUES[exchange];
  const symbol = (base: string) => mod.symbols.nativeSymbol(base, 'USDT');
  const frames = bench.frames({ count: FRAMES, bases: BASES, symbol, t0: T0, rnd, px, sz, touch });
  const own = bench.ccxtFrames?.(frames, BASES.map(symbol));
  venues.push({
    exchange,
    frames,
    makeParser: (m) => mod.adapter.createParser(m),
    ccxtId: bench.ccxtId,
    ccxtSets: own?.sets ?? [{ label: '', frames, note: 'the same frames (one coin-update each)' }],
    ownCcxtFrames: own !== undefined,
    updates: own?.updates ?? frames.length,
  });
}
/** The venue whose bare JSON.parse rate is also measured, and whose figures the goal names (the registry's first). */
const REFERENCE = venues[0]?.exchange;

function metaFor(exchange: Exchange, engine: Engine | null): MetadataTable {
  const t = defaultMetadata(exchange, KEYS);
  for (const m of t.values()) {
    m.nextFundingMs = 1_795_622_400_000;
    // The bench universe's order: a venue's positional frames (one context per listed coin) pair by it.
    m.position = BASES.indexOf(m.base);
    m.id = engine ? engine.registerInstrument(exchange, m.symbol, { base: m.base, quote: m.quote }) : 0;
  }
  return t;
}

const throughput = (n: number, step: (i: number) => void): number => cpuThroughput(n, step, SECONDS);

/** Per-frame latency: one timed call per frame (timer cost ~30-60 ns included). */
function latency(n: number, step: (i: number) => void): { p50: number; p99: number } {
  const s = new Samples(n * 2);
  for (let r = 0; r < 2; r++)
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      step(i);
      s.add(Number(process.hrtime.bigint() - t));
    }
  const sum = s.summary();
  return { p50: sum.p50, p99: sum.p99 };
}

/** ccxt's markets for the bench's symbols (the venue's settle currency, contract values as in our metadata). */
function ccxtMarkets(v: Venue): Array<Record<string, unknown>> {
  return [...metaFor(v.exchange, null).values()].map((m) => ccxtMarket(m.symbol, m.base, m.contractValue, m.quote));
}

/** Decimals shown for a result field. */
const decimals = (k: string) => (k.includes('ratio') ? 2 : 0);

const RATIO_NOTE =
  "ratio_vs_ccxt = our coin-updates per CPU second ÷ ccxt's on the same information = (msgs_per_s ÷ frames) ÷ (ccxt_msgs_per_s ÷ ccxt_frames), " +
  'which is msgs_per_s ÷ ccxt_msgs_per_s where both get the same frames; ccxt_basis says where ccxt gets its own frames (its channels for that information)';
console.log(`(${RATIO_NOTE})`);

const results: Record<string, Record<string, number | string>> = {};
const best = (a: number | undefined, b: number) => (a === undefined || b > a ? b : a);
const lowest = (a: number | undefined, b: number) => (a === undefined || b < a ? b : a);

for (const v of venues) {
  const r: Record<string, number | string> = {};
  const n = v.frames.length;
  const markets = ccxtMarkets(v);
  const sets = v.ccxtSets.map((set) => ({ ...set, run: ccxtHandler(v.ccxtId, markets, set.frames) as CcxtRun | { error: string }, best: 0 }));
  const main = sets[0];
  for (let round = 0; round < ROUNDS; round++) {
    // parse → engine (push + drain per frame), as FeedManager does
    const engine = new Engine({ config: DEFAULT_CONFIG, now: () => T0 + 1000 });
    const engineParser = v.makeParser(metaFor(v.exchange, engine));
    const sink = new EngineSink(engine);
    const frames = v.frames;
    const full = (i: number) => {
      if (engineParser.parse(frames[i], sink) === 'data') engine.drain();
    };
    r.msgs_per_s = best(r.msgs_per_s as number, throughput(n, full));
    const lat = latency(n, full);
    r.p50_ns = lowest(r.p50_ns as number, lat.p50);
    r.p99_ns = lowest(r.p99_ns as number, lat.p99);
    // parse only (no engine)
    const bare = v.makeParser(metaFor(v.exchange, null));
    r.parse_only_msgs_per_s = best(r.parse_only_msgs_per_s as number, throughput(n, (i) => bare.parse(frames[i], NULL_SINK)));
    if (v.exchange === REFERENCE) {
      r.bare_json_parse_msgs_per_s = best(r.bare_json_parse_msgs_per_s as number, throughput(n, (i) => JSON.parse(frames[i])));
    }
    // ccxt, same round: its frames for the same information (per-frame latency on the set the ratio uses)
    for (const set of sets) {
      if (!('step' in set.run)) continue;
      set.best = best(set.best, throughput(set.frames.length, set.run.step));
      if (set === main) r.ccxt_p99_ns = lowest(r.ccxt_p99_ns as number, latency(set.frames.length, set.run.step).p99);
    }
    const errs = Object.values(engineParser.errors).reduce((a, b) => a + b, 0);
    if (errs > 0) throw new Error(`${v.exchange}: ${errs} frames rejected in the bench set: ${JSON.stringify(engineParser.errors)}`);
  }
  /** Our speed ÷ ccxt's on a set, both as passes over the same information per CPU second. */
  const ratio = (ours: number, set: (typeof sets)[number]) => Number((ours / n / (set.best / set.frames.length)).toFixed(2));
  if ('step' in main.run) {
    r.ccxt_msgs_per_s = main.best;
    r.ratio_vs_ccxt = ratio(r.msgs_per_s as number, main);
    r.parse_only_ratio_vs_ccxt = ratio(r.parse_only_msgs_per_s as number, main);
    if (v.ownCcxtFrames) {
      r.ccxt_basis = `ccxt's own channels for the same information: ${main.note}`;
      r.frames = n;
      r.ccxt_frames = main.frames.length;
      r.coin_updates = v.updates;
      r.coin_updates_per_s = ((r.msgs_per_s as number) * v.updates) / n;
      r.ccxt_coin_updates_per_s = (main.best * v.updates) / main.frames.length;
      r.ccxt_frame_bytes_avg = main.frames.reduce((s, f) => s + f.length, 0) / main.frames.length;
    }
  } else r.ccxt = `not measured: ${main.run.error}`;
  for (const set of sets.slice(1)) {
    if (!('step' in set.run)) {
      r[`ccxt_${set.label}`] = `not measured: ${set.run.error}`;
      continue;
    }
    r[`ccxt_msgs_per_s_${set.label}`] = set.best;
    r[`ratio_vs_ccxt_${set.label}`] = ratio(r.msgs_per_s as number, set);
    r[`ccxt_basis_${set.label}`] = set.note;
    r[`ccxt_frame_bytes_avg_${set.label}`] = set.frames.reduce((s, f) => s + f.length, 0) / set.frames.length;
  }
  r.frame_bytes_avg = v.frames.reduce((s, f) => s + f.length, 0) / n;
  for (const k of Object.keys(r)) if (typeof r[k] === 'number' && decimals(k) === 0) r[k] = Math.round(r[k] as number);
  results[v.exchange] = r;
  report(`ingest ${v.exchange}`, Object.entries(r).map(([k, val]) => [k, typeof val === 'number' ? fmt(val, decimals(k)) : val]));
}

const file = writeResult('ingest', {
  params: {
    seconds: SECONDS,
    rounds: ROUNDS,
    frames_per_venue: FRAMES,
    symbols: BASES.length,
    note:
      'msgs_per_s = frames per CPU second (process.cpuUsage), best of rounds; latency = wall ns per frame; engine = real Engine, push + drain per frame; ' +
      'ccxt = JSON.parse + ccxt.pro handleMessage, in the same rounds, on the same frames, or, where ccxt subscribes to other channels for the same information (ccxt_basis), on its frames carrying exactly the same coin-updates; ' +
      RATIO_NOTE,
  },
  ...results,
  goal: { [`${REFERENCE}_msgs_per_s`]: 300_000, [`${REFERENCE}_ratio_vs_ccxt`]: 5 },
});
console.log(`\nwrote ${file}`);
