/**
 * The simulated market: one seeded random walk per instrument shared by all venues, and per
 * (venue, instrument) pair a quote with its own basis, noise, spread, touch sizes and funding.
 *
 * The model is driven by events, not by the wall clock: `next(dt)` advances model time by `dt` seconds
 * and updates one pair. With the same seed and the same sequence of `dt`s the sequence of quotes is the
 * same on every run, so prices are reproducible whatever the timers do. Funding drifts on its own
 * generator (`driftFunding`), so its timer cannot disturb the price sequence.
 *
 * A pair is a listing (venue, native symbol, settle currency, multiplier): a `1000PEPE` pair quotes 1,000
 * units of the shared PEPE walk. With `churn`, pairs are listed and delisted on model time from their own
 * generator (`churn`), so the schedule is the same for the same seed (see PairStatus).
 */
import { EXCHANGES, perVenue, type Exchange } from '../../shared/exchanges.js';
import { VENUES } from '../venues/index.js';
import { parseInstrumentKey } from '../venues/symbology.js';
import { decimalsOf, instrumentSpec, listedSpec, type InstrumentSpec } from './instruments.js';
import { Prng } from './prng.js';
import type { Listing } from './universe.js';

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
  /**
   * Dynamic settlement frequency: a pair whose rate (per its interval) is at or beyond this cap at a
   * settlement settles every hour from then on, and returns to its own interval after
   * DYNAMIC_REVERT_SETTLEMENTS hourly settlements that would have stayed under the cap at it. Absent =
   * the venue keeps its intervals.
   */
  dynamicFundingCap?: number;
  /** Every pair of the venue settles funding on this interval (ms), always; absent = intervals drawn per pair (mostly 8 h, some 4 h and 1 h). */
  fixedFundingIntervalMs?: number;
}


const HOUR_MS = 3_600_000;
const EIGHT_HOURS_MS = 8 * HOUR_MS;
/** Quiet hourly settlements before a dynamically hourly pair returns to its own interval. */
export const DYNAMIC_REVERT_SETTLEMENTS = 16;

/** A pair on a venue with dynamic intervals: the interval it returns to, and its quiet hourly settlements. */
interface DynamicInterval {
  pair: Pair;
  cap: number;
  /** Its own interval while hourly (0 = not switched). */
  baseMs: number;
  quiet: number;
}

/**
 * Where a pair is in its life. `pending`: not listed yet (absent from REST, unknown to WS); `live`:
 * trading and publishing; `delisting`: still in REST with the venue's delisting status, no more quotes;
 * `delisted`: gone from REST and WS (it may be listed again later).
 */
export type PairStatus = 'pending' | 'live' | 'delisting' | 'delisted';

export interface Pair {
  readonly index: number;
  readonly exchange: Exchange;
  /** The listed contract: prices and quantity steps per listed unit (per 1,000 PEPE for `1000PEPE`); `base`/`key` are the underlying's. */
  readonly spec: InstrumentSpec;
  readonly instrumentIndex: number;
  /** Venue-native symbol (from the venue module's symbols). */
  readonly symbol: string;
  /** The base code as listed (`1000PEPE`, `1MBABYDOGE`; the common code even where the venue's symbol spells it its own way). */
  readonly listedBase: string;
  /** Units of the underlying per listed unit: 1000 for `1000PEPE`, else 1. */
  readonly multiplier: number;
  /** Quote and settle currency (`USDT`, `USDC`). */
  readonly settle: string;
  status: PairStatus;
  /** Model time (s) it was (last) listed: 0 for the pairs listed from the start. */
  listedAt: number;
  /** Model time (s) of the last status change; for `delisting`, when it is removed is `statusUntil`. */
  statusSince: number;
  statusUntil: number;
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

/** Listings and delistings during a run, on model time (≈ wall time at a steady message rate). */
export interface ChurnOptions {
  /** Mean seconds between lifecycle events; listings and delistings alternate. */
  everySec: number;
  /** How long a delisting pair shows the venue's delisting status before it disappears (s). */
  noticeSec: number;
  /** Share of the pairs held back at the start to be listed later (default 0.03). */
  pendingShare?: number;
  /** Instrument keys never delisted (default: none). */
  protectedKeys?: readonly string[];
}

export interface LifecycleEvent {
  /** Model time (s). */
  t: number;
  kind: 'listed' | 'delisting' | 'delisted';
  exchange: Exchange;
  symbol: string;
  key: string;
}

export interface MarketOptions {
  seed: number;
  exchanges: readonly Exchange[];
  /** Instrument keys, each on every venue, USDT-settled (used when `listings` is absent). */
  instruments?: readonly string[];
  /** Explicit listings (a generated universe, see universe.ts). */
  listings?: readonly Listing[];
  /** Listing/delisting schedule; none by default. */
  churn?: ChurnOptions;
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
  private marketPairs: Pair[] = [];
  private readonly enabled: readonly Exchange[];
  /** Listed pairs (live or delisting) per venue and by native symbol; rebuilt on lifecycle changes. */
  private listedByExchange: Record<Exchange, Pair[]>;
  private liveByExchange: Record<Exchange, Pair[]>;
  private readonly bySymbol: Record<Exchange, Map<string, Pair>>;
  private readonly churn: Required<Omit<ChurnOptions, 'protectedKeys'>> & { protectedKeys: ReadonlySet<string> } | null;
  private readonly churnRng: Prng;
  private nextChurnT = Infinity;
  /** Earliest end of a delisting notice (Infinity when none): keeps `next()` from scanning pairs. */
  private nextRemovalT = Infinity;
  private churnCount = 0;
  /** Recent lifecycle events, oldest first (at most 1,000 kept). */
  readonly lifecycle: LifecycleEvent[] = [];
  /** Lifecycle events since start (the log above is bounded). */
  lifecycleTotal = 0;
  /** Bumped on every lifecycle change (twins cache per-venue lists against it). */
  lifecycleVersion = 0;
  /** Pairs of venues whose profile has `dynamicFundingCap`. */
  private readonly dynamic: DynamicInterval[] = [];
  /** The next hour boundary (epoch ms) at which `settleFunding` looks at them; 0 before the first call. */
  private nextSettlementCheckMs = 0;
  /** Interval switches so far (both ways). */
  intervalSwitches = 0;

  constructor(opts: MarketOptions) {
    this.rng = Prng.derive(opts.seed, 'market');
    this.fundingRng = Prng.derive(opts.seed, 'funding');
    this.churnRng = Prng.derive(opts.seed, 'churn');
    this.vol = (opts.volBpsPerSqrtSec ?? 1.5) / 1e4;
    const listings = opts.listings ?? plainListings(opts.instruments ?? []);
    // One spec (and one shared walk) per underlying, in order of first appearance.
    const specIndex = new Map<string, number>();
    this.specs = [];
    for (const l of listings) {
      if (specIndex.has(l.key)) continue;
      specIndex.set(l.key, this.specs.length);
      this.specs.push(instrumentSpec(l.key, opts.seed, opts.listings ? l.startPrice : undefined));
    }
    this.refPrice = Float64Array.from(this.specs.map((s) => s.startPrice));
    this.refT = new Float64Array(this.specs.length);
    this.byExchange = perVenue(() => []);
    this.bySymbol = perVenue(() => new Map());
    this.pairs = [];
    const setup = Prng.derive(opts.seed, 'setup');
    const instFunding = this.specs.map(() => 0.0001 + 0.0001 * setup.normal());
    for (const listing of listings) {
      const exchange = listing.exchange;
      const { profile } = VENUES[exchange].twin;
      const instrumentIndex = specIndex.get(listing.key) as number;
      const spec = listedSpec(this.specs[instrumentIndex], listing.multiplier);
      {
        const lot = VENUES[exchange].twin.lot(spec);
        const r = setup.next();
        const fundingIntervalMs = profile.fixedFundingIntervalMs ?? (r < 0.12 ? 4 * HOUR_MS : r < 0.17 ? HOUR_MS : EIGHT_HOURS_MS);
        const fundingMean8h = clamp(instFunding[instrumentIndex] + 0.00015 * setup.normal(), -0.002, 0.002);
        const basisMeanBps = profile.basisBps * setup.normal();
        const pair: Pair = {
          index: this.pairs.length,
          exchange,
          spec,
          instrumentIndex,
          symbol: VENUES[exchange].symbols.nativeSymbol(listing.listedBase, listing.settle),
          listedBase: listing.listedBase,
          multiplier: listing.multiplier,
          // A venue listing one settle currency only lists every pair in it (configured instruments come as USDT).
          settle: VENUES[exchange].facts.listing.onlySettle ?? listing.settle,
          status: 'live',
          listedAt: 0,
          statusSince: 0,
          statusUntil: Infinity,
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
        this.bySymbol[exchange].set(pair.symbol, pair);
      }
    }
    this.ensureShortIntervals(setup);
    for (const pair of this.pairs) {
      const cap = VENUES[pair.exchange].twin.profile.dynamicFundingCap;
      if (cap !== undefined && cap > 0) this.dynamic.push({ pair, cap, baseMs: 0, quiet: 0 });
    }
    this.enabled = opts.exchanges;
    this.churn = opts.churn && opts.churn.everySec > 0 && Number.isFinite(opts.churn.everySec)
      ? {
          everySec: opts.churn.everySec,
          noticeSec: Math.max(0, opts.churn.noticeSec),
          pendingShare: opts.churn.pendingShare ?? 0.03,
          protectedKeys: new Set(opts.churn.protectedKeys ?? []),
        }
      : null;
    if (this.churn) this.holdBackPending(this.churn.pendingShare);
    this.listedByExchange = perVenue(() => []);
    this.liveByExchange = perVenue(() => []);
    this.rebuildLists();
    for (const pair of this.pairs) this.quote(pair, this.rng, true);
    this.dislocationsPerMin = Math.max(0, opts.dislocationsPerMin);
    this.nextDislocationT = this.drawNextDislocation(0);
    if (this.churn) this.nextChurnT = this.drawNextChurn(0);
  }

  /** Listed pairs (live or delisting) of a venue: what its REST instrument list shows. */
  listed(exchange: Exchange): readonly Pair[] {
    return this.listedByExchange[exchange];
  }

  /** Live (trading, publishing) pairs of a venue. */
  live(exchange: Exchange): readonly Pair[] {
    return this.liveByExchange[exchange];
  }

  /** The listed pair (live or delisting) of a native symbol, or undefined when the venue does not know it. */
  findListed(exchange: Exchange, symbol: string): Pair | undefined {
    const p = this.bySymbol[exchange].get(symbol);
    return p && (p.status === 'live' || p.status === 'delisting') ? p : undefined;
  }

  /** Epoch ms of model time `modelT`, given that model time `this.t` is `nowMs` (for listing and delisting times on REST). */
  wallTimeOf(modelT: number, nowMs: number): number {
    return Math.round(nowMs + (modelT - this.t) * 1000);
  }

  /** Model time (s) of the next scheduled listing/delisting (Infinity when there is no churn). */
  get nextLifecycleT(): number {
    return this.nextChurnT;
  }

  /**
   * Holds back a share of the pairs to be listed later: whole coins from the tail (a new coin) and single
   * legs (a coin coming to another venue). Never a venue's only pair of a protected key.
   */
  private holdBackPending(share: number): void {
    const g = this.churnRng;
    const want = Math.round(share * this.pairs.length);
    const candidates = this.pairs.filter((p) => !this.churn!.protectedKeys.has(p.spec.key));
    let held = 0;
    // About a third of them as whole new coins (every leg of a tail coin).
    const tailKeys = [...new Set(candidates.slice(-Math.ceil(candidates.length / 3)).map((p) => p.spec.key))];
    while (held < want / 3 && tailKeys.length > 0) {
      const key = tailKeys.splice(g.int(tailKeys.length), 1)[0];
      for (const p of this.pairs) {
        if (p.spec.key === key && p.status === 'live') {
          p.status = 'pending';
          held++;
        }
      }
    }
    const rest = candidates.filter((p) => p.status === 'live');
    while (held < want && rest.length > 0) {
      rest.splice(g.int(rest.length), 1)[0].status = 'pending';
      held++;
    }
  }

  private rebuildLists(): void {
    for (const ex of EXCHANGES) {
      this.listedByExchange[ex] = this.byExchange[ex].filter((p) => p.status === 'live' || p.status === 'delisting');
      this.liveByExchange[ex] = this.byExchange[ex].filter((p) => p.status === 'live');
    }
    this.marketPairs = this.pairs.filter((p) => p.status === 'live' && this.enabled.includes(p.exchange));
    this.lifecycleVersion++;
  }

  private drawNextChurn(from: number): number {
    const c = this.churn!;
    return from + c.everySec * this.churnRng.uniform(0.5, 1.5);
  }

  private record(kind: LifecycleEvent['kind'], pair: Pair): void {
    this.lifecycleTotal++;
    this.lifecycle.push({ t: this.t, kind, exchange: pair.exchange, symbol: pair.symbol, key: pair.spec.key });
    if (this.lifecycle.length > 1000) this.lifecycle.splice(0, this.lifecycle.length - 1000);
  }

  /** Runs the lifecycle events due by model time `t`: delisting removals, then scheduled listings/delistings. */
  private runLifecycle(): void {
    let changed = false;
    for (const ex of EXCHANGES) {
      for (const p of this.listedByExchange[ex]) {
        if (p.status === 'delisting' && this.t >= p.statusUntil) {
          p.status = 'delisted';
          p.statusSince = this.t;
          this.record('delisted', p);
          changed = true;
        }
      }
    }
    const c = this.churn;
    while (c && this.t >= this.nextChurnT) {
      const at = this.nextChurnT;
      const listing = this.churnCount % 2 === 0;
      this.churnCount++;
      this.nextChurnT = this.drawNextChurn(at);
      if (listing) {
        // A held-back pair first; once none is left, one delisted earlier comes back.
        let pool = this.pairs.filter((p) => p.status === 'pending');
        if (pool.length === 0) pool = this.pairs.filter((p) => p.status === 'delisted');
        if (pool.length === 0) continue;
        const p = pool[this.churnRng.int(pool.length)];
        p.status = 'live';
        p.listedAt = this.t;
        p.statusSince = this.t;
        p.statusUntil = Infinity;
        p.lastUpdateT = this.t;
        this.record('listed', p);
      } else {
        const pool = this.pairs.filter((p) => p.status === 'live' && !c.protectedKeys.has(p.spec.key));
        if (pool.length === 0) continue;
        const p = pool[this.churnRng.int(pool.length)];
        p.status = 'delisting';
        p.statusSince = this.t;
        p.statusUntil = this.t + c.noticeSec;
        p.dislocationBps = 0;
        this.record('delisting', p);
        if (c.noticeSec === 0) {
          p.status = 'delisted';
          this.record('delisted', p);
        }
      }
      changed = true;
    }
    this.nextRemovalT = Infinity;
    for (const ex of EXCHANGES) {
      for (const p of this.listedByExchange[ex]) if (p.status === 'delisting' && p.statusUntil < this.nextRemovalT) this.nextRemovalT = p.statusUntil;
    }
    if (changed) {
      this.rebuildLists();
      for (let i = this.active.length - 1; i >= 0; i--) if (this.active[i].pair.status !== 'live') this.active.splice(i, 1);
    }
  }

  /**
   * Guarantees that every venue with 3+ instruments has a pair settling every 4 h or 1 h, and that both
   * intervals occur somewhere (as on the real venues), so interval handling is always exercised.
   */
  private ensureShortIntervals(setup: Prng): void {
    const drawn = (p: Pair) => VENUES[p.exchange].twin.profile.fixedFundingIntervalMs === undefined;
    for (const all of Object.values(this.byExchange)) {
      const pairs = all.filter(drawn);
      if (pairs.length < 3 || pairs.some((p) => p.fundingIntervalMs !== EIGHT_HOURS_MS)) continue;
      pairs[setup.int(pairs.length)].fundingIntervalMs = setup.next() < 0.6 ? 4 * HOUR_MS : HOUR_MS;
    }
    if (this.pairs.length < 8) return;
    for (const interval of [4 * HOUR_MS, HOUR_MS]) {
      if (this.pairs.some((p) => drawn(p) && p.fundingIntervalMs === interval)) continue;
      const candidates = this.pairs.filter((p) => drawn(p) && p.fundingIntervalMs === EIGHT_HOURS_MS);
      if (candidates.length === 0) continue;
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
    if (this.t >= this.nextChurnT || this.t >= this.nextRemovalT) this.runLifecycle();
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
    let pair = this.forced.shift();
    while (pair && pair.status !== 'live') pair = this.forced.shift();
    pair ??= this.marketPairs[this.rng.int(this.marketPairs.length)];
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

  /**
   * Settlements on wall time `nowMs` (epoch ms) for venues with dynamic intervals: called before
   * anything is published at `nowMs`, so every frame after a settlement shows the schedule it set. O(1)
   * between hour boundaries; no randomness (the same funding path gives the same switches).
   */
  settleFunding(nowMs: number): void {
    if (this.dynamic.length === 0 || nowMs < this.nextSettlementCheckMs) return;
    const hour = Math.floor(nowMs / HOUR_MS) * HOUR_MS; // the settlement boundary just passed
    const first = this.nextSettlementCheckMs === 0;
    this.nextSettlementCheckMs = hour + HOUR_MS;
    if (first) return; // no settlement has been watched yet
    for (const d of this.dynamic) {
      const pair = d.pair;
      if (hour % pair.fundingIntervalMs !== 0) continue; // not one of its settlements
      const rate = Math.abs(fundingRate(pair));
      if (pair.fundingIntervalMs > HOUR_MS) {
        if (rate < d.cap) continue;
        d.baseMs = pair.fundingIntervalMs;
        d.quiet = 0;
        pair.fundingIntervalMs = HOUR_MS;
        this.intervalSwitches++;
      } else if (d.baseMs > HOUR_MS) {
        // Quiet: at its own interval the rate would have stayed under the cap.
        d.quiet = Math.abs(pair.funding8h * d.baseMs) / EIGHT_HOURS_MS < d.cap ? d.quiet + 1 : 0;
        if (d.quiet < DYNAMIC_REVERT_SETTLEMENTS) continue;
        pair.fundingIntervalMs = d.baseMs;
        d.baseMs = 0;
        d.quiet = 0;
        this.intervalSwitches++;
      }
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
    // Multiplied listings quote `multiplier` units of the underlying: 1000PEPE = 1000 × PEPE.
    const ref = this.ref(pair.instrumentIndex) * pair.multiplier;
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

/** Every key on every venue, USDT-settled and bare (the explicit `instruments` option). */
function plainListings(keys: readonly string[]): Listing[] {
  return EXCHANGES.flatMap((exchange) =>
    keys.map((key) => {
      const bq = parseInstrumentKey(key);
      if (!bq) throw new Error(`not an instrument key: ${key}`);
      return { key, exchange, listedBase: bq.base, multiplier: 1, settle: 'USDT' as const, startPrice: 0 };
    }),
  );
}
