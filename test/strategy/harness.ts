/**
 * A real Engine + MemoryPersistence + StrategyRunner on one hand-driven clock, with helpers to push
 * quotes/funding the way a feed does (push → drain) and to step the runner.
 */
import { DEFAULT_CONFIG, applyConfigPatch, type Config } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import type { StrategyEvent } from '../../shared/position.js';
import { Engine } from '../../server/engine/engine.js';
import type { Subscription } from '../../server/engine/bus.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import type { Persistence } from '../../server/persistence/persistence.js';
import { StrategyRunner } from '../../server/strategy/runner.js';
import { PaperExecutor, type ExecutionReport, type Executor, type OrderRequest } from '../../server/strategy/execution.js';

export const T0 = Date.UTC(2026, 0, 5, 10, 0, 0); // a Monday, 10:00 UTC
export const HOUR = 3_600_000;
export const BTC = 'BTC-PERP';
export const ETH = 'ETH-PERP';

const SYMBOLS: Record<string, Partial<Record<Exchange, string>>> = {
  [BTC]: { bybit: 'BTCUSDT', okx: 'BTC-USDT-SWAP', binance: 'BTCUSDT', kucoin: 'XBTUSDTM' },
  [ETH]: { bybit: 'ETHUSDT', okx: 'ETH-USDT-SWAP', binance: 'ETHUSDT', kucoin: 'ETHUSDTM' },
};

/**
 * Test defaults: round 5 bps taker fees, no hygiene delay, no automatic exits unless a test turns one on,
 * so every number in a test is hand-computable. detector.requireFunding is off: most tests open on
 * quotes alone (test/engine/funding-unknown.test.ts covers the default).
 */
export const TEST_PATCH = {
  thresholds: { minSpreadBps: 5, minFundingDelta8h: -0.05, minConfidence: 0, minProfitBps: 0, hysteresisBps: 0 },
  detector: { slippageImpactBps: 5, staleAfterMs: 5000, requireFunding: false },
  fees: { takerBps: { bybit: 5, okx: 5, kucoin: 6, binance: 4 } },
  strategy: { minOpportunityAgeMs: 0, minOpportunityUpdates: 0, minProfitBps: 5, maxQuoteAgeMs: 2000, cooldownMs: 30_000, leverage: 5, maintenanceMarginRate: 0.005 },
  exits: { exitSpreadBps: -10_000, takeProfitUsd: 0, stopLossUsd: 0, maxHoldingMs: 0, exitOnFundingFlip: false, onFeedDown: 'close', minLiquidationDistancePct: 0 },
  risk: { maxOpenPositions: 10, maxNotionalPerInstrumentUsd: 5000, maxNotionalPerExchangeUsd: 20_000, maxTotalExposureUsd: 50_000, dailyLossLimitUsd: 0 },
};

/** The standard pair's quantity (openStandard): 1000 / max(long ask 100.00, short bid 100.50) = 9.9502… BTC. */
export const STD_QTY = 1000 / 100.5;

export function testConfig(patch: unknown = {}): Config {
  const base = applyConfigPatch(DEFAULT_CONFIG, TEST_PATCH);
  if (!base.ok) throw new Error(JSON.stringify(base.errors));
  const r = applyConfigPatch(base.config, patch);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

export class Harness {
  t = T0;
  readonly now = (): number => this.t;
  readonly engine: Engine;
  persistence: Persistence;
  runner: StrategyRunner;
  config: Config;
  private readonly ids = new Map<string, number>();
  private readonly lastQuote = new Map<string, [number, number, number, number]>();
  private tap: Subscription<StrategyEvent>;
  readonly seen: StrategyEvent[] = [];
  usTicks = 0;

  constructor(opts: { config?: Config; persistence?: Persistence; executor?: (h: Harness) => Executor } = {}) {
    this.config = opts.config ?? testConfig();
    this.engine = new Engine({ config: this.config, now: this.now });
    for (const [inst, venues] of Object.entries(SYMBOLS)) {
      for (const [ex, sym] of Object.entries(venues)) {
        const base = inst.split('-')[0];
        this.ids.set(`${inst}|${ex}`, this.engine.registerInstrument(ex as Exchange, sym, { base, quote: 'USDT' }));
      }
    }
    this.persistence = opts.persistence ?? new MemoryPersistence();
    this.runner = this.makeRunner(opts.executor);
    this.tap = this.runner.events.subscribe('test');
  }

  makeRunner(executor?: (h: Harness) => Executor): StrategyRunner {
    return new StrategyRunner({
      engine: this.engine,
      config: this.config,
      persistence: this.persistence,
      now: this.now,
      nowUs: () => this.t * 1000 + (this.usTicks += 250), // every read of the µs clock is 250 µs later
      executor: executor?.(this),
    });
  }

  /** A fresh runner on the same engine and persistence (a process restart of the strategy). */
  async restart(persistence: Persistence = this.persistence): Promise<StrategyRunner> {
    this.persistence = persistence;
    this.runner = this.makeRunner();
    this.tap = this.runner.events.subscribe('test');
    await this.runner.restore();
    return this.runner;
  }

  id(inst: string, ex: Exchange): number {
    const id = this.ids.get(`${inst}|${ex}`);
    if (id === undefined) throw new Error(`no ${inst} on ${ex}`);
    return id;
  }

  quote(ex: Exchange, bid: number, ask: number, bidSize = 1000, askSize = 1000, inst = BTC): void {
    this.lastQuote.set(`${inst}|${ex}`, [bid, ask, bidSize, askSize]);
    this.engine.pushQuote(this.id(inst, ex), bid, ask, bidSize, askSize, this.t, 0);
    this.engine.drain();
  }

  funding(ex: Exchange, rate: number, intervalMs: number, nextFundingMs: number, predicted = false, inst = BTC): void {
    this.engine.pushFunding(this.id(inst, ex), rate, intervalMs, nextFundingMs, predicted, this.t, 0);
    this.engine.drain();
  }

  /** Moves the clock and re-sends every venue's last quote (so quotes stay fresh), then steps. */
  advance(ms: number, opts: { refresh?: boolean } = {}): void {
    this.t += ms;
    if (opts.refresh !== false) {
      for (const [key, [bid, ask, bs, as]] of this.lastQuote) {
        const [inst, ex] = key.split('|') as [string, Exchange];
        this.engine.pushQuote(this.id(inst, ex), bid, ask, bs, as, this.t, 0);
      }
      this.engine.drain();
    }
    this.step();
  }

  step(): void {
    this.runner.step(this.t);
    this.seen.push(...this.tap.popBatch(100_000));
  }

  setConfig(patch: unknown): void {
    this.config = testConfig(patch);
    this.engine.setConfig(this.config);
    this.runner.setConfig(this.config);
  }

  only(): ReturnType<StrategyRunner['positions']>[number] {
    const ps = this.runner.positions();
    if (ps.length !== 1) throw new Error(`expected one position, got ${ps.length}`);
    return ps[0];
  }

  /**
   * Long okx / short bybit BTC at a 50 bps spread: okx 99.90/100.00, bybit 100.50/100.60, deep books.
   * STD_QTY per leg: 1000 USD at the higher entry price, the short bid 100.50 (short leg 1000 USD,
   * long leg 995.02 USD).
   */
  openStandard(): void {
    this.quote('okx', 99.9, 100.0);
    this.quote('bybit', 100.5, 100.6);
    this.step();
  }
}

/**
 * An executor for venues that refuse some orders (maintenance, account limits) — what a live executor
 * reports as `venue_rejected` — and executes everything else on paper.
 */
export class VenueRejectingExecutor implements Executor {
  readonly kind = 'paper' as const;
  private rejected: ExecutionReport[] = [];
  constructor(
    private readonly inner: Executor,
    public refuses: (order: OrderRequest) => boolean,
  ) {}
  submit(order: OrderRequest): void {
    if (this.refuses(order))
      this.rejected.push({ clientOrderId: order.clientOrderId, status: 'rejected', terminal: true, fill: null, reason: 'venue_rejected', detail: `${order.exchange} refuses orders` });
    else this.inner.submit(order);
  }
  poll(nowMs: number): ExecutionReport[] {
    const out = [...this.inner.poll(nowMs), ...this.rejected];
    this.rejected = [];
    return out;
  }
}

export function paperFor(h: Harness): PaperExecutor {
  return new PaperExecutor({ quote: (i, e) => h.engine.quote(i, e), config: () => h.config, now: h.now, nowUs: () => h.t * 1000 });
}
