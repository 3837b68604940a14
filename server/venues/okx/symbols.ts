/** OKX swap instrument ids: `BTC-USDT-SWAP`, `PEPE-USDT-SWAP` (quantity in contracts of `ctVal`), `BTC-USDC-SWAP`. */
import { instrumentKey, splitMultiplier, type BaseQuote } from '../symbology.js';

/** OKX spells its swaps with the common codes (`LUNA` = Terra 2.0, `LUNC` = Terra Classic): no aliases. */
export const ASSET_ALIASES: Readonly<Record<string, string>> = {};

export function parseNative(symbol: string): BaseQuote | null {
  const m = /^([A-Z0-9]+)-([A-Z0-9]+)-SWAP$/.exec(symbol.toUpperCase());
  return m ? { base: m[1], quote: m[2] } : null;
}

export function nativeSymbol(listedBase: string, quote: string): string {
  return `${listedBase}-${quote}-SWAP`;
}

export function keyOf(symbol: string): string | null {
  const bq = parseNative(symbol);
  return bq ? instrumentKey(splitMultiplier(bq.base).base) : null;
}
