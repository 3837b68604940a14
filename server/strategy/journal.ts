/**
 * Where the runner's changes become visible: every position transition, note, fill and portfolio
 * change is persisted and published on the strategy event ring from here, and it remembers whether
 * the portfolio changed since the last portfolio event.
 */
import type { PositionState, StrategyEvent } from '../../shared/position.js';
import type { BroadcastRing } from '../engine/bus.js';
import type { Persistence, PortfolioState } from '../persistence/persistence.js';
import { snapshot, type Book } from './book.js';
import { copyPortfolioState } from './portfolio.js';

export class StrategyJournal {
  /** The portfolio changed (a transition or a state save) since the last portfolio event. */
  portfolioChanged = false;

  constructor(
    private readonly persistence: Persistence,
    private readonly events: BroadcastRing<StrategyEvent>,
  ) {}

  emit(event: StrategyEvent): void {
    this.events.publish(event);
  }

  /** Moves a position to `to`, records why, saves and publishes it. */
  transition(book: Book, to: PositionState, reason: string, nowMs: number, kind?: 'position_opened' | 'position_closed'): void {
    const p = book.p;
    const from = p.transitions.length === 0 ? null : p.state;
    p.state = to;
    p.transitions.push({ from, to, reason, tsMs: nowMs });
    this.savePosition(book);
    this.portfolioChanged = true;
    this.emit({ kind: kind ?? 'position_updated', tsMs: nowMs, position: snapshot(p) });
  }

  /** A same-state entry in the transition log (e.g. an exit retry), recorded once per distinct reason. */
  note(book: Book, reason: string, nowMs: number): void {
    if (book.lastNote === reason) return;
    book.lastNote = reason;
    const p = book.p;
    p.transitions.push({ from: p.state, to: p.state, reason, tsMs: nowMs });
    this.savePosition(book);
    this.emit({ kind: 'position_updated', tsMs: nowMs, position: snapshot(p) });
  }

  savePosition(book: Book): void {
    this.persistence.savePosition(snapshot(book.p));
  }

  saveState(state: PortfolioState, nowMs: number): void {
    state.updatedMs = nowMs;
    this.portfolioChanged = true;
    this.persistence.savePortfolioState(copyPortfolioState(state));
  }
}
