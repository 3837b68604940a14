/**
 * Side consumers of the market records the engine accepts (persistence's market log, recorders): a plain
 * listener list the engine calls after its pipeline took a record. Listeners get the record's fields as
 * arguments (no object per record) and must not throw or block: they run on the producer's call.
 */
import type { RecordVisitor } from './pipeline.js';

/** One accepted record: `onQuote` (sizes in BASE units) or `onFunding` (rate per its own interval). */
export type AcceptedRecordListener = RecordVisitor;

export class AcceptedRecordHooks {
  private listeners: AcceptedRecordListener[] = [];

  /** True when someone listens (the engine skips the calls otherwise). */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  /** Adds a listener; returns a function that removes it. */
  add(listener: AcceptedRecordListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  quote(id: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, recvUs: number): void {
    for (const l of this.listeners) l.onQuote(id, bid, ask, bidSize, askSize, exchangeTsMs, recvUs);
  }

  funding(id: number, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number, recvUs: number): void {
    for (const l of this.listeners) l.onFunding(id, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs, recvUs);
  }
}
