/**
 * Venue-agnostic symbol rules: one instrument key per underlying (`BTC-PERP`, `PEPE-PERP`), whatever the
 * venue's spelling, quote/settle currency (USDT and USDC legs share the key) or quantity multiplier
 * (`1000PEPE` quotes 1,000 PEPE). Venue spellings live in each venue's own `symbols.ts`.
 */

import { SETTLE_CURRENCIES } from '../../shared/instrument-key.js';

export interface BaseQuote {
  base: string;
  quote: string;
}

export {
  SETTLE_CURRENCIES,
  type SettleCurrency,
  isSettleCurrency,
  instrumentKey,
  parseInstrumentKey,
  normaliseInstrumentKey,
} from '../../shared/instrument-key.js';

/** Splits a concatenated `BASEQUOTE` symbol on a known settle currency suffix. */
export function splitConcatenated(symbol: string): BaseQuote | null {
  for (const quote of SETTLE_CURRENCIES) {
    if (symbol.length > quote.length && symbol.endsWith(quote)) return { base: symbol.slice(0, -quote.length), quote };
  }
  return null;
}

/** A venue's listed base code split into the underlying and the quantity multiplier it quotes. */
export interface Underlying {
  /** Common code of the underlying, e.g. `PEPE`. */
  base: string;
  /** Units of the underlying per unit of the listed base: 1000 for `1000PEPE`, 1 for `BTC` and `1INCH`. */
  multiplier: number;
}

/**
 * `1000PEPE` → PEPE ×1000, `10000SATS` → SATS ×10,000, `1MBABYDOGE` → BABYDOGE ×1,000,000, `SHIB1000`
 * → SHIB ×1000; `1INCH`, `BTC` and the like unchanged. Only a power of ten of at least 100 counts, so a
 * ticker that merely starts with a digit (`1INCH`, `2Z`) keeps its name. `aliases` maps a venue's own
 * spelling of an underlying to the common one (a venue's own code for bitcoin → `BTC`), applied after the split.
 */
export function splitMultiplier(listedBase: string, aliases: Readonly<Record<string, string>> = {}): Underlying {
  const code = listedBase.toUpperCase();
  let base = code;
  let multiplier = 1;
  const prefix = /^(10{2,9}|1M)([A-Z][A-Z0-9]*)$/.exec(code);
  const suffix = prefix ? null : /^([A-Z]{2,})(10{2,9})$/.exec(code);
  if (prefix) {
    multiplier = prefix[1] === '1M' ? 1_000_000 : Number(prefix[1]);
    base = prefix[2];
  } else if (suffix) {
    multiplier = Number(suffix[2]);
    base = suffix[1];
  }
  return { base: aliases[base] ?? base, multiplier };
}
