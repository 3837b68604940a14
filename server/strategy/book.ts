/**
 * Runner-side bookkeeping of one position, and the small pure helpers around it. Everything in a Book
 * can be rebuilt from the persisted position and its fills (see StrategyRunner.restore).
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { ExitReason, Fill, Leg, LegSide, Position, PositionState } from '../../shared/position.js';

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

export function emptyLeg(exchange: Exchange, symbol: string, side: LegSide): Leg {
  return {
    exchange,
    symbol,
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
