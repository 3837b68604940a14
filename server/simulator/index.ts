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
import { MarketModel } from './market.js';
import type { SimulatorTimings, VenueContext, VenueEndpoints, VenueServer } from './venue.js';

export type { SimulatorTimings, VenueEndpoints } from './venue.js';
export { DEFAULT_INSTRUMENTS } from './instruments.js';

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
  /** Instrument keys (`BTC-PERP`); any base works. Default BTC, ETH, SOL, XRP, DOGE. */
  instruments?: string[];
  /** Total quote messages per second across venues, 1..100000 (periodic mark/funding streams come on top). Default 200. */
  messagesPerSec?: number;
  /** Price dislocations started per minute (one venue jumps 12–60 bps away for 3–12 s). Default 20. */
  dislocationsPerMin?: number;
  host?: string;
  /** Fixed ports: portBase + the venue's index in EXCHANGES. Default: ephemeral ports. */
  portBase?: number;
  /** Timer tick that batches the messages (ms). Default 20. */
  tickMs?: number;
  /** Heartbeat/limit/cadence timings (the real venues' values by default; tests shorten them). */
  timings?: Partial<SimulatorTimings>;
  /** Epoch ms clock for exchange timestamps and funding times. Default Date.now. */
  now?: () => number;
}

export interface SimulatorStats {
  /** Model updates generated since start. */
  generated: number;
  /** Frames sent per venue (all connections). */
  sent: Record<Exchange, number>;
  connections: Record<Exchange, number>;
  activeDislocations: number;
  dislocationsStarted: number;
  messagesPerSec: number;
}

export interface Simulator {
  endpoints: Record<Exchange, VenueEndpoints>;
  /** Abrupt close (no close frame) of every connection of one venue, or of all venues. */
  dropConnections(exchange?: Exchange): void;
  /** The venue's current connections stay open but get nothing (no data, no heartbeat replies) for `ms`. */
  silence(exchange: Exchange, ms: number): void;
  setRate(messagesPerSec: number): void;
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
  const model = new MarketModel({
    seed: opts.seed ?? 1,
    exchanges: opts.exchanges ?? [...EXCHANGES],
    instruments: opts.instruments && opts.instruments.length > 0 ? opts.instruments : DEFAULT_INSTRUMENTS,
    dislocationsPerMin: opts.dislocationsPerMin ?? DEFAULT_DISLOCATIONS_PER_MIN,
  });
  const ctx: VenueContext = { model, now, timings: { ...DEFAULT_TIMINGS, ...opts.timings } };
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
        sent: per((v) => v.sent),
        connections: per((v) => v.connectionCount),
        activeDislocations: model.activeDislocations().length,
        dislocationsStarted: model.dislocationsStarted,
        messagesPerSec: rate,
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
