/**
 * Order execution seam. The runner decides; an `Executor` turns a decision into fills. `PaperExecutor`
 * fills against the engine's current book; a live executor (one per venue account) can implement the
 * same interface later without the runner changing.
 *
 * What every Executor MUST guarantee:
 * - **Idempotent client order ids.** `submit` with a `clientOrderId` it has seen before never trades
 *   again: it re-reports the original order's outcome. The runner derives ids deterministically from
 *   the position, purpose, leg and attempt, so a retry after a crash or restart is safe.
 * - **Market (taker) semantics.** An order executes immediately against the book for up to `quantity`
 *   (BASE units) or not at all; nothing rests on the book.
 * - **Partial fills.** A non-terminal `partially_filled` report may precede the terminal one. The
 *   terminal report carries the CUMULATIVE execution (volume-weighted price, total quantity, total fee)
 *   in `fill`; the runner books only terminal reports, so it never double-counts a partial.
 * - **Timeouts.** Every submitted order gets a terminal report (`filled`, `expired` with what was filled,
 *   or `rejected` with nothing filled) within `timeoutMs` of submission. A live executor that cannot
 *   confirm an order by then must cancel it and report what the venue says was executed.
 * - **Never throws** from `submit`/`poll`: failures are reports with a machine-readable `reason`.
 * - **Restart safety.** Client order ids are `${positionId}:${entry|exit|unwind}:${leg}[:${attempt}]`, and
 *   after a restart the runner re-derives the next attempt from the recorded fills, so an order that was
 *   in flight at the crash is re-submitted under the SAME id: the executor must answer it from the venue's
 *   record of that id (query by client order id), not trade again.
 * - Latency: `fill.latencyUs` is decision (`decisionUs`) to fill confirmation, in µs.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { Config } from '../../shared/config.js';
import type { Fill, FillPurpose } from '../../shared/position.js';
import { nowUs as systemNowUs } from '../engine/clock.js';
import { takerFee } from './accounting.js';
import type { BookSide, DepthBook } from '../depth/types.js';
import type { StrategyQuote } from './engine-view.js';

export interface OrderRequest {
  /** Idempotency key (see the guarantees above). */
  clientOrderId: string;
  positionId: string;
  purpose: FillPurpose;
  instrument: string;
  exchange: Exchange;
  symbol: string;
  /** Settle currency of the leg's market; absent = USDT. */
  settle?: string;
  side: 'buy' | 'sell';
  /** BASE units. */
  quantity: number;
  decisionMs: number;
  /** Epoch µs of the decision, for latency. */
  decisionUs: number;
  /** Refuse to trade on a quote older than this (ms). */
  maxQuoteAgeMs: number;
  /** Terminal report due within this (ms). */
  timeoutMs: number;
}

export const ORDER_FAILURES = ['no_quote', 'quote_unusable', 'stale_quote', 'no_liquidity', 'invalid_order', 'timeout', 'venue_rejected'] as const;
export type OrderFailure = (typeof ORDER_FAILURES)[number];

export interface ExecutionReport {
  clientOrderId: string;
  status: 'filled' | 'partially_filled' | 'expired' | 'rejected';
  /** No further report follows for this order. */
  terminal: boolean;
  /** Cumulative execution so far; null when nothing was executed. */
  fill: Fill | null;
  reason: OrderFailure | null;
  detail: string;
}

export interface Executor {
  readonly kind: 'paper' | 'live';
  /** Hands an order over. Never throws; a duplicate `clientOrderId` re-reports, never re-trades. */
  submit(order: OrderRequest): void;
  /** Reports produced since the last call, in order. */
  poll(nowMs: number): ExecutionReport[];
}

export interface BookLevel {
  price: number;
  /** BASE units. */
  size: number;
}

export interface BookWalk {
  /** Volume-weighted price over the levels walked (and the impact tail). */
  price: number;
  quantity: number;
  /** The part that fitted within the visible levels. */
  visibleQuantity: number;
}

/**
 * Walks `levels` (best first) for `quantity`. What the visible size cannot cover fills at the last
 * visible price worsened by `impactBps` (up for a buy, down for a sell) — the same assumption the
 * detector makes for slippage (`detector.slippageImpactBps`).
 */
export function walkBook(levels: readonly BookLevel[], quantity: number, side: 'buy' | 'sell', impactBps: number): BookWalk | null {
  const book = levels.filter((l) => l.price > 0 && Number.isFinite(l.price));
  if (book.length === 0 || !(quantity > 0)) return null;
  let remaining = quantity;
  let cost = 0;
  for (const level of book) {
    if (remaining <= 0) break;
    const take = Math.min(remaining, Math.max(0, level.size));
    cost += take * level.price;
    remaining -= take;
  }
  const visibleQuantity = quantity - remaining;
  if (remaining > 0) {
    const last = book[book.length - 1].price;
    const impacted = side === 'buy' ? last * (1 + impactBps / 10_000) : last * (1 - impactBps / 10_000);
    cost += remaining * impacted;
  }
  return { price: cost / quantity, quantity, visibleQuantity };
}

/**
 * Walks the levels of a book side (best first) for `quantity` BASE units and fills ONLY what they hold:
 * no impact tail (a real book has nothing beyond its levels to take at a guessed price). null when the
 * side holds nothing.
 */
export function walkBookSide(side: BookSide, quantity: number): BookWalk | null {
  if (!(quantity > 0)) return null;
  let remaining = quantity;
  let cost = 0;
  for (let i = 0; i < side.length && remaining > 0; i++) {
    const p = side.prices[i];
    const size = side.sizes[i];
    if (!(p > 0) || !(size > 0)) continue;
    const take = size < remaining ? size : remaining;
    cost += take * p;
    remaining -= take;
  }
  const filled = quantity - remaining;
  return filled > 0 ? { price: cost / filled, quantity: filled, visibleQuantity: filled } : null;
}

/** The visible levels of a quote on the side an order takes: asks for a buy, bids for a sell (the touch). */
export function takeSideLevels(quote: StrategyQuote, side: 'buy' | 'sell'): BookLevel[] {
  return side === 'buy' ? [{ price: quote.ask, size: quote.askSize }] : [{ price: quote.bid, size: quote.bidSize }];
}

export interface PaperExecutorOptions {
  quote: (instrument: string, exchange: Exchange, settle?: string) => StrategyQuote | null;
  /**
   * The leg's fresh, usable book (Engine.depthBook). With one, an order walks its levels and fills only
   * what they hold (a PARTIAL fill, reported `expired`); without, it fills at the touch plus impact.
   */
  book?: (instrument: string, exchange: Exchange, settle?: string) => DepthBook | null;
  /** Read on every order (fees and impact follow config changes). */
  config: () => Config;
  now: () => number;
  nowUs?: () => number;
  /** How many order outcomes to remember for idempotency. */
  rememberOrders?: number;
}

/**
 * Fills immediately (taker) against the leg's book when one is fresh, level by level and possibly
 * partially; otherwise completely against the top of book with the impact tail. Rejects when nothing fills.
 */
export class PaperExecutor implements Executor {
  readonly kind = 'paper' as const;
  private readonly outcomes = new Map<string, ExecutionReport>();
  private queue: ExecutionReport[] = [];
  private readonly nowUs: () => number;
  private readonly remember: number;

  constructor(private readonly opts: PaperExecutorOptions) {
    this.nowUs = opts.nowUs ?? systemNowUs;
    this.remember = opts.rememberOrders ?? 10_000;
  }

  submit(order: OrderRequest): void {
    const known = this.outcomes.get(order.clientOrderId);
    if (known) {
      this.queue.push(known);
      return;
    }
    const report = this.execute(order);
    this.outcomes.set(order.clientOrderId, report);
    if (this.outcomes.size > this.remember) {
      const oldest = this.outcomes.keys().next().value;
      if (oldest !== undefined) this.outcomes.delete(oldest);
    }
    this.queue.push(report);
  }

  poll(_nowMs?: number): ExecutionReport[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }

  private execute(order: OrderRequest): ExecutionReport {
    const reject = (reason: OrderFailure, detail: string): ExecutionReport => ({
      clientOrderId: order.clientOrderId,
      status: 'rejected',
      terminal: true,
      fill: null,
      reason,
      detail,
    });
    if (!(order.quantity > 0) || !Number.isFinite(order.quantity)) return reject('invalid_order', `quantity ${order.quantity}`);
    const quote = this.opts.quote(order.instrument, order.exchange, order.settle);
    if (!quote) return reject('no_quote', `no quote for ${order.instrument} on ${order.exchange}`);
    if (!quote.usable) return reject('quote_unusable', `${order.exchange} quote is stale or its feed is down`);
    const nowMs = this.opts.now();
    const age = nowMs - quote.receivedMs;
    if (age > order.maxQuoteAgeMs) return reject('stale_quote', `${order.exchange} quote is ${age} ms old (max ${order.maxQuoteAgeMs})`);
    const config = this.opts.config();
    const book = this.opts.book?.(order.instrument, order.exchange, order.settle) ?? null;
    const walk =
      book !== null
        ? walkBookSide(order.side === 'buy' ? book.asks : book.bids, order.quantity)
        : walkBook(takeSideLevels(quote, order.side), order.quantity, order.side, config.detector.slippageImpactBps);
    if (!walk) return reject('no_liquidity', `${order.exchange} has no ${order.side === 'buy' ? 'ask' : 'bid'}`);
    const notionalUsd = walk.price * walk.quantity;
    const fill: Fill = {
      id: order.clientOrderId,
      positionId: order.positionId,
      instrument: order.instrument,
      exchange: order.exchange,
      symbol: order.symbol,
      side: order.side,
      purpose: order.purpose,
      price: walk.price,
      quantity: walk.quantity,
      notionalUsd,
      feeUsd: takerFee(notionalUsd, config.fees.takerBps[order.exchange]),
      decisionMs: order.decisionMs,
      fillMs: nowMs,
      latencyUs: Math.max(0, this.nowUs() - order.decisionUs),
    };
    // What the book did not hold is not traded: a terminal `expired` carrying the partial fill (the runner
    // treats it as any short entry: unwinds what was filled; an exit retries the rest next pass).
    if (walk.quantity < order.quantity * (1 - 1e-9))
      return { clientOrderId: order.clientOrderId, status: 'expired', terminal: true, fill, reason: 'no_liquidity', detail: `${order.exchange} book held ${walk.quantity} of ${order.quantity}` };
    return { clientOrderId: order.clientOrderId, status: 'filled', terminal: true, fill, reason: null, detail: '' };
  }
}
