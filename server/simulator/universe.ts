/**
 * A synthetic perpetual universe: N coins, each listed on some of the four venues, generated from a seed.
 * It is shaped like the real market (2025–26): the big coins on every venue, a middle tier on most, a long
 * tail on one to three; low-priced coins that some venues list multiplied (base `1000PEPE`, `1MBABYDOGE`)
 * while others list them bare with a contract value; some USDC-settled legs next to the USDT ones. Each
 * venue's proportions and spelling come from its facts' `listing` profile. Listings and delistings
 * during a run are scheduled by the market model (market.ts).
 */
import { EXCHANGES, perVenue, venueFacts, type Exchange } from '../../shared/exchanges.js';
import type { ListingProfile } from '../../shared/venue-facts.js';
import { instrumentKey, type SettleCurrency } from '../venues/symbology.js';
import { Prng } from './prng.js';

/** One listing of a coin on a venue. */
export interface Listing {
  /** Instrument key of the underlying (`PEPE-PERP`). */
  key: string;
  exchange: Exchange;
  /** The base code as the venue lists it: `1000PEPE` on a multiplying venue, `PEPE` elsewhere. */
  listedBase: string;
  /** Units of the underlying per listed unit (1000 for `1000PEPE`). */
  multiplier: number;
  settle: SettleCurrency;
  /** Start price of the underlying (per one unit of it). */
  startPrice: number;
}

export interface UniverseCoin {
  key: string;
  base: string;
  startPrice: number;
  /** 0 = biggest. Coins ranked in the top 10 % are never delisted by the churn. */
  rank: number;
}

export interface Universe {
  coins: UniverseCoin[];
  listings: Listing[];
}

/** Default universe size when one is asked for without a number. */
export const DEFAULT_UNIVERSE = 300;

/**
 * Real tickers with rough prices (USD, late 2025), biggest first. Prices only set the scale (ticks,
 * lots, contract values); the model walks them from there.
 */
const REAL: ReadonlyArray<readonly [string, number]> = [
  ['BTC', 91_000], ['ETH', 3_050], ['SOL', 142], ['XRP', 2.21], ['DOGE', 0.158], ['BNB', 880], ['ADA', 0.71],
  ['LINK', 14.2], ['AVAX', 15.1], ['SUI', 1.72], ['TRX', 0.28], ['LTC', 84], ['BCH', 520], ['DOT', 2.6],
  ['TON', 1.62], ['PEPE', 0.0000047], ['SHIB', 0.0000088], ['NEAR', 1.98], ['APT', 2.45], ['ARB', 0.23],
  ['OP', 0.36], ['UNI', 6.1], ['AAVE', 182], ['ATOM', 2.7], ['FIL', 1.55], ['ETC', 13.4], ['ICP', 3.9],
  ['INJ', 6.2], ['WLD', 0.62], ['HYPE', 33.5], ['ENA', 0.28], ['TIA', 0.62], ['SEI', 0.15], ['BONK', 0.0000101],
  ['1INCH', 0.18], ['FLOKI', 0.000052], ['JUP', 0.25], ['PYTH', 0.075], ['STX', 0.31], ['RENDER', 1.62],
  ['FET', 0.26], ['CRV', 0.41], ['LDO', 0.64], ['ENS', 10.4], ['GMX', 8.7], ['DYDX', 0.22], ['SNX', 0.55],
  ['COMP', 29.5], ['SUSHI', 0.42], ['YFI', 3_950], ['MKR', 1_420], ['ORDI', 4.1], ['WIF', 0.41], ['TAO', 265],
  ['ONDO', 0.46], ['POL', 0.13], ['ALGO', 0.13], ['HBAR', 0.14], ['VET', 0.013], ['XLM', 0.24], ['SAND', 0.14],
  ['MANA', 0.15], ['AXS', 1.1], ['GALA', 0.0082], ['APE', 0.29], ['CHZ', 0.031], ['EGLD', 7.2], ['THETA', 0.41],
  ['IMX', 0.31], ['RUNE', 0.62], ['KAS', 0.048], ['JASMY', 0.0079], ['NOT', 0.00068], ['ZRO', 1.45], ['STRK', 0.13],
  ['ZK', 0.038], ['W', 0.045], ['T', 0.011], ['ETHFI', 0.78], ['PENDLE', 2.4], ['RATS', 0.000041], ['SATS', 0.00000002],
  ['LUNC', 0.000043], ['XEC', 0.0000091], ['BABYDOGE', 0.0000000011], ['CAT', 0.0000052], ['WHY', 0.000000024],
  ['NEIRO', 0.00012], ['MEW', 0.0014], ['POPCAT', 0.11], ['BOME', 0.00082], ['TURBO', 0.0018], ['BRETT', 0.021],
  ['MOG', 0.00000031], ['2Z', 0.13], ['AI16Z', 0.062], ['VIRTUAL', 0.82], ['TRUMP', 5.8], ['PENGU', 0.011],
  ['MOVE', 0.045], ['ME', 0.31], ['KAITO', 0.62], ['IP', 2.3], ['BERA', 1.05], ['S', 0.12], ['XMR', 410],
  ['ZEC', 430], ['DASH', 52], ['QNT', 78], ['KSM', 8.3], ['ZIL', 0.0079], ['IOTA', 0.11], ['NEO', 3.9],
  ['CAKE', 2.2], ['GRT', 0.047], ['ROSE', 0.014], ['CFX', 0.072], ['KAVA', 0.13], ['MINA', 0.13], ['ARKM', 0.26],
  ['ACE', 0.31], ['XAI', 0.021], ['MAV', 0.028], ['ID', 0.085], ['BLUR', 0.041], ['MEME', 0.0013], ['PEOPLE', 0.011],
];

/** Each venue's listing profile (its facts' `listing`): weights, chances and how it spells multiplied bases. */
const PROFILE: Readonly<Record<Exchange, ListingProfile>> = perVenue((ex) => venueFacts(ex).listing);
const TAIL_WEIGHT: Readonly<Record<Exchange, number>> = perVenue((ex) => PROFILE[ex].tailWeight);
const MID_CHANCE: Readonly<Record<Exchange, number>> = perVenue((ex) => PROFILE[ex].midChance);
const USDC_CHANCE: Readonly<Record<Exchange, number>> = perVenue((ex) => PROFILE[ex].usdcChance);
/** Venues that list low-priced coins multiplied (`1000PEPE`); the others list them bare with a contract value. */
const MULTIPLYING: ReadonlySet<Exchange> = new Set(EXCHANGES.filter((ex) => PROFILE[ex].multipliedPrefix !== null));

/** Listing multiplier of a low-priced coin on the multiplying venues (1 when it is listed bare). */
export function multiplierFor(price: number): number {
  if (price < 1e-7) return 1_000_000;
  if (price < 2e-6) return 10_000;
  if (price < 0.005) return 1000;
  return 1;
}

/** The multiplier a venue lists a coin with: `m` when it spells it, else the largest smaller one it spells (1 if none). */
export function spelledMultiplier(exchange: Exchange, m: number): number {
  const prefixes = PROFILE[exchange].multipliedPrefix;
  if (prefixes === null || m === 1 || prefixes[m] !== undefined) return prefixes === null ? 1 : m;
  return Math.max(1, ...Object.keys(prefixes).map(Number).filter((k) => k < m));
}

/** How a venue spells a multiplied base (its facts' `multipliedPrefix`: `1000PEPE`, `1MBABYDOGE`). */
export function listedBaseOf(exchange: Exchange, base: string, multiplier: number): string {
  const prefixes = PROFILE[exchange].multipliedPrefix;
  if (multiplier === 1 || prefixes === null) return base;
  return `${prefixes[multiplier] ?? String(multiplier)}${base}`;
}

const CONSONANTS = 'BCDFGHJKLMNPRSTVXZ';
const VOWELS = 'AEIOUY';

/**
 * A made-up ticker (`ZORA`, `KIVEX`, `3KEL`). Never one that symbol parsing would misread: no `1M`/`100…`
 * prefix or `…100` suffix (multipliers), no `USDT`/`USDC`/`PERP` endings.
 */
function syntheticTicker(g: Prng): string {
  const syllables = 1 + g.int(3);
  let s = '';
  for (let i = 0; i < syllables; i++) s += CONSONANTS[g.int(CONSONANTS.length)] + VOWELS[g.int(VOWELS.length)];
  const r = g.next();
  if (r < 0.25) s += CONSONANTS[g.int(CONSONANTS.length)];
  else if (r < 0.3) s = `${2 + g.int(8)}${s}`; // numeric-leading, like 1INCH or 2Z
  else if (r < 0.34) s += `${2 + g.int(8)}`;
  return s;
}

function isSafeTicker(s: string): boolean {
  return !/^(1M|10{2})/.test(s) && !/10{2,}$/.test(s) && !/(USDT|USDC|PERP)$/.test(s) && s.length >= 2;
}

/** Picks `k` distinct venues, weighted. */
function pickVenues(g: Prng, k: number, weights: Readonly<Record<Exchange, number>>): Exchange[] {
  const pool = [...EXCHANGES];
  const out: Exchange[] = [];
  while (out.length < k && pool.length > 0) {
    const total = pool.reduce((a, ex) => a + weights[ex], 0);
    let r = g.next() * total;
    let i = 0;
    for (; i < pool.length - 1; i++) {
      r -= weights[pool[i]];
      if (r < 0) break;
    }
    out.push(pool.splice(i, 1)[0]);
  }
  return out;
}

/** The venues a coin of this rank is listed on. */
function venuesFor(g: Prng, rank: number, n: number): Exchange[] {
  if (rank < Math.max(8, Math.round(0.08 * n))) return [...EXCHANGES];
  if (rank < Math.round(0.45 * n)) {
    const on = EXCHANGES.filter((ex) => g.next() < MID_CHANCE[ex]);
    return on.length >= 2 ? on : pickVenues(g, 2, TAIL_WEIGHT);
  }
  const r = g.next();
  return pickVenues(g, r < 0.35 ? 1 : r < 0.75 ? 2 : 3, TAIL_WEIGHT).sort((a, b) => EXCHANGES.indexOf(a) - EXCHANGES.indexOf(b));
}

/** `n` coins and their listings, the same for the same seed. Listings come grouped by venue, coins in rank order. */
export function generateUniverse(n: number, seed: number): Universe {
  const g = Prng.derive(seed, 'universe');
  const count = Math.max(1, Math.floor(n));
  const coins: UniverseCoin[] = [];
  const used = new Set<string>();
  for (const [base, price] of REAL) {
    if (coins.length >= count) break;
    coins.push({ key: instrumentKey(base), base, startPrice: price, rank: coins.length });
    used.add(base);
  }
  while (coins.length < count) {
    const base = syntheticTicker(g);
    if (used.has(base) || !isSafeTicker(base)) continue;
    used.add(base);
    // Long-tail prices: log-uniform from 0.000001 to 50, so some of them get multiplied too.
    const price = Math.exp(g.uniform(Math.log(1e-6), Math.log(50)));
    coins.push({ key: instrumentKey(base), base, startPrice: price, rank: coins.length });
  }
  const legs = new Map<Exchange, Listing[]>(EXCHANGES.map((ex) => [ex, []]));
  const topDecile = Math.max(1, Math.round(0.1 * count));
  for (const coin of coins) {
    // A numeric-leading ticker is never multiplied: `10002Z` could not be read back (no venue does it either).
    const m = /^[0-9]/.test(coin.base) ? 1 : multiplierFor(coin.startPrice);
    for (const exchange of venuesFor(g, coin.rank, count)) {
      const mult = MULTIPLYING.has(exchange) ? spelledMultiplier(exchange, m) : 1;
      const listing = { key: coin.key, exchange, listedBase: listedBaseOf(exchange, coin.base, mult), multiplier: mult, startPrice: coin.startPrice };
      const only = PROFILE[exchange].onlySettle;
      if (only !== undefined) {
        legs.get(exchange)!.push({ ...listing, settle: only });
        continue;
      }
      legs.get(exchange)!.push({ ...listing, settle: 'USDT' });
      // BTC has a USDC leg on every venue that lists USDC-settled perpetuals (usdcChance > 0); other top coins on some.
      if ((coin.rank === 0 && USDC_CHANCE[exchange] > 0) || (coin.rank < topDecile && g.next() < USDC_CHANCE[exchange])) legs.get(exchange)!.push({ ...listing, settle: 'USDC' });
    }
  }
  return { coins, listings: EXCHANGES.flatMap((ex) => legs.get(ex)!) };
}
