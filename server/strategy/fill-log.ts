/** The fills kept in memory for `fills()` (bounded), and the ids already booked so a duplicate report books nothing. */
import type { Exchange } from '../../shared/exchanges.js';
import type { Fill, FillPurpose } from '../../shared/position.js';

export interface FillCount {
  exchange: Exchange;
  purpose: FillPurpose;
  count: number;
}

export class FillLog {
  private kept: Fill[] = [];
  private readonly ids = new Set<string>();
  /** Fills booked since start by venue and purpose (restored ones are not counted): a Prometheus counter. */
  private readonly booked = new Map<string, FillCount>();

  constructor(private readonly maxKept: number) {}

  has(fillId: string): boolean {
    return this.ids.has(fillId);
  }

  add(fill: Fill): void {
    this.ids.add(fill.id);
    const key = `${fill.exchange}|${fill.purpose}`;
    const counted = this.booked.get(key);
    if (counted) counted.count++;
    else this.booked.set(key, { exchange: fill.exchange, purpose: fill.purpose, count: 1 });
    this.kept.push(fill);
    if (this.kept.length > this.maxKept * 2) {
      this.kept = this.kept.slice(-this.maxKept);
      // Duplicate reports are already stopped by the pending-order map; this set is the second guard.
      this.ids.clear();
      for (const f of this.kept) this.ids.add(f.id);
    }
  }

  /** Replaces the log with restored fills (oldest first): keeps the newest, remembers every id. */
  reset(sortedFills: readonly Fill[]): void {
    this.kept = sortedFills.slice(-this.maxKept);
    this.ids.clear();
    for (const f of sortedFills) this.ids.add(f.id);
  }

  bookedCounts(): FillCount[] {
    return [...this.booked.values()].map((c) => ({ ...c }));
  }

  list(): Fill[] {
    return this.kept.slice();
  }
}
