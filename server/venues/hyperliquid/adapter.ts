/**
 * Hyperliquid: WebSocket `/ws`, REST `POST /info`.
 *
 * Plan: one `bbo` subscription per coin (top of book, pushed on change, with the venue `time`), plus ONE
 * `assetCtxs` subscription per dex (`{"type":"assetCtxs","dex":""}` = main dex) carrying every perp's
 * funding, mark, oracle and open interest as an array POSITIONAL against `meta.universe` (no coin names).
 * ~230 main-dex perps + 1 fit the 1,000 subscriptions per IP; per-coin `activeAssetCtx` would need two
 * subscriptions per coin. Discovery records each perp's index in the universe (`InstrumentMeta.position`)
 * and the parser pairs ctxs by (dex, position). The parser also reads `activeAssetCtx` (by coin),
 * `allDexsAssetCtxs` (positional per dex) and `l2Book` (top level) so recorded frames of those channels parse.
 *
 * Funding: `funding` is a rate PER HOUR, settled every hour on the hour: emitted with intervalMs = 1 h
 * (the engine's 8 h normalisation then multiplies it by 8, APR by 8,760) and the next top of the hour. The
 * interval is read per coin from the venue's own `predictedFundings` entry (`HlPerp`, at each discovery): a
 * coin it gives another interval for follows that figure and its published next settlement.
 *
 * Positions: a context's `markPx` is checked against the coin's last bbo mid (HL_POSITION_BAND) so a universe
 * that moved before our re-read never gives one coin another's funding (see `positional`).
 *
 * `metaAndAssetCtxs` is read at start (discover) and again on every discovery refresh of the feed manager
 * (`market.discoveryRefreshMs`, 5 min by default): the refresh re-reads the universe (positions, listings,
 * delistings) and, once the hour has turned, pushes the REST funding with the new next settlement.
 * Checked against recorded frames of tardis-node, nautilus_trader and the Python SDK: see
 * test/fixtures/hyperliquid/SOURCES.md ("Real recorded frames run through our parsers").
 *
 * Sources: official Subscriptions page (hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions)
 * for `bbo`/`l2Book`/`activeAssetCtx`; `assetCtxs {dex}` → `{dex, ctxs}` from the nktkas SDK schema
 * (`src/api/subscription/_methods/assetCtxs.ts`); control frames and limits in shared/venues-2026.md §1.4
 * and test/fixtures/hyperliquid/SOURCES.md (read 2026-12-01).
 */
import { isExchange, type Exchange } from '../../../shared/exchanges.js';
import { DiscoveryBuilder, pick } from '../discovery.js';
import { changesOf, redistribute, splitSymbols, subscribeSpacingMs, type SymbolCost } from '../../feeds/plan-limits.js';
import {
  JsonVenueParser,
  emitQuote,
  emitStats,
  wireFundingPrice,
  type ConnectionPlan,
  type Discovery,
  type FetchJson,
  type FundingReference,
  type InstrumentMeta,
  type MetadataTable,
  type ParseOutcome,
  type SubscriptionChange,
  type UpdateSink,
  type VenueAdapter,
  type VenueEndpoints,
  type VenueOptions,
  type VenueParser,
  HOUR_MS,
  count,
  isEpochMs,
  isRecord,
  num,
  statOrNaN,
} from '../../feeds/adapter.js';
import { facts } from './facts.js';
import { controlOutcome, HL_PING_MS, HL_WS_PATH, isGreeting } from './ws-common.js';
import { hyperliquidDepth } from './depth.js';
import { OWN_REFERENCE_NAME, REFERENCE_VENUES } from './references.js';
import { SETTLE, coinParts, dexOf, keyOf } from './symbols.js';
import { hyperliquidFundingHistory } from './history.js';

const EXCHANGE: Exchange = 'hyperliquid';
export { HL_PING_MS, HL_WELCOME_TEXT, HL_WS_PATH, isGreeting } from './ws-common.js';
export const HL_INFO_PATH = '/info';
/**
 * Funding settles every hour on the hour (official Funding page): the interval used when the venue's own
 * `predictedFundings` entry (`HlPerp`, read at discovery) gives none for a coin.
 */
export const HL_FUNDING_INTERVAL_MS = HOUR_MS;
/**
 * Position check of positional contexts: a context whose `markPx` lies further than this fraction of the
 * coin's last bbo mid (plus half the bbo spread) belongs to another coin. Why 10 %: the mark is a median of
 * the oracle, the book and CEX mids, so on a live coin it sits inside or next to its own book (a few bps to
 * ~1 % in a fast market); the coins next to each other in `meta.universe` are unrelated listings (listing
 * order), whose prices mostly differ by far more than 10 %, so a shift flags most of a frame even when a few
 * neighbours happen to sit close (the fixture universe: no neighbours within 10 %). Half the spread is added
 * so a thin book with a wide touch is not mistaken for a shift.
 */
export const HL_POSITION_BAND = 0.1;
/** The venue's minimum order value (USDC): the lot is 10^-szDecimals, an order must be worth this much. */
export const HL_MIN_ORDER_USD = 10;
/** Perp prices carry at most 5 significant figures and at most 6 − szDecimals decimals ("Tick and lot size" page). */
const MAX_PERP_DECIMALS = 6;
/** Spot token index of USDC, the main dex's `collateralToken`. */
const USDC_TOKEN = 0;
const MAX_SIG_FIGS = 5;

const bboSub = (coin: string) => ({ type: 'bbo', coin });
const ctxSub = (dex: string) => ({ type: 'assetCtxs', dex });
const request = (method: 'subscribe' | 'unsubscribe', subscription: Record<string, string>) => JSON.stringify({ method, subscription });

/** The next settlement strictly after `ms`: the next top of the hour. */
export function nextHourMs(ms: number): number {
  return (Math.floor(ms / HOUR_MS) + 1) * HOUR_MS;
}

/** The dexes of `symbols`, main dex first when present (one `assetCtxs` subscription each). */
function dexesOf(symbols: readonly string[]): string[] {
  const set = new Set(symbols.map(dexOf));
  return [...set].sort();
}

// ------------------------------------------------------------------------------------------------ parser

/** One side of a `bbo` / an `l2Book` level: `{px, sz, n}`; null/absent = no order on that side. */
type Side = { px: number; sz: number } | null | 'bad';

function readSide(v: unknown): Side {
  if (v === null || v === undefined) return null;
  if (!isRecord(v)) return 'bad';
  const px = num(v.px);
  const sz = num(v.sz);
  if (!(px > 0) || !(sz >= 0)) return 'bad';
  return { px, sz };
}

/**
 * Channels the venue documents whose frames carry nothing we read (we do not subscribe them; a recording or
 * a shared socket may hold them): spot contexts, trades, mids, candles, and `fastAssetCtxs` (mark/mid only,
 * its `data` a base64 + raw-DEFLATE string per the nktkas SDK). Dropped quietly, never counted as errors.
 */
const UNUSED_CHANNELS: ReadonlySet<string> = new Set(['activeSpotAssetCtx', 'spotAssetCtxs', 'fastAssetCtxs', 'trades', 'allMids', 'candle']);

export class HyperliquidParser extends JsonVenueParser {
  /**
   * The latest venue time (epoch ms) seen on a timed frame (`bbo`/`l2Book`, any coin: spot and unknown coins
   * carry the same venue clock). Asset-context frames carry no timestamp: they are stamped with this venue
   * clock rather than the local clock, so a replayed recording gives the same updates (no Date.now() here).
   * It is a clock, not merge state: it survives reset() (the venue's time does not go back on a reconnect)
   * and only moves forward. Before a first timed frame, a context frame is emitted with time 0 (the pipeline
   * then uses the receive time) and the metadata's next settlement (see ctxTiming).
   */
  private clockMs = 0;
  /** No frame seen since the parser was made or reset (the connection's first frame may be plain text). */
  private fresh = true;
  /**
   * Last bbo/l2Book mid and half spread per coin (wire units, as `markPx`: both per listed coin, so a kilo
   * coin compares like for like), for the position check of context frames. Merge state: cleared on reset
   * (the resubscription's bbo snapshots refill it; the bbo subscriptions precede the contexts').
   */
  private readonly mids = new Map<string, { mid: number; half: number }>();

  override reset(): void {
    this.fresh = true;
    this.mids.clear();
  }

  parse(raw: string, sink: UpdateSink): ParseOutcome {
    const first = this.fresh;
    this.fresh = false;
    // The plain-text greeting is not JSON: tolerated, never counted as an error (see isGreeting).
    if (raw.charCodeAt(0) !== 123 && isGreeting(raw, first)) return 'welcome';
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    const channel = msg.channel;
    if (typeof channel !== 'string') return this.reject('unknown_message');
    switch (channel) {
      case 'bbo':
        return this.book(msg.data, 'bbo', sink);
      case 'l2Book':
        return this.book(msg.data, 'levels', sink);
      case 'assetCtxs':
        return this.assetCtxs(msg.data, sink);
      case 'allDexsAssetCtxs':
        return this.allDexsAssetCtxs(msg.data, sink);
      case 'activeAssetCtx':
        return this.activeAssetCtx(msg.data, sink);
      default:
        return controlOutcome(channel, this.errors) ?? (UNUSED_CHANNELS.has(channel) ? 'ignored' : this.reject('unknown_channel'));
    }
  }

  /** The stamp and next settlement of a context frame: the venue clock, or (none seen yet) 0 and the metadata's. */
  private ctxTiming(meta: InstrumentMeta): [ts: number, next: number] {
    const ts = this.clockMs;
    if (ts <= 0) return [0, meta.nextFundingMs > 0 ? meta.nextFundingMs : 0];
    const interval = intervalOf(meta);
    if (interval === HOUR_MS) return [ts, nextHourMs(ts)];
    // Another interval published by the venue: its next settlement, rolled on by the interval once passed.
    return [ts, meta.nextFundingMs > 0 ? rollOn(meta.nextFundingMs, interval, ts) : 0];
  }

  /** `bbo` (`data.bbo = [bid|null, ask|null]`, possibly short) or `l2Book` (`data.levels = [bids[], asks[]]`). */
  private book(data: unknown, field: 'bbo' | 'levels', sink: UpdateSink): ParseOutcome {
    if (!isRecord(data)) return this.reject('missing_data');
    const coin = data.coin;
    if (typeof coin !== 'string') return this.reject('missing_coin');
    const time = num(data.time);
    const meta = this.meta.get(coin);
    if (meta === undefined) {
      // A coin we do not carry still tells the venue's time. Spot pairs share the channel (`@107`,
      // `PURR/USDC`): not ours, dropped without counting an error; a perp we do not know is counted.
      if (isEpochMs(time) && time > this.clockMs) this.clockMs = time;
      return coinParts(coin) === null ? 'ignored' : this.reject('unknown_symbol');
    }
    if (!isEpochMs(time)) return this.reject('bad_timestamp');
    const sides = data[field];
    if (!Array.isArray(sides) || sides.length > 2) return this.reject('bad_book');
    let bid: Side;
    let ask: Side;
    if (field === 'bbo') {
      bid = readSide(sides[0]);
      ask = readSide(sides[1]);
    } else {
      const bids = sides[0];
      const asks = sides[1];
      if (!Array.isArray(bids) || !Array.isArray(asks)) return this.reject('bad_book');
      bid = readSide(bids[0]);
      ask = readSide(asks[0]);
    }
    if (bid === 'bad' || ask === 'bad') return this.reject('bad_number');
    if (time > this.clockMs) this.clockMs = time;
    // A one-sided or empty book (a short or `null` side; `levels:[[],[]]` for a coin with no orders) is no
    // quote: counted, nothing emitted.
    if (bid === null || ask === null) return this.reject(bid === null && ask === null ? 'empty_book' : 'one_sided_book');
    this.mids.set(coin, { mid: (bid.px + ask.px) / 2, half: Math.abs(ask.px - bid.px) / 2 });
    emitQuote(sink, meta, bid.px, ask.px, bid.sz, ask.sz, time);
    return 'data';
  }

  /** `{dex, ctxs}`: ctxs[i] belongs to the dex's universe[i]. */
  private assetCtxs(data: unknown, sink: UpdateSink): ParseOutcome {
    if (!isRecord(data)) return this.reject('missing_data');
    const dex = data.dex === undefined ? '' : data.dex;
    if (typeof dex !== 'string') return this.reject('bad_dex');
    if (!Array.isArray(data.ctxs)) return this.reject('missing_data');
    return this.positional([[dex, data.ctxs]], sink);
  }

  /** `{ctxs: [[dex, ctxs[]], …]}` (the main dex is `""`). */
  private allDexsAssetCtxs(data: unknown, sink: UpdateSink): ParseOutcome {
    if (!isRecord(data) || !Array.isArray(data.ctxs)) return this.reject('missing_data');
    const groups: Array<[string, unknown[]]> = [];
    for (const g of data.ctxs) {
      if (!Array.isArray(g) || g.length !== 2 || typeof g[0] !== 'string' || !Array.isArray(g[1])) return this.reject('bad_dex');
      groups.push([g[0], g[1]]);
    }
    return this.positional(groups, sink);
  }

  /**
   * Whether a context's `markPx` is far from its coin's last bbo mid (see HL_POSITION_BAND): the context is
   * another coin's. A coin without a bbo mid yet (or a context without a readable mark) passes unchecked:
   * there is nothing to compare with, and the funding itself is unaffected by either.
   */
  private mismatched(meta: InstrumentMeta, ctx: Record<string, unknown>): boolean | null {
    const ref = this.mids.get(meta.symbol);
    const mark = num(ctx.markPx);
    if (ref === undefined || !(mark > 0)) return null;
    return Math.abs(mark - ref.mid) > HL_POSITION_BAND * ref.mid + ref.half;
  }

  /**
   * Funding of every known perp of the given dexes, paired by position. Every context of a known perp is
   * checked before anything is emitted: a damaged one rejects the frame (counted once), never half of it.
   * Contexts of perps we do not carry (other coins, delisted ones with null premium/midPx/impactPxs) are not read.
   *
   * Position check: a context whose mark is far from its coin's bbo mid is another coin's (a listing moved the
   * positions before our universe was re-read). When most of the checked contexts mismatch, the positions have
   * shifted: the whole frame is rejected (`position_shift`, unchecked contexts are as wrong), until the
   * discovery refresh (`market.discoveryRefreshMs`) re-reads the universe; no parser-to-feed hook asks for an
   * earlier re-read. A minority of mismatches (one coin's stale or damaged mid) drops just those contexts, no
   * funding or stats from them, counted once per frame (`position_mismatch`).
   */
  private positional(groups: ReadonlyArray<readonly [string, readonly unknown[]]>, sink: UpdateSink): ParseOutcome {
    const found: Array<[InstrumentMeta, number, Record<string, unknown>]> = [];
    const byDex = new Map(groups);
    for (const meta of this.meta.values()) {
      const pos = meta.position;
      if (pos === undefined) continue;
      const ctxs = byDex.get(dexOf(meta.symbol));
      if (ctxs === undefined || pos >= ctxs.length) continue;
      const ctx = ctxs[pos];
      if (!isRecord(ctx)) return this.reject('bad_ctx');
      const rate = num(ctx.funding);
      if (Number.isNaN(rate)) return this.reject('bad_funding');
      found.push([meta, rate, ctx]);
    }
    if (found.length === 0) return 'ignored';
    let checked = 0;
    const bad = new Set<InstrumentMeta>();
    for (const [meta, , ctx] of found) {
      const m = this.mismatched(meta, ctx);
      if (m === null) continue;
      checked++;
      if (m) bad.add(meta);
    }
    if (bad.size * 2 > checked) return this.reject('position_shift');
    if (bad.size > 0) count(this.errors, 'position_mismatch');
    for (const [meta, rate, ctx] of found) {
      if (bad.has(meta)) continue;
      const [ts, next] = this.ctxTiming(meta);
      sink.funding(meta, rate, intervalOf(meta), next, false, ts);
      emitCtxStats(sink, meta, ctx, ts);
    }
    return 'data';
  }

  /** `{coin, ctx}` for one perp (the fallback channel; same stamping as assetCtxs). */
  private activeAssetCtx(data: unknown, sink: UpdateSink): ParseOutcome {
    if (!isRecord(data)) return this.reject('missing_data');
    if (typeof data.coin !== 'string') return this.reject('missing_coin');
    const meta = this.meta.get(data.coin);
    if (meta === undefined) return coinParts(data.coin) === null ? 'ignored' : this.reject('unknown_symbol');
    if (!isRecord(data.ctx)) return this.reject('bad_ctx');
    const rate = num(data.ctx.funding);
    if (Number.isNaN(rate)) return this.reject('bad_funding');
    const [ts, next] = this.ctxTiming(meta);
    sink.funding(meta, rate, intervalOf(meta), next, false, ts);
    emitCtxStats(sink, meta, data.ctx, ts);
    return 'data';
  }
}

/** The coin's funding interval: the metadata's (the venue's published figure, see discover), else 1 h. */
function intervalOf(meta: InstrumentMeta): number {
  return meta.fundingIntervalMs > 0 ? meta.fundingIntervalMs : HL_FUNDING_INTERVAL_MS;
}

/** `next` moved on by whole intervals until it is after `ms`. */
function rollOn(next: number, interval: number, ms: number): number {
  return next > ms ? next : next + Math.ceil((ms - next + 1) / interval) * interval;
}

/**
 * A perp context's open interest (`openInterest`, in the listed coin — a kilo coin for `k` names — times
 * `markPx`, the price of that same unit: USD), 24 h notional volume (`dayNtlVlm`, USD) and the funding
 * reference price `oraclePx` (per listed coin; emitStats folds the kilo multiplier).
 *
 * Funding is paid on the ORACLE price, not the mark: payment = position size × oracle price × funding rate
 * (official Funding page, hyperliquid.gitbook.io/hyperliquid-docs/trading/funding, as restated by
 * docs.notional.xyz/protocol/funding and docs.hyena.trade/trading/funding-rates; shared/venues-2026.md
 * "Funding"; issue 12 "payment on the oracle price").
 */
function emitCtxStats(sink: UpdateSink, meta: InstrumentMeta, ctx: Record<string, unknown>, ts: number): void {
  emitStats(sink, meta, statOrNaN(num(ctx.openInterest) * num(ctx.markPx)), statOrNaN(num(ctx.dayNtlVlm)), wireFundingPrice(ctx.oraclePx), ts);
}

// --------------------------------------------------------------------------------------------- discovery

/** Price tick from szDecimals and a price: at most 6 − szDecimals decimals and 5 significant figures. */
export function tickOf(szDecimals: number, price: number): number {
  // Powers of ten read from decimal text (`1e-5`), exact where `10 ** -5` is 0.000009999999999999999.
  const finest = Number(`1e-${MAX_PERP_DECIMALS - szDecimals}`);
  if (!(price > 0)) return finest;
  const sig = Number(`1e${Math.floor(Math.log10(price)) - (MAX_SIG_FIGS - 1)}`);
  return Math.max(finest, sig);
}

async function postInfo(rest: string, fetchJson: FetchJson, body: Record<string, unknown>): Promise<unknown> {
  return fetchJson(`${rest}${HL_INFO_PATH}`, { method: 'POST', body });
}

/** The venue's own funding timing of one coin (its `HlPerp` entry in `predictedFundings`). */
export interface OwnTiming {
  intervalMs: number;
  /** The published next settlement, 0 when absent or not an epoch-ms time. */
  nextFundingMs: number;
}

/**
 * Per coin, Hyperliquid's own `fundingIntervalHours` and `nextFundingTime` from a `predictedFundings` answer
 * (`[coin, [[venueName, {fundingRate, nextFundingTime, fundingIntervalHours?} | null], …]]`, own entry named
 * `HlPerp`). Coins whose entry is missing, null or without a positive interval are left out (1 h applies).
 */
export function ownTimings(body: unknown): Map<string, OwnTiming> {
  const out = new Map<string, OwnTiming>();
  if (!Array.isArray(body)) return out;
  for (const row of body) {
    if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string' || !Array.isArray(row[1])) continue;
    for (const entry of row[1]) {
      if (!Array.isArray(entry) || entry[0] !== OWN_REFERENCE_NAME || !isRecord(entry[1])) continue;
      const hours = num(entry[1].fundingIntervalHours);
      const next = num(entry[1].nextFundingTime);
      if (hours > 0 && Number.isFinite(hours)) out.set(row[0], { intervalMs: hours * HOUR_MS, nextFundingMs: isEpochMs(next) ? next : 0 });
    }
  }
  return out;
}

/** Reads one dex's `metaAndAssetCtxs` answer into the builder; throws when it is not one. */
function addDex(b: DiscoveryBuilder, dex: string, body: unknown, nowMs: number, keysSeen: Set<string>, own: ReadonlyMap<string, OwnTiming> = new Map()): void {
  if (!Array.isArray(body) || body.length < 2 || !isRecord(body[0]) || !Array.isArray(body[0].universe) || !Array.isArray(body[1]))
    throw new Error(`hyperliquid metaAndAssetCtxs${dex ? ` (dex ${dex})` : ''}: unexpected body`);
  const universe = body[0].universe;
  const ctxs = body[1];
  const hourly = nextHourMs(nowMs);
  // A dex margins and settles in its `collateralToken` (a spot token index; 0 = USDC, the main dex's).
  // Builder dexes may use another stablecoin (recorded: `km` 360, `hyna` 235; `flx` settles in USDH): those
  // perps are not USDC legs, and we do not carry other settle currencies, so they are left out, counted.
  // An answer without the field (older ones) is the USDC main-dex shape.
  const collateral = body[0].collateralToken;
  const usdc = collateral === undefined || collateral === null || num(collateral) === USDC_TOKEN;
  universe.forEach((item: unknown, position: number) => {
    if (!usdc) return b.skip('non_usdc_collateral');
    if (!isRecord(item) || typeof item.name !== 'string' || item.name === '') return b.skip('malformed');
    // Builder dexes list their coins as `dex:COIN`; accept a bare name too and spell it so.
    const symbol = dex !== '' && !item.name.includes(':') ? `${dex}:${item.name}` : item.name;
    const parts = coinParts(symbol);
    if (parts === null || parts.dex !== dex) return b.skip('bad_name');
    if (item.isDelisted === true) return b.skip('delisted');
    const szDecimals = num(item.szDecimals);
    if (!(Number.isInteger(szDecimals) && szDecimals >= 0 && szDecimals <= MAX_PERP_DECIMALS)) return b.skip('bad_sz_decimals');
    const key = keyOf(symbol);
    // A builder dex listing an underlying we already carry in USDC (main dex or an earlier dex) would give two
    // legs with one key and settle currency on this venue: the first one wins.
    if (key === null || keysSeen.has(key)) return b.skip(key === null ? 'bad_name' : 'duplicate_key');
    const ctx = isRecord(ctxs[position]) ? (ctxs[position] as Record<string, unknown>) : {};
    const price = num(ctx.markPx);
    const rate = num(ctx.funding);
    const lot = Number(`1e-${szDecimals}`);
    // The venue's published interval for this coin when it differs from the hour (live data, never assumed).
    const t = own.get(symbol);
    const interval = t !== undefined && t.intervalMs !== HL_FUNDING_INTERVAL_MS ? t.intervalMs : HL_FUNDING_INTERVAL_MS;
    const next = interval === HL_FUNDING_INTERVAL_MS ? hourly : t !== undefined && t.nextFundingMs > 0 ? rollOn(t.nextFundingMs, interval, nowMs) : 0;
    const before = b.table.size;
    b.add(
      {
        symbol,
        // The kilo fold is the symbols module's; the builder gets the multiplier spelled the common way.
        baseField: parts.multiplier === 1 ? parts.base : `${parts.multiplier}${parts.base}`,
        symbolBase: null,
        settle: SETTLE,
        contractValue: 1, // sizes are in the listed coin
        tickSize: tickOf(szDecimals, price),
        minQty: lot,
        fundingIntervalMs: interval,
        nextFundingMs: next,
        status: 'trading',
      },
      {
        listedBase: parts.listed,
        position,
        ...(Number.isNaN(rate) ? {} : { seedFunding: { rate, intervalMs: interval, nextFundingMs: next, predicted: false, tsMs: nowMs } }),
      },
    );
    if (b.table.size > before) keysSeen.add(key);
  });
}

/** The builder dexes selected in the venue options (`dexes`), valid names only, main dex excluded. */
export function selectedDexes(options: VenueOptions | undefined): string[] {
  const raw = options?.dexes;
  if (!Array.isArray(raw)) return [];
  const out: string[] = [];
  for (const d of raw) if (typeof d === 'string' && /^[a-z][a-z0-9]{0,15}$/.test(d) && !out.includes(d)) out.push(d);
  return out;
}

// --------------------------------------------------------------------------------------------- plans

/** One topic per coin (`bbo`); the dexes' `assetCtxs` come on top, on the first socket. */
const BBO_COST: SymbolCost = { topics: 1, chars: () => 0 };

export const hyperliquidAdapter: VenueAdapter = {
  exchange: EXCHANGE,
  fundingHistory: hyperliquidFundingHistory,
  depth: hyperliquidDepth,

  /**
   * Every perp of the main dex and of the builder dexes selected in `options.dexes`, from
   * `metaAndAssetCtxs` (one POST per dex). The main dex must answer; a builder dex that does not is
   * counted (`dex_unavailable`) and left out. One `predictedFundings` POST gives each coin's funding interval
   * as the venue publishes it (its `HlPerp` entry); unanswered, or a coin without one, keeps 1 h.
   */
  async discover(rest: string, fetchJson: FetchJson, nowMs: number, options?: VenueOptions): Promise<Discovery> {
    const b = new DiscoveryBuilder(EXCHANGE);
    const keysSeen = new Set<string>();
    const main = await postInfo(rest, fetchJson, { type: 'metaAndAssetCtxs' });
    let own = new Map<string, OwnTiming>();
    try {
      own = ownTimings(await postInfo(rest, fetchJson, { type: 'predictedFundings' }));
    } catch {
      // The hourly schedule stands; the next refresh reads it again.
    }
    addDex(b, '', main, nowMs, keysSeen, own);
    for (const dex of selectedDexes(options)) {
      let body: unknown;
      try {
        body = await postInfo(rest, fetchJson, { type: 'metaAndAssetCtxs', dex });
        addDex(b, dex, body, nowMs, keysSeen, own);
      } catch {
        b.skip('dex_unavailable');
      }
    }
    return b.result();
  },

  async loadMetadata(rest: string, symbols: string[] | null, fetchJson: FetchJson, nowMs: number): Promise<MetadataTable> {
    // Builder-dex symbols in the list name their dex: read those dexes too.
    const dexes = symbols === null ? [] : dexesOf(symbols).filter((d) => d !== '');
    return pick((await this.discover(rest, fetchJson, nowMs, { dexes })).table, symbols);
  },

  async plan(endpoints: VenueEndpoints, symbols: string[]): Promise<ConnectionPlan[]> {
    const dexes = dexesOf(symbols);
    // The first socket also carries one assetCtxs per dex: keep room for them.
    const limits = { ...facts.limits, topicsPerConnection: facts.limits.topicsPerConnection - dexes.length };
    const groups = splitSymbols(symbols, limits, BBO_COST);
    return groups.map((group, i) => {
      const ctxMessages = i === 0 ? dexes.map((d) => request('subscribe', ctxSub(d))) : [];
      return {
        label: `hyperliquid#${i}`,
        url: `${endpoints.ws}${HL_WS_PATH}`,
        // bbo first: its timed frames give the venue clock that stamps the context frames.
        subscribeMessages: [...group.map((c) => request('subscribe', bboSub(c))), ...ctxMessages],
        topicCount: group.length + ctxMessages.length,
        awaitWelcome: false, // the greeting text is not guaranteed; subscribing at once is allowed
        subscribeSpacingMs: subscribeSpacingMs(facts.limits),
        heartbeat: { everyMs: HL_PING_MS, whenIdle: false, message: () => '{"method":"ping"}' },
        maxAgeMs: 0,
        symbols: group,
        limits: facts.limits,
      };
    });
  },

  createParser(meta: MetadataTable): VenueParser {
    return new HyperliquidParser(meta);
  },

  /** bbo subscriptions move in place; a change of the dex set (assetCtxs subscriptions) re-plans. */
  liveChange(plans, symbols, add, remove): SubscriptionChange[] | null {
    const before = dexesOf(plans.flatMap((p) => p.symbols ?? []));
    const after = dexesOf(symbols);
    if (before.join(',') !== after.join(',')) return null;
    const limits = { ...facts.limits, topicsPerConnection: facts.limits.topicsPerConnection - after.length };
    const r = redistribute(plans.map((p) => p.symbols), add, remove, limits, BBO_COST);
    if (r === null) return null;
    const changes = changesOf(r, (op, syms) => syms.map((c) => request(op, bboSub(c))));
    if (changes[0]) changes[0].topicCount += after.length;
    return changes;
  },

  /**
   * Hyperliquid's view of other venues' next funding (`predictedFundings`): per coin, `[venueName,
   * {fundingRate, nextFundingTime, fundingIntervalHours?} | null]` entries. Only venues in our registry are
   * kept (its own `HlPerp` and unknown names are skipped); null entries or fields are skipped, never thrown on.
   * Rates are per that venue's own interval, as given.
   */
  async fundingReferences(rest: string, fetchJson: FetchJson): Promise<FundingReference[]> {
    const body = await postInfo(rest, fetchJson, { type: 'predictedFundings' });
    if (!Array.isArray(body)) throw new Error('hyperliquid predictedFundings: unexpected body');
    const out: FundingReference[] = [];
    for (const row of body) {
      if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string' || !Array.isArray(row[1])) continue;
      const key = keyOf(row[0]);
      if (key === null) continue;
      for (const entry of row[1]) {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string' || entry[0] === OWN_REFERENCE_NAME) continue;
        const venue = REFERENCE_VENUES[entry[0]];
        if (venue === undefined || !isExchange(venue) || venue === EXCHANGE) continue;
        const v = entry[1];
        if (!isRecord(v)) continue;
        const rate = num(v.fundingRate);
        if (Number.isNaN(rate)) continue;
        const next = num(v.nextFundingTime);
        const hours = num(v.fundingIntervalHours);
        out.push({
          venue,
          key,
          settle: 'USDT',
          rate,
          intervalMs: hours > 0 ? hours * HOUR_MS : null,
          nextFundingMs: isEpochMs(next) ? next : null,
        });
      }
    }
    return out;
  },
};
