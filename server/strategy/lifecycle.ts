/**
 * The per-position state machine: opening → open → closing → closed, and closing → broken → closed
 * when the unwind of a failed entry itself failed (a naked leg, retried every pass until it is flat).
 *
 * Every transition is recorded on the position with its reason, saved and emitted (StrategyJournal).
 * A close is persisted (state `closing` + exit reason) BEFORE any exit order; the quantity still to
 * close and the next order attempt are derived from the recorded fills, so a second close or a restart
 * mid-close never trades twice. `action` on the position says what is being done while it is not simply
 * held (closing, unwinding a naked leg); `warning` what the operator should look at (a failed unwind).
 *
 * The runner decides WHEN (entry rules, exit rules, kill switch, manual close); this class does the
 * transitions and the orders they need.
 */
import type { Config } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import type { ExitReason, Fill, FillPurpose } from '../../shared/position.js';
import type { Persistence, PortfolioState } from '../persistence/persistence.js';
import { LEGS, applyFill, remainingToClose, settleEnteredLeg, type Book, type LegKey } from './book.js';
import type { StrategyQuote } from './engine-view.js';
import type { ExecutionReport } from './execution.js';
import type { FillLog } from './fill-log.js';
import { startFunding } from './funding.js';
import type { StrategyJournal } from './journal.js';
import type { OrderDesk } from './orders.js';
import { recordFill } from './portfolio.js';
import type { PositionRegistry } from './position-registry.js';

export interface LifecycleContext {
  journal: StrategyJournal;
  orders: OrderDesk;
  fillLog: FillLog;
  registry: PositionRegistry;
  persistence: Persistence;
  /** The portfolio state in force (restore replaces the object). */
  portfolio: () => PortfolioState;
  config: () => Config;
  quote: (instrument: string, exchange: Exchange, settle?: string) => StrategyQuote | null;
  nowUs: () => number;
  /** Marks a position at current quotes (a fresh position is worth what closing it now would fetch). */
  mark: (book: Book) => void;
  /** An entry failed: recorded as an `entry_failed` rejection of its opportunity. */
  entryFailed: (book: Book, detail: string, nowMs: number) => void;
  /** A position reached `closed` (the runner forgets its per-position caches). */
  closed: (book: Book) => void;
}

export class PositionLifecycle {
  constructor(private readonly ctx: LifecycleContext) {}

  /** A new `opening` position: records the transition and sends both entry orders. */
  open(book: Book, quantity: number, reason: string, nowMs: number): void {
    const { journal, orders } = this.ctx;
    journal.transition(book, 'opening', reason, nowMs, 'position_opened');
    const decisionUs = this.ctx.nowUs();
    const maxAgeMs = this.ctx.config().strategy.maxQuoteAgeMs;
    for (const leg of LEGS) orders.submit(book, leg, 'entry', quantity, `${book.p.id}:entry:${leg}`, maxAgeMs, nowMs, decisionUs);
    this.processReports(nowMs);
  }

  /** A position found `opening` after a restart: its legs hold what their entry fills say; unwind them. */
  resumeInterruptedEntry(book: Book, nowMs: number): void {
    this.enterClosing(book, 'leg_failed: restarted during entry; unwinding what was filled', nowMs);
  }

  /** Requests the close of a position; idempotent (closing, broken and closed positions are on their way already). */
  requestClose(book: Book, reason: ExitReason, detail: string, nowMs: number): void {
    const p = book.p;
    if (p.state === 'opening') {
      book.closeRequested ??= { reason, detail };
      return;
    }
    if (p.state !== 'open') return;
    p.exitReason = reason;
    // Persisted (via transition) before any exit order: a restart finds the intent.
    this.enterClosing(book, `${reason}: ${detail}`, nowMs);
    this.progress(book, nowMs);
  }

  /** Applies every execution report received since the last call. */
  processReports(nowMs: number): void {
    for (const report of this.ctx.orders.collect(nowMs)) this.applyReport(report, nowMs);
  }

  /**
   * One pass for a closing or broken position: sends an order for whatever each leg still holds
   * (derived from fills) unless one is in flight, then checks whether it is flat.
   */
  progress(book: Book, nowMs: number): void {
    const p = book.p;
    const purpose: FillPurpose = p.exitReason === 'leg_failed' ? 'unwind' : 'exit';
    const decisionUs = this.ctx.nowUs();
    for (const leg of LEGS) {
      const remaining = remainingToClose(book, leg);
      if (remaining === 0 || book.pending[leg]) continue;
      const q = this.ctx.quote(p.instrument, p[leg].exchange, p[leg].settle);
      if (!q || !q.usable) {
        // No order into a dead or stale book: wait (recorded once) and try again next pass.
        this.closeAttemptFailed(book, `${leg} leg ${purpose} waiting: ${p[leg].exchange} quote is ${q ? 'stale or its feed is down' : 'missing'}`, nowMs);
        continue;
      }
      book.attempts[leg] += 1;
      this.ctx.orders.submit(book, leg, purpose, remaining, `${p.id}:${purpose}:${leg}:${book.attempts[leg]}`, this.ctx.config().detector.staleAfterMs, nowMs, decisionUs);
    }
    this.processReports(nowMs);
    this.checkClosed(book, nowMs);
  }

  /** An order with no terminal report after the timeout is a broken executor promise: record it once. */
  watchOrders(nowMs: number): void {
    for (const { clientOrderId, order, ageMs } of this.ctx.orders.overdue(nowMs)) {
      this.ctx.journal.note(order.book, `order ${clientOrderId} has no terminal report after ${ageMs} ms`, nowMs);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private enterClosing(book: Book, reason: string, nowMs: number): void {
    const p = book.p;
    p.action = p.exitReason === 'leg_failed' ? `unwinding the filled ${this.heldLegs(book)}` : `closing both legs (${p.exitReason ?? 'requested'})`;
    this.ctx.journal.transition(book, 'closing', reason, nowMs);
  }

  private applyReport(report: ExecutionReport, nowMs: number): void {
    if (!report.terminal) return; // the terminal report carries the cumulative fill
    const order = this.ctx.orders.settle(report.clientOrderId);
    if (!order) return; // unknown or already settled (duplicate report)
    const { book, leg, purpose } = order;
    const fill = report.fill && report.fill.quantity > 0 && !this.ctx.fillLog.has(report.fill.id) ? report.fill : null;
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
    const { fillLog, journal, persistence } = this.ctx;
    const state = this.ctx.portfolio();
    fillLog.add(fill);
    recordFill(state, applyFill(book, leg, fill), fill.feeUsd);
    Object.freeze(fill); // fills never change once booked: shared, not copied
    persistence.saveFill(fill);
    journal.emit({ kind: 'fill', tsMs: nowMs, fill });
    journal.savePosition(book);
    journal.saveState(state, nowMs);
  }

  private finishEntry(book: Book, nowMs: number): void {
    const p = book.p;
    if (book.entryFailure.length === 0) {
      const { leverage, maintenanceMarginRate } = this.ctx.config().strategy;
      for (const leg of LEGS) {
        const l = p[leg];
        settleEnteredLeg(l, leg, leverage, maintenanceMarginRate);
        startFunding(l, this.ctx.quote(p.instrument, l.exchange, l.settle), nowMs);
      }
      p.entrySpreadBps = ((p.short.entryPrice - p.long.entryPrice) / p.long.entryPrice) * 10_000;
      this.ctx.mark(book);
      this.ctx.journal.transition(book, 'open', `both legs filled: long ${p.long.quantity} @ ${p.long.entryPrice} on ${p.long.exchange}, short @ ${p.short.entryPrice} on ${p.short.exchange}`, nowMs);
      if (book.closeRequested) this.requestClose(book, book.closeRequested.reason, book.closeRequested.detail, nowMs);
      return;
    }
    const why = book.entryFailure.join('; ');
    p.exitReason = 'leg_failed';
    this.ctx.entryFailed(book, `${p.id}: ${why}`, nowMs);
    this.enterClosing(book, `leg_failed: ${why}; unwinding the filled quantity`, nowMs);
    this.progress(book, nowMs);
  }

  private closeAttemptFailed(book: Book, failure: string, nowMs: number): void {
    const p = book.p;
    if (p.exitReason === 'leg_failed' && p.state === 'closing') {
      // The unwind of a failed entry failed: a naked leg. Still live; retried every pass.
      p.action = `unwinding naked ${this.heldLegs(book)}: retrying every step`;
      p.warning = `naked ${this.heldLegs(book)}: ${failure}`;
      this.ctx.journal.transition(book, 'broken', `unwind failed: ${failure}; retrying every step`, nowMs);
      return;
    }
    if (p.state === 'broken') {
      p.action = `unwinding naked ${this.heldLegs(book)}: retrying every step`;
      p.warning = `naked ${this.heldLegs(book)}: ${failure}`;
    } else p.action = `closing: ${failure}`;
    this.ctx.journal.note(book, `exit retry: ${failure}`, nowMs);
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
    p.action = null;
    p.warning = null;
    const state = this.ctx.portfolio();
    state.cooldownUntilMs[p.instrument] = nowMs + this.ctx.config().strategy.cooldownMs;
    const how = p.state === 'broken' ? 'unwound on retry' : p.exitReason === 'leg_failed' ? 'filled leg unwound' : 'both legs closed';
    this.ctx.journal.transition(book, 'closed', `${how}; realised ${p.realisedPnlUsd.toFixed(4)} USD`, nowMs, 'position_closed');
    this.ctx.journal.saveState(state, nowMs);
    this.ctx.closed(book);
    this.ctx.registry.retire(book);
  }

  /** "long leg (10 on <venue>)", or both legs, for the legs that still hold a quantity. */
  private heldLegs(book: Book): string {
    const held = LEGS.filter((leg) => remainingToClose(book, leg) > 0).map((leg) => `${leg} leg (${+remainingToClose(book, leg).toPrecision(8)} on ${book.p[leg].exchange})`);
    return held.length === 0 ? 'legs' : held.join(' and ');
  }
}
