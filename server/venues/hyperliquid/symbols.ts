/**
 * Hyperliquid perpetual names: bare coins (`BTC`, `HYPE`); ×1000 coins with a lower-case `k` prefix
 * (`kPEPE` quotes 1,000 PEPE); builder-deployed (HIP-3) dex coins as `dex:COIN` (`xyz:TSLA`, lower-case
 * dex). Every perp settles in USDC. Spot pairs (`@107`, `PURR/USDC`) share the channels and are not perps.
 *
 * Hyperliquid coin names are upper case apart from that `k` prefix, so `k` followed by an upper-case
 * letter or digit is a kilo coin (`kPEPE`, `kSHIB`, `kBONK`, `kFLOKI`, `kLUNC`, `kDOGS`, `kNEIRO`); a coin
 * whose own name starts with K is spelled upper case (`KAITO`, `KAS`) and is not folded.
 */
import { instrumentKey, splitMultiplier, type BaseQuote } from '../symbology.js';

/** Every Hyperliquid perp settles in USDC. */
export const SETTLE = 'USDC';

/** A coin name's parts: the builder dex (`''` = main dex), the listed coin, and the kilo fold. */
export interface CoinParts {
  dex: string;
  /** The coin as listed, without the dex (`kPEPE`, `BTC`, `TSLA`). */
  listed: string;
  /** The underlying's common code (`PEPE`). */
  base: string;
  /** Units of the underlying per listed unit (1000 for `kPEPE`). */
  multiplier: number;
}

const DEX_COIN = /^([a-z][a-z0-9]{0,15}):([A-Za-z0-9]+)$/;
const MAIN_COIN = /^[A-Za-z0-9]+$/;
const KILO = /^k([A-Z0-9][A-Z0-9]*)$/;

/** The parts of a perp coin name, or null (spot `@N` / `A/B`, empty, odd characters). */
export function coinParts(coin: string): CoinParts | null {
  let dex = '';
  let listed = coin;
  const m = DEX_COIN.exec(coin);
  if (m) {
    dex = m[1];
    listed = m[2];
  } else if (!MAIN_COIN.test(coin)) {
    return null;
  }
  const kilo = KILO.exec(listed);
  if (kilo) return { dex, listed, base: kilo[1], multiplier: 1000 };
  // Upper case apart from the kilo prefix: a lower-case letter anywhere else is not a perp name we know.
  if (listed !== listed.toUpperCase()) return null;
  const { base, multiplier } = splitMultiplier(listed);
  return { dex, listed, base, multiplier };
}

/** The builder dex of a coin name (`''` for the main dex). */
export function dexOf(coin: string): string {
  const i = coin.indexOf(':');
  return i < 0 ? '' : coin.slice(0, i);
}

/** The listed base and settle currency of a Hyperliquid perp name, or null. */
export function parseNative(symbol: string): BaseQuote | null {
  const p = coinParts(symbol);
  return p ? { base: p.listed, quote: SETTLE } : null;
}

/** A listed base's perp name on the main dex: the coin itself (Hyperliquid has no USDT perps; the quote is ignored). */
export function nativeSymbol(listedBase: string, _quote: string): string {
  return listedBase;
}

export function keyOf(symbol: string): string | null {
  const p = coinParts(symbol);
  return p ? instrumentKey(p.base) : null;
}
