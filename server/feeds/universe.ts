/**
 * The scanned universe: from each enabled venue's discovery table and the market rules (config
 * `market.instruments` / `exclude` / `minVenues`), the venue symbols to subscribe, per venue. Pure: no
 * I/O, no engine; the FeedManager diffs its result against what is subscribed.
 *
 * Symbols are the venue's REAL ones from its discovery table (a venue may list PEPE as `1000PEPE…`),
 * never guessed. A venue that lists one underlying in both USDT and USDC gets both symbols (two legs).
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { InstrumentMeta, MetadataTable } from './adapter.js';

export interface UniverseRules {
  /** `all`: every key listed (trading) on at least `minVenues` of the venues given; else exactly these keys where listed. */
  instruments: 'all' | readonly string[];
  /** Instrument keys (`BTC-PERP`), or `venue:KEY` (`<venue id>:BTC-PERP`) to drop that venue's leg only. */
  exclude: readonly string[];
  minVenues: number;
}

export interface Universe {
  /** Venue symbols to subscribe, per venue given (sorted by key, then symbol). */
  symbols: Map<Exchange, string[]>;
  /** Explicit list only: configured keys a venue lists no trading symbol for. */
  unlisted: Map<Exchange, string[]>;
}

/** A symbol in the universe only while its venue says it trades (an entry without a status is taken as trading). */
export function isTrading(m: InstrumentMeta): boolean {
  return m.status === undefined || m.status === 'trading';
}

/**
 * The universe over the venues of `tables` (the enabled venues whose discovery has arrived: a venue
 * that is late joins when it arrives, and keys it brings over minVenues then join on the others too).
 * minVenues counts venues after `venue:KEY` exclusions, and applies to `all` only: an explicit list
 * is the user's choice, subscribed wherever it is listed.
 */
export function computeUniverse(tables: ReadonlyMap<Exchange, MetadataTable>, rules: UniverseRules): Universe {
  const excludedKeys = new Set<string>();
  const excludedLegs = new Set<string>();
  for (const e of rules.exclude) (e.includes(':') ? excludedLegs : excludedKeys).add(e);
  const explicit = rules.instruments === 'all' ? null : new Set(rules.instruments);

  // key → venue → its trading symbols for that key
  const byKey = new Map<string, Map<Exchange, string[]>>();
  for (const [ex, table] of tables) {
    for (const m of table.values()) {
      if (!isTrading(m) || excludedKeys.has(m.key) || excludedLegs.has(`${ex}:${m.key}`)) continue;
      if (explicit && !explicit.has(m.key)) continue;
      let venues = byKey.get(m.key);
      if (!venues) byKey.set(m.key, (venues = new Map()));
      const list = venues.get(ex);
      if (list) list.push(m.symbol);
      else venues.set(ex, [m.symbol]);
    }
  }

  const symbols = new Map<Exchange, string[]>();
  for (const ex of tables.keys()) symbols.set(ex, []);
  const keys = [...byKey.keys()].sort();
  for (const key of keys) {
    const venues = byKey.get(key)!;
    if (!explicit && venues.size < rules.minVenues) continue;
    for (const [ex, list] of venues) symbols.get(ex)!.push(...list.sort());
  }

  const unlisted = new Map<Exchange, string[]>();
  if (explicit) {
    for (const ex of tables.keys()) {
      const missing = [...explicit].filter((k) => !excludedKeys.has(k) && !excludedLegs.has(`${ex}:${k}`) && !byKey.get(k)?.has(ex));
      if (missing.length > 0) unlisted.set(ex, missing);
    }
  }
  return { symbols, unlisted };
}

/** Trading entries of a discovery table (the `listed` count of FeedState.discovery). */
export function tradingCount(table: MetadataTable): number {
  let n = 0;
  for (const m of table.values()) if (isTrading(m)) n++;
  return n;
}
