/** Bitget futures symbols: USDT-M `BTCUSDT`, `1000PEPEUSDT` (sizes in base coin); USDC-M `BTCPERP`. */
import { instrumentKey, splitConcatenated, splitMultiplier, type BaseQuote } from '../symbology.js';

/** Bitget spells its perpetuals with the common codes: no aliases. */
export const ASSET_ALIASES: Readonly<Record<string, string>> = {};

/** The listed base and settle currency of a Bitget futures symbol, or null. */
export function parseNative(symbol: string): BaseQuote | null {
  const s = symbol.toUpperCase();
  if (s.endsWith('PERP') && s.length > 4) return { base: s.slice(0, -4), quote: 'USDC' };
  return splitConcatenated(s);
}

/** Default Bitget symbol of a listed base in a settle currency. */
export function nativeSymbol(listedBase: string, quote: string): string {
  return quote === 'USDC' ? `${listedBase}PERP` : `${listedBase}${quote}`;
}

export function keyOf(symbol: string): string | null {
  const bq = parseNative(symbol);
  return bq ? instrumentKey(splitMultiplier(bq.base, ASSET_ALIASES).base) : null;
}
