/** Binance USD-M perpetual symbols: `BTCUSDT`, `1000PEPEUSDT`, `BTCUSDC` (lower-case in stream names). */
import { instrumentKey, splitConcatenated, splitMultiplier, type BaseQuote } from '../symbology.js';

/**
 * The venue's own spellings of an underlying → the common code. `LUNA2` is Terra 2.0, which other venues
 * list as `LUNA` (Terra Classic is `LUNC`, multiplied as `1000LUNC`), from the venue's May 2022 listing of
 * the `LUNA2USDT` perpetual. Multipliers (`1000PEPE`, `SHIB1000`) are folded by splitMultiplier, not here.
 */
export const ASSET_ALIASES: Readonly<Record<string, string>> = { LUNA2: 'LUNA' };

export function parseNative(symbol: string): BaseQuote | null {
  return splitConcatenated(symbol.toUpperCase());
}

export function nativeSymbol(listedBase: string, quote: string): string {
  return `${listedBase}${quote}`;
}

export function keyOf(symbol: string): string | null {
  const bq = parseNative(symbol);
  return bq ? instrumentKey(splitMultiplier(bq.base, ASSET_ALIASES).base) : null;
}
