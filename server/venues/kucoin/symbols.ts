/** KuCoin futures symbols: `XBTUSDTM` (bitcoin is `XBT`), `ETHUSDTM`, USDC-settled `XBTUSDCM`. */
import { instrumentKey, splitConcatenated, splitMultiplier, type BaseQuote } from '../symbology.js';

/** KuCoin's own asset codes → the common ones. */
export const ASSET_ALIASES: Readonly<Record<string, string>> = { XBT: 'BTC' };
const NATIVE_CODES: Readonly<Record<string, string>> = { BTC: 'XBT' };

export function parseNative(symbol: string): BaseQuote | null {
  const s = symbol.toUpperCase();
  return s.endsWith('M') ? splitConcatenated(s.slice(0, -1)) : null;
}

/** Default KuCoin symbol of a common base code (BTC is listed as XBT). */
export function nativeSymbol(base: string, quote: string): string {
  return `${NATIVE_CODES[base] ?? base}${quote}M`;
}

export function keyOf(symbol: string): string | null {
  const bq = parseNative(symbol);
  return bq ? instrumentKey(splitMultiplier(bq.base, ASSET_ALIASES).base) : null;
}
