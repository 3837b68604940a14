/**
 * Instrument map: (exchange, venue-native symbol) ↔ dense integer id, both ways in O(1); id → the
 * normalised instrument key (`BTC-PERP`); key → the ids (legs) quoting it, maintained as ids
 * are created. Ids start at 0, are dense and never change or get reused for the life of the map.
 *
 * An id is a LEG: (instrument, exchange, settle currency). A venue may list one underlying settled in
 * USDT and in USDC (two native symbols, one per settle currency): those are two markets with their own books and funding,
 * so two ids. Leg index within an instrument = exchangeIndex · SETTLE_COUNT + settleIndex
 * (LEG_COUNT slots per instrument). When a second native symbol of the same exchange normalises to a
 * (instrument, settle) that exchange already has, the new symbol becomes an alias of the existing id;
 * a pre-registered (guessed, USDT) symbol gives way to the first symbol registered from venue metadata
 * for the same leg. The map parses no symbols: callers (the venue modules' metadata) supply base and
 * quote; the quote (= settle currency of a linear perpetual) must be one of SETTLE_CURRENCIES.
 */
import { EXCHANGES, venueFacts, type Exchange } from '../../shared/exchanges.js';
import { SETTLE_CURRENCIES, instrumentKey, type SettleCurrency } from '../../shared/instrument-key.js';

/** Base (the underlying's common code, multiplier and venue aliases already folded) and quote/settle of a venue symbol. */
export interface BaseQuote {
  base: string;
  quote: string;
}


export const EXCHANGE_COUNT = EXCHANGES.length;
export const SETTLE_COUNT = SETTLE_CURRENCIES.length;
/** Leg slots per instrument: every (exchange, settle currency). */
export const LEG_COUNT = EXCHANGE_COUNT * SETTLE_COUNT;
if (LEG_COUNT > 32) throw new Error('instrument leg masks hold 32 legs: exchanges × settle currencies exceeds it');

/** Per exchange index: the bits of its legs in a leg mask. */
export const VENUE_LEG_MASKS: readonly number[] = Array.from({ length: EXCHANGE_COUNT }, (_, ex) => ((1 << SETTLE_COUNT) - 1) << (ex * SETTLE_COUNT));
/** Per settle index: the bits of the legs settled in it in a leg mask. */
export const SETTLE_LEG_MASKS: readonly number[] = Array.from({ length: SETTLE_COUNT }, (_, s) => {
  let m = 0;
  for (let ex = 0; ex < EXCHANGE_COUNT; ex++) m |= 1 << (ex * SETTLE_COUNT + s);
  return m;
});

/** Index of a quote/settle currency in SETTLE_CURRENCIES (case-insensitive), or -1 when unsupported. */
export function settleIndex(quote: string): number {
  return (SETTLE_CURRENCIES as readonly string[]).indexOf(quote.toUpperCase());
}

/** Whether the engine can take a market settled in `quote` (callers filter discovered markets with it). */
export function isSupportedSettle(quote: string): boolean {
  return settleIndex(quote) >= 0;
}

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
  /** legIds[instrumentIndex * LEG_COUNT + legIndex] = id, or -1. */
  private legIds = new Int32Array(64 * LEG_COUNT).fill(-1);
  /** Per instrument index: bit `leg` set when the leg has an id (the detector walks only those). */
  private legMasks = new Uint32Array(64);
  private idExchange = new Uint8Array(256);
  /** Leg index (exchangeIndex · SETTLE_COUNT + settleIndex) per id. */
  private idLeg = new Uint8Array(256);
  private idInstrument = new Int32Array(256);
  private readonly idSymbol: string[] = [];
  /** Ids created by preRegister whose symbol is the venue's default spelling, not yet confirmed by metadata. */
  private readonly provisional = new Set<number>();
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
   * The id for a venue symbol, created when new. `meta` is the venue's base (the underlying) and quote,
   * from its instrument metadata; quote is the settle currency. Throws when base or quote is empty, or
   * the quote is not one of SETTLE_CURRENCIES (check with isSupportedSettle first).
   */
  register(exchange: Exchange, symbol: string, meta: BaseQuote): number {
    return this.registerAs(exchange, symbol, meta, false);
  }

  private registerAs(exchange: Exchange, symbol: string, bq: BaseQuote, guessed: boolean): number {
    const ex = exchangeIndex(exchange);
    if (ex < 0) throw new Error(`unknown exchange: ${String(exchange)}`);
    const known = this.bySymbol[ex].get(symbol);
    if (known !== undefined) return known;
    if (!bq.base || !bq.quote) throw new Error(`base and quote of ${exchange} symbol ${symbol} are required`);
    const settle = settleIndex(bq.quote);
    if (settle < 0) throw new Error(`${exchange} symbol ${symbol}: unsupported settle currency ${bq.quote} (supported: ${SETTLE_CURRENCIES.join(', ')})`);
    const key = instrumentKey(bq.base);
    const inst = this.instrumentIndexOrCreate(key);
    const leg = ex * SETTLE_COUNT + settle;
    const slot = inst * LEG_COUNT + leg;
    const existing = this.legIds[slot];
    if (existing >= 0) {
      this.bySymbol[ex].set(symbol, existing); // alias
      if (!guessed && this.provisional.delete(existing)) this.idSymbol[existing] = symbol; // the venue's real spelling wins
      return existing;
    }
    const id = this.idSymbol.length;
    this.ensureIdCapacity(id + 1);
    this.idSymbol.push(symbol);
    this.idExchange[id] = ex;
    this.idLeg[id] = leg;
    this.idInstrument[id] = inst;
    this.legIds[slot] = id;
    this.legMasks[inst] |= 1 << leg;
    this.idsByInstrument[inst].push(id);
    this.bySymbol[ex].set(symbol, id);
    if (guessed) this.provisional.add(id);
    for (const listener of this.listeners) listener(id);
    return id;
  }

  /**
   * Pre-registers instrument keys (`BTC-PERP`) on exchanges with the symbol `symbolFor` guesses (the
   * venue module's default USDT spelling); the first symbol registered later from venue metadata for the
   * same (instrument, exchange, USDT) replaces the guess (a USDC market of the venue is another leg). Keys that are not `<BASE>-PERP` are skipped. Returns the ids.
   */
  preRegister(keys: readonly string[], exchanges: readonly Exchange[], symbolFor: (exchange: Exchange, base: string) => string): number[] {
    const ids: number[] = [];
    for (const key of keys) {
      const m = /^([A-Z0-9]+)-PERP$/.exec(key);
      if (!m) continue;
      // USDT, or the one settle currency of a venue that lists no other (its guessed symbol is that leg's).
      for (const exchange of exchanges) ids.push(this.registerAs(exchange, symbolFor(exchange, m[1]), { base: m[1], quote: venueFacts(exchange).listing.onlySettle ?? 'USDT' }, true));
    }
    return ids;
  }

  /** The id of a venue symbol, or -1 when unknown. */
  id(exchange: Exchange, symbol: string): number {
    const ex = exchangeIndex(exchange);
    return ex < 0 ? -1 : (this.bySymbol[ex].get(symbol) ?? -1);
  }

  /**
   * The id of (instrument key, exchange, settle currency), or -1. Settle omitted: the USDT leg, or the venue's
   * first other leg when it has no USDT one (a venue listing only USDC perpetuals).
   */
  idFor(key: string, exchange: Exchange, settle?: string): number {
    const inst = this.keyIndex.get(key);
    const ex = exchangeIndex(exchange);
    if (inst === undefined || ex < 0) return -1;
    const base = inst * LEG_COUNT + ex * SETTLE_COUNT;
    if (settle !== undefined) {
      const si = settleIndex(settle);
      return si < 0 ? -1 : this.legIds[base + si];
    }
    for (let si = 0; si < SETTLE_COUNT; si++) if (this.legIds[base + si] >= 0) return this.legIds[base + si];
    return -1;
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

  /** Leg index of the id within its instrument (exchangeIndex · SETTLE_COUNT + settleIndex). */
  legIndexOf(id: number): number {
    return this.idLeg[id];
  }

  /** The id's settle (quote) currency. */
  settleOf(id: number): SettleCurrency {
    return SETTLE_CURRENCIES[this.idLeg[id] % SETTLE_COUNT];
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

  /** The id of leg `leg` (exchangeIndex · SETTLE_COUNT + settleIndex) of instrument `index`, or -1. Hot-path accessor. */
  legId(instrumentIndex: number, leg: number): number {
    return this.legIds[instrumentIndex * LEG_COUNT + leg];
  }

  /** Bit `leg` set for every leg of instrument `index` that has an id. Hot-path accessor. */
  legMask(instrumentIndex: number): number {
    return this.legMasks[instrumentIndex];
  }

  /** The ids (legs) quoting an instrument key (empty when unknown). */
  idsFor(key: string): readonly number[] {
    const inst = this.keyIndex.get(key);
    return inst === undefined ? [] : this.idsByInstrument[inst];
  }

  /** The exchanges quoting an instrument key (each once, whatever its settle currencies), in registration order. */
  exchangesFor(key: string): Exchange[] {
    return [...new Set(this.idsFor(key).map((id) => this.exchangeOf(id)))];
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
    if ((inst + 1) * LEG_COUNT > this.legIds.length) {
      const grown = new Int32Array(this.legIds.length * 2).fill(-1);
      grown.set(this.legIds);
      this.legIds = grown;
    }
    if (inst >= this.legMasks.length) {
      const grown = new Uint32Array(this.legMasks.length * 2);
      grown.set(this.legMasks);
      this.legMasks = grown;
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
    const leg = new Uint8Array(cap);
    leg.set(this.idLeg);
    this.idLeg = leg;
    const inst = new Int32Array(cap);
    inst.set(this.idInstrument);
    this.idInstrument = inst;
  }
}
