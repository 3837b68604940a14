/**
 * The runner's memory of rejected entries: a bounded log for `rejections()`, per-reason totals for metrics,
 * and the last reason per opportunity so a flickering opportunity is logged once per run of one reason.
 */
import type { RiskRejection } from '../../shared/position.js';
import type { Rejection } from './entry-rules.js';

export class RejectionLog {
  private log: RiskRejection[] = [];
  /** opportunity id → last rejection reason recorded (so one flicker is not recorded on every update). */
  private readonly lastReason = new Map<string, string>();
  private readonly totals = new Map<string, number>();

  constructor(private readonly maxKept: number) {}

  /**
   * Counts every rejection; returns the new log entry (frozen) or null when it repeats the last reason
   * recorded for this opportunity (`force` records it anyway).
   */
  record(opportunityId: string, instrument: string, r: Rejection, nowMs: number, force = false): RiskRejection | null {
    this.totals.set(r.reason, (this.totals.get(r.reason) ?? 0) + 1);
    if (!force && this.lastReason.get(opportunityId) === r.reason) return null;
    this.lastReason.set(opportunityId, r.reason);
    const rejection: RiskRejection = Object.freeze({ tsMs: nowMs, opportunityId, instrument, reason: r.reason, detail: r.detail });
    this.log.push(rejection);
    if (this.log.length > this.maxKept * 2) this.log = this.log.slice(-this.maxKept);
    return rejection;
  }

  /** The opportunity passed or closed: its next rejection is recorded again. */
  forget(opportunityId: string): void {
    this.lastReason.delete(opportunityId);
  }

  /** Drops the last-reason memory of every opportunity `keep` says is gone. */
  retainOnly(keep: (opportunityId: string) => boolean): void {
    for (const id of [...this.lastReason.keys()]) if (!keep(id)) this.lastReason.delete(id);
  }

  /** Newest first. */
  newest(limit: number): RiskRejection[] {
    return this.log.slice(-Math.max(0, limit)).reverse(); // rejections are frozen
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }
}
