/**
 * Symbol normalisation: venue-native symbols ↔ one instrument key per instrument (`BTC-USDT-PERP`).
 *
 * The authoritative base/quote of a venue symbol comes from the venue's instrument metadata (REST) at
 * start-up; these functions are the fallback for pre-registration, replay defaults and subscriptions.
 * They handle the four venues' USDT-perpetual styles:
 *   Bybit `BTCUSDT`, Binance `BTCUSDT` (lower-case in stream names), OKX `BTC-USDT-SWAP`, KuCoin `XBTUSDTM`.
 */
import type { Exchange } from '../../shared/exchanges.js';

export interface BaseQuote {
  base: string;
  quote: string;
}

/** Venue-specific asset codes mapped to the common one (KuCoin calls bitcoin XBT). */
const ASSET_ALIASES: Readonly<Record<string, string>> = { XBT: 'BTC' };
const KNOWN_QUOTES = ['USDT', 'USDC'] as const;

export function canonicalAsset(asset: string): string {
  const upper = asset.toUpperCase();
  return ASSET_ALIASES[upper] ?? upper;
}

/** `BTC-USDT-PERP` from base and quote (venue aliases resolved). */
export function instrumentKey(base: string, quote: string): string {
  return `${canonicalAsset(base)}-${canonicalAsset(quote)}-PERP`;
}

export function parseInstrumentKey(key: string): BaseQuote | null {
  const m = /^([A-Z0-9]+)-([A-Z0-9]+)-PERP$/.exec(key);
  return m ? { base: m[1], quote: m[2] } : null;
}

function splitConcatenated(symbol: string): BaseQuote | null {
  for (const quote of KNOWN_QUOTES) {
    if (symbol.length > quote.length && symbol.endsWith(quote)) return { base: symbol.slice(0, -quote.length), quote };
  }
  return null;
}

/** Base/quote of a venue-native USDT-perpetual symbol, or null when it is not one we recognise. */
export function parseNativeSymbol(exchange: Exchange, symbol: string): BaseQuote | null {
  const s = symbol.toUpperCase();
  let bq: BaseQuote | null = null;
  switch (exchange) {
    case 'okx': {
      const m = /^([A-Z0-9]+)-([A-Z0-9]+)-SWAP$/.exec(s);
      bq = m ? { base: m[1], quote: m[2] } : null;
      break;
    }
    case 'kucoin':
      bq = s.endsWith('M') ? splitConcatenated(s.slice(0, -1)) : null;
      break;
    case 'bybit':
    case 'binance':
      bq = splitConcatenated(s);
      break;
  }
  return bq ? { base: canonicalAsset(bq.base), quote: canonicalAsset(bq.quote) } : null;
}

/** The instrument key of a venue-native symbol, or null. */
export function normaliseSymbol(exchange: Exchange, symbol: string): string | null {
  const bq = parseNativeSymbol(exchange, symbol);
  return bq ? instrumentKey(bq.base, bq.quote) : null;
}

/** The venue-native symbol for an instrument key (inverse of normaliseSymbol for the default styles). */
export function nativeSymbol(exchange: Exchange, key: string): string {
  const bq = parseInstrumentKey(key);
  if (!bq) throw new Error(`not an instrument key: ${key}`);
  switch (exchange) {
    case 'okx':
      return `${bq.base}-${bq.quote}-SWAP`;
    case 'kucoin':
      return `${bq.base === 'BTC' ? 'XBT' : bq.base}${bq.quote}M`;
    case 'bybit':
    case 'binance':
      return `${bq.base}${bq.quote}`;
  }
}
