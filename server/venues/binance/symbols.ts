/** Binance USD-M perpetual symbols: `BTCUSDT`, `1000PEPEUSDT`, `BTCUSDC` (lower-case in stream names). */
import { instrumentKey, splitConcatenated, splitMultiplier, type BaseQuote } from '../symbology.js';

export function parseNative(symbol: string): BaseQuote | null {
  return splitConcatenated(symbol.toUpperCase());
}

export function nativeSymbol(listedBase: string, quote: string): string {
  return `${listedBase}${quote}`;
}

export function keyOf(symbol: string): string | null {
  const bq = parseNative(symbol);
  return bq ? instrumentKey(splitMultiplier(bq.base).base) : null;
}
