/**
 * The venue modules by id (the server side of the registry in shared/venues.ts; the Record type makes
 * the compiler demand one module per registered venue).
 */
import type { Exchange } from '../../shared/exchanges.js';
import { binance } from './binance/index.js';
import { bitget } from './bitget/index.js';
import { bybit } from './bybit/index.js';
import { gate } from './gate/index.js';
import { hyperliquid } from './hyperliquid/index.js';
import { kucoin } from './kucoin/index.js';
import { okx } from './okx/index.js';
import type { VenueModule } from './types.js';

export const VENUES: Readonly<Record<Exchange, VenueModule>> = { bybit, okx, kucoin, binance, hyperliquid, gate, bitget };

export type { VenueModule } from './types.js';

/** A venue's usual USDT-perpetual symbol for an underlying (a guess for pre-registration and replay; discovery knows better). */
export function defaultSymbol(exchange: Exchange, base: string): string {
  return VENUES[exchange].symbols.nativeSymbol(base, 'USDT');
}

/** The underlying (multiplier and aliases folded) and settle currency of a native symbol, parsed from its spelling; null when unknown. */
export function symbolBaseQuote(exchange: Exchange, symbol: string): { base: string; quote: string } | null {
  const { symbols } = VENUES[exchange];
  const listed = symbols.parseNative(symbol);
  const key = symbols.keyOf(symbol);
  if (!listed || !key) return null;
  return { base: key.slice(0, -'-PERP'.length), quote: listed.quote };
}

/** defaultSymbol for an instrument key (`BTC-PERP` → Bybit `BTCUSDT`, OKX `BTC-USDT-SWAP`, KuCoin `XBTUSDTM`). */
export function defaultSymbolOfKey(exchange: Exchange, key: string): string {
  return defaultSymbol(exchange, key.replace(/(-USD[TC])?-PERP$/, ''));
}
