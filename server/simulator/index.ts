/**
 * The built-in market: one HTTP + WebSocket server per venue on 127.0.0.1, each speaking that venue's
 * real protocol on its real paths, all fed by one seeded market model (see market.ts).
 *
 *   const sim = await startSimulator({ seed: 1, messagesPerSec: 200 });
 *   sim.endpoints[venue]  // { ws: 'ws://127.0.0.1:PORT', rest: 'http://127.0.0.1:PORT' } — origins; clients add the real paths
 */
import { EXCHANGES, perVenue, type Exchange } from '../../shared/exchanges.js';
import { VENUES } from '../venues/index.js';
import { DEFAULT_INSTRUMENTS } from './instruments.js';
import { MarketModel, type ChurnOptions } from './market.js';
import type { DepthFault } from './depth.js';
import { normaliseInstrumentKey } from '../venues/symbology.js';
import { instrumentSpec } from './instruments.js';
import { DEFAULT_UNIVERSE, generateUniverse, type Universe } from './universe.js';
import type { SimulatorLimits, SimulatorTimings, VenueContext, VenueEndpoints, VenueServer } from './venue.js';

export type { SimulatorLimits, SimulatorTimings, VenueEndpoints } from './venue.js';
export { DEFAULT_INSTRUMENTS } from './instruments.js';
export { DEFAULT_UNIVERSE, generateUniverse } from './universe.js';
export type { ChurnOptions, LifecycleEvent, PairStatus } from './market.js';
export type { DepthFault } from './depth.js';

/** Default listing/delisting cadence of a universe: one event every ~5 min, a delisting shown for 2 min. */
export const DEFAULT_CHURN: Readonly<ChurnOptions> = { everySec: 300, noticeSec: 120 };

export const MIN_RATE = 1;
export const MAX_RATE = 100_000;
export const DEFAULT_RATE = 200;
export const DEFAULT_DISLOCATIONS_PER_MIN = 20;

/** Venue-neutral defaults; each twin defaults its own mechanisms (ping intervals, token life) to its venue's values. */
export const DEFAULT_TIMINGS: Readonly<SimulatorTimings> = {
  connectionMaxAgeMs: 24 * 3_600_000,
  fundingPushMs: 30_000,
};

export interface SimulatorOptions {
  /** PRNG seed: the same seed (and rate) gives the same price sequence. Default 1. */
  seed?: number;
  /** Venues that publish market data (every venue's server always runs so every endpoint exists). Default all. */
  exchanges?: Exchange[];
  /** Instrument keys (`BTC-PERP`), each on every venue; any base works. Default BTC, ETH, SOL, XRP, DOGE. Ignored with `universe`. */
  instruments?: string[];
  /**
   * A generated universe of this many coins (see universe.ts; `true` = DEFAULT_UNIVERSE): realistic
   * overlap, multiplied names, USDC legs, listings and delistings during the run (see `churn`).
   */
  universe?: number | boolean;
  /** Listing/delisting schedule of a universe (model seconds); default DEFAULT_CHURN; `false` = none. */
  churn?: ChurnOptions | false;
  /** Total quote messages per second across venues, 1..100000 (periodic mark/funding streams come on top). Default 200. */
  messagesPerSec?: number;
  /** Price dislocations started per minute (one venue jumps 12–60 bps away for 3–12 s). Default 20 (a universe: pairs ÷ 10). */
  dislocationsPerMin?: number;
  host?: string;
  /** Fixed ports: portBase + the venue's index in EXCHANGES. Default: ephemeral ports. */
  portBase?: number;
  /** Timer tick that batches the messages (ms). Default 20. */
  tickMs?: number;
  /** Heartbeat/limit/cadence timings (the real venues' values by default; tests shorten them). */
  timings?: Partial<SimulatorTimings>;
  /** WS limits per venue replacing the documented ones (facts.ts), e.g. lowered so a test can break them. */
  limits?: SimulatorLimits;
  /** Epoch ms clock for exchange timestamps and funding times. Default Date.now. */
  now?: () => number;
}

export interface SimulatorStats {
  /** Requests refused or connections closed per venue for breaking a WS limit, by rule. */
  violations: Record<Exchange, Record<string, number>>;
  /** Model updates generated since start. */
  generated: number;
  /** Frames sent per venue (all connections). */
  sent: Record<Exchange, number>;
  connections: Record<Exchange, number>;
  /** Topics subscribed per venue, summed over its open connections. */
  subscriptions: Record<Exchange, number>;
  activeDislocations: number;
  dislocationsStarted: number;
  messagesPerSec: number;
  /** Listed (live or delisting) pairs per venue. */
  listed: Record<Exchange, number>;
  /** Lifecycle events so far (listed, delisting, delisted). */
  lifecycleEvents: number;
}

export interface Simulator {
  endpoints: Record<Exchange, VenueEndpoints>;
  /** Abrupt close (no close frame) of every connection of one venue, or of all venues. */
  dropConnections(exchange?: Exchange): void;
  /** The venue's current connections stay open but get nothing (no data, no heartbeat replies) for `ms`. */
  silence(exchange: Exchange, ms: number): void;
  setRate(messagesPerSec: number): void;
  /** The next depth update of one venue symbol shows `fault` (a dropped delta, a reset, a wrong checksum); false = not listed. */
  injectDepthFault(exchange: Exchange, symbol: string, fault: DepthFault): boolean;
  setDislocationsPerMin(perMin: number): void;
  stats(): SimulatorStats;
  readonly model: MarketModel;
  close(): Promise<void>;
}

export function clampRate(n: number): number {
  if (!Number.isFinite(n)) return DEFAULT_RATE;
  return Math.min(MAX_RATE, Math.max(MIN_RATE, n));
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const now = opts.now ?? Date.now;
  const host = opts.host ?? '127.0.0.1';
  let rate = clampRate(opts.messagesPerSec ?? DEFAULT_RATE);
  const seed = opts.seed ?? 1;
  const explicit = new Set((opts.instruments ?? []).map((k) => normaliseInstrumentKey(k)).filter((k): k is string => k !== null));
  const universeSize = opts.universe === true ? DEFAULT_UNIVERSE : typeof opts.universe === 'number' && opts.universe > 0 ? Math.floor(opts.universe) : 0;
  const universe = universeSize > 0 ? withInstruments(generateUniverse(universeSize, seed), opts.instruments ?? [], seed) : null;
  const model = new MarketModel({
    seed,
    exchanges: opts.exchanges ?? [...EXCHANGES],
    ...(universe
      ? {
          listings: universe.listings,
          churn:
            opts.churn === false
              ? undefined
              : {
                  ...(opts.churn ?? DEFAULT_CHURN),
                  // The top decile never goes away (as BTC/ETH do not on the real venues).
                  protectedKeys:
                    opts.churn?.protectedKeys ??
                    universe.coins.filter((c) => c.rank < Math.max(1, Math.round(0.1 * universe.coins.length)) || explicit.has(c.key)).map((c) => c.key),
                },
        }
      : {
          instruments: opts.instruments && opts.instruments.length > 0 ? opts.instruments : DEFAULT_INSTRUMENTS,
          churn: opts.churn || undefined,
        }),
    // A universe gets about one dislocation per 10 pairs a minute (a few dozen open at a time), not 20 in all.
    dislocationsPerMin: opts.dislocationsPerMin ?? (universe ? Math.max(DEFAULT_DISLOCATIONS_PER_MIN, Math.round(universe.listings.length / 10)) : DEFAULT_DISLOCATIONS_PER_MIN),
  });
  const ctx: VenueContext = { model, now, timings: { ...DEFAULT_TIMINGS, ...opts.timings }, limits: opts.limits };
  const venues: Record<Exchange, VenueServer> = perVenue((ex) => VENUES[ex].twin.create(ex, ctx));
  try {
    for (const [i, ex] of EXCHANGES.entries()) await venues[ex].listen(host, opts.portBase ? opts.portBase + i : 0);
  } catch (err) {
    await Promise.all(EXCHANGES.map((ex) => venues[ex].close().catch(() => undefined)));
    throw err;
  }

  let generated = 0;
  let carry = 0;
  let last = performance.now();
  const tick = () => {
    const t = performance.now();
    const due = carry + (rate * (t - last)) / 1000;
    last = t;
    let n = Math.floor(due);
    carry = due - n;
    const cap = Math.ceil(rate / 4); // after a stall, catch up at most 250 ms worth of messages
    if (n > cap) {
      n = cap;
      carry = 0;
    }
    if (n === 0) return;
    const nowMs = now();
    model.settleFunding(nowMs); // dynamic funding intervals switch at settlements, before anything is published
    const dt = 1 / rate;
    for (const ex of EXCHANGES) venues[ex].beginBatch();
    try {
      for (let i = 0; i < n; i++) {
        const pair = model.next(dt);
        if (pair) venues[pair.exchange].publish(pair, nowMs);
      }
    } finally {
      for (const ex of EXCHANGES) venues[ex].endBatch();
    }
    generated += n;
  };
  const PERIODIC_MS = 250;
  const enabled = EXCHANGES.filter((ex) => (opts.exchanges ?? EXCHANGES).includes(ex));
  const periodic = () => {
    model.driftFunding(PERIODIC_MS / 1000);
    const nowMs = now();
    model.settleFunding(nowMs);
    for (const ex of enabled) venues[ex].periodic(nowMs);
  };
  const tickTimer = setInterval(tick, opts.tickMs ?? 20);
  const periodicTimer = setInterval(periodic, PERIODIC_MS);
  let closed = false;

  return {
    endpoints: Object.fromEntries(EXCHANGES.map((ex) => [ex, venues[ex].endpoints])) as Record<Exchange, VenueEndpoints>,
    model,
    dropConnections(exchange?: Exchange) {
      for (const ex of exchange ? [exchange] : EXCHANGES) venues[ex].dropConnections();
    },
    silence(exchange: Exchange, ms: number) {
      venues[exchange].silence(Math.max(0, ms));
    },
    injectDepthFault(exchange: Exchange, symbol: string, fault: DepthFault) {
      return venues[exchange].injectDepthFault(symbol, fault);
    },
    setRate(messagesPerSec: number) {
      rate = clampRate(messagesPerSec);
      carry = 0;
    },
    setDislocationsPerMin(perMin: number) {
      model.setDislocationsPerMin(perMin);
    },
    stats(): SimulatorStats {
      const per = <T>(f: (v: VenueServer) => T) => Object.fromEntries(EXCHANGES.map((ex) => [ex, f(venues[ex])])) as Record<Exchange, T>;
      return {
        generated,
        violations: per((v) => ({ ...v.violations })),
        sent: per((v) => v.sent),
        connections: per((v) => v.connectionCount),
        subscriptions: per((v) => v.subscriptionCount),
        activeDislocations: model.activeDislocations().length,
        dislocationsStarted: model.dislocationsStarted,
        messagesPerSec: rate,
        listed: perVenue((ex) => model.listed(ex).length),
        lifecycleEvents: model.lifecycleTotal,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(tickTimer);
      clearInterval(periodicTimer);
      await Promise.all(EXCHANGES.map((ex) => venues[ex].close()));
    },
  };
}

/**
 * The universe plus any explicitly configured instrument it lacks (on every venue, USDT, bare), so a
 * configured key is always listed; those keys are also kept from delisting (see `protectedKeys`).
 */
function withInstruments(universe: Universe, instruments: readonly string[], seed: number): Universe {
  const have = new Set(universe.coins.map((c) => c.key));
  const coins = [...universe.coins];
  const listings = [...universe.listings];
  for (const raw of instruments) {
    const key = normaliseInstrumentKey(raw);
    if (!key || have.has(key)) continue;
    have.add(key);
    const spec = instrumentSpec(key, seed);
    coins.push({ key, base: spec.base, startPrice: spec.startPrice, rank: coins.length });
    for (const exchange of EXCHANGES) listings.push({ key, exchange, listedBase: spec.base, multiplier: 1, settle: 'USDT', startPrice: spec.startPrice });
  }
  return { coins, listings };
}
