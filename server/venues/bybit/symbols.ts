/** Bybit linear perpetual symbols: `BTCUSDT`, `1000PEPEUSDT`; USDC-settled `BTCPERP`. */
import { instrumentKey, splitConcatenated, splitMultiplier, type BaseQuote } from '../symbology.js';

/**
 * The venue's own spellings of an underlying → the common code. `LUNA2` is Terra 2.0, which other venues
 * list as `LUNA` (Terra Classic is `LUNC`, multiplied as `1000LUNC`), from the venue's May 2022 listing of
 * the `LUNA2USDT` perpetual. Multipliers (`1000PEPE`, `SHIB1000`) are folded by splitMultiplier, not here.
 */
export const ASSET_ALIASES: Readonly<Record<string, string>> = { LUNA2: 'LUNA' };

/** The listed base and settle currency of a Bybit symbol, or null. */
export function parseNative(symbol: string): BaseQuote | null {
  const s = symbol.toUpperCase();
  if (s.endsWith('PERP') && s.length > 4) return { base: s.slice(0, -4).replace(/-$/, ''), quote: 'USDC' };
  return splitConcatenated(s);
}

/** Default Bybit symbol of a listed base in a settle currency. */
export function nativeSymbol(listedBase: string, quote: string): string {
  return quote === 'USDC' ? `${listedBase}PERP` : `${listedBase}${quote}`;
}

export function keyOf(symbol: string): string | null {
  const bq = parseNative(symbol);
  return bq ? instrumentKey(splitMultiplier(bq.base, ASSET_ALIASES).base) : null;
}
