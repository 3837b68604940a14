/** Gate futures contract names: `BTC_USDT`, `PEPE_USDT` (quantity in contracts of `quanto_multiplier`). */
import { instrumentKey, splitMultiplier, type BaseQuote } from '../symbology.js';

/** Gate spells its contracts with the common codes: no aliases. */
export const ASSET_ALIASES: Readonly<Record<string, string>> = {};

export function parseNative(symbol: string): BaseQuote | null {
  const m = /^([A-Z0-9]+)_([A-Z0-9]+)$/.exec(symbol.toUpperCase());
  return m ? { base: m[1], quote: m[2] } : null;
}

export function nativeSymbol(listedBase: string, quote: string): string {
  return `${listedBase}_${quote}`;
}

export function keyOf(symbol: string): string | null {
  const bq = parseNative(symbol);
  return bq ? instrumentKey(splitMultiplier(bq.base, ASSET_ALIASES).base) : null;
}
