/**
 * The simulated market: one seeded random walk per instrument shared by all venues, and per
 * (venue, instrument) pair a quote with its own basis, noise, spread, touch sizes and funding.
 *
 * The model is driven by events, not by the wall clock: `next(dt)` advances model time by `dt` seconds
 * and updates one pair. With the same seed and the same sequence of `dt`s the sequence of quotes is the
 * same on every run, so prices are reproducible whatever the timers do. Funding drifts on its own
 * generator (`driftFunding`), so its timer cannot disturb the price sequence.
 */
import { EXCHANGES, perVenue, type Exchange } from '../../shared/exchanges.js';
import { VENUES } from '../venues/index.js';
import { decimalsOf, instrumentSpec, type InstrumentSpec } from './instruments.js';
import { Prng } from './prng.js';

export interface VenueProfile {
  /** Typical quoted spread (bps of mid). */
  spreadBps: number;
  /** Per-update noise around the venue's basis (bps, one standard deviation). */
  noiseBps: number;
  /** Standard deviation of the slowly varying basis to the shared price (bps). */
  basisBps: number;
  /** Exchange timestamp lag behind the send time (ms): the venue's feed latency. */
  latencyMs: number;
  /** Median touch size (USD notional). */
  touchUsd: number;
}


const HOUR_MS = 3_600_000;
const EIGHT_HOURS_MS = 8 * HOUR_MS;

export interface Pair {
  readonly index: number;
  readonly exchange: Exchange;
  readonly spec: InstrumentSpec;
  readonly instrumentIndex: number;
  /** Venue-native symbol (from the venue module's symbols). */
  readonly symbol: string;
  /** Quote and settle currency (`USDT`, `USDC`). */
  readonly settle: string;
  /** Size of one lot in base coin: the contract value on contract venues, else the quantity step (the twin's `lot`). */
  readonly lot: number;
  readonly lotDecimals: number;
  bidTicks: number;
  askTicks: number;
  /** Touch sizes in lots (contracts on contract venues). */
  bidLots: number;
  askLots: number;
  /** Venue mid before rounding to ticks. */
  mid: number;
  /** The shared (index) price at the last update. */
  indexPrice: number;
  /** Model updates of this pair so far (sequence numbers derive from it). */
  seq: number;
  fundingIntervalMs: number;
  /** Funding per 8 h (fraction); the rate per own interval is `fundingRate(pair)`. */
  funding8h: number;
  fundingMean8h: number;
  basisBps: number;
  basisMeanBps: number;
  dislocationBps: number;
  dislocationUntil: number;
  lastUpdateT: number;
}

export interface MarketOptions {
  seed: number;
  exchanges: readonly Exchange[];
  instruments: readonly string[];
  dislocationsPerMin: number;
  /** Volatility of the shared walk (bps per √second). */
  volBpsPerSqrtSec?: number;
}

export interface Dislocation {
  pair: Pair;
  bps: number;
  startT: number;
  untilT: number;
}

export class MarketModel {
  readonly specs: InstrumentSpec[];
  readonly pairs: Pair[];
  /** Pairs per venue, in instrument order. */
  readonly byExchange: Record<Exchange, Pair[]>;
  /** Model time in seconds since start. */
  t = 0;
  dislocationsStarted = 0;
  private readonly rng: Prng;
  private readonly fundingRng: Prng;
  private readonly refPrice: Float64Array;
  private readonly refT: Float64Array;
  private readonly vol: number;
  private dislocationsPerMin: number;
  private nextDislocationT: number;
  private readonly active: Dislocation[] = [];
  private readonly forced: Pair[] = [];
  private readonly marketPairs: Pair[];

  constructor(opts: MarketOptions) {
    this.rng = Prng.derive(opts.seed, 'market');
    this.fundingRng = Prng.derive(opts.seed, 'funding');
    this.vol = (opts.volBpsPerSqrtSec ?? 1.5) / 1e4;
    this.specs = opts.instruments.map((k) => instrumentSpec(k, opts.seed));
    this.refPrice = Float64Array.from(this.specs.map((s) => s.startPrice));
    this.refT = new Float64Array(this.specs.length);
    this.byExchange = perVenue(() => []);
    this.pairs = [];
    const setup = Prng.derive(opts.seed, 'setup');
    const instFunding = this.specs.map(() => 0.0001 + 0.0001 * setup.normal());
    for (const exchange of EXCHANGES) {
      const { profile } = VENUES[exchange].twin;
      this.specs.forEach((spec, instrumentIndex) => {
        const lot = VENUES[exchange].twin.lot(spec);
        const r = setup.next();
        const fundingIntervalMs = r < 0.12 ? 4 * HOUR_MS : r < 0.17 ? HOUR_MS : EIGHT_HOURS_MS;
        const fundingMean8h = clamp(instFunding[instrumentIndex] + 0.00015 * setup.normal(), -0.002, 0.002);
        const basisMeanBps = profile.basisBps * setup.normal();
        const pair: Pair = {
          index: this.pairs.length,
          exchange,
          spec,
          instrumentIndex,
          symbol: VENUES[exchange].symbols.nativeSymbol(spec.base, 'USDT'),
          settle: 'USDT',
          lot,
          lotDecimals: decimalsOf(lot),
          bidTicks: 0,
          askTicks: 0,
          bidLots: 1,
          askLots: 1,
          mid: spec.startPrice,
          indexPrice: spec.startPrice,
          seq: 0,
          fundingIntervalMs,
          funding8h: fundingMean8h,
          fundingMean8h,
          basisBps: basisMeanBps,
          basisMeanBps,
          dislocationBps: 0,
          dislocationUntil: 0,
          lastUpdateT: 0,
        };
        this.pairs.push(pair);
        this.byExchange[exchange].push(pair);
      });
    }
    this.ensureShortIntervals(setup);
    this.marketPairs = this.pairs.filter((p) => opts.exchanges.includes(p.exchange));
    for (const pair of this.pairs) this.quote(pair, this.rng, true);
    this.dislocationsPerMin = Math.max(0, opts.dislocationsPerMin);
    this.nextDislocationT = this.drawNextDislocation(0);
  }

  /**
   * Guarantees that every venue with 3+ instruments has a pair settling every 4 h or 1 h, and that both
   * intervals occur somewhere (as on the real venues), so interval handling is always exercised.
   */
  private ensureShortIntervals(setup: Prng): void {
    for (const pairs of Object.values(this.byExchange)) {
      if (pairs.length < 3 || pairs.some((p) => p.fundingIntervalMs !== EIGHT_HOURS_MS)) continue;
      pairs[setup.int(pairs.length)].fundingIntervalMs = setup.next() < 0.6 ? 4 * HOUR_MS : HOUR_MS;
    }
    if (this.pairs.length < 8) return;
    for (const interval of [4 * HOUR_MS, HOUR_MS]) {
      if (this.pairs.some((p) => p.fundingIntervalMs === interval)) continue;
      const candidates = this.pairs.filter((p) => p.fundingIntervalMs === EIGHT_HOURS_MS);
      candidates[setup.int(candidates.length)].fundingIntervalMs = interval;
    }
  }

  setDislocationsPerMin(perMin: number): void {
    this.dislocationsPerMin = Math.max(0, perMin);
    this.nextDislocationT = this.drawNextDislocation(this.t);
  }

  activeDislocations(): readonly Dislocation[] {
    return this.active;
  }

  /** Advances model time by `dt` seconds and updates one pair (of the enabled venues); returns it. */
  next(dt: number): Pair | null {
    this.t += dt;
    while (this.t >= this.nextDislocationT) {
      this.startDislocation(this.nextDislocationT);
      this.nextDislocationT = this.drawNextDislocation(this.nextDislocationT);
    }
    for (let i = this.active.length - 1; i >= 0; i--) {
      const d = this.active[i];
      if (this.t >= d.untilT) {
        d.pair.dislocationBps = 0;
        this.active.splice(i, 1);
        this.forced.push(d.pair); // publish the return to normal promptly
      }
    }
    if (this.marketPairs.length === 0) return null;
    const pair = this.forced.shift() ?? this.marketPairs[this.rng.int(this.marketPairs.length)];
    this.quote(pair, this.rng, false);
    return pair;
  }

  /** Funding drifts slowly (mean-reverting); `dt` in seconds. Uses its own generator. */
  driftFunding(dt: number): void {
    const g = this.fundingRng;
    const revert = Math.min(1, dt / 1800);
    const sd = 0.000004 * Math.sqrt(dt);
    for (const p of this.pairs) {
      p.funding8h = clamp(p.funding8h + (p.fundingMean8h - p.funding8h) * revert + sd * g.normal(), -0.003, 0.003);
    }
  }

  /** The shared price of an instrument at model time `t` (the walk is sampled lazily, one path). */
  private ref(i: number): number {
    const dt = this.t - this.refT[i];
    if (dt > 0) {
      const s = this.vol * Math.sqrt(dt);
      this.refPrice[i] *= Math.exp(s * this.rng.normal() - 0.5 * s * s);
      this.refT[i] = this.t;
    }
    return this.refPrice[i];
  }

  private quote(pair: Pair, g: Prng, initial: boolean): void {
    const { profile } = VENUES[pair.exchange].twin;
    const ref = this.ref(pair.instrumentIndex);
    const dtp = Math.min(30, this.t - pair.lastUpdateT);
    pair.lastUpdateT = this.t;
    // Ornstein–Uhlenbeck basis with a ~30 s relaxation time.
    pair.basisBps += (pair.basisMeanBps - pair.basisBps) * (dtp / 30) + 0.5 * profile.basisBps * Math.sqrt(dtp / 30) * g.normal();
    const mid = ref * (1 + (pair.basisBps + profile.noiseBps * g.normal() + pair.dislocationBps) / 1e4);
    const tick = pair.spec.tickSize;
    const half = Math.max(tick * 0.5, (mid * profile.spreadBps * (0.6 + 0.8 * g.next())) / 2e4);
    const bidTicks = Math.floor((mid - half) / tick);
    const askTicks = Math.max(bidTicks + 1, Math.ceil((mid + half) / tick));
    const side = initial ? 1 : g.next(); // < 0.4 bid only, < 0.8 ask only, else both
    const both = side >= 0.8 || bidTicks >= pair.askTicks || askTicks <= pair.bidTicks;
    if (both || side < 0.4) {
      pair.bidTicks = bidTicks;
      pair.bidLots = this.touchLots(pair, mid, profile, g);
    }
    if (both || side >= 0.4) {
      pair.askTicks = askTicks;
      pair.askLots = this.touchLots(pair, mid, profile, g);
    }
    pair.mid = mid;
    pair.indexPrice = ref;
    pair.seq++;
  }

  private touchLots(pair: Pair, mid: number, profile: VenueProfile, g: Prng): number {
    const notional = profile.touchUsd * Math.exp(0.8 * g.normal());
    return Math.max(1, Math.round(notional / mid / pair.lot));
  }

  private drawNextDislocation(from: number): number {
    return this.dislocationsPerMin > 0 ? from + this.rng.exponential(60 / this.dislocationsPerMin) : Infinity;
  }

  /** One venue's price jumps 12..60 bps away from the others for 3..12 s. */
  private startDislocation(at: number): void {
    const free = this.marketPairs.filter((p) => p.dislocationBps === 0);
    if (free.length === 0) return;
    const pair = free[this.rng.int(free.length)];
    const bps = (this.rng.next() < 0.5 ? -1 : 1) * this.rng.uniform(12, 60);
    const d: Dislocation = { pair, bps, startT: at, untilT: at + this.rng.uniform(3, 12) };
    pair.dislocationBps = bps;
    this.active.push(d);
    this.forced.push(pair);
    this.dislocationsStarted++;
  }
}

/** Funding rate for the pair's own interval (fraction), rounded to 8 decimals like the venues. */
export function fundingRate(pair: Pair): number {
  return Math.round(((pair.funding8h * pair.fundingIntervalMs) / EIGHT_HOURS_MS) * 1e8) / 1e8;
}

/** The next settlement strictly after `nowMs` on the pair's interval grid (epoch ms, UTC-aligned). */
export function nextFundingMs(pair: Pair, nowMs: number): number {
  return (Math.floor(nowMs / pair.fundingIntervalMs) + 1) * pair.fundingIntervalMs;
}

export function bidPrice(pair: Pair): number {
  return pair.bidTicks * pair.spec.tickSize;
}

export function askPrice(pair: Pair): number {
  return pair.askTicks * pair.spec.tickSize;
}

export function priceString(pair: Pair, price: number): string {
  return price.toFixed(pair.spec.priceDecimals);
}

/** Base-coin quantity string of a number of lots. */
export function baseQty(pair: Pair, lots: number): string {
  return (lots * pair.lot).toFixed(pair.lotDecimals);
}

/** A small deterministic jitter around the venue latency, for exchange timestamps. */
export function exchangeLagMs(pair: Pair): number {
  return VENUES[pair.exchange].twin.profile.latencyMs + ((pair.seq * 7919) % 9) - 4;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
