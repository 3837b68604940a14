/**
 * Instrument metadata outside the live REST loaders: built-in defaults for the common symbols (for
 * replay), the `--instruments FILE` format, a small cache, and the HTTP JSON fetch the loaders use.
 */
import { readFileSync } from 'node:fs';
import { EXCHANGES, type Exchange, isExchange, perVenue } from '../../shared/exchanges.js';
import { defaultSymbol, VENUES } from '../venues/index.js';
import { instrumentKey, parseInstrumentKey } from '../venues/symbology.js';
import { HttpStatusError } from './feed-error.js';
import { withDeadline } from '../deadline.js';
import { type FetchJson, type InstrumentMeta, type MetadataTable, type VenueAdapter, DEFAULT_FUNDING_INTERVAL_MS, isRecord } from './adapter.js';

/** One line of an instruments file (JSON array of these). */
export interface InstrumentFileEntry {
  exchange: Exchange;
  symbol: string;
  base: string;
  quote: string;
  contractValue: number;
  fundingIntervalMs: number;
  nextFundingMs?: number;
  /** Units of `base` per listed unit (1000 for a listed base `1000PEPE`, whose `base` is PEPE); 1 when absent. */
  priceMultiplier?: number;
  /** Index in the venue's own listing, for venues whose channels address instruments by position. */
  position?: number;
}

export const DEFAULT_INSTRUMENT_KEYS = ['BTC-PERP', 'ETH-PERP', 'SOL-PERP', 'XRP-PERP', 'DOGE-PERP'] as const;

/**
 * Built-in metadata for the common symbols, for replay only (live feeds always load REST metadata).
 * Funding interval only ASSUMED 8 h (`fundingIntervalAssumed`: reported unknown unless a frame carries its own);
 * a next funding time the WS does not carry is unknown (0) unless a file gives it.
 */
export function defaultMetadata(exchange: Exchange, keys: readonly string[] = DEFAULT_INSTRUMENT_KEYS): MetadataTable {
  const table: MetadataTable = new Map();
  for (const key of keys) {
    const bq = parseInstrumentKey(key);
    if (!bq) continue;
    const values = VENUES[exchange].replayContractValues;
    const contractValue = values ? values[bq.base] : 1;
    if (contractValue === undefined) continue; // contract venue, symbol we know nothing about: never guess
    const symbol = defaultSymbol(exchange, bq.base);
    // USDT, or the one settle currency of a venue listing no other.
    const quote = VENUES[exchange].facts.listing.onlySettle ?? 'USDT';
    table.set(symbol, { exchange, symbol, key: instrumentKey(bq.base), base: bq.base, quote, contractValue, fundingIntervalMs: DEFAULT_FUNDING_INTERVAL_MS, fundingIntervalAssumed: true, nextFundingMs: 0, id: -1 });
  }
  return table;
}

export function emptyTables(): Record<Exchange, MetadataTable> {
  return perVenue(() => new Map());
}

/** Parses an instruments file body; errors name the offending entry and field. */
export function parseInstrumentsFile(text: string): Record<Exchange, MetadataTable> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new Error(`instruments file: invalid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(body)) throw new Error('instruments file: expected a JSON array of instruments');
  const tables = emptyTables();
  body.forEach((entry: unknown, i) => {
    const at = (field: string) => `instruments file: [${i}].${field}`;
    if (!isRecord(entry)) throw new Error(`instruments file: [${i}] must be an object`);
    if (!isExchange(entry.exchange)) throw new Error(`${at('exchange')} must be one of ${EXCHANGES.join(', ')}`);
    for (const f of ['symbol', 'base', 'quote'] as const) if (typeof entry[f] !== 'string' || entry[f] === '') throw new Error(`${at(f)} must be a non-empty string`);
    for (const f of ['contractValue', 'fundingIntervalMs'] as const)
      if (typeof entry[f] !== 'number' || !(entry[f] > 0)) throw new Error(`${at(f)} must be a positive number`);
    if (entry.nextFundingMs !== undefined && (typeof entry.nextFundingMs !== 'number' || entry.nextFundingMs < 0)) throw new Error(`${at('nextFundingMs')} must be a number >= 0`);
    if (entry.priceMultiplier !== undefined && (typeof entry.priceMultiplier !== 'number' || !(entry.priceMultiplier > 0))) throw new Error(`${at('priceMultiplier')} must be a positive number`);
    if (entry.position !== undefined && !(Number.isInteger(entry.position) && (entry.position as number) >= 0)) throw new Error(`${at('position')} must be an integer >= 0`);
    const e = entry as unknown as InstrumentFileEntry;
    tables[e.exchange].set(e.symbol, {
      exchange: e.exchange,
      symbol: e.symbol,
      key: instrumentKey(e.base),
      base: e.base,
      quote: e.quote,
      contractValue: e.contractValue,
      fundingIntervalMs: e.fundingIntervalMs,
      nextFundingMs: e.nextFundingMs ?? 0,
      ...(e.priceMultiplier !== undefined && e.priceMultiplier !== 1 ? { priceMultiplier: e.priceMultiplier } : {}),
      ...(e.position !== undefined ? { position: e.position } : {}),
      id: -1,
    });
  });
  return tables;
}

export function loadInstrumentsFile(path: string): Record<Exchange, MetadataTable> {
  return parseInstrumentsFile(readFileSync(path, 'utf8'));
}

/** The file form of loaded metadata (e.g. to ship next to a recording). */
export function toInstrumentsFile(tables: Partial<Record<Exchange, MetadataTable>>): InstrumentFileEntry[] {
  const out: InstrumentFileEntry[] = [];
  for (const ex of EXCHANGES)
    for (const m of tables[ex]?.values() ?? [])
      out.push({
        exchange: ex,
        symbol: m.symbol,
        base: m.base,
        quote: m.quote,
        contractValue: m.contractValue,
        fundingIntervalMs: m.fundingIntervalMs,
        nextFundingMs: m.nextFundingMs,
        ...(m.priceMultiplier !== undefined && m.priceMultiplier !== 1 ? { priceMultiplier: m.priceMultiplier } : {}),
        ...(m.position !== undefined ? { position: m.position } : {}),
      });
  return out;
}

/** Fresh copies (ids reset) so several consumers never share mutable metadata objects. */
export function cloneTable(table: MetadataTable): MetadataTable {
  const out: MetadataTable = new Map();
  for (const [k, m] of table) out.set(k, { ...m, id: -1 });
  return out;
}

/** JSON over HTTP with a timeout; non-2xx is an error that names the status. */
export function createFetchJson(timeoutMs = 10_000): FetchJson {
  return (url, init) =>
    withDeadline(timeoutMs, async (signal) => {
      const post = init?.body !== undefined;
      const res = await fetch(url, {
        method: init?.method ?? (post ? 'POST' : 'GET'),
        signal,
        headers: post ? { accept: 'application/json', 'content-type': 'application/json' } : { accept: 'application/json' },
        ...(post ? { body: JSON.stringify(init.body) } : {}),
      });
      if (!res.ok) throw new HttpStatusError(res.status, new URL(url).pathname);
      return (await res.json()) as unknown;
    });
}

/**
 * Caches loaded metadata per (venue, REST origin) and symbol for `ttlMs`, including "not listed"
 * answers: reconnects do not reload, and adding an instrument later fetches only the symbols not
 * known yet. Returns fresh copies (ids reset), so callers never share mutable metadata objects.
 */
export class MetadataCache {
  private readonly entries = new Map<string, Map<string, { atMs: number; meta: InstrumentMeta | null }>>();
  constructor(private readonly ttlMs = 6 * 3_600_000) {}

  /** Metadata for the listed ones among `symbols` (a symbol the venue does not list is absent). Throws when the venue cannot be read. */
  async load(adapter: VenueAdapter, rest: string, symbols: string[], fetchJson: FetchJson, nowMs: number): Promise<MetadataTable> {
    const venueKey = `${adapter.exchange}|${rest}`;
    let known = this.entries.get(venueKey);
    if (!known) this.entries.set(venueKey, (known = new Map()));
    const need = symbols.filter((s) => {
      const hit = known.get(s);
      return hit === undefined || nowMs - hit.atMs >= this.ttlMs;
    });
    if (need.length > 0) {
      const table = await adapter.loadMetadata(rest, need, fetchJson, nowMs);
      for (const s of need) known.set(s, { atMs: nowMs, meta: table.get(s) ?? null });
    }
    const out: MetadataTable = new Map();
    for (const s of symbols) {
      const m = known.get(s)?.meta;
      if (m) out.set(s, { ...m, id: -1 });
    }
    return out;
  }
}

export type { InstrumentMeta };
