/**
 * The paper-trading strategy: consumes the opportunity bus (as subscriber 'strategy'), opens paired
 * positions through an Executor, marks them, accrues funding, exits them, and keeps the portfolio.
 *
 * Determinism: all business time comes from the `now` passed to `step(nowMs)` (or the injected `now()`
 * for REST calls). One `step` does one full pass in a fixed order — bus → pending orders and closes →
 * marks → entries (risk checks see fresh marks) → funding → exits — so a replay driving `step` gives
 * the same trades every time. `start()` only runs `step` on a timer and when the bus wakes it.
 *
 * The per-position state machine (opening → open → closing → closed / broken) lives in lifecycle.ts;
 * the runner decides when a position opens or closes and keeps marks, funding and the portfolio.
 * Marks alone are persisted at most once a second (recomputed on the next pass anyway).
 *
 * Feeds and restarts: exit rules treat a leg as feed down only when its venue's feed is down
 * (venue-state.ts), never because no quote has arrived since start. After a restart the exit rules of a
 * position wait until both legs' venues are live (at most `venueWaitMs`; then a venue still not live
 * counts as down and the position carries a warning). Restored marks are flagged `markStale` until
 * usable quotes re-mark them, so a PnL from before the stop is never presented as current.
 * A leg on a live venue with no usable quote, or whose latest quote is quarantined, holds the
 * price-based exit rules (nothing can be filled on an unknown price); after `quoteWarnAfterMs` the
 * position carries a warning naming the leg and why, cleared when the leg's quotes return.
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
import { LEGS, markLeg, newBook, newPosition, snapshot, type Book } from './book.js';
import type { StrategyEngine, StrategyQuote } from './engine-view.js';
import { entryQuantity, entryRejection, entrySize, type EntryContext, type EntrySize, type Rejection } from './entry-rules.js';
import { PaperExecutor, type Executor } from './execution.js';
import { exitDecision, unusableBecause, usableNow } from './exits.js';
import { type FillCount, FillLog } from './fill-log.js';
import { settleFunding } from './funding.js';
import { PositionLifecycle } from './lifecycle.js';
import { OpportunityWatch } from './opportunity-watch.js';
import { StrategyJournal } from './journal.js';
import { OrderDesk } from './orders.js';
import { computePortfolio, copyPortfolioState, freshPortfolioState, recordFunding, rollDay } from './portfolio.js';
import { PositionRegistry } from './position-registry.js';
import { RejectionLog } from './rejections.js';
import { rebuildBooks } from './restore.js';
import { venueViewFromEngine, type VenueFeedState, type VenueFeedView } from './venue-state.js';

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
  /**
   * Each venue's feed state (venue-state.ts). Default: from the engine — down only when its feed was
   * reported down or it is disabled.
   */
  venues?: VenueFeedView;
  /** After start, exit rules wait at most this long for a leg's venue to go live (ms, default 30,000). */
  venueWaitMs?: number;
  /**
   * A leg of an open position on a live venue without a usable, unquarantined quote for this long gets
   * a warning on the position (ms, default 3,000).
   */
  quoteWarnAfterMs?: number;
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
  /**
   * Quotes read during the pass in progress (the engine does not change while a pass runs): instrument →
   * leg (exchange, `exchange:USDC` for a non-USDT leg) → the quote read in pass `gen`. Entries are reused across passes (a new pass bumps `passGen`), so
   * a lookup, which runs several times per opportunity per pass, builds no key string and allocates nothing.
   */
  private readonly passQuotes = new Map<string, Map<string, { gen: number; q: StrategyQuote | null }>>();
  private passGen = 0;
  /** A leg's quote: (instrument, exchange, settle currency; USDT when absent). */
  private readonly quoteOf = (instrument: string, exchange: Exchange, settle?: string): StrategyQuote | null => {
    if (!this.stepping) return this.engine.quote(instrument, exchange, settle);
    const leg = settle === undefined || settle === 'USDT' ? exchange : `${exchange}:${settle}`;
    let byExchange = this.passQuotes.get(instrument);
    if (byExchange === undefined) this.passQuotes.set(instrument, (byExchange = new Map()));
    let e = byExchange.get(leg);
    if (e === undefined) byExchange.set(leg, (e = { gen: -1, q: null }));
    if (e.gen !== this.passGen) {
      e.q = this.engine.quote(instrument, exchange, settle);
      e.gen = this.passGen;
    }
    return e.q;
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
  private readonly lifecycle: PositionLifecycle;
  private readonly venues: VenueFeedView;
  /** Venue states read during the pass in progress. */
  private readonly passVenues = new Map<Exchange, VenueFeedState>();
  private readonly venueWaitMs: number;
  private readonly quoteWarnAfterMs: number;
  /** `${positionId}|${leg}` → since when the leg has had no quote the exit rules may use (see quoteWarning). */
  private readonly legUnusableSinceMs = new Map<string, number>();
  /** Business time of construction (or start()): venues not yet live are waited for until venueWaitMs after it. */
  private startedMs: number;

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
          quote: (instrument, exchange, settle) => this.quoteOf(instrument, exchange, settle),
          book: (instrument, exchange, settle) => this.engine.depthBook?.(instrument, exchange, settle) ?? null,
          config: () => this.config,
          now: () => this.clockMs,
          nowUs: this.nowUs,
        }),
    );
    this.venues = opts.venues ?? venueViewFromEngine(this.engine.isExchangeDown?.bind(this.engine));
    this.venueWaitMs = opts.venueWaitMs ?? 30_000;
    this.quoteWarnAfterMs = opts.quoteWarnAfterMs ?? 3000;
    this.lifecycle = new PositionLifecycle({
      journal: this.journal,
      orders: this.orders,
      fillLog: this.fillLog,
      registry: this.registry,
      persistence: this.persistence,
      portfolio: () => this.state,
      config: () => this.config,
      quote: this.quoteOf,
      nowUs: this.nowUs,
      mark: (book) => this.mark(book),
      entryFailed: (book, detail, nowMs) => this.reject(book.p.opportunityId, book.p.instrument, { reason: 'entry_failed', detail }, nowMs, true),
      closed: (book) => {
        this.savedSchedule.delete(book.p.id);
        for (const leg of LEGS) this.legUnusableSinceMs.delete(`${book.p.id}|${leg}`);
      },
    });
    this.clockMs = this.now();
    this.startedMs = this.clockMs;
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
    // Marks from before the stop are not current until usable quotes re-mark them.
    for (const book of this.registry.liveBooks()) book.p.markStale = true;
    for (const book of restored.interruptedEntries) this.lifecycle.resumeInterruptedEntry(book, this.clockMs);
    this.journal.portfolioChanged = true;
  }

  start(): void {
    if (this.timer) return;
    this.startedMs = this.now();
    this.timer = setInterval(() => this.step(this.now()), this.stepIntervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One deterministic pass at business time `nowMs`. */
  step(nowMs: number): void {
    this.pass(nowMs, 'all');
  }

  /**
   * `entries: 'changed'` (a pass woken by the bus) evaluates entries only for the opportunities the bus
   * opened or updated since the last pass: with hundreds open and a wake after nearly every socket read,
   * re-checking every one each time was most of the strategy's CPU. Every open opportunity is still
   * evaluated by each timer pass (`stepIntervalMs`), so a change outside the opportunity (time-based rules,
   * a position closing, capital freed) is seen within one interval.
   */
  private pass(nowMs: number, entries: 'all' | 'changed'): void {
    if (this.stepping) return;
    this.stepping = true;
    try {
      this.clockMs = nowMs;
      this.startDay(nowMs);
      this.consumeBus();
      this.lifecycle.processReports(nowMs);
      for (const book of this.registry.liveBooks()) {
        if (book.p.state === 'closing' || book.p.state === 'broken') this.lifecycle.progress(book, nowMs);
      }
      for (const book of this.registry.liveBooks()) this.mark(book);
      this.enterPositions(nowMs, entries);
      for (const book of this.registry.liveBooks()) this.accrueFunding(book, nowMs);
      this.checkExits(nowMs);
      this.lifecycle.watchOrders(nowMs);
      const sinceEmit = nowMs - this.lastPortfolioEmitMs;
      if (this.journal.portfolioChanged || (this.marksMoved && sinceEmit >= MARK_EMIT_MS) || sinceEmit >= 1000) this.emitPortfolio(nowMs);
    } finally {
      this.stepping = false;
      this.passGen++; // the next pass reads quotes afresh
      this.passVenues.clear();
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

  /** The persisted portfolio state (a copy), e.g. for rewriting a store that lost it. */
  portfolioState(): PortfolioState {
    return copyPortfolioState(this.state);
  }

  /** Newest first. */
  rejections(limit = 100): RiskRejection[] {
    return this.rejectionLog.newest(limit);
  }

  tradingState(): TradingState {
    return this.state.tradingState;
  }

  /**
   * Every rejected evaluation by reason (one per opportunity evaluated in a pass: every open one in a timer
   * pass, the changed ones in a bus-woken pass), for metrics. `rejections()` keeps
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
    this.lifecycle.requestClose(book, reason, reason === 'manual' ? 'closed by request' : reason, this.clockMs);
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
      for (const book of this.registry.liveBooks()) this.lifecycle.requestClose(book, 'kill_switch', `kill switch: ${reason}`, this.clockMs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Bus

  private onWake(): void {
    if (!this.timer || this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      if (this.timer) this.pass(this.now(), 'changed');
    });
  }

  private consumeBus(): void {
    const resynced = this.watch.consume((id) => this.rejectionLog.forget(id));
    if (resynced) this.rejectionLog.retainOnly((id) => this.watch.has(id));
  }

  // ---------------------------------------------------------------------------------------------
  // Entries

  private enterPositions(nowMs: number, which: 'all' | 'changed'): void {
    const changed = this.watch.takeChanged(); // taken in every pass: a full pass covers the changed ones too
    if (!this.config.strategy.enabled || this.watch.size === 0) return;
    // The book as the rules see it; rebuilt only after an entry changes it.
    let pf: Portfolio | null = null;
    let busy: Set<string> | null = null;
    let live: Set<string> | null = null;
    for (const opp of which === 'all' ? this.watch.values() : changed) {
      live ??= this.registry.liveOpportunities();
      if (live.has(opp.id)) continue;
      pf ??= this.computePortfolio(nowMs);
      busy ??= this.registry.busyInstruments();
      const ctx: EntryContext = {
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
      };
      const rejection = entryRejection(opp, ctx);
      if (rejection) {
        this.reject(opp.id, opp.instrument, rejection, nowMs);
        continue;
      }
      this.rejectionLog.forget(opp.id);
      // Rules passed on both quotes, so both exist here.
      const longQuote = this.quoteOf(opp.instrument, opp.longExchange, opp.longSettle);
      const shortQuote = this.quoteOf(opp.instrument, opp.shortExchange, opp.shortSettle);
      if (longQuote && shortQuote) this.open(opp, longQuote, shortQuote, entrySize(opp, ctx), nowMs);
      pf = busy = live = null;
    }
  }

  private reject(opportunityId: string, instrument: string, r: Rejection, nowMs: number, force = false): void {
    const rejection = this.rejectionLog.record(opportunityId, instrument, r, nowMs, force);
    if (rejection) this.journal.emit({ kind: 'rejection', tsMs: nowMs, rejection });
  }

  /** Opens at `size` (entrySize: the configured notional, or less when capacity or a risk limit binds). */
  private open(opp: Opportunity, longQuote: StrategyQuote, shortQuote: StrategyQuote, size: EntrySize, nowMs: number): void {
    const cfg = this.config.strategy;
    const id = this.registry.nextId();
    // Same BASE quantity on both legs (delta-neutral), sized on the higher leg price; entryRejection checked it.
    const quantity = entryQuantity(size.notionalUsd, longQuote, shortQuote);
    // Margin is reserved for the target notional while the entry is in flight.
    const p = newPosition(id, opp, longQuote, shortQuote, cfg, size.notionalUsd, nowMs);
    const book = newBook(p, quantity);
    this.registry.add(book);
    const sized = size.limitedBy === 'notional' ? '' : ` (size ${size.notionalUsd.toFixed(2)} USD: ${size.detail})`;
    this.lifecycle.open(book, quantity, `entry on ${opp.id}: projected ${opp.projectedProfitBps.toFixed(2)} bps, spread ${opp.spreadBps.toFixed(2)} bps${sized}`, nowMs);
  }

  // ---------------------------------------------------------------------------------------------
  // Marks, funding, exits

  private mark(book: Book): void {
    const p = book.p;
    if (p.state === 'opening' && !(p.long.quantity > 0 && p.short.quantity > 0)) return;
    const lq = this.quoteOf(p.instrument, p.long.exchange, p.long.settle);
    const sq = this.quoteOf(p.instrument, p.short.exchange, p.short.settle);
    const longMoved = markLeg(book, 'long', lq);
    const shortMoved = markLeg(book, 'short', sq);
    // Stale when a leg that still holds a quantity has no usable quote (restored, stale, feed down), or
    // its latest quote is quarantined (the mark is then the last accepted quote, not the current price).
    const stale = (['long', 'short'] as const).some((leg) => p[leg].quantity - book.closed[leg] > 0 && !usableNow(leg === 'long' ? lq : sq));
    const staleFlipped = stale !== (p.markStale ?? false);
    p.markStale = stale;
    const changed = longMoved || shortMoved || staleFlipped;
    p.unrealisedPnlUsd = p.long.unrealisedPnlUsd + p.short.unrealisedPnlUsd;
    if (lq && sq && lq.bid > 0 && sq.ask > 0) p.currentSpreadBps = closeSpreadBps(lq.bid, sq.ask);
    if (changed) {
      this.marksMoved = true;
      if (staleFlipped || this.clockMs - book.lastMarkEmitMs >= MARK_EMIT_MS) {
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
      const published = this.engine.settlementRate ? (ms: number) => this.engine.settlementRate?.(p.instrument, l.exchange, ms, l.settle) ?? null : undefined;
      for (const s of settleFunding(l, this.quoteOf(p.instrument, l.exchange, l.settle), nowMs, published)) total += s.amountUsd;
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
      const longVenue = this.venueState(p.long.exchange);
      const shortVenue = this.venueState(p.short.exchange);
      const waiting = [...new Set([longVenue === 'waiting' ? p.long.exchange : null, shortVenue === 'waiting' ? p.short.exchange : null].filter((x) => x !== null))];
      const waitedMs = nowMs - this.startedMs;
      if (waiting.length > 0 && waitedMs < this.venueWaitMs) {
        // Not live since start (a restart): the marks are from before the stop; judge nothing yet.
        this.setAttention(book, `exit rules wait for the ${waiting.join(' and ')} feed to go live (at most ${Math.round(this.venueWaitMs / 1000)} s after start)`, null, nowMs);
        continue;
      }
      const longQuote = this.quoteOf(p.instrument, p.long.exchange);
      const shortQuote = this.quoteOf(p.instrument, p.short.exchange);
      const quoteWarning = this.quoteWarning(book, { long: [longVenue, longQuote], short: [shortVenue, shortQuote] }, nowMs);
      const warning = waiting.length > 0 ? `${waiting.join(' and ')} feed not live ${Math.round(this.venueWaitMs / 1000)} s after start: counted as down` : quoteWarning;
      this.setAttention(book, null, warning, nowMs);
      const decision = exitDecision(p, {
        config: this.config,
        nowMs,
        longQuote,
        shortQuote,
        longFeedDown: longVenue !== 'live',
        shortFeedDown: shortVenue !== 'live',
      });
      if (decision) this.lifecycle.requestClose(book, decision.reason, decision.detail, nowMs);
    }
  }

  /**
   * The warning for legs on live venues that have had no quote the exit rules may use (none, stale, or
   * the latest one quarantined) for at least quoteWarnAfterMs, e.g. `long leg (<venue>): latest quote
   * quarantined (price_jump) for 4 s; price-based exits wait`; null otherwise. Tracks since when.
   * (A down venue is the feed-down rule's business, not a quote problem.)
   */
  private quoteWarning(book: Book, legs: Record<'long' | 'short', [VenueFeedState, StrategyQuote | null]>, nowMs: number): string | null {
    const parts: string[] = [];
    for (const leg of LEGS) {
      const key = `${book.p.id}|${leg}`;
      const [venue, quote] = legs[leg];
      const why = venue === 'live' ? unusableBecause(quote) : null;
      if (why === null) {
        this.legUnusableSinceMs.delete(key);
        continue;
      }
      let since = this.legUnusableSinceMs.get(key);
      if (since === undefined) this.legUnusableSinceMs.set(key, (since = nowMs));
      const forMs = nowMs - since;
      if (forMs >= this.quoteWarnAfterMs) parts.push(`${leg} leg (${book.p[leg].exchange}): ${why} for ${Math.floor(forMs / 1000)} s`);
    }
    return parts.length === 0 ? null : `${parts.join('; ')}; price-based exits wait`;
  }

  /** The venue's feed state, read once per pass. */
  private venueState(exchange: Exchange): VenueFeedState {
    let state = this.passVenues.get(exchange);
    if (state === undefined) {
      state = this.venues(exchange);
      this.passVenues.set(exchange, state);
    }
    return state;
  }

  /** Sets what an open position is waiting for and what is wrong with it; saved and emitted when it changes. */
  private setAttention(book: Book, action: string | null, warning: string | null, nowMs: number): void {
    const p = book.p;
    if ((p.action ?? null) === action && (p.warning ?? null) === warning) return;
    p.action = action;
    p.warning = warning;
    this.journal.savePosition(book);
    this.journal.emit({ kind: 'position_updated', tsMs: nowMs, position: snapshot(p) });
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
