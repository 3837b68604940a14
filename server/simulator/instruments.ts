/**
 * Static contract specs of the simulated instruments: start price, tick, lot sizes and contract values,
 * chosen to resemble the venues' real USDT perpetuals for the common coins and derived from the price
 * for any other instrument key (e.g. synthetic ones for benchmarks).
 */
import { parseInstrumentKey } from '../venues/symbology.js';
import { Prng } from './prng.js';

export interface InstrumentSpec {
  key: string;
  base: string;
  startPrice: number;
  tickSize: number;
  priceDecimals: number;
  /** Base-coin quantity step (the lot on venues that quote sizes in base units). */
  qtyStep: number;
  qtyDecimals: number;
  /** A round contract size for contract-quoting venues (base coin per contract, about $1,000 or less). */
  contractUnit: number;
}

interface KnownSpec {
  price: number;
  tick: number;
}

const KNOWN: Readonly<Record<string, KnownSpec>> = {
  BTC: { price: 91_000, tick: 0.1 },
  ETH: { price: 3_050, tick: 0.01 },
  SOL: { price: 142, tick: 0.01 },
  XRP: { price: 2.21, tick: 0.0001 },
  DOGE: { price: 0.158, tick: 0.00001 },
  BNB: { price: 880, tick: 0.01 },
  ADA: { price: 0.71, tick: 0.0001 },
};

export const DEFAULT_INSTRUMENTS = ['BTC-PERP', 'ETH-PERP', 'SOL-PERP', 'XRP-PERP', 'DOGE-PERP'];

/** Number of decimals of a power-of-ten step such as 0.001 (0 for steps ≥ 1). */
export function decimalsOf(step: number): number {
  return step >= 1 ? 0 : Math.round(-Math.log10(step));
}

const pow10 = (e: number) => Number(`1e${e}`); // exact decimal powers (0.001, not 0.0010000000000000002)

export function instrumentSpec(key: string, seed: number, price?: number): InstrumentSpec {
  const bq = parseInstrumentKey(key);
  if (!bq) throw new Error(`not an instrument key: ${key}`);
  const known = KNOWN[bq.base];
  // Unknown coins get a seeded log-uniform price between 0.05 and 500 unless the universe gave one.
  const startPrice = price ?? (known ? known.price : Math.exp(Prng.derive(seed, `price:${key}`).uniform(Math.log(0.05), Math.log(500))));
  return specAt(key, bq.base, startPrice, known && price === undefined ? known.tick : undefined);
}

/**
 * The spec of a multiplied listing (`1000PEPE`): prices and quantity steps per listed unit, i.e. per
 * `multiplier` units of the underlying. `base` and `key` stay the underlying's; the contract unit of
 * contract venues (which list bare) is not affected.
 */
export function listedSpec(spec: InstrumentSpec, multiplier: number): InstrumentSpec {
  if (multiplier === 1) return spec;
  const listed = specAt(spec.key, spec.base, spec.startPrice * multiplier, undefined);
  return { ...listed, contractUnit: spec.contractUnit };
}

function specAt(key: string, base: string, startPrice: number, knownTick: number | undefined): InstrumentSpec {
  const tickSize = knownTick ?? pow10(Math.floor(Math.log10(startPrice)) - 4);
  const ctExp = Math.floor(Math.log10(1000 / startPrice));
  const qtyStep = Math.min(1, pow10(Math.floor(Math.log10(100 / startPrice))));
  return {
    key,
    base,
    startPrice,
    tickSize,
    priceDecimals: decimalsOf(tickSize),
    qtyStep,
    qtyDecimals: decimalsOf(qtyStep),
    contractUnit: pow10(ctExp),
  };
}
