/**
 * Runner-side bookkeeping of one position, and the small pure helpers around it. Everything in a Book
 * can be rebuilt from the persisted position and its fills (see restore.ts).
 */
import type { Config } from '../../shared/config.js';
import type { Exchange } from '../../shared/exchanges.js';
import type { Opportunity, SettleCurrency } from '../../shared/opportunity.js';
import type { ExitReason, Fill, Leg, LegSide, Position, PositionState } from '../../shared/position.js';
import { closeSpreadBps, legMargin, legPricePnl, liquidationDistancePct, liquidationPrice, markPrice } from './accounting.js';
import type { StrategyQuote } from './engine-view.js';

export type LegKey = LegSide;
export const LEGS: readonly LegKey[] = ['long', 'short'];
/** Quantities below this (relative) count as flat. */
export const QTY_EPS = 1e-12;
/** States that hold (or may hold) exposure. */
export const LIVE_STATES: ReadonlySet<PositionState> = new Set(['opening', 'open', 'closing', 'broken']);

/** Runner-side bookkeeping of one position (everything here can be rebuilt from the position + its fills). */
export interface Book {
  p: Position;
  /** Entry quantity per leg we asked for. */
  entryTarget: number;
  entryDone: Record<LegKey, boolean>;
  entryFailure: string[];
  /** Quantity already closed per leg by exit/unwind fills. */
  closed: Record<LegKey, number>;
  /** Exit/unwind orders sent per leg (the attempt number in client order ids). */
  attempts: Record<LegKey, number>;
  pending: Record<LegKey, string | null>;
  /** A close requested while the entry was still in flight. */
  closeRequested: { reason: ExitReason; detail: string } | null;
  lastNote: string;
  /** Business time of the last mark-only position_updated event / save. */
  lastMarkEmitMs: number;
  lastMarkSaveMs: number;
}

export function emptyLeg(exchange: Exchange, symbol: string, side: LegSide, settle: SettleCurrency = 'USDT'): Leg {
  return {
    exchange,
    symbol,
    settle,
    side,
    quantity: 0,
    entryPrice: 0,
    markPrice: 0,
    marginUsd: 0,
    liquidationPrice: 0,
    liquidationDistancePct: 0,
    fundingUsd: 0,
    feesUsd: 0,
    unrealisedPnlUsd: 0,
    nextFundingMs: 0,
  };
}

/** Which leg a fill belongs to. */
export function legOfFill(fill: Fill): LegKey {
  // entry: buy = long leg, sell = short leg; exit/unwind: the opposite side
  const buy = fill.side === 'buy';
  return fill.purpose === 'entry' ? (buy ? 'long' : 'short') : buy ? 'short' : 'long';
}

/** The attempt number at the end of a client order id (0 when there is none). */
export function attemptOf(clientOrderId: string): number {
  const n = Number(clientOrderId.slice(clientOrderId.lastIndexOf(':') + 1));
  return Number.isInteger(n) ? n : 0;
}

export function newBook(p: Position, entryTarget: number): Book {
  return {
    p,
    entryTarget,
    entryDone: { long: false, short: false },
    entryFailure: [],
    closed: { long: 0, short: 0 },
    attempts: { long: 0, short: 0 },
    pending: { long: null, short: null },
    closeRequested: null,
    lastNote: '',
    lastMarkEmitMs: -Infinity,
    lastMarkSaveMs: -Infinity,
  };
}

/** N of a position id `pos-N` (0 when it is not one). */
export function positionSeq(id: string): number {
  const n = Number(id.slice(id.lastIndexOf('-') + 1));
  return Number.isInteger(n) ? n : 0;
}

/** An independent copy of a position (events and saves must not change when the live one does). */
export function snapshot(p: Position): Position {
  // Transitions are never mutated once pushed, so the entries are shared.
  return { ...p, long: { ...p.long }, short: { ...p.short }, transitions: p.transitions.slice() };
}

/**
 * A fresh `opening` position on `opp` (no transitions yet) of `notionalUsd` per leg (the entry size); margin
 * is reserved for it while the entry is in flight.
 */
export function newPosition(id: string, opp: Opportunity, longQuote: StrategyQuote, shortQuote: StrategyQuote, cfg: Config['strategy'], notionalUsd: number, nowMs: number): Position {
  const p: Position = {
    id,
    instrument: opp.instrument,
    opportunityId: opp.id,
    state: 'opening',
    long: emptyLeg(opp.longExchange, opp.longSymbol, 'long', opp.longSettle),
    short: emptyLeg(opp.shortExchange, opp.shortSymbol, 'short', opp.shortSettle),
    notionalUsd,
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
  p.long.marginUsd = p.short.marginUsd = notionalUsd / cfg.leverage;
  return p;
}

/** Sets a fully entered leg's margin, liquidation price and first mark (at its entry price). */
export function settleEnteredLeg(l: Leg, leg: LegKey, leverage: number, maintenanceMarginRate: number): void {
  l.marginUsd = legMargin(l.quantity, l.entryPrice, leverage);
  l.liquidationPrice = liquidationPrice(leg, l.entryPrice, leverage, maintenanceMarginRate);
  l.markPrice = l.entryPrice;
  l.liquidationDistancePct = liquidationDistancePct(leg, l.markPrice, l.liquidationPrice);
}

/**
 * Books a fill into its position: an entry averages into the leg, an exit/unwind closes held quantity.
 * Returns the price PnL an exit/unwind realised (null for an entry); the fee is already taken off the position.
 */
export function applyFill(book: Book, leg: LegKey, fill: Fill): number | null {
  const p = book.p;
  const l = p[leg];
  let realised: number | null = null;
  if (fill.purpose === 'entry') {
    const qty = l.quantity + fill.quantity;
    l.entryPrice = (l.entryPrice * l.quantity + fill.price * fill.quantity) / qty;
    l.quantity = qty;
  } else {
    const closedQty = Math.min(fill.quantity, l.quantity - book.closed[leg]);
    realised = legPricePnl(leg, closedQty, l.entryPrice, fill.price);
    book.closed[leg] += fill.quantity;
    p.realisedPnlUsd += realised;
  }
  l.feesUsd += fill.feeUsd;
  p.feesUsd += fill.feeUsd;
  p.realisedPnlUsd -= fill.feeUsd;
  return realised;
}

/** Marks one leg at its closing side of `q` (keeps the last mark without a price); true when it moved. */
export function markLeg(book: Book, leg: LegKey, q: StrategyQuote | null): boolean {
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

/** Quantity a leg still holds, or 0 when what is left counts as flat. */
export function remainingToClose(book: Book, leg: LegKey): number {
  const l = book.p[leg];
  const remaining = l.quantity - book.closed[leg];
  return remaining > QTY_EPS * Math.max(1, l.quantity) ? remaining : 0;
}
