/**
 * The paper-trading strategy: consumes the opportunity bus (as subscriber 'strategy'), opens paired
 * positions through an Executor, marks them, accrues funding, exits them, and keeps the portfolio.
 *
 * Determinism: all business time comes from the `now` passed to `step(nowMs)` (or the injected `now()`
 * for REST calls). One `step` does one full pass in a fixed order — bus → pending orders and closes →
 * marks → entries (risk checks see fresh marks) → funding → exits — so a replay driving `step` gives
 * the same trades every time. `start()` only runs `step` on a timer and when the bus wakes it.
 *
 * State machine per position: opening → open → closing → closed, and closing → broken → closed when
 * the unwind of a failed entry itself failed (retried every pass until the naked leg is flat).
 * Every transition is recorded on the position with its reason and emitted. A close is persisted
 * (state `closing` + exit reason) BEFORE any exit order; the quantity still to close and the next
 * order attempt are derived from the recorded fills, so a second close or a restart mid-close never
 * trades twice. Marks alone are persisted at most once a second (recomputed on the next pass anyway).
 *
 * Halted blocks entries and automatic exits; explicit closes (manual, kill switch) and unwinds of a
 * failed entry still run. Reducing blocks entries only.
 */
import type { Config } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import type { Opportunity, OpportunityEvent } from '../../shared/opportunity.js';
import type {
  ExitReason,
  Fill,
  FillPurpose,
  Leg,
  Portfolio,
  Position,
  PositionState,
  RiskRejection,
  StrategyEvent,
  TradingState,
} from '../../shared/position.js';
import { BroadcastRing, type Subscription } from '../engine/bus.js';
import { nowUs as systemNowUs } from '../engine/clock.js';
import type { Persistence, PortfolioState } from '../persistence/persistence.js';
import { closeSpreadBps, legMargin, legPricePnl, liquidationDistancePct, liquidationPrice, markPrice, utcDay } from './accounting.js';
import type { StrategyEngine, StrategyQuote } from './engine-view.js';
import { entryRejection, type Rejection } from './entry-rules.js';
import { PaperExecutor, type ExecutionReport, type Executor, type OrderRequest } from './execution.js';
import { exitDecision } from './exits.js';
import { settleFunding, learnFunding } from './funding.js';
import { LEGS, LIVE_STATES, QTY_EPS, attemptOf, emptyLeg, legOfFill, newBook, positionSeq, snapshot, type Book, type LegKey } from './book.js';
import { computePortfolio, freshPortfolioState } from './portfolio.js';

export interface StrategyRunnerOptions {
  engine: StrategyEngine;
  config: Config;
  persistence: Persistence;
  /** Default: a PaperExecutor on the engine's quotes. */
  executor?: Executor;
  now?: () => number;
  /** Epoch µs for decision-to-fill latency (default: the engine's high-resolution clock). */
  nowUs?: () => number;
  /** Timer period of `start()` (ms, default 100). */
  stepIntervalMs?: number;
  eventsCapacity?: number;
  /** Rejections kept in memory for `rejections()` (default 1000). */
  maxRejections?: number;
  /** Closed positions kept in memory (default 1000); persistence keeps more. */
  maxClosedPositions?: number;
  /** Fills kept in memory for `fills()` (default 10,000). */
  maxFills?: number;
}

export class PositionNotFoundError extends Error {
  constructor(readonly positionId: string) {
    super(`no position ${positionId}`);
    this.name = 'PositionNotFoundError';
  }
}

/** How long an order may stay without a terminal report before the runner records it (ms). */
const ORDER_TIMEOUT_MS = 10_000;
const DAY_MS = 86_400_000;
/** Mark-to-market alone re-publishes a position / the portfolio at most this often (business ms). */
const MARK_EMIT_MS = 250;
/** ...and is persisted at most this often (fills, funding and transitions are saved at once). */
const MARK_SAVE_MS = 1000;
interface PendingOrder {
  book: Book;
  leg: LegKey;
  purpose: FillPurpose;
  submittedMs: number;
}

export class StrategyRunner {
  readonly events: BroadcastRing<StrategyEvent>;
  private readonly engine: StrategyEngine;
  private readonly persistence: Persistence;
  private readonly executor: Executor;
  private readonly now: () => number;
  private readonly nowUs: () => number;
  private readonly stepIntervalMs: number;
  private readonly maxRejections: number;
  private readonly maxClosed: number;
  private readonly maxFills: number;
  private config: Config;
  private readonly sub: Subscription<OpportunityEvent>;
  /** Quotes read during the pass in progress (the engine does not change while a pass runs). */
  private readonly passQuotes = new Map<string, StrategyQuote | null>();
  private readonly quoteOf = (instrument: string, exchange: Exchange): StrategyQuote | null => {
    if (!this.stepping) return this.engine.quote(instrument, exchange);
    const key = `${instrument}|${exchange}`;
    let q = this.passQuotes.get(key);
    if (q === undefined) {
      q = this.engine.quote(instrument, exchange);
      this.passQuotes.set(key, q);
    }
    return q;
  };

  private state: PortfolioState;
  private readonly books = new Map<string, Book>();
  /** The books of live (opening/open/closing/broken) positions, in creation order. */
  private readonly live = new Map<string, Book>();
  private closedOrder: string[] = [];
  private fillLog: Fill[] = [];
  private readonly fillIds = new Set<string>();
  private readonly orders = new Map<string, PendingOrder>();
  /** Rejections for orders whose executor threw on submit (delivered with the next poll). */
  private brokenPromises: ExecutionReport[] = [];
  private rejectionLog: RiskRejection[] = [];
  /** opportunity id → last rejection reason recorded (so one flicker is not recorded on every update). */
  private readonly lastRejection = new Map<string, string>();
  private readonly rejectionTotals = new Map<string, number>();
  private readonly watch = new Map<string, Opportunity>();
  private lastPositionSeq = 0;
  /** Business time of the pass in progress (what the paper executor stamps fills with). */
  private clockMs = 0;
  private stepping = false;
  private dirty = false;
  private lastPortfolioEmitMs = -Infinity;
  private timer: ReturnType<typeof setInterval> | null = null;
  private wakeScheduled = false;
  private missedEvents = 0;
  /** Start of the UTC day `state.day` was last checked in (epoch ms). */
  private dayStartMs = -Infinity;
  /** Marks-only changes since the last portfolio event (emitted at most every MARK_EMIT_MS). */
  private marksMoved = false;
  /** position id → funding schedule last saved (see fundingScheduleMoved). */
  private readonly savedSchedule = new Map<string, string>();

  constructor(opts: StrategyRunnerOptions) {
    this.engine = opts.engine;
    this.config = opts.config;
    this.persistence = opts.persistence;
    this.now = opts.now ?? Date.now;
    this.nowUs = opts.nowUs ?? systemNowUs;
    this.stepIntervalMs = opts.stepIntervalMs ?? 100;
    this.maxRejections = opts.maxRejections ?? 1000;
    this.maxClosed = opts.maxClosedPositions ?? 1000;
    this.maxFills = opts.maxFills ?? 10_000;
    this.events = new BroadcastRing<StrategyEvent>(opts.eventsCapacity ?? 4096);
    this.executor =
      opts.executor ??
      new PaperExecutor({
        quote: (instrument, exchange) => this.quoteOf(instrument, exchange),
        config: () => this.config,
        now: () => this.clockMs,
        nowUs: this.nowUs,
      });
    this.clockMs = this.now();
    this.state = freshPortfolioState(this.config.strategy.startingCapitalUsd, this.clockMs);
    // Subscribed from construction so no opportunity published before start() is lost.
    this.sub = this.engine.bus.subscribe('strategy', () => this.onWake());
    // ...and what is already open when it starts (the engine may have run before the strategy).
    for (const o of this.engine.opportunities()) this.watch.set(o.id, o);
  }

  // ---------------------------------------------------------------------------------------------
  // Public API (docs/INTERFACES.md)

  async restore(): Promise<void> {
    const [positions, fills, state] = await Promise.all([
      this.persistence.loadPositions(),
      this.persistence.loadFills(),
      this.persistence.loadPortfolioState(),
    ]);
    this.books.clear();
    this.live.clear();
    this.closedOrder = [];
    this.orders.clear();
    this.fillIds.clear();
    const sortedFills = [...fills].sort((a, b) => a.fillMs - b.fillMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.fillLog = sortedFills.slice(-this.maxFills);
    for (const f of sortedFills) this.fillIds.add(f.id);
    if (state) this.state = { ...state, cooldownUntilMs: { ...state.cooldownUntilMs } };
    const byPosition = new Map<string, Fill[]>();
    for (const f of sortedFills) {
      const list = byPosition.get(f.positionId);
      if (list) list.push(f);
      else byPosition.set(f.positionId, [f]);
    }
    const sorted = [...positions].sort((a, b) => positionSeq(a.id) - positionSeq(b.id));
    for (const p of sorted) {
      this.lastPositionSeq = Math.max(this.lastPositionSeq, positionSeq(p.id));
      const book = newBook(p, 0);
      const own = byPosition.get(p.id) ?? [];
      for (const f of own) {
        const leg = legOfFill(f);
        if (f.purpose === 'entry') book.entryDone[leg] = true;
        else {
          book.closed[leg] += f.quantity;
          book.attempts[leg] = Math.max(book.attempts[leg], attemptOf(f.id));
        }
      }
      this.books.set(p.id, book);
      if (LIVE_STATES.has(p.state)) this.live.set(p.id, book);
      else this.closedOrder.push(p.id);
      if (p.state === 'opening') {
        // Interrupted mid-entry: the legs hold what their recorded entry fills say; flatten them.
        for (const leg of LEGS) {
          const entries = own.filter((f) => f.purpose === 'entry' && legOfFill(f) === leg);
          const qty = entries.reduce((s, f) => s + f.quantity, 0);
          p[leg].quantity = qty;
          p[leg].entryPrice = qty > 0 ? entries.reduce((s, f) => s + f.price * f.quantity, 0) / qty : 0;
        }
        p.exitReason = 'leg_failed';
        this.transition(book, 'closing', 'leg_failed: restarted during entry; unwinding what was filled', this.clockMs);
      }
    }
    this.trimClosed();
    this.dirty = true;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.step(this.now()), this.stepIntervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One deterministic pass at business time `nowMs`. */
  step(nowMs: number): void {
    if (this.stepping) return;
    this.stepping = true;
    try {
      this.clockMs = nowMs;
      this.rollDay(nowMs);
      this.consumeBus();
      this.processReports(nowMs);
      for (const book of this.liveBooks()) {
        if (book.p.state === 'closing' || book.p.state === 'broken') this.progressClosing(book, nowMs);
      }
      for (const book of this.liveBooks()) this.mark(book);
      this.enterPositions(nowMs);
      for (const book of this.liveBooks()) this.accrueFunding(book, nowMs);
      this.checkExits(nowMs);
      this.watchOrders(nowMs);
      const sinceEmit = nowMs - this.lastPortfolioEmitMs;
      if (this.dirty || (this.marksMoved && sinceEmit >= MARK_EMIT_MS) || sinceEmit >= 1000) this.emitPortfolio(nowMs);
    } finally {
      this.stepping = false;
      this.passQuotes.clear();
    }
  }

  setConfig(config: Config): void {
    const capital = config.strategy.startingCapitalUsd;
    if (capital !== this.config.strategy.startingCapitalUsd && capital !== this.state.startingCapitalUsd) {
      this.state.startingCapitalUsd = capital; // a deposit/withdrawal: equity moves with it, PnL does not
      this.saveState(this.clockMs);
    }
    this.config = config;
  }

  positions(): Position[] {
    return [...this.books.values()].map((b) => snapshot(b.p));
  }

  position(id: string): Position | undefined {
    const book = this.books.get(id);
    return book ? snapshot(book.p) : undefined;
  }

  fills(): Fill[] {
    return this.fillLog.slice();
  }

  portfolio(): Portfolio {
    return this.computePortfolio(this.clockMs);
  }

  /** Newest first. */
  rejections(limit = 100): RiskRejection[] {
    return this.rejectionLog.slice(-Math.max(0, limit)).reverse(); // rejections are frozen
  }

  tradingState(): TradingState {
    return this.state.tradingState;
  }

  /**
   * Every rejected evaluation by reason (one per opportunity per pass), for metrics. `rejections()` keeps
   * only the first of a run of identical rejections of one opportunity, so a flicker is not recorded 10×/s.
   */
  rejectionCounts(): Record<string, number> {
    return Object.fromEntries(this.rejectionTotals);
  }

  /** Bus items lost because the runner fell behind (it resynchronised from the engine's open set). */
  missedOpportunityEvents(): number {
    return this.missedEvents;
  }

  /** Requests the close of a position; idempotent (a closing or closed position is returned as is). */
  closePosition(id: string, reason: ExitReason = 'manual'): Position {
    const book = this.books.get(id);
    if (!book) throw new PositionNotFoundError(id);
    const nowMs = this.now();
    this.clockMs = Math.max(this.clockMs, nowMs);
    this.requestClose(book, reason, reason === 'manual' ? 'closed by request' : reason, this.clockMs);
    return snapshot(book.p);
  }

  setTradingState(state: TradingState, opts: { closeAll?: boolean; reason?: string } = {}): void {
    this.clockMs = Math.max(this.clockMs, this.now());
    const reason = opts.reason ?? 'requested';
    if (state !== this.state.tradingState) {
      this.state.tradingState = state;
      this.saveState(this.clockMs);
      this.emit({ kind: 'trading_state', tsMs: this.clockMs, state, reason });
    }
    if (opts.closeAll) {
      for (const book of this.liveBooks()) this.requestClose(book, 'kill_switch', `kill switch: ${reason}`, this.clockMs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Bus

  private onWake(): void {
    if (!this.timer || this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      if (this.timer) this.step(this.now());
    });
  }

  private consumeBus(): void {
    for (;;) {
      const batch = this.sub.popBatch(1024);
      for (const ev of batch) {
        if (ev.kind === 'closed') {
          this.watch.delete(ev.opportunity.id);
          this.lastRejection.delete(ev.opportunity.id);
        } else this.watch.set(ev.opportunity.id, ev.opportunity);
      }
      if (batch.length < 1024) break;
    }
    const missed = this.sub.takeMissed();
    if (missed > 0) {
      // Fell behind the ring: the engine's open set is the truth.
      this.missedEvents += missed;
      this.watch.clear();
      for (const o of this.engine.opportunities()) this.watch.set(o.id, o);
      for (const id of [...this.lastRejection.keys()]) if (!this.watch.has(id)) this.lastRejection.delete(id);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Entries

  private enterPositions(nowMs: number): void {
    if (!this.config.strategy.enabled || this.watch.size === 0) return;
    // The book as the rules see it; rebuilt only after an entry changes it.
    let pf: Portfolio | null = null;
    let busy: Set<string> | null = null;
    let live: Set<string> | null = null;
    for (const opp of this.watch.values()) {
      if (live === null) {
        live = new Set();
        for (const b of this.live.values()) live.add(b.p.opportunityId);
      }
      if (live.has(opp.id)) continue;
      pf ??= this.computePortfolio(nowMs);
      busy ??= this.busyInstruments();
      const rejection = entryRejection(opp, {
        config: this.config,
        nowMs,
        tradingState: this.state.tradingState,
        cooldownUntilMs: this.state.cooldownUntilMs,
        busyInstruments: busy,
        openPositions: pf.openPositions,
        exposureByInstrument: pf.exposureByInstrument,
        exposureByExchange: pf.exposureByExchange,
        grossExposureUsd: pf.grossExposureUsd,
        dailyPnlUsd: pf.dailyPnlUsd,
        availableCapitalUsd: pf.availableCapitalUsd,
        quote: this.quoteOf,
      });
      if (rejection) {
        this.reject(opp.id, opp.instrument, rejection, nowMs);
        continue;
      }
      this.lastRejection.delete(opp.id);
      // Rules passed on both quotes, so both exist here.
      const longQuote = this.quoteOf(opp.instrument, opp.longExchange);
      const shortQuote = this.quoteOf(opp.instrument, opp.shortExchange);
      if (longQuote && shortQuote) this.open(opp, longQuote, shortQuote, nowMs);
      pf = busy = live = null;
    }
  }

  private reject(opportunityId: string, instrument: string, r: Rejection, nowMs: number, force = false): void {
    this.rejectionTotals.set(r.reason, (this.rejectionTotals.get(r.reason) ?? 0) + 1);
    if (!force && this.lastRejection.get(opportunityId) === r.reason) return;
    this.lastRejection.set(opportunityId, r.reason);
    const rejection: RiskRejection = Object.freeze({ tsMs: nowMs, opportunityId, instrument, reason: r.reason, detail: r.detail });
    this.rejectionLog.push(rejection);
    if (this.rejectionLog.length > this.maxRejections * 2) this.rejectionLog = this.rejectionLog.slice(-this.maxRejections);
    this.emit({ kind: 'rejection', tsMs: nowMs, rejection });
  }

  private open(opp: Opportunity, longQuote: StrategyQuote, shortQuote: StrategyQuote, nowMs: number): void {
    const cfg = this.config.strategy;
    const id = `pos-${++this.lastPositionSeq}`;
    // Same BASE quantity on both legs (delta-neutral), sized on the long leg's ask.
    const quantity = cfg.notionalUsd / longQuote.ask;
    const p: Position = {
      id,
      instrument: opp.instrument,
      opportunityId: opp.id,
      state: 'opening',
      long: emptyLeg(opp.longExchange, opp.longSymbol, 'long'),
      short: emptyLeg(opp.shortExchange, opp.shortSymbol, 'short'),
      notionalUsd: cfg.notionalUsd,
      openedMs: nowMs,
      closedMs: null,
      entrySpreadBps: opp.spreadBps,
      currentSpreadBps: closeSpreadBps(longQuote.bid, shortQuote.ask),
      entryProjectedProfitBps: opp.projectedProfitBps,
      entryFundingDelta8h: opp.fundingDelta8h,
      realisedPnlUsd: 0,
      unrealisedPnlUsd: 0,
      fundingUsd: 0,
      feesUsd: 0,
      exitReason: null,
      transitions: [],
    };
    // Margin is reserved for the target notional while the entry is in flight.
    p.long.marginUsd = p.short.marginUsd = cfg.notionalUsd / cfg.leverage;
    const book = newBook(p, quantity);
    this.books.set(id, book);
    this.live.set(id, book);
    this.transition(book, 'opening', `entry on ${opp.id}: projected ${opp.projectedProfitBps.toFixed(2)} bps, spread ${opp.spreadBps.toFixed(2)} bps`, nowMs, 'position_opened');
    const decisionUs = this.nowUs();
    for (const leg of LEGS) this.submit(book, leg, 'entry', quantity, `${id}:entry:${leg}`, this.config.strategy.maxQuoteAgeMs, nowMs, decisionUs);
    this.processReports(nowMs);
  }

  private finishEntry(book: Book, nowMs: number): void {
    const p = book.p;
    if (book.entryFailure.length === 0) {
      const lev = this.config.strategy.leverage;
      const mmr = this.config.strategy.maintenanceMarginRate;
      for (const leg of LEGS) {
        const l = p[leg];
        l.marginUsd = legMargin(l.quantity, l.entryPrice, lev);
        l.liquidationPrice = liquidationPrice(leg, l.entryPrice, lev, mmr);
        l.markPrice = l.entryPrice;
        l.liquidationDistancePct = liquidationDistancePct(leg, l.markPrice, l.liquidationPrice);
        this.initFunding(l, this.quoteOf(p.instrument, l.exchange), nowMs);
      }
      p.entrySpreadBps = ((p.short.entryPrice - p.long.entryPrice) / p.long.entryPrice) * 10_000;
      this.mark(book); // a fresh position is worth what closing it now would fetch
      this.transition(book, 'open', `both legs filled: long ${p.long.quantity} @ ${p.long.entryPrice} on ${p.long.exchange}, short @ ${p.short.entryPrice} on ${p.short.exchange}`, nowMs);
      if (book.closeRequested) this.requestClose(book, book.closeRequested.reason, book.closeRequested.detail, nowMs);
      return;
    }
    const why = book.entryFailure.join('; ');
    p.exitReason = 'leg_failed';
    this.reject(p.opportunityId, p.instrument, { reason: 'entry_failed', detail: `${p.id}: ${why}` }, nowMs, true);
    this.transition(book, 'closing', `leg_failed: ${why}; unwinding the filled quantity`, nowMs);
    this.progressClosing(book, nowMs);
  }

  /** The leg's pending settlement must be after we held it: skip a timestamp the venue has not rolled yet. */
  private initFunding(leg: Leg, quote: StrategyQuote | null, nowMs: number): void {
    learnFunding(leg, quote);
    const interval = leg.fundingIntervalMs && leg.fundingIntervalMs > 0 ? leg.fundingIntervalMs : 8 * 3_600_000;
    while (leg.nextFundingMs > 0 && leg.nextFundingMs <= nowMs) leg.nextFundingMs += interval;
  }

  // ---------------------------------------------------------------------------------------------
  // Orders

  private submit(book: Book, leg: LegKey, purpose: FillPurpose, quantity: number, clientOrderId: string, maxQuoteAgeMs: number, nowMs: number, decisionUs = this.nowUs()): void {
    const l = book.p[leg];
    book.pending[leg] = clientOrderId;
    this.orders.set(clientOrderId, { book, leg, purpose, submittedMs: nowMs });
    const buy = purpose === 'entry' ? leg === 'long' : leg === 'short';
    this.safeSubmit({
      clientOrderId,
      positionId: book.p.id,
      purpose,
      instrument: book.p.instrument,
      exchange: l.exchange,
      symbol: l.symbol,
      side: buy ? 'buy' : 'sell',
      quantity,
      decisionMs: nowMs,
      decisionUs,
      maxQuoteAgeMs,
      timeoutMs: ORDER_TIMEOUT_MS,
    });
  }

  private processReports(nowMs: number): void {
    let polled: ExecutionReport[] = [];
    try {
      polled = this.executor.poll(nowMs);
    } catch {
      // a broken executor: its orders stay pending and are reported by watchOrders
    }
    const reports = polled.length === 0 ? this.brokenPromises : [...polled, ...this.brokenPromises];
    this.brokenPromises = [];
    for (const report of reports) this.applyReport(report, nowMs);
  }

  /** Executors must not throw; if one does, the order is rejected rather than the pass aborted. */
  private safeSubmit(order: OrderRequest): void {
    try {
      this.executor.submit(order);
    } catch (err) {
      const detail = `executor threw: ${err instanceof Error ? err.message : String(err)}`;
      this.brokenPromises.push({ clientOrderId: order.clientOrderId, status: 'rejected', terminal: true, fill: null, reason: 'venue_rejected', detail });
    }
  }

  private applyReport(report: ExecutionReport, nowMs: number): void {
    if (!report.terminal) return; // the terminal report carries the cumulative fill
    const order = this.orders.get(report.clientOrderId);
    if (!order) return; // unknown or already settled (duplicate report)
    this.orders.delete(report.clientOrderId);
    const { book, leg, purpose } = order;
    book.pending[leg] = null;
    const fill = report.fill && report.fill.quantity > 0 && !this.fillIds.has(report.fill.id) ? report.fill : null;
    if (fill) this.bookFill(book, leg, fill, nowMs);
    const filledQty = report.fill?.quantity ?? 0;
    const failure = report.status === 'filled' ? null : `${leg} leg ${purpose} ${report.reason ?? report.status}${report.detail ? ` (${report.detail})` : ''}`;
    if (purpose === 'entry') {
      book.entryDone[leg] = true;
      if (failure || filledQty < book.entryTarget * (1 - 1e-9)) book.entryFailure.push(failure ?? `${leg} leg filled ${filledQty} of ${book.entryTarget}`);
      if (book.entryDone.long && book.entryDone.short && book.p.state === 'opening') this.finishEntry(book, nowMs);
      return;
    }
    if (failure) this.closeAttemptFailed(book, failure, nowMs);
    this.checkClosed(book, nowMs);
  }

  private bookFill(book: Book, leg: LegKey, fill: Fill, nowMs: number): void {
    const p = book.p;
    const l = p[leg];
    this.fillIds.add(fill.id);
    this.fillLog.push(fill);
    if (this.fillLog.length > this.maxFills * 2) {
      this.fillLog = this.fillLog.slice(-this.maxFills);
      // Duplicate reports are already stopped by the pending-order map; this set is the second guard.
      this.fillIds.clear();
      for (const f of this.fillLog) this.fillIds.add(f.id);
    }
    if (fill.purpose === 'entry') {
      const qty = l.quantity + fill.quantity;
      l.entryPrice = (l.entryPrice * l.quantity + fill.price * fill.quantity) / qty;
      l.quantity = qty;
    } else {
      const closedQty = Math.min(fill.quantity, l.quantity - book.closed[leg]);
      const pnl = legPricePnl(leg, closedQty, l.entryPrice, fill.price);
      book.closed[leg] += fill.quantity;
      p.realisedPnlUsd += pnl;
      this.state.realisedPnlUsd += pnl;
      this.state.dailyRealisedPnlUsd += pnl;
    }
    l.feesUsd += fill.feeUsd;
    p.feesUsd += fill.feeUsd;
    p.realisedPnlUsd -= fill.feeUsd;
    this.state.feesPaidUsd += fill.feeUsd;
    this.state.realisedPnlUsd -= fill.feeUsd;
    this.state.dailyRealisedPnlUsd -= fill.feeUsd;
    Object.freeze(fill); // fills never change once booked: shared, not copied
    this.persistence.saveFill(fill);
    this.emit({ kind: 'fill', tsMs: nowMs, fill });
    this.savePosition(book);
    this.saveState(nowMs);
  }

  /** An order with no terminal report after the timeout is a broken executor promise: record it once. */
  private watchOrders(nowMs: number): void {
    for (const [id, order] of this.orders) {
      if (nowMs - order.submittedMs > ORDER_TIMEOUT_MS) this.note(order.book, `order ${id} has no terminal report after ${nowMs - order.submittedMs} ms`, nowMs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Closing

  private requestClose(book: Book, reason: ExitReason, detail: string, nowMs: number): void {
    const p = book.p;
    if (p.state === 'opening') {
      book.closeRequested ??= { reason, detail };
      return;
    }
    if (p.state !== 'open') return; // closing, broken, closed: already on its way (idempotent)
    p.exitReason = reason;
    // Persisted (via transition) before any exit order: a restart finds the intent.
    this.transition(book, 'closing', `${reason}: ${detail}`, nowMs);
    this.progressClosing(book, nowMs);
  }

  /** Sends an order for whatever each leg still holds (derived from fills) unless one is in flight. */
  private progressClosing(book: Book, nowMs: number): void {
    const p = book.p;
    const purpose: FillPurpose = p.exitReason === 'leg_failed' ? 'unwind' : 'exit';
    const decisionUs = this.nowUs();
    for (const leg of LEGS) {
      const remaining = p[leg].quantity - book.closed[leg];
      if (remaining <= QTY_EPS * Math.max(1, p[leg].quantity) || book.pending[leg]) continue;
      const q = this.quoteOf(p.instrument, p[leg].exchange);
      if (!q || !q.usable) {
        // No order into a dead or stale book: wait in closing (recorded once) and try again next pass.
        this.closeAttemptFailed(book, `${leg} leg ${purpose} waiting: ${p[leg].exchange} quote is ${q ? 'stale or its feed is down' : 'missing'}`, nowMs);
        continue;
      }
      book.attempts[leg] += 1;
      this.submit(book, leg, purpose, remaining, `${p.id}:${purpose}:${leg}:${book.attempts[leg]}`, this.config.detector.staleAfterMs, nowMs, decisionUs);
    }
    this.processReports(nowMs);
    this.checkClosed(book, nowMs);
  }

  private closeAttemptFailed(book: Book, failure: string, nowMs: number): void {
    if (book.p.exitReason === 'leg_failed' && book.p.state === 'closing') {
      this.transition(book, 'broken', `unwind failed: ${failure}; retrying every step`, nowMs);
      return;
    }
    this.note(book, `exit retry: ${failure}`, nowMs);
  }

  private checkClosed(book: Book, nowMs: number): void {
    const p = book.p;
    if (p.state !== 'closing' && p.state !== 'broken') return;
    for (const leg of LEGS) {
      if (book.pending[leg]) return;
      if (p[leg].quantity - book.closed[leg] > QTY_EPS * Math.max(1, p[leg].quantity)) return;
    }
    for (const leg of LEGS) {
      p[leg].unrealisedPnlUsd = 0;
      p[leg].marginUsd = 0;
    }
    p.unrealisedPnlUsd = 0;
    p.closedMs = nowMs;
    this.state.cooldownUntilMs[p.instrument] = nowMs + this.config.strategy.cooldownMs;
    const how = p.state === 'broken' ? 'unwound on retry' : p.exitReason === 'leg_failed' ? 'filled leg unwound' : 'both legs closed';
    this.transition(book, 'closed', `${how}; realised ${p.realisedPnlUsd.toFixed(4)} USD`, nowMs, 'position_closed');
    this.saveState(nowMs);
    this.live.delete(p.id);
    this.savedSchedule.delete(p.id);
    this.closedOrder.push(p.id);
    this.trimClosed();
  }

  // ---------------------------------------------------------------------------------------------
  // Marks, funding, exits

  private mark(book: Book): void {
    const p = book.p;
    if (p.state === 'opening' && !(p.long.quantity > 0 && p.short.quantity > 0)) return;
    const lq = this.quoteOf(p.instrument, p.long.exchange);
    const sq = this.quoteOf(p.instrument, p.short.exchange);
    const longMoved = this.markLeg(book, 'long', lq);
    const shortMoved = this.markLeg(book, 'short', sq);
    const changed = longMoved || shortMoved;
    p.unrealisedPnlUsd = p.long.unrealisedPnlUsd + p.short.unrealisedPnlUsd;
    if (lq && sq && lq.bid > 0 && sq.ask > 0) p.currentSpreadBps = closeSpreadBps(lq.bid, sq.ask);
    if (changed) {
      this.marksMoved = true;
      if (this.clockMs - book.lastMarkEmitMs >= MARK_EMIT_MS) {
        book.lastMarkEmitMs = this.clockMs;
        this.emit({ kind: 'position_updated', tsMs: this.clockMs, position: snapshot(p) });
      }
      if (this.clockMs - book.lastMarkSaveMs >= MARK_SAVE_MS) {
        book.lastMarkSaveMs = this.clockMs;
        this.savePosition(book);
      }
    }
  }

  /** Marks one leg at its closing side of `q` (keeps the last mark without a price); true when it moved. */
  private markLeg(book: Book, leg: LegKey, q: StrategyQuote | null): boolean {
    if (!q || !(q.bid > 0) || !(q.ask > 0)) return false;
    const l = book.p[leg];
    const mark = markPrice(leg, q.bid, q.ask);
    const held = l.quantity - book.closed[leg];
    const upnl = held > 0 ? legPricePnl(leg, held, l.entryPrice, mark) : 0;
    const moved = mark !== l.markPrice || upnl !== l.unrealisedPnlUsd;
    l.markPrice = mark;
    l.unrealisedPnlUsd = upnl;
    l.liquidationDistancePct = liquidationDistancePct(leg, mark, l.liquidationPrice);
    return moved;
  }

  private accrueFunding(book: Book, nowMs: number): void {
    const p = book.p;
    if (p.state !== 'open' && p.state !== 'closing') return;
    let total = 0;
    for (const leg of LEGS) {
      const l = p[leg];
      if (book.closed[leg] > 0 || !(l.quantity > 0)) continue; // a leg being closed stops accruing
      for (const s of settleFunding(l, this.quoteOf(p.instrument, l.exchange), nowMs)) total += s.amountUsd;
    }
    if (total === 0 && !this.fundingScheduleMoved(p)) return;
    p.fundingUsd = p.long.fundingUsd + p.short.fundingUsd;
    p.realisedPnlUsd += total;
    this.state.fundingUsd += total;
    this.state.realisedPnlUsd += total;
    this.state.dailyRealisedPnlUsd += total;
    this.savePosition(book);
    this.saveState(nowMs);
    this.emit({ kind: 'position_updated', tsMs: nowMs, position: snapshot(p) });
  }

  /** Whether funding bookkeeping changed since the last save (a zero-rate settlement still advances the schedule). */
  private fundingScheduleMoved(p: Position): boolean {
    const key = `${p.long.nextFundingMs}|${p.long.fundingRate}|${p.short.nextFundingMs}|${p.short.fundingRate}`;
    if (this.savedSchedule.get(p.id) === key) return false;
    this.savedSchedule.set(p.id, key);
    return true;
  }

  private checkExits(nowMs: number): void {
    // Halted allows nothing automatic; explicit closes (manual, kill switch) and unwinds still run.
    if (this.state.tradingState === 'halted') return;
    for (const book of this.liveBooks()) {
      const p = book.p;
      if (p.state !== 'open') continue;
      const decision = exitDecision(p, {
        config: this.config,
        nowMs,
        longQuote: this.quoteOf(p.instrument, p.long.exchange),
        shortQuote: this.quoteOf(p.instrument, p.short.exchange),
      });
      if (decision) this.requestClose(book, decision.reason, decision.detail, nowMs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Portfolio

  private computePortfolio(nowMs: number): Portfolio {
    return computePortfolio(this.state, this.live.values(), nowMs);
  }

  private emitPortfolio(nowMs: number): void {
    this.dirty = false;
    this.marksMoved = false;
    this.lastPortfolioEmitMs = nowMs;
    this.emit({ kind: 'portfolio', tsMs: nowMs, portfolio: this.computePortfolio(nowMs) });
  }

  private rollDay(nowMs: number): void {
    if (nowMs >= this.dayStartMs && nowMs < this.dayStartMs + DAY_MS) return;
    this.dayStartMs = nowMs - (((nowMs % DAY_MS) + DAY_MS) % DAY_MS);
    const day = utcDay(nowMs);
    if (day === this.state.day) return;
    this.state.day = day;
    this.state.dailyRealisedPnlUsd = 0;
    this.saveState(nowMs);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** A copy, so a pass may close positions while it iterates. */
  private liveBooks(): Book[] {
    return [...this.live.values()];
  }

  private busyInstruments(): Set<string> {
    const out = new Set<string>();
    for (const b of this.live.values()) out.add(b.p.instrument);
    return out;
  }

  private transition(book: Book, to: PositionState, reason: string, nowMs: number, kind?: 'position_opened' | 'position_closed'): void {
    const p = book.p;
    const from = p.transitions.length === 0 ? null : p.state;
    p.state = to;
    p.transitions.push({ from, to, reason, tsMs: nowMs });
    this.savePosition(book);
    this.dirty = true;
    this.emit({ kind: kind ?? 'position_updated', tsMs: nowMs, position: snapshot(p) });
  }

  /** A same-state entry in the transition log (e.g. an exit retry), recorded once per distinct reason. */
  private note(book: Book, reason: string, nowMs: number): void {
    if (book.lastNote === reason) return;
    book.lastNote = reason;
    const p = book.p;
    p.transitions.push({ from: p.state, to: p.state, reason, tsMs: nowMs });
    this.savePosition(book);
    this.emit({ kind: 'position_updated', tsMs: nowMs, position: snapshot(p) });
  }

  private savePosition(book: Book): void {
    this.persistence.savePosition(snapshot(book.p));
  }

  private saveState(nowMs: number): void {
    this.state.updatedMs = nowMs;
    this.dirty = true;
    this.persistence.savePortfolioState({ ...this.state, cooldownUntilMs: { ...this.state.cooldownUntilMs } });
  }

  private emit(event: StrategyEvent): void {
    this.events.publish(event);
  }

  private trimClosed(): void {
    while (this.closedOrder.length > this.maxClosed) {
      const id = this.closedOrder.shift();
      if (id !== undefined) this.books.delete(id);
    }
  }
}
