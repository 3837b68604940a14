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
import type { Opportunity } from '../../shared/opportunity.js';
import type {
  ExitReason,
  Fill,
  FillPurpose,
  Portfolio,
  Position,
  RiskRejection,
  StrategyEvent,
  TradingState,
} from '../../shared/position.js';
import { BroadcastRing } from '../engine/bus.js';
import { nowUs as systemNowUs } from '../engine/clock.js';
import type { Persistence, PortfolioState } from '../persistence/persistence.js';
import { closeSpreadBps } from './accounting.js';
import { LEGS, applyFill, markLeg, newBook, newPosition, remainingToClose, settleEnteredLeg, snapshot, type Book, type LegKey } from './book.js';
import type { StrategyEngine, StrategyQuote } from './engine-view.js';
import { entryRejection, type Rejection } from './entry-rules.js';
import { PaperExecutor, type ExecutionReport, type Executor } from './execution.js';
import { exitDecision } from './exits.js';
import { type FillCount, FillLog } from './fill-log.js';
import { settleFunding, startFunding } from './funding.js';
import { OpportunityWatch } from './opportunity-watch.js';
import { StrategyJournal } from './journal.js';
import { OrderDesk } from './orders.js';
import { computePortfolio, copyPortfolioState, freshPortfolioState, recordFill, recordFunding, rollDay } from './portfolio.js';
import { PositionRegistry } from './position-registry.js';
import { RejectionLog } from './rejections.js';
import { rebuildBooks } from './restore.js';

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

const DAY_MS = 86_400_000;
/** Mark-to-market alone re-publishes a position / the portfolio at most this often (business ms). */
const MARK_EMIT_MS = 250;
/** ...and is persisted at most this often (fills, funding and transitions are saved at once). */
const MARK_SAVE_MS = 1000;

export class StrategyRunner {
  readonly events: BroadcastRing<StrategyEvent>;
  private readonly engine: StrategyEngine;
  private readonly persistence: Persistence;
  private readonly journal: StrategyJournal;
  private readonly orders: OrderDesk;
  private readonly now: () => number;
  private readonly nowUs: () => number;
  private readonly stepIntervalMs: number;
  private config: Config;
  private readonly watch: OpportunityWatch;
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
  private readonly registry: PositionRegistry;
  private readonly fillLog: FillLog;
  private readonly rejectionLog: RejectionLog;
  /** Business time of the pass in progress (what the paper executor stamps fills with). */
  private clockMs = 0;
  private stepping = false;
  private lastPortfolioEmitMs = -Infinity;
  private timer: ReturnType<typeof setInterval> | null = null;
  private wakeScheduled = false;
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
    this.rejectionLog = new RejectionLog(opts.maxRejections ?? 1000);
    this.registry = new PositionRegistry(opts.maxClosedPositions ?? 1000);
    this.fillLog = new FillLog(opts.maxFills ?? 10_000);
    this.events = new BroadcastRing<StrategyEvent>(opts.eventsCapacity ?? 4096);
    this.journal = new StrategyJournal(this.persistence, this.events);
    this.orders = new OrderDesk(
      opts.executor ??
        new PaperExecutor({
          quote: (instrument, exchange) => this.quoteOf(instrument, exchange),
          config: () => this.config,
          now: () => this.clockMs,
          nowUs: this.nowUs,
        }),
    );
    this.clockMs = this.now();
    this.state = freshPortfolioState(this.config.strategy.startingCapitalUsd, this.clockMs);
    // Subscribed from construction so no opportunity published before start() is lost.
    this.watch = new OpportunityWatch(this.engine, () => this.onWake());
  }

  // ---------------------------------------------------------------------------------------------
  // Public API (docs/INTERFACES.md)

  async restore(): Promise<void> {
    const [positions, fills, state] = await Promise.all([
      this.persistence.loadPositions(),
      this.persistence.loadFills(),
      this.persistence.loadPortfolioState(),
    ]);
    this.orders.clear();
    const restored = rebuildBooks(positions, fills);
    this.fillLog.reset(restored.fills);
    if (state) this.state = copyPortfolioState(state);
    this.registry.replace(restored.books, restored.lastPositionSeq);
    for (const book of restored.interruptedEntries) {
      this.journal.transition(book, 'closing', 'leg_failed: restarted during entry; unwinding what was filled', this.clockMs);
    }
    this.journal.portfolioChanged = true;
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
      this.startDay(nowMs);
      this.consumeBus();
      this.processReports(nowMs);
      for (const book of this.registry.liveBooks()) {
        if (book.p.state === 'closing' || book.p.state === 'broken') this.progressClosing(book, nowMs);
      }
      for (const book of this.registry.liveBooks()) this.mark(book);
      this.enterPositions(nowMs);
      for (const book of this.registry.liveBooks()) this.accrueFunding(book, nowMs);
      this.checkExits(nowMs);
      this.watchOrders(nowMs);
      const sinceEmit = nowMs - this.lastPortfolioEmitMs;
      if (this.journal.portfolioChanged || (this.marksMoved && sinceEmit >= MARK_EMIT_MS) || sinceEmit >= 1000) this.emitPortfolio(nowMs);
    } finally {
      this.stepping = false;
      this.passQuotes.clear();
    }
  }

  setConfig(config: Config): void {
    const capital = config.strategy.startingCapitalUsd;
    if (capital !== this.config.strategy.startingCapitalUsd && capital !== this.state.startingCapitalUsd) {
      this.state.startingCapitalUsd = capital; // a deposit/withdrawal: equity moves with it, PnL does not
      this.journal.saveState(this.state, this.clockMs);
    }
    this.config = config;
  }

  positions(): Position[] {
    return [...this.registry.all()].map((b) => snapshot(b.p));
  }

  position(id: string): Position | undefined {
    const book = this.registry.get(id);
    return book ? snapshot(book.p) : undefined;
  }

  fills(): Fill[] {
    return this.fillLog.list();
  }

  portfolio(): Portfolio {
    return this.computePortfolio(this.clockMs);
  }

  /** Newest first. */
  rejections(limit = 100): RiskRejection[] {
    return this.rejectionLog.newest(limit);
  }

  tradingState(): TradingState {
    return this.state.tradingState;
  }

  /**
   * Every rejected evaluation by reason (one per opportunity per pass), for metrics. `rejections()` keeps
   * only the first of a run of identical rejections of one opportunity, so a flicker is not recorded 10×/s.
   */
  rejectionCounts(): Record<string, number> {
    return this.rejectionLog.counts();
  }

  /** Fills booked since start, by venue and purpose (for metrics; `fills()` keeps only the newest). */
  fillCounts(): FillCount[] {
    return this.fillLog.bookedCounts();
  }

  /** Bus items lost because the runner fell behind (it resynchronised from the engine's open set). */
  missedOpportunityEvents(): number {
    return this.watch.missed();
  }

  /** Requests the close of a position; idempotent (a closing or closed position is returned as is). */
  closePosition(id: string, reason: ExitReason = 'manual'): Position {
    const book = this.registry.get(id);
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
      this.journal.saveState(this.state, this.clockMs);
      this.journal.emit({ kind: 'trading_state', tsMs: this.clockMs, state, reason });
    }
    if (opts.closeAll) {
      for (const book of this.registry.liveBooks()) this.requestClose(book, 'kill_switch', `kill switch: ${reason}`, this.clockMs);
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
    const resynced = this.watch.consume((id) => this.rejectionLog.forget(id));
    if (resynced) this.rejectionLog.retainOnly((id) => this.watch.has(id));
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
      live ??= this.registry.liveOpportunities();
      if (live.has(opp.id)) continue;
      pf ??= this.computePortfolio(nowMs);
      busy ??= this.registry.busyInstruments();
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
      this.rejectionLog.forget(opp.id);
      // Rules passed on both quotes, so both exist here.
      const longQuote = this.quoteOf(opp.instrument, opp.longExchange);
      const shortQuote = this.quoteOf(opp.instrument, opp.shortExchange);
      if (longQuote && shortQuote) this.open(opp, longQuote, shortQuote, nowMs);
      pf = busy = live = null;
    }
  }

  private reject(opportunityId: string, instrument: string, r: Rejection, nowMs: number, force = false): void {
    const rejection = this.rejectionLog.record(opportunityId, instrument, r, nowMs, force);
    if (rejection) this.journal.emit({ kind: 'rejection', tsMs: nowMs, rejection });
  }

  private open(opp: Opportunity, longQuote: StrategyQuote, shortQuote: StrategyQuote, nowMs: number): void {
    const cfg = this.config.strategy;
    const id = this.registry.nextId();
    // Same BASE quantity on both legs (delta-neutral), sized on the long leg's ask.
    const quantity = cfg.notionalUsd / longQuote.ask;
    // Margin is reserved for the target notional while the entry is in flight.
    const p = newPosition(id, opp, longQuote, shortQuote, cfg, nowMs);
    const book = newBook(p, quantity);
    this.registry.add(book);
    this.journal.transition(book, 'opening', `entry on ${opp.id}: projected ${opp.projectedProfitBps.toFixed(2)} bps, spread ${opp.spreadBps.toFixed(2)} bps`, nowMs, 'position_opened');
    const decisionUs = this.nowUs();
    for (const leg of LEGS) this.orders.submit(book, leg, 'entry', quantity, `${id}:entry:${leg}`, this.config.strategy.maxQuoteAgeMs, nowMs, decisionUs);
    this.processReports(nowMs);
  }

  private finishEntry(book: Book, nowMs: number): void {
    const p = book.p;
    if (book.entryFailure.length === 0) {
      const lev = this.config.strategy.leverage;
      const mmr = this.config.strategy.maintenanceMarginRate;
      for (const leg of LEGS) {
        const l = p[leg];
        settleEnteredLeg(l, leg, lev, mmr);
        startFunding(l, this.quoteOf(p.instrument, l.exchange), nowMs);
      }
      p.entrySpreadBps = ((p.short.entryPrice - p.long.entryPrice) / p.long.entryPrice) * 10_000;
      this.mark(book); // a fresh position is worth what closing it now would fetch
      this.journal.transition(book, 'open', `both legs filled: long ${p.long.quantity} @ ${p.long.entryPrice} on ${p.long.exchange}, short @ ${p.short.entryPrice} on ${p.short.exchange}`, nowMs);
      if (book.closeRequested) this.requestClose(book, book.closeRequested.reason, book.closeRequested.detail, nowMs);
      return;
    }
    const why = book.entryFailure.join('; ');
    p.exitReason = 'leg_failed';
    this.reject(p.opportunityId, p.instrument, { reason: 'entry_failed', detail: `${p.id}: ${why}` }, nowMs, true);
    this.journal.transition(book, 'closing', `leg_failed: ${why}; unwinding the filled quantity`, nowMs);
    this.progressClosing(book, nowMs);
  }

  // ---------------------------------------------------------------------------------------------
  // Orders

  private processReports(nowMs: number): void {
    for (const report of this.orders.collect(nowMs)) this.applyReport(report, nowMs);
  }

  private applyReport(report: ExecutionReport, nowMs: number): void {
    if (!report.terminal) return; // the terminal report carries the cumulative fill
    const order = this.orders.settle(report.clientOrderId);
    if (!order) return; // unknown or already settled (duplicate report)
    const { book, leg, purpose } = order;
    const fill = report.fill && report.fill.quantity > 0 && !this.fillLog.has(report.fill.id) ? report.fill : null;
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
    this.fillLog.add(fill);
    recordFill(this.state, applyFill(book, leg, fill), fill.feeUsd);
    Object.freeze(fill); // fills never change once booked: shared, not copied
    this.persistence.saveFill(fill);
    this.journal.emit({ kind: 'fill', tsMs: nowMs, fill });
    this.journal.savePosition(book);
    this.journal.saveState(this.state, nowMs);
  }

  /** An order with no terminal report after the timeout is a broken executor promise: record it once. */
  private watchOrders(nowMs: number): void {
    for (const { clientOrderId, order, ageMs } of this.orders.overdue(nowMs)) {
      this.journal.note(order.book, `order ${clientOrderId} has no terminal report after ${ageMs} ms`, nowMs);
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
    this.journal.transition(book, 'closing', `${reason}: ${detail}`, nowMs);
    this.progressClosing(book, nowMs);
  }

  /** Sends an order for whatever each leg still holds (derived from fills) unless one is in flight. */
  private progressClosing(book: Book, nowMs: number): void {
    const p = book.p;
    const purpose: FillPurpose = p.exitReason === 'leg_failed' ? 'unwind' : 'exit';
    const decisionUs = this.nowUs();
    for (const leg of LEGS) {
      const remaining = remainingToClose(book, leg);
      if (remaining === 0 || book.pending[leg]) continue;
      const q = this.quoteOf(p.instrument, p[leg].exchange);
      if (!q || !q.usable) {
        // No order into a dead or stale book: wait in closing (recorded once) and try again next pass.
        this.closeAttemptFailed(book, `${leg} leg ${purpose} waiting: ${p[leg].exchange} quote is ${q ? 'stale or its feed is down' : 'missing'}`, nowMs);
        continue;
      }
      book.attempts[leg] += 1;
      this.orders.submit(book, leg, purpose, remaining, `${p.id}:${purpose}:${leg}:${book.attempts[leg]}`, this.config.detector.staleAfterMs, nowMs, decisionUs);
    }
    this.processReports(nowMs);
    this.checkClosed(book, nowMs);
  }

  private closeAttemptFailed(book: Book, failure: string, nowMs: number): void {
    if (book.p.exitReason === 'leg_failed' && book.p.state === 'closing') {
      this.journal.transition(book, 'broken', `unwind failed: ${failure}; retrying every step`, nowMs);
      return;
    }
    this.journal.note(book, `exit retry: ${failure}`, nowMs);
  }

  private checkClosed(book: Book, nowMs: number): void {
    const p = book.p;
    if (p.state !== 'closing' && p.state !== 'broken') return;
    for (const leg of LEGS) {
      if (book.pending[leg]) return;
      if (remainingToClose(book, leg) > 0) return;
    }
    for (const leg of LEGS) {
      p[leg].unrealisedPnlUsd = 0;
      p[leg].marginUsd = 0;
    }
    p.unrealisedPnlUsd = 0;
    p.closedMs = nowMs;
    this.state.cooldownUntilMs[p.instrument] = nowMs + this.config.strategy.cooldownMs;
    const how = p.state === 'broken' ? 'unwound on retry' : p.exitReason === 'leg_failed' ? 'filled leg unwound' : 'both legs closed';
    this.journal.transition(book, 'closed', `${how}; realised ${p.realisedPnlUsd.toFixed(4)} USD`, nowMs, 'position_closed');
    this.journal.saveState(this.state, nowMs);
    this.savedSchedule.delete(p.id);
    this.registry.retire(book);
  }

  // ---------------------------------------------------------------------------------------------
  // Marks, funding, exits

  private mark(book: Book): void {
    const p = book.p;
    if (p.state === 'opening' && !(p.long.quantity > 0 && p.short.quantity > 0)) return;
    const lq = this.quoteOf(p.instrument, p.long.exchange);
    const sq = this.quoteOf(p.instrument, p.short.exchange);
    const longMoved = markLeg(book, 'long', lq);
    const shortMoved = markLeg(book, 'short', sq);
    const changed = longMoved || shortMoved;
    p.unrealisedPnlUsd = p.long.unrealisedPnlUsd + p.short.unrealisedPnlUsd;
    if (lq && sq && lq.bid > 0 && sq.ask > 0) p.currentSpreadBps = closeSpreadBps(lq.bid, sq.ask);
    if (changed) {
      this.marksMoved = true;
      if (this.clockMs - book.lastMarkEmitMs >= MARK_EMIT_MS) {
        book.lastMarkEmitMs = this.clockMs;
        this.journal.emit({ kind: 'position_updated', tsMs: this.clockMs, position: snapshot(p) });
      }
      if (this.clockMs - book.lastMarkSaveMs >= MARK_SAVE_MS) {
        book.lastMarkSaveMs = this.clockMs;
        this.journal.savePosition(book);
      }
    }
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
    recordFunding(this.state, total);
    this.journal.savePosition(book);
    this.journal.saveState(this.state, nowMs);
    this.journal.emit({ kind: 'position_updated', tsMs: nowMs, position: snapshot(p) });
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
    for (const book of this.registry.liveBooks()) {
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
    return computePortfolio(this.state, this.registry.liveView(), nowMs);
  }

  private emitPortfolio(nowMs: number): void {
    this.journal.portfolioChanged = false;
    this.marksMoved = false;
    this.lastPortfolioEmitMs = nowMs;
    this.journal.emit({ kind: 'portfolio', tsMs: nowMs, portfolio: this.computePortfolio(nowMs) });
  }

  private startDay(nowMs: number): void {
    if (nowMs >= this.dayStartMs && nowMs < this.dayStartMs + DAY_MS) return;
    this.dayStartMs = nowMs - (((nowMs % DAY_MS) + DAY_MS) % DAY_MS);
    if (rollDay(this.state, nowMs)) this.journal.saveState(this.state, nowMs);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
}
