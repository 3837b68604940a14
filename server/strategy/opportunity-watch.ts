/**
 * The opportunities the strategy may enter: fed by the engine's bus (subscriber 'strategy') and
 * resynchronised from the engine's open set whenever the subscription fell behind the ring.
 */
import type { Opportunity, OpportunityEvent } from '../../shared/opportunity.js';
import type { Subscription } from '../engine/bus.js';
import type { StrategyEngine } from './engine-view.js';

const BATCH = 1024;

export class OpportunityWatch {
  private readonly open = new Map<string, Opportunity>();
  /** Opened or updated since the last `takeChanged()` (still open). */
  private readonly changed = new Set<string>();
  /** The set was rebuilt from the engine since the last `takeChanged()`: everything counts as changed. */
  private allChanged = true;
  private readonly sub: Subscription<OpportunityEvent>;
  private missedTotal = 0;

  /** Subscribes at once so nothing published before the first `consume()` is lost. */
  constructor(private readonly engine: StrategyEngine, onWake: () => void) {
    this.sub = engine.bus.subscribe('strategy', onWake);
    // ...and what is already open (the engine may have run before the strategy).
    this.resync();
  }

  /**
   * Applies everything queued on the bus; `onClosed` hears each closed opportunity.
   * Returns true when events were missed and the set was rebuilt from the engine.
   */
  consume(onClosed: (opportunityId: string) => void): boolean {
    for (;;) {
      const batch = this.sub.popBatch(BATCH);
      for (const ev of batch) {
        if (ev.kind === 'closed') {
          this.open.delete(ev.opportunity.id);
          this.changed.delete(ev.opportunity.id);
          onClosed(ev.opportunity.id);
        } else {
          this.open.set(ev.opportunity.id, ev.opportunity);
          this.changed.add(ev.opportunity.id);
        }
      }
      if (batch.length < BATCH) break;
    }
    const missed = this.sub.takeMissed();
    if (missed === 0) return false;
    // Fell behind the ring: the engine's open set is the truth.
    this.missedTotal += missed;
    this.open.clear();
    this.resync();
    return true;
  }

  /**
   * The open opportunities opened or updated since the last call (all of them after a resync), and forgets
   * them: a pass woken by the bus need only look at what the bus brought.
   */
  takeChanged(): Opportunity[] {
    const out: Opportunity[] = [];
    if (this.allChanged) out.push(...this.open.values());
    else
      for (const id of this.changed) {
        const o = this.open.get(id);
        if (o) out.push(o);
      }
    this.changed.clear();
    this.allChanged = false;
    return out;
  }

  has(opportunityId: string): boolean {
    return this.open.has(opportunityId);
  }

  get size(): number {
    return this.open.size;
  }

  values(): IterableIterator<Opportunity> {
    return this.open.values();
  }

  /** Bus items lost so far. */
  missed(): number {
    return this.missedTotal;
  }

  private resync(): void {
    this.allChanged = true;
    for (const o of this.engine.opportunities()) this.open.set(o.id, o);
  }
}
