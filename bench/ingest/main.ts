/**
 * bench/ingest: raw wire frames (each venue's real shapes) → adapter parse → engine (push + drain per
 * frame, as the live feed does), in frames/s per venue and per-frame p50/p99; then the same frames
 * through ccxt.pro's own WebSocket message handler for that venue (JSON.parse + handleMessage with an
 * in-process client object, no network) and the speed ratio.
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
import type { VenueIngestBench } from '../../server/venues/bench-types.js';
import { VENUES } from '../../server/venues/index.js';
import { Samples, fmt, report, writeResult } from '../lib.js';
import { ccxtHandler, ccxtMarket, throughput as cpuThroughput } from './ccxt.js';

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
const px = (base: string) => (PRICES[base] * (1 + (rnd() - 0.5) * 0.002)).toFixed(base === 'BTC' ? 1 : base === 'ETH' ? 2 : 4);
const sz = () => (rnd() * 20).toFixed(3);

/** The live feed's sink: push into the engine with a receive stamp. */
class EngineSink implements UpdateSink {
  constructor(private readonly engine: Engine) {}
  quote(m: InstrumentMeta, bid: number, ask: number, bs: number, as: number, ts: number): void {
    this.engine.pushQuote(m.id, bid, ask, bs, as, ts, ts * 1000);
  }
  funding(m: InstrumentMeta, rate: number, intervalMs: number, next: number, predicted: boolean, ts: number): void {
    this.engine.pushFunding(m.id, rate, intervalMs, next, predicted, ts, ts * 1000);
  }
}
const NULL_SINK: UpdateSink = { quote() {}, funding() {} };

interface Venue {
  exchange: Exchange;
  frames: string[];
  makeParser: (meta: MetadataTable) => VenueParser;
  ccxtId: string;
  ccxtMarket: (base: string) => Record<string, unknown>;
}

const market = (id: string, base: string, contractSize: number) => ccxtMarket(id, base, contractSize);
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
  venues.push({
    exchange,
    frames: bench.frames({ count: FRAMES, bases: BASES, symbol, t0: T0, rnd, px, sz }),
    makeParser: (m) => mod.adapter.createParser(m),
    ccxtId: bench.ccxtId,
    ccxtMarket: (b) => market(symbol(b), b, mod.replayContractValues?.[b] ?? 1),
  });
}
/** The venue whose bare JSON.parse rate is also measured, and whose figures the goal names (the registry's first). */
const REFERENCE = venues[0]?.exchange;

function metaFor(exchange: Exchange, engine: Engine | null): MetadataTable {
  const t = defaultMetadata(exchange, KEYS);
  for (const m of t.values()) {
    m.nextFundingMs = 1_795_622_400_000;
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

function ccxtStep(v: Venue) {
  return ccxtHandler(v.ccxtId, BASES.map((b) => v.ccxtMarket(b)), v.frames);
}

const results: Record<string, Record<string, number | string>> = {};
const best = (a: number | undefined, b: number) => (a === undefined || b > a ? b : a);
const lowest = (a: number | undefined, b: number) => (a === undefined || b < a ? b : a);

for (const v of venues) {
  const r: Record<string, number | string> = {};
  const n = v.frames.length;
  const ccxtRun = ccxtStep(v);
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
    if ('step' in ccxtRun) {
      r.ccxt_msgs_per_s = best(r.ccxt_msgs_per_s as number, throughput(n, ccxtRun.step));
      const cl = latency(n, ccxtRun.step);
      r.ccxt_p99_ns = lowest(r.ccxt_p99_ns as number, cl.p99);
    }
    const errs = Object.values(engineParser.errors).reduce((a, b) => a + b, 0);
    if (errs > 0) throw new Error(`${v.exchange}: ${errs} frames rejected in the bench set: ${JSON.stringify(engineParser.errors)}`);
  }
  if ('step' in ccxtRun) {
    r.ratio_vs_ccxt = Number(((r.msgs_per_s as number) / (r.ccxt_msgs_per_s as number)).toFixed(2));
    r.parse_only_ratio_vs_ccxt = Number(((r.parse_only_msgs_per_s as number) / (r.ccxt_msgs_per_s as number)).toFixed(2));
  } else r.ccxt = `not measured: ${ccxtRun.error}`;
  r.frame_bytes_avg = Math.round(v.frames.reduce((s, f) => s + f.length, 0) / n);
  for (const k of Object.keys(r)) if (typeof r[k] === 'number' && !k.startsWith('ratio') && !k.includes('ratio')) r[k] = Math.round(r[k] as number);
  results[v.exchange] = r;
  report(`ingest ${v.exchange}`, Object.entries(r).map(([k, val]) => [k, typeof val === 'number' ? fmt(val, k.includes('ratio') ? 2 : 0) : val]));
}

const file = writeResult('ingest', {
  params: { seconds: SECONDS, rounds: ROUNDS, frames_per_venue: FRAMES, symbols: BASES.length, note: 'msgs_per_s = frames per CPU second (process.cpuUsage), best of rounds; latency = wall ns per frame; engine = real Engine, push + drain per frame; ccxt = JSON.parse + ccxt.pro handleMessage on the same frames' },
  ...results,
  goal: { [`${REFERENCE}_msgs_per_s`]: 300_000, [`${REFERENCE}_ratio_vs_ccxt`]: 5 },
});
console.log(`\nwrote ${file}`);
