/**
 * Instrument map: (exchange, venue-native symbol) ↔ dense integer id, both ways in O(1); id → the
 * normalised instrument key (`BTC-USDT-PERP`); key → the ids (venues) quoting it, maintained as ids
 * are created. Ids start at 0, are dense and never change or get reused for the life of the map.
 *
 * Each (instrument, exchange) has exactly one id. When a second native symbol of the same exchange
 * normalises to an instrument that exchange already has (e.g. a pre-registered default symbol and the
 * venue's metadata spelling), the new symbol becomes an alias of the existing id.
 */
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import { instrumentKey, nativeSymbol, parseInstrumentKey, parseNativeSymbol, type BaseQuote } from './symbols.js';

export const EXCHANGE_COUNT = EXCHANGES.length;

/** Index of an exchange in EXCHANGES (0..EXCHANGE_COUNT-1). */
export function exchangeIndex(exchange: Exchange): number {
  return EXCHANGES.indexOf(exchange);
}

export class InstrumentMap {
  /** Per exchange index: native symbol → id. */
  private readonly bySymbol: Array<Map<string, number>> = EXCHANGES.map(() => new Map());
  private readonly keyIndex = new Map<string, number>();
  private readonly keys: string[] = [];
  /** Per instrument index: the ids quoting it, in creation order. */
  private readonly idsByInstrument: number[][] = [];
  /** venueIds[instrumentIndex * EXCHANGE_COUNT + exchangeIndex] = id, or -1. */
  private venueIds = new Int32Array(64 * EXCHANGE_COUNT).fill(-1);
  private idExchange = new Uint8Array(256);
  private idInstrument = new Int32Array(256);
  private readonly idSymbol: string[] = [];
  private readonly listeners: Array<(id: number) => void> = [];

  /** Number of ids created. */
  get size(): number {
    return this.idSymbol.length;
  }

  /** Number of distinct instrument keys. */
  get instrumentCount(): number {
    return this.keys.length;
  }

  /**
   * The id for a venue symbol, created when new. `meta` is the venue's base/quote (from its instrument
   * metadata); without it the symbol is parsed by the venue's usual style. Throws when neither works.
   */
  register(exchange: Exchange, symbol: string, meta?: BaseQuote): number {
    const ex = exchangeIndex(exchange);
    if (ex < 0) throw new Error(`unknown exchange: ${String(exchange)}`);
    const known = this.bySymbol[ex].get(symbol);
    if (known !== undefined) return known;
    const bq = meta ?? parseNativeSymbol(exchange, symbol);
    if (!bq || !bq.base || !bq.quote) throw new Error(`cannot derive base/quote of ${exchange} symbol ${symbol}; pass meta`);
    const key = instrumentKey(bq.base, bq.quote);
    const inst = this.instrumentIndexOrCreate(key);
    const slot = inst * EXCHANGE_COUNT + ex;
    const existing = this.venueIds[slot];
    if (existing >= 0) {
      this.bySymbol[ex].set(symbol, existing); // alias
      return existing;
    }
    const id = this.idSymbol.length;
    this.ensureIdCapacity(id + 1);
    this.idSymbol.push(symbol);
    this.idExchange[id] = ex;
    this.idInstrument[id] = inst;
    this.venueIds[slot] = id;
    this.idsByInstrument[inst].push(id);
    this.bySymbol[ex].set(symbol, id);
    for (const listener of this.listeners) listener(id);
    return id;
  }

  /**
   * Pre-registers instrument keys on exchanges with each venue's default native symbol
   * (`BTC-USDT-PERP` → Bybit `BTCUSDT`, OKX `BTC-USDT-SWAP`, KuCoin `XBTUSDTM`, Binance `BTCUSDT`).
   * Invalid keys are skipped. Returns the ids.
   */
  preRegister(keys: readonly string[], exchanges: readonly Exchange[]): number[] {
    const ids: number[] = [];
    for (const key of keys) {
      const bq = parseInstrumentKey(key);
      if (!bq) continue;
      for (const exchange of exchanges) ids.push(this.register(exchange, nativeSymbol(exchange, key), bq));
    }
    return ids;
  }

  /** The id of a venue symbol, or -1 when unknown. */
  id(exchange: Exchange, symbol: string): number {
    const ex = exchangeIndex(exchange);
    return ex < 0 ? -1 : (this.bySymbol[ex].get(symbol) ?? -1);
  }

  /** The id of (instrument key, exchange), or -1. */
  idFor(key: string, exchange: Exchange): number {
    const inst = this.keyIndex.get(key);
    const ex = exchangeIndex(exchange);
    return inst === undefined || ex < 0 ? -1 : this.venueIds[inst * EXCHANGE_COUNT + ex];
  }

  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.idSymbol.length;
  }

  exchangeOf(id: number): Exchange {
    return EXCHANGES[this.idExchange[id]];
  }

  /** Index of the id's exchange in EXCHANGES. */
  exchangeIndexOf(id: number): number {
    return this.idExchange[id];
  }

  /** The native symbol the id was created with. */
  symbolOf(id: number): string {
    return this.idSymbol[id];
  }

  instrumentOf(id: number): string {
    return this.keys[this.idInstrument[id]];
  }

  /** Dense index of the id's instrument key (0..instrumentCount-1). */
  instrumentIndexOf(id: number): number {
    return this.idInstrument[id];
  }

  instrumentKeyAt(index: number): string {
    return this.keys[index];
  }

  instrumentIndex(key: string): number {
    return this.keyIndex.get(key) ?? -1;
  }

  /** The id quoting instrument `index` on exchange index `ex`, or -1. Hot-path accessor. */
  venueId(instrumentIndex: number, ex: number): number {
    return this.venueIds[instrumentIndex * EXCHANGE_COUNT + ex];
  }

  /** The ids quoting an instrument key (empty when unknown). */
  idsFor(key: string): readonly number[] {
    const inst = this.keyIndex.get(key);
    return inst === undefined ? [] : this.idsByInstrument[inst];
  }

  /** The exchanges quoting an instrument key, in registration order. */
  exchangesFor(key: string): Exchange[] {
    return this.idsFor(key).map((id) => this.exchangeOf(id));
  }

  /** All instrument keys, in registration order. */
  instruments(): string[] {
    return [...this.keys];
  }

  /** Called synchronously with each newly created id (the store and detector grow their arrays). */
  onCreate(listener: (id: number) => void): void {
    this.listeners.push(listener);
  }

  private instrumentIndexOrCreate(key: string): number {
    const known = this.keyIndex.get(key);
    if (known !== undefined) return known;
    const inst = this.keys.length;
    this.keys.push(key);
    this.keyIndex.set(key, inst);
    this.idsByInstrument.push([]);
    if ((inst + 1) * EXCHANGE_COUNT > this.venueIds.length) {
      const grown = new Int32Array(this.venueIds.length * 2).fill(-1);
      grown.set(this.venueIds);
      this.venueIds = grown;
    }
    return inst;
  }

  private ensureIdCapacity(n: number): void {
    if (n <= this.idExchange.length) return;
    let cap = this.idExchange.length;
    while (cap < n) cap *= 2;
    const ex = new Uint8Array(cap);
    ex.set(this.idExchange);
    this.idExchange = ex;
    const inst = new Int32Array(cap);
    inst.set(this.idInstrument);
    this.idInstrument = inst;
  }
}
