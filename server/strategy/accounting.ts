/**
 * Pure money arithmetic for paired positions: mark-to-market, margin, estimated liquidation, funding
 * payments and the close-side spread. No state, no clocks: every number here is hand-checkable.
 */
import type { LegSide } from '../../shared/position.js';

const BPS = 10_000;

/** Price PnL of one leg at `mark`: long gains when the price rises, short when it falls. */
export function legPricePnl(side: LegSide, quantity: number, entryPrice: number, mark: number): number {
  return side === 'long' ? (mark - entryPrice) * quantity : (entryPrice - mark) * quantity;
}

/** The price a leg is marked at: what closing it would hit — bid for a long (sell), ask for a short (buy). */
export function markPrice(side: LegSide, bid: number, ask: number): number {
  return side === 'long' ? bid : ask;
}

/** Initial margin of a leg at `leverage`: entry notional / leverage. */
export function legMargin(quantity: number, entryPrice: number, leverage: number): number {
  return (quantity * entryPrice) / leverage;
}

/**
 * Estimated liquidation price of an isolated linear (USDT-margined) leg: the price at which the loss
 * eats the initial margin down to the maintenance margin. Ignores fees and accrued funding.
 *   long:  entry · (1 − 1/leverage + mmr)        short: entry · (1 + 1/leverage − mmr)
 */
export function liquidationPrice(side: LegSide, entryPrice: number, leverage: number, maintenanceMarginRate: number): number {
  const f = 1 / leverage - maintenanceMarginRate;
  return side === 'long' ? entryPrice * (1 - f) : entryPrice * (1 + f);
}

/** Distance from `mark` to the liquidation price in percent of mark (negative once past it). */
export function liquidationDistancePct(side: LegSide, mark: number, liqPrice: number): number {
  if (!(mark > 0)) return 0;
  return ((side === 'long' ? mark - liqPrice : liqPrice - mark) / mark) * 100;
}

/**
 * Funding paid or received by one leg at one settlement: a positive rate means longs pay shorts.
 * Returns the signed cash flow for the position holder (negative = paid).
 */
export function fundingPayment(side: LegSide, rate: number, quantity: number, mark: number): number {
  const notional = quantity * mark;
  return side === 'long' ? -rate * notional : rate * notional;
}

/** A funding rate per `intervalMs` expressed per 8 h. */
export function fundingPer8h(rate: number, intervalMs: number): number {
  return intervalMs > 0 ? (rate * 8 * 3_600_000) / intervalMs : rate;
}

/**
 * The dislocation still open on the close side, in the entry spread's sign: what buying the short back
 * at its ask and selling the long at its bid leaves on the table. Entry spread − close spread ≈ captured.
 *   (shortAsk − longBid) / longBid · 1e4
 */
export function closeSpreadBps(longBid: number, shortAsk: number): number {
  return longBid > 0 ? ((shortAsk - longBid) / longBid) * BPS : 0;
}

/** Fee in USD for a taker fill of `notional` at `takerBps`. */
export function takerFee(notional: number, takerBps: number): number {
  return (notional * takerBps) / BPS;
}

/** UTC calendar day of an epoch ms, `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
