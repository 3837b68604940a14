/** The fills kept in memory for `fills()` (bounded), and the ids already booked so a duplicate report books nothing. */
import type { Fill } from '../../shared/position.js';

export class FillLog {
  private kept: Fill[] = [];
  private readonly ids = new Set<string>();

  constructor(private readonly maxKept: number) {}

  has(fillId: string): boolean {
    return this.ids.has(fillId);
  }

  add(fill: Fill): void {
    this.ids.add(fill.id);
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

  list(): Fill[] {
    return this.kept.slice();
  }
}
