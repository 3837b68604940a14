/**
 * Venue-agnostic half of instrument discovery: each venue's `discover()` reads its own instruments
 * response into `ListedInstrument`s (its field names, its status words) and this module turns them into
 * `InstrumentMeta` with the underlying, the multiplier and the units folded the same way for every venue.
 */
import type { Exchange } from '../../shared/exchanges.js';
import { count, type Discovery, type InstrumentMeta, type InstrumentStatus, type MetadataTable } from '../feeds/adapter.js';
import { instrumentKey, isSettleCurrency, splitMultiplier } from './symbology.js';

/** One perpetual as a venue lists it, before the units are folded. Numbers are NaN when absent or bad. */
export interface ListedInstrument {
  symbol: string;
  /** The venue's base field (`baseCoin`, `baseAsset`, `baseCurrency`, `ctValCcy`). */
  baseField: unknown;
  /** The base spelled by the native symbol (`1000PEPE` of a symbol quoting `1000PEPE`), when the symbol parses. */
  symbolBase: string | null;
  settle: unknown;
  /** Listed base units per contract (1 on venues that size in base units). */
  contractValue: number;
  tickSize: number;
  /** Minimum order size in the venue's own quantity unit (contracts on contract venues). */
  minQty: number;
  fundingIntervalMs: number;
  /** The venue gave no interval: `fundingIntervalMs` is the undocumented 8 h fallback (InstrumentMeta.fundingIntervalAssumed). */
  fundingIntervalAssumed?: boolean;
  nextFundingMs: number;
  status: InstrumentStatus;
}

/** A discovery result being filled: the table and the skip counts. */
export class DiscoveryBuilder {
  readonly table: MetadataTable = new Map();
  readonly skipped: Record<string, number> = {};
  constructor(
    private readonly exchange: Exchange,
    private readonly aliases: Readonly<Record<string, string>> = {},
  ) {}

  skip(reason: string): void {
    count(this.skipped, reason);
  }

  /** Adds one listed instrument, or counts why it cannot be used. The first listing of a symbol wins. */
  add(listed: ListedInstrument, extra: Partial<InstrumentMeta> = {}): void {
    if (this.table.has(listed.symbol)) return this.skip('duplicate');
    if (!isSettleCurrency(listed.settle)) return this.skip('unknown_settle');
    if (!(listed.contractValue > 0)) return this.skip('bad_contract_value');
    const listedBase = listedBaseOf(listed.baseField, listed.symbolBase, this.aliases);
    if (listedBase === null) return this.skip('bad_base');
    const { base, multiplier } = splitMultiplier(listedBase, this.aliases);
    const minQty = listed.minQty > 0 ? listed.minQty : 0;
    this.table.set(listed.symbol, {
      exchange: this.exchange,
      symbol: listed.symbol,
      key: instrumentKey(base),
      base,
      listedBase,
      quote: listed.settle,
      contractValue: listed.contractValue,
      priceMultiplier: multiplier,
      tickSize: listed.tickSize > 0 ? listed.tickSize : 0,
      minSize: minQty * listed.contractValue * multiplier,
      fundingIntervalMs: listed.fundingIntervalMs,
      ...(listed.fundingIntervalAssumed === true ? { fundingIntervalAssumed: true } : {}),
      nextFundingMs: listed.nextFundingMs > 0 ? listed.nextFundingMs : 0,
      status: listed.status,
      id: -1,
      ...extra,
    });
  }

  result(): Discovery {
    return { table: this.table, skipped: this.skipped };
  }
}

/**
 * The listed base code: the venue's base field, except when the native symbol spells the same underlying
 * with a multiplier the field lacks (symbol `1000BONK…` with base field `BONK`): prices on the wire follow the
 * symbol, so the multiplier must not be lost. null when the base field is not a usable code (the symbol
 * alone is never trusted for the underlying).
 */
export function listedBaseOf(baseField: unknown, symbolBase: string | null, aliases: Readonly<Record<string, string>> = {}): string | null {
  const field = typeof baseField === 'string' && /^[A-Za-z0-9]+$/.test(baseField) ? baseField.toUpperCase() : null;
  if (field === null) return null;
  if (symbolBase !== null && symbolBase !== field) {
    const fromSymbol = splitMultiplier(symbolBase, aliases);
    const fromField = splitMultiplier(field, aliases);
    if (fromSymbol.base === fromField.base && fromSymbol.multiplier > fromField.multiplier) return symbolBase;
  }
  return field;
}

/** The entries of `table` for `symbols` (all of it when null): loadMetadata as a filter over discovery. */
export function pick(table: MetadataTable, symbols: readonly string[] | null): MetadataTable {
  if (symbols === null) return table;
  const out: MetadataTable = new Map();
  for (const s of symbols) {
    const m = table.get(s);
    if (m) out.set(s, m);
  }
  return out;
}
