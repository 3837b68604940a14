/**
 * A deterministic synthetic market (seeded) as MarketRecords, and the way a replay feeds records into an
 * Engine: register the venue symbol, push the update stamped with its receive time, drain; sweep on the
 * record clock every 250 ms, as the server's timer does on the wall clock.
 */
import { DEFAULT_CONFIG, type Config } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { Engine } from '../../server/engine/engine.js';
import { defaultSymbolOfKey as nativeSymbol, symbolBaseQuote as parseNativeSymbol } from '../../server/venues/index.js';
import type { MarketRecord } from '../../server/persistence/persistence.js';
import { mulberry32 } from '../helpers/random.js';

export const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP'];
export const T0 = 1_764_000_000_000;

export const MARKET_CONFIG: Config = {
  ...DEFAULT_CONFIG,
  market: { ...DEFAULT_CONFIG.market, exchanges: [...EXCHANGES], instruments: INSTRUMENTS },
};

/** Random-walk mid prices with occasional dislocations of one venue (so opportunities open and close). */
export class SyntheticMarket {
  private readonly rnd: () => number;
  private readonly mid = new Map<string, number>([
    ['BTC-PERP', 100_000],
    ['ETH-PERP', 3_500],
  ]);
  private dislocated: { instrument: string; exchange: Exchange; bps: number; untilN: number } | null = null;
  private n = 0;

  constructor(seed = 7) {
    this.rnd = mulberry32(seed);
  }

  next(recvMs: number): MarketRecord {
    this.n++;
    const instrument = INSTRUMENTS[Math.floor(this.rnd() * INSTRUMENTS.length)];
    const exchange = EXCHANGES[Math.floor(this.rnd() * EXCHANGES.length)];
    const symbol = nativeSymbol(exchange, instrument);
    if (this.rnd() < 0.03) {
      const nextFundingMs = Math.ceil((recvMs + 1) / 28_800_000) * 28_800_000;
      return { exchange, symbol, kind: 'funding', recvMs, exchangeTsMs: recvMs - 2, fundingRate: Math.round((this.rnd() - 0.4) * 6) / 10_000 + 0 /* no -0 */, fundingIntervalMs: 28_800_000, nextFundingMs, predicted: false };
    }
    const mid0 = this.mid.get(instrument) as number;
    const mid = mid0 * (1 + (this.rnd() - 0.5) * 0.0002);
    this.mid.set(instrument, mid);
    if (!this.dislocated && this.rnd() < 0.01) {
      this.dislocated = { instrument, exchange, bps: (this.rnd() < 0.5 ? -1 : 1) * (30 + this.rnd() * 40), untilN: this.n + 50 + Math.floor(this.rnd() * 300) };
    }
    if (this.dislocated && this.n > this.dislocated.untilN) this.dislocated = null;
    const shift = this.dislocated && this.dislocated.instrument === instrument && this.dislocated.exchange === exchange ? this.dislocated.bps / 1e4 : 0;
    const m = mid * (1 + shift);
    const half = m * 0.00005;
    const tick = instrument.startsWith('BTC') ? 0.1 : 0.01;
    const bid = Math.round((m - half) / tick) * tick;
    const ask = Math.max(bid + tick, Math.round((m + half) / tick) * tick);
    return {
      exchange,
      symbol,
      kind: 'quote',
      recvMs,
      exchangeTsMs: recvMs - 2,
      bid: Number(bid.toFixed(2)),
      ask: Number(ask.toFixed(2)),
      bidSize: Math.round(this.rnd() * 5000) / 1000 + 0.01,
      askSize: Math.round(this.rnd() * 5000) / 1000 + 0.01,
    };
  }
}

/** Feeds market records into an engine the way a replay does; the engine's clock follows the records. */
export class EngineDriver {
  readonly engine: Engine;
  readonly events: OpportunityEvent[] = [];
  private clockMs: number;
  private nextSweepMs = 0;
  private readonly ids = new Map<string, number>();
  private readonly sub;

  constructor(config: Config = MARKET_CONFIG, opts: { wallClock?: boolean; startMs?: number } = {}) {
    this.clockMs = opts.startMs ?? T0;
    this.engine = new Engine({ config, now: opts.wallClock ? Date.now : () => this.clockMs });
    this.sub = this.engine.bus.subscribe('test-driver');
  }

  apply(r: MarketRecord): void {
    this.clockMs = r.recvMs;
    if (this.nextSweepMs === 0) this.nextSweepMs = r.recvMs + 250;
    while (r.recvMs >= this.nextSweepMs) {
      this.engine.sweep(this.nextSweepMs);
      this.nextSweepMs += 250;
    }
    const key = `${r.exchange}:${r.symbol}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      const bq = parseNativeSymbol(r.exchange, r.symbol);
      if (!bq) return;
      id = this.engine.registerInstrument(r.exchange, r.symbol, bq);
      this.ids.set(key, id);
    }
    const recvUs = r.recvMs * 1000;
    if (r.kind === 'quote') this.engine.pushQuote(id, r.bid ?? NaN, r.ask ?? NaN, r.bidSize ?? NaN, r.askSize ?? NaN, r.exchangeTsMs, recvUs);
    else this.engine.pushFunding(id, r.fundingRate ?? NaN, r.fundingIntervalMs ?? NaN, r.nextFundingMs ?? NaN, r.predicted ?? false, r.exchangeTsMs, recvUs);
    this.engine.drain();
    this.collect();
  }

  collect(): void {
    for (;;) {
      const batch = this.sub.popBatch(4096);
      if (batch.length === 0) return;
      this.events.push(...batch);
    }
  }
}
