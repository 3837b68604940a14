/**
 * The one small interface every venue adapter implements, and the types the feed layer shares.
 *
 * An adapter knows its venue's wire protocol and nothing else: where to connect, what to send to
 * subscribe, which heartbeat the venue needs, how to load instrument metadata over REST, and how to
 * turn one wire frame into normalised updates (`VenueParser.parse`, no I/O). Sockets, timers and the
 * engine live in connection.ts / manager.ts.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { WsLimits } from '../../shared/venue-facts.js';
import type { VenueDepth } from '../depth/types.js';
import type { VenueFundingHistory } from '../funding/history-types.js';

/** Origins of one venue (real or simulated); adapters append the venue's real paths. */
export interface VenueEndpoints {
  ws: string;
  rest: string;
}

/** What the feed layer needs to know about one venue symbol. */
export interface InstrumentMeta {
  exchange: Exchange;
  /** Venue-native symbol, spelled as the venue's symbols module writes it. */
  symbol: string;
  /** Normalised instrument key, e.g. `BTC-PERP`. */
  key: string;
  base: string;
  quote: string;
  /**
   * Units of the LISTED base (`listedBase`, e.g. `1000PEPE`) per contract as the venue sizes its quantities:
   * 1 on venues that quote base units, the contract size on contract venues (ctVal, multiplier). Size in
   * the underlying = wire size × contractValue × priceMultiplier (see `emitQuote`).
   */
  contractValue: number;
  /** Funding interval (ms) from the venue's metadata. */
  fundingIntervalMs: number;
  /**
   * true = the venue gave no interval and `fundingIntervalMs` is only the 8 h fallback
   * (DEFAULT_FUNDING_INTERVAL_MS), not a documented venue default: parsers report the interval as unknown
   * (0, see `knownFundingIntervalMs`) so the pair is "funding unknown". The venue's own later data (a wire
   * field, refreshed metadata that carries it) clears it. Absent = known.
   */
  fundingIntervalAssumed?: boolean;
  /** Next funding time (epoch ms) from REST when the WS feed does not carry it; 0 = unknown. */
  nextFundingMs: number;
  /** Funding known from REST at load time, pushed once before the WS delivers its own (intervalMs 0 = unknown). */
  seedFunding?: { rate: number; intervalMs: number; nextFundingMs: number; predicted: boolean; tsMs: number };
  /** Engine id once registered; -1 before. */
  id: number;
  // Filled by discovery (issue 11 §2-3); optional until every source (instrument files, replay) carries them.
  /** The base code as the venue lists it (`1000PEPE`, or a venue's own code for a coin); `base` is the underlying (`PEPE`). */
  listedBase?: string;
  /** Units of the underlying per listed unit (1000 for a listed `1000PEPE`): prices are divided by it, sizes multiplied. */
  priceMultiplier?: number;
  /** Price tick in the venue's own price unit (per listed unit, as on the wire); 0 = unknown. */
  tickSize?: number;
  /** Minimum order size in units of the UNDERLYING (`base`, contracts and multiplier folded); 0 = unknown. */
  minSize?: number;
  /** Listing status from discovery. */
  status?: InstrumentStatus;
  /**
   * Index of the symbol in the venue's own listing, for venues whose channels address instruments by
   * position rather than by name (a positional context array pairs with the listing's order).
   */
  position?: number;
}

/**
 * Where a listed perpetual is in its life: only `trading` ones are subscribed. `prelaunch` = announced or
 * pre-market (no index price yet); `delisting` = a delisting date is set, or settling/suspended.
 */
export type InstrumentStatus = 'trading' | 'prelaunch' | 'delisting';

/** Every live linear perpetual a venue lists, and the entries skipped (count per reason, never the whole venue). */
export interface Discovery {
  table: MetadataTable;
  skipped: Record<string, number>;
}

/** Native symbol → metadata, for one venue. */
export type MetadataTable = Map<string, InstrumentMeta>;

/**
 * Receives normalised updates from a parser: prices per ONE unit of the underlying, sizes in units of the
 * underlying, times in epoch ms. Parsers reach it through `emitQuote`, which folds the venue's units.
 */
export interface UpdateSink {
  quote(meta: InstrumentMeta, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number): void;
  funding(meta: InstrumentMeta, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number): void;
  /**
   * Market statistics where the venue's stream publishes them: open interest and 24 h traded volume of the
   * symbol's market, both in USD (the parser converts: contracts × contract value × price, coins × price,
   * quote-currency turnover as is); NaN = this frame does not carry that figure (the last one stands).
   * Optional: a sink without it ignores them.
   *
   * `fundingPrice`: the price the venue values positions at when it settles funding (its mark price; the
   * oracle price on a venue that pays on it), per ONE unit of the underlying like quote prices; NaN (or
   * absent) = not in this frame. Parsers reach it through `emitStats`, which folds the price multiplier.
   */
  stats?(meta: InstrumentMeta, openInterestUsd: number, volume24hUsd: number, exchangeTsMs: number, fundingPrice?: number): void;
}

/**
 * What one frame was. `rejected` frames are counted by reason in `VenueParser.errors` and dropped;
 * `venue_error` (an error frame from the venue, e.g. a refused subscription) is counted too.
 */
export type ParseOutcome = 'data' | 'ack' | 'pong' | 'welcome' | 'ignored' | 'venue_error' | 'reconnect_notice' | 'rejected';

export interface VenueParser {
  /** Parses one text frame; never throws. */
  parse(raw: string, sink: UpdateSink): ParseOutcome;
  /** Forget all merge state (called when the connection drops, so no ghost values survive). */
  reset(): void;
  /** Dropped frames by reason (never reset). */
  readonly errors: Record<string, number>;
}

/**
 * Base for the venues' JSON parsers: the per-reason drop counter, and the JSON.parse guard every frame
 * goes through. A venue keeps only its message routing and field extraction.
 */
export abstract class JsonVenueParser implements VenueParser {
  readonly errors: Record<string, number> = {};
  constructor(protected readonly meta: MetadataTable) {}

  abstract parse(raw: string, sink: UpdateSink): ParseOutcome;

  /** Stateless by default; a venue with merge state overrides it. */
  reset(): void {}

  protected reject(reason: string): ParseOutcome {
    count(this.errors, reason);
    return 'rejected';
  }

  /** The frame as a JSON object, or null after counting it as `invalid_json` / `not_an_object`. */
  protected parseObject(raw: string): Record<string, unknown> | null {
    return jsonObject(raw, this.errors);
  }
}

/** `raw` as a JSON object, or null after counting it in `errors` as `invalid_json` / `not_an_object`. */
export function jsonObject(raw: string, errors: Record<string, number>): Record<string, unknown> | null {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    count(errors, 'invalid_json');
    return null;
  }
  if (isRecord(msg)) return msg;
  count(errors, 'not_an_object');
  return null;
}

/** One socket's worth of work. */
export interface ConnectionPlan {
  /** Label for logs/state, e.g. `<venue>/public#0`. */
  label: string;
  url: string;
  /** Text frames to send after open (or after the welcome when `awaitWelcome`), spaced by `subscribeSpacingMs`. */
  subscribeMessages: string[];
  /** Topics/streams covered, for FeedState.subscriptions. */
  topicCount: number;
  /** Subscribe only after the venue's welcome frame (for venues that send one). */
  awaitWelcome: boolean;
  subscribeSpacingMs: number;
  /** Client heartbeat: text to send every `everyMs` (only after `everyMs` of inbound silence when `whenIdle`). */
  heartbeat: { everyMs: number; whenIdle: boolean; message: () => string } | null;
  /** Reconnect proactively after this long (venues cut connections at 24 h). 0 = never. */
  maxAgeMs: number;
  /** Venue symbols this socket carries (liveChange places added symbols by it; a reconnect re-plans it). */
  symbols?: readonly string[];
  /** The venue's limits: the connection paces its messages and new sockets by them. */
  limits?: WsLimits;
  /** HTTP headers of the WebSocket handshake (a venue option chosen per connection, e.g. a number format). */
  headers?: Readonly<Record<string, string>>;
}

/** Frames that change what one live socket carries, and the topic count it has afterwards. */
export interface SubscriptionChange {
  messages: string[];
  topicCount: number;
  /** The socket's symbols after the change. */
  symbols?: string[];
}

/** Minimal fetch used for REST metadata (injectable for tests). Returns parsed JSON or throws. A POST sends `body` as JSON. */
export type FetchJson = (url: string, init?: { method?: 'GET' | 'POST'; body?: unknown }) => Promise<unknown>;

/**
 * A venue's venue-specific settings (config `venues.<id>`, validated against the schema its facts.ts
 * declares as `options`); `{}` for a venue that declares none.
 */
export type VenueOptions = Readonly<Record<string, unknown>>;

/**
 * One figure a venue publishes about ANOTHER venue's funding (e.g. a venue's view of others' next rates),
 * used only as a cross-check of our own figures, never for scoring.
 */
export interface FundingReference {
  /** The venue the figure is about. */
  venue: Exchange;
  /** Instrument key (`BTC-PERP`). */
  key: string;
  /** Settle currency of the referenced perpetual (`USDT` unless the source says otherwise). */
  settle: string;
  /** Funding rate per the referenced venue's own interval (a fraction, as that venue quotes it). */
  rate: number;
  /** That interval (ms) when the source gives it; null = not given. */
  intervalMs: number | null;
  /** Next settlement (epoch ms) when the source gives it; null = not given. */
  nextFundingMs: number | null;
}

/**
 * Open interest / 24 h volume a venue's streams do not carry, read from its REST API instead: the
 * FeedManager GETs every path once each `periodMs` (recorded as `stats` reads, so a replay applies them at
 * their time) and hands each body to `parse`, which emits the subscribed symbols' figures through
 * `emitStats` (USD, NaN = not in this body; no funding reference price). Off the detection path.
 */
export interface VenueRestStats {
  /** How often the paths are read (ms); the venue module states the request weight this costs. */
  readonly periodMs: number;
  /** Path and query of each read, relative to the REST origin (each answers for all symbols at once). */
  readonly paths: readonly string[];
  /**
   * Emits the figures one body of `path` carries for the symbols of `meta` (symbols it does not know are
   * skipped). Never throws; returns the number of symbols it emitted for, or -1 when the body is not the
   * venue's answer (an error envelope, a wrong shape).
   */
  parse(path: string, body: unknown, meta: MetadataTable, sink: UpdateSink, nowMs: number): number;
}

export interface VenueAdapter {
  readonly exchange: Exchange;
  /**
   * Every linear perpetual the venue lists (USDT- and USDC-settled) from its public instruments endpoint.
   * A malformed entry is skipped and counted in `skipped`; throws only when the venue cannot be read at all.
   */
  discover(rest: string, fetchJson: FetchJson, nowMs: number, options?: VenueOptions): Promise<Discovery>;
  /** Loads instrument metadata for `symbols` from the venue's REST API. Throws when it cannot (never guesses). */
  loadMetadata(rest: string, symbols: string[] | null, fetchJson: FetchJson, nowMs: number): Promise<MetadataTable>;
  /** Socket plans covering `symbols` within the venue's limits (a venue that needs a connection token fetches it here). */
  plan(endpoints: VenueEndpoints, symbols: string[], fetchJson: FetchJson, opts: { maxAgeMs?: number }): Promise<ConnectionPlan[]>;
  createParser(meta: MetadataTable): VenueParser;
  /**
   * Subscription change on the live sockets made from `plans` (one entry per socket, same order) so they
   * carry `symbols` (the full new list) after adding `add` and removing `remove`. null = the venue's
   * layout cannot change in place (e.g. the sockets would have to be split): the sockets are re-made.
   */
  liveChange?(plans: readonly ConnectionPlan[], symbols: readonly string[], add: readonly string[], remove: readonly string[]): SubscriptionChange[] | null;
  /**
   * The venue's published view of OTHER venues' funding (a cross-check shown on the System panel); absent
   * on venues that publish none. Throws when the venue cannot be read.
   */
  fundingReferences?(rest: string, fetchJson: FetchJson, nowMs: number): Promise<FundingReference[]>;
  /**
   * Funding timing (next settlement, interval) comes from REST only, not from the venue's stream: the feed
   * re-reads discovery shortly after each settlement so a changed interval or next time takes effect.
   */
  readonly refreshAfterSettlement?: boolean;
  /** The venue's public funding-history endpoint (backfill of realised funding); absent = none used. */
  readonly fundingHistory?: VenueFundingHistory;
  /** Open interest / 24 h volume from REST where the streams carry none; absent = streams only. */
  readonly restStats?: VenueRestStats;
  /** The venue's L2 depth channel (books for candidate instruments); absent = touch-only scoring. */
  readonly depth?: VenueDepth;
}

/**
 * The one place a wire quote becomes the engine's unit: the price per ONE unit of the underlying (÷
 * priceMultiplier: a quote of 0.0123 per listed `1000PEPE` is 0.0000123 per PEPE) and sizes in units of the underlying
 * (× contractValue × priceMultiplier). Every venue parser calls this instead of `sink.quote` directly.
 * Funding rates are ratios and need no folding.
 */
export function emitQuote(sink: UpdateSink, meta: InstrumentMeta, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number): void {
  const pm = meta.priceMultiplier;
  if (pm === undefined || pm === 1) {
    const cv = meta.contractValue;
    sink.quote(meta, bid, ask, bidSize * cv, askSize * cv, exchangeTsMs);
    return;
  }
  const sizeFactor = meta.contractValue * pm;
  sink.quote(meta, bid / pm, ask / pm, bidSize * sizeFactor, askSize * sizeFactor, exchangeTsMs);
}

/**
 * The one place a venue's market statistics reach the sink: open interest and 24 h volume in USD (NaN = not
 * in this frame), and the funding reference price as the venue quotes it (per LISTED unit, like a wire
 * quote; NaN = not in this frame), folded here to the engine's unit (÷ priceMultiplier, as `emitQuote`
 * does). Nothing is emitted when the frame carries none of the three.
 */
export function emitStats(sink: UpdateSink, meta: InstrumentMeta, openInterestUsd: number, volume24hUsd: number, wireFundingPrice: number, exchangeTsMs: number): void {
  if (openInterestUsd !== openInterestUsd && volume24hUsd !== volume24hUsd && wireFundingPrice !== wireFundingPrice) return;
  const pm = meta.priceMultiplier;
  sink.stats?.(meta, openInterestUsd, volume24hUsd, exchangeTsMs, pm === undefined || pm === 1 ? wireFundingPrice : wireFundingPrice / pm);
}

export const HOUR_MS = 3_600_000;
/**
 * ASSUMPTION (the common 8 h schedule): only where a venue documents it as its default (e.g. symbols a
 * funding-info endpoint does not list) or a metadata field is missing. The venue's own data (a wire field,
 * refreshed metadata, the spacing of its settlement times) replaces it; never a cached substitute for them.
 */
export const DEFAULT_FUNDING_INTERVAL_MS = 8 * HOUR_MS;

/**
 * The interval to report for `meta` when a frame carries none of its own: the metadata's, or 0 (unknown:
 * the pair is "funding unknown", never scored as a known 8 h) when that is only assumed.
 */
export function knownFundingIntervalMs(meta: InstrumentMeta): number {
  return meta.fundingIntervalAssumed === true ? 0 : meta.fundingIntervalMs;
}
/** Venues drop connections at 24 h: rotate a little before. */
export const DEFAULT_MAX_CONNECTION_AGE_MS = 23 * HOUR_MS;

/** Splits `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Distinct reasons kept per counter; reasons can carry venue-sent codes, so they must not grow unbounded. */
export const MAX_ERROR_REASONS = 64;

/** Increments a reason counter (past MAX_ERROR_REASONS distinct reasons, new ones count as `other`). */
export function count(errors: Record<string, number>, reason: string): void {
  const n = errors[reason];
  if (n !== undefined) errors[reason] = n + 1;
  else if (Object.keys(errors).length < MAX_ERROR_REASONS) errors[reason] = 1;
  else errors.other = (errors.other ?? 0) + 1;
}

/**
 * A decimal string or JSON number as a finite number, or NaN. Number() of the exact decimal text is
 * correctly rounded, which is far more precise than any bps computation needs. The character checks
 * (first char digit or '-', last char digit, no 0x/0b/0o prefix) reject `""`, `" 1"`, `"0x10"`,
 * `"Infinity"`, `"1."` and the like that Number() would otherwise accept; they are much cheaper than a
 * regex on the hot path.
 */
export function num(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (typeof value !== 'string') return NaN;
  const n = value.length;
  if (n === 0) return NaN;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (last < 48 || last > 57 || ((first < 48 || first > 57) && first !== 45)) return NaN;
  if (n > 2 && first === 48) {
    const c = value.charCodeAt(1) | 32; // 0x.., 0b.., 0o.. are not decimals
    if (c === 120 || c === 98 || c === 111) return NaN;
  }
  const x = Number(value);
  return Number.isFinite(x) ? x : NaN;
}

/**
 * A funding reference price field (mark / oracle) of a frame, as `emitStats` takes it: NaN when the frame
 * does not carry it (absent, null, ""); otherwise the number, or 0 when the text is not one. The engine
 * keeps out and counts (`funding_price_invalid`) anything that is not a positive price near the book, so a
 * damaged field is counted there once and the rest of the frame still counts.
 */
export function wireFundingPrice(value: unknown): number {
  if (value === undefined || value === null || value === '') return NaN;
  const x = num(value);
  return x === x ? x : 0;
}

/** A market statistic (open interest, 24 h volume) as UpdateSink.stats takes it: non-negative and finite, else NaN (not published). */
export function statOrNaN(x: number): number {
  return x >= 0 && x < Number.POSITIVE_INFINITY ? x : NaN;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A plausible epoch-ms timestamp (2001..2286): rejects seconds, µs and ns slipped in by mistake. */
export function isEpochMs(ms: number): boolean {
  return Number.isInteger(ms) && ms >= 1e12 && ms < 1e13;
}

/** Valid top of book: positive prices, non-negative sizes. */
export function validBook(bid: number, ask: number, bidSize: number, askSize: number): boolean {
  return bid > 0 && ask > 0 && bidSize >= 0 && askSize >= 0;
}
