/**
 * The runner's side of the Executor seam: builds and submits orders, remembers which position leg each
 * pending order belongs to, and turns an executor that throws into rejection reports (delivered with
 * the next `collect`) so a broken executor never aborts a pass.
 */
import type { FillPurpose } from '../../shared/position.js';
import type { Book, LegKey } from './book.js';
import type { ExecutionReport, Executor, OrderRequest } from './execution.js';

/** How long an order may stay without a terminal report before the runner records it (ms). */
export const ORDER_TIMEOUT_MS = 10_000;

export interface PendingOrder {
  book: Book;
  leg: LegKey;
  purpose: FillPurpose;
  submittedMs: number;
}

export class OrderDesk {
  private readonly pending = new Map<string, PendingOrder>();
  /** Rejections for orders whose executor threw on submit (delivered with the next collect). */
  private brokenPromises: ExecutionReport[] = [];

  constructor(private readonly executor: Executor) {}

  /** Sends `quantity` of one leg (entry: buy the long leg; exit/unwind: the opposite side) and marks the leg pending. */
  submit(book: Book, leg: LegKey, purpose: FillPurpose, quantity: number, clientOrderId: string, maxQuoteAgeMs: number, nowMs: number, decisionUs: number): void {
    const l = book.p[leg];
    book.pending[leg] = clientOrderId;
    this.pending.set(clientOrderId, { book, leg, purpose, submittedMs: nowMs });
    const buy = purpose === 'entry' ? leg === 'long' : leg === 'short';
    this.safeSubmit({
      clientOrderId,
      positionId: book.p.id,
      purpose,
      instrument: book.p.instrument,
      exchange: l.exchange,
      symbol: l.symbol,
      settle: l.settle,
      side: buy ? 'buy' : 'sell',
      quantity,
      decisionMs: nowMs,
      decisionUs,
      maxQuoteAgeMs,
      timeoutMs: ORDER_TIMEOUT_MS,
    });
  }

  /** Everything the executor reported since the last call, plus the rejections of throwing submits. */
  collect(nowMs: number): ExecutionReport[] {
    let polled: ExecutionReport[] = [];
    try {
      polled = this.executor.poll(nowMs);
    } catch {
      // a broken executor: its orders stay pending and are reported by overdue()
    }
    const reports = polled.length === 0 ? this.brokenPromises : [...polled, ...this.brokenPromises];
    this.brokenPromises = [];
    return reports;
  }

  /** The pending order a terminal report settles (and forgets), or undefined when unknown or already settled. */
  settle(clientOrderId: string): PendingOrder | undefined {
    const order = this.pending.get(clientOrderId);
    if (!order) return undefined;
    this.pending.delete(clientOrderId);
    order.book.pending[order.leg] = null;
    return order;
  }

  /** Orders with no terminal report after ORDER_TIMEOUT_MS: a broken executor promise. */
  *overdue(nowMs: number): Generator<{ clientOrderId: string; order: PendingOrder; ageMs: number }> {
    for (const [clientOrderId, order] of this.pending) {
      const ageMs = nowMs - order.submittedMs;
      if (ageMs > ORDER_TIMEOUT_MS) yield { clientOrderId, order, ageMs };
    }
  }

  clear(): void {
    this.pending.clear();
  }

  /** Executors must not throw; if one does, the order is rejected rather than the pass aborted. */
  private safeSubmit(order: OrderRequest): void {
    try {
      this.executor.submit(order);
    } catch (err) {
      const detail = `executor threw: ${err instanceof Error ? err.message : String(err)}`;
      this.brokenPromises.push({ clientOrderId: order.clientOrderId, status: 'rejected', terminal: true, fill: null, reason: 'venue_rejected', detail });
    }
  }
}
