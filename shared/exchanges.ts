/** The venues perpscan speaks to. Adding a venue: add it here, then one adapter file in server/feeds/. */
export const EXCHANGES = ['bybit', 'okx', 'kucoin', 'binance'] as const;
export type Exchange = (typeof EXCHANGES)[number];

export function isExchange(value: unknown): value is Exchange {
  return typeof value === 'string' && (EXCHANGES as readonly string[]).includes(value);
}

/**
 * Published regular-tier (VIP0) USDT-perpetual taker fees in basis points (see shared/exchanges.md §7).
 * Defaults only: users override them per exchange in config.
 */
export const DEFAULT_TAKER_FEE_BPS: Readonly<Record<Exchange, number>> = {
  bybit: 5.5,
  okx: 5,
  kucoin: 6,
  binance: 5,
};
