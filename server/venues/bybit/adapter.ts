/**
 * Bybit v5 linear (USDT perpetuals): `tickers.{symbol}` carries top of book AND funding.
 *
 * The venue sends a snapshot, then deltas that omit unchanged fields; we keep the merged state per
 * symbol and drop it on reconnect (`reset`). A delta for a symbol without a snapshot is rejected, so
 * nothing from before a drop is ever merged into the new stream.
 *
 * Parsing is JSON.parse + a few field reads. A strict hand-written scan of the flat ticker layout was
 * tried and measured (bench/ingest): on V8 it was no faster than the native JSON.parse once it had to
 * validate every byte as JSON does, and a non-validating scan would accept damaged frames; so the
 * simple path stays.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { DiscoveryBuilder, pick } from '../discovery.js';
import { ASSET_ALIASES, parseNative } from './symbols.js';
import { instrumentKey } from '../symbology.js';
import { bybitDepth } from './depth.js';
import { topicSockets } from './ws-common.js';
import {
  JsonVenueParser,
  emitQuote,
  emitStats,
  statOrNaN,
  wireFundingPrice,
  type ConnectionPlan,
  type FetchJson,
  type InstrumentMeta,
  type InstrumentStatus,
  type MetadataTable,
  type ParseOutcome,
  type UpdateSink,
  type VenueAdapter,
  type Discovery,
  type VenueEndpoints,
  type VenueParser,
  DEFAULT_FUNDING_INTERVAL_MS,
  knownFundingIntervalMs,
  HOUR_MS,
  count,
  isEpochMs,
  isRecord,
  num,
} from '../../feeds/adapter.js';
import { bybitFundingHistory } from './history.js';

const EXCHANGE: Exchange = 'bybit';
/** One `tickers.<symbol>` arg per symbol; its characters count against the 21,000 per connection. */
const quotes = topicSockets('bybit', '', (symbol) => `tickers.${symbol}`);
/** An unchanged mark is re-sent this often (venue time): well inside `detector.staleAfterMs` (5 s by default). */
const MARK_RESEND_MS = 1_000;
/** Pages of 1000 instruments followed per query (Bybit lists ~600 linear symbols in 2026). */
const BYBIT_MAX_PAGES = 20;

/** Merged ticker state of one symbol. NaN = not known yet. */
interface TickerState {
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  rate: number;
  nextFundingMs: number;
  intervalMs: number;
  /** The interval came from the ticker's `fundingIntervalHour` (else it follows the live metadata). */
  intervalFromWire: boolean;
  /** `markPrice` as merged (NaN = not known yet, or the last one was not a number). */
  markPrice: number;
  /** Venue time the merged mark was last handed on (a mark the frames no longer carry is re-sent at most every MARK_RESEND_MS). */
  markSentMs: number;
}

/** Raw (string) values of the fields we read from one ticker frame; undefined = absent. */
interface TickerFields {
  symbol: string | undefined;
  bid: unknown;
  bidSize: unknown;
  ask: unknown;
  askSize: unknown;
  rate: unknown;
  next: unknown;
  intervalHours: unknown;
  /** `openInterestValue`: open interest in the settle currency (USD); `turnover24h`: 24 h traded value in it. */
  openInterestValue: unknown;
  turnover24h: unknown;
  /**
   * `markPrice`: the price Bybit values positions at, funding included ("Funding fee = Position value ×
   * Funding rate", position value = quantity × mark price: bybit.com/en/help-center/article/Introduction-to-Funding-Rate,
   * and the v5 ticker's `markPrice`: bybit-exchange.github.io/docs/v5/websocket/public/ticker, read 2026-12-02).
   */
  markPrice: unknown;
}

export class BybitParser extends JsonVenueParser {
  private readonly states = new Map<string, TickerState>();
  private readonly fields: TickerFields = { symbol: undefined, bid: undefined, bidSize: undefined, ask: undefined, askSize: undefined, rate: undefined, next: undefined, intervalHours: undefined, openInterestValue: undefined, turnover24h: undefined, markPrice: undefined };

  override reset(): void {
    this.states.clear();
  }


  parse(raw: string, sink: UpdateSink): ParseOutcome {
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    const topic = msg.topic;
    if (typeof topic === 'string') {
      if (!topic.startsWith('tickers.')) return this.reject('unknown_topic');
      const data = msg.data;
      if (!isRecord(data)) return this.reject('missing_data');
      const f = this.fields;
      f.symbol = typeof data.symbol === 'string' ? data.symbol : data.symbol === undefined ? undefined : '';
      f.bid = data.bid1Price;
      f.bidSize = data.bid1Size;
      f.ask = data.ask1Price;
      f.askSize = data.ask1Size;
      f.rate = data.fundingRate;
      f.next = data.nextFundingTime;
      f.intervalHours = data.fundingIntervalHour;
      f.openInterestValue = data.openInterestValue;
      f.turnover24h = data.turnover24h;
      f.markPrice = data.markPrice;
      return this.apply(topic.slice(8), msg.type, msg.ts, sink);
    }
    if (msg.ret_msg === 'pong' || msg.op === 'pong') return 'pong';
    if (msg.success === false) {
      count(this.errors, `venue_error:${msg.op ?? 'unknown'}`);
      return 'venue_error';
    }
    if ((msg.op === 'subscribe' || msg.op === 'unsubscribe') && msg.success === true) return 'ack';
    return this.reject('unknown_message');
  }

  /** Validates all fields first, then merges: a rejected frame never half-updates the state. */
  private apply(symbol: string, type: unknown, tsRaw: unknown, sink: UpdateSink): ParseOutcome {
    const f = this.fields;
    const meta = this.meta.get(symbol);
    if (meta === undefined) return this.reject('unknown_symbol');
    if (f.symbol !== undefined && f.symbol !== symbol) return this.reject('symbol_mismatch');
    const ts = num(tsRaw);
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    let state = this.states.get(symbol);
    const snapshot = type === 'snapshot';
    if (!snapshot) {
      if (type !== 'delta') return this.reject('unknown_type');
      if (state === undefined) return this.reject('delta_before_snapshot');
    }
    const bid = f.bid === undefined ? (snapshot ? NaN : state!.bid) : num(f.bid);
    const ask = f.ask === undefined ? (snapshot ? NaN : state!.ask) : num(f.ask);
    const bidSize = f.bidSize === undefined ? (snapshot ? NaN : state!.bidSize) : num(f.bidSize);
    const askSize = f.askSize === undefined ? (snapshot ? NaN : state!.askSize) : num(f.askSize);
    if ((f.bid !== undefined && !(bid >= 0)) || (f.ask !== undefined && !(ask >= 0)) || (f.bidSize !== undefined && !(bidSize >= 0)) || (f.askSize !== undefined && !(askSize >= 0)))
      return this.reject('bad_number');
    // Dated futures carry "" for funding: treat as "no funding", not as an error.
    const rate = f.rate === undefined ? (snapshot ? NaN : state!.rate) : f.rate === '' ? NaN : num(f.rate);
    const next = f.next === undefined ? (snapshot ? NaN : state!.nextFundingMs) : f.next === '' || f.next === '0' ? NaN : num(f.next);
    const hours = f.intervalHours === undefined ? NaN : num(f.intervalHours);
    if ((f.rate !== undefined && f.rate !== '' && Number.isNaN(rate)) || (f.next !== undefined && f.next !== '' && f.next !== '0' && !isEpochMs(next)))
      return this.reject('bad_funding');
    if (f.intervalHours !== undefined && !(hours > 0)) return this.reject('bad_funding');
    // The ticker's fundingIntervalHour is live (dynamic settlement frequency: 1 h at the cap, back later);
    // deltas omit it while unchanged. Without it, the interval is the metadata's (instruments-info
    // `fundingInterval`), read on every frame so a discovery refresh that changed it takes effect.
    const fromWire = hours > 0 || (!snapshot && state !== undefined && state.intervalFromWire);
    // An interval instruments-info did not give either is unknown (0), never the assumed 8 h.
    const intervalMs = hours > 0 ? hours * HOUR_MS : fromWire ? state!.intervalMs : knownFundingIntervalMs(meta);

    // Deltas omit an unchanged mark: the merged one stands (a damaged one reaches the engine, which counts it).
    const markPrice = f.markPrice === undefined ? (snapshot ? NaN : state!.markPrice) : wireFundingPrice(f.markPrice);

    const fundingChanged = snapshot || rate !== state!.rate || next !== state!.nextFundingMs || intervalMs !== state!.intervalMs;
    if (state === undefined || snapshot) {
      state = { bid, ask, bidSize, askSize, rate, nextFundingMs: next, intervalMs, intervalFromWire: fromWire, markPrice: markPrice > 0 ? markPrice : NaN, markSentMs: -Infinity };
      this.states.set(symbol, state);
    } else {
      state.bid = bid;
      state.ask = ask;
      state.bidSize = bidSize;
      state.askSize = askSize;
      state.rate = rate;
      state.nextFundingMs = next;
      state.intervalMs = intervalMs;
      state.intervalFromWire = fromWire;
      state.markPrice = markPrice > 0 ? markPrice : NaN; // a damaged one is sent (and counted) once, not merged
    }
    let emitted = false;
    // Every ticker frame refreshes the quote: Bybit only pushes while something changes.
    if (bid > 0 && ask > 0 && bidSize >= 0 && askSize >= 0) {
      emitQuote(sink, meta, bid, ask, bidSize, askSize, ts);
      emitted = true;
    }
    if (fundingChanged && !Number.isNaN(rate) && next > 0) {
      sink.funding(meta, rate, intervalMs, next, false, ts);
      emitted = true;
    }
    // Deltas carry these only when they changed; a figure that is not a non-negative number is left out (NaN).
    const oiUsd = f.openInterestValue === undefined ? NaN : statOrNaN(num(f.openInterestValue));
    const volumeUsd = f.turnover24h === undefined ? NaN : statOrNaN(num(f.turnover24h));
    // Ancillary: the frame's outcome stays that of its quote and funding. A mark the frame carries goes on at
    // once; an unchanged (merged) one is re-sent at most every MARK_RESEND_MS so it stays fresh in the engine
    // (unchanged means still current) without a stats record on every quote frame.
    const carried = f.markPrice !== undefined;
    const mark = carried || ts - state.markSentMs >= MARK_RESEND_MS ? markPrice : NaN;
    if (mark === mark) state.markSentMs = ts;
    emitStats(sink, meta, oiUsd, volumeUsd, mark, ts);
    return emitted ? 'data' : 'ignored';
  }
}

/** Bybit's LinearPerpetual statuses (instruments-info `status`) → ours; undefined = not a listed perpetual. */
const STATUS: Readonly<Record<string, InstrumentStatus | 'closed'>> = { Trading: 'trading', PreLaunch: 'prelaunch', Delivering: 'delisting', Closed: 'closed' };

/** One page of instruments-info, or a thrown error when the body is not one. */
async function fetchPage(url: string, fetchJson: FetchJson): Promise<{ list: unknown[]; cursor: string }> {
  const body = await fetchJson(url);
  if (!isRecord(body) || body.retCode !== 0 || !isRecord(body.result) || !Array.isArray(body.result.list))
    throw new Error(`bybit instruments-info: unexpected body (retCode ${isRecord(body) ? String(body.retCode) : '?'})`);
  return { list: body.result.list, cursor: typeof body.result.nextPageCursor === 'string' ? body.result.nextPageCursor : '' };
}

/** Reads one instruments-info entry into the builder (or counts why not). */
function addInstrument(b: DiscoveryBuilder, item: unknown): void {
  if (!isRecord(item) || typeof item.symbol !== 'string' || item.symbol === '') return b.skip('malformed');
  if (item.contractType === 'InversePerpetual' || item.contractType === 'InverseFutures') return b.skip('not_linear');
  if (item.contractType !== 'LinearPerpetual') return b.skip('not_perpetual');
  // The default query lists only Trading symbols, so an entry without a status is a trading one.
  const word = item.status === undefined ? 'trading' : typeof item.status === 'string' ? STATUS[item.status] : undefined;
  if (word === undefined) return b.skip('unknown_status');
  if (word === 'closed') return b.skip('closed');
  // A perpetual's deliveryTime is its delisting time once one is announced ("0" otherwise).
  const delistAt = num(item.deliveryTime);
  const status: InstrumentStatus = word === 'trading' && delistAt > 0 ? 'delisting' : item.isPreListing === true && word === 'trading' ? 'prelaunch' : word;
  const minutes = num(item.fundingInterval);
  const price = isRecord(item.priceFilter) ? item.priceFilter : {};
  const lot = isRecord(item.lotSizeFilter) ? item.lotSizeFilter : {};
  b.add({
    symbol: item.symbol,
    baseField: item.baseCoin,
    symbolBase: parseNative(item.symbol)?.base ?? null,
    settle: typeof item.settleCoin === 'string' && item.settleCoin !== '' ? item.settleCoin : item.quoteCoin,
    contractValue: 1, // linear quantities are in the listed base coin
    tickSize: num(price.tickSize),
    minQty: num(lot.minOrderQty),
    // ASSUMPTION only when instruments-info omits fundingInterval; the ticker's fundingIntervalHour replaces it.
    fundingIntervalMs: minutes > 0 ? minutes * 60_000 : DEFAULT_FUNDING_INTERVAL_MS,
    ...(minutes > 0 ? {} : { fundingIntervalAssumed: true }),
    nextFundingMs: 0, // not in instruments-info: the ticker stream carries nextFundingTime
    status,
  });
}

export const bybitAdapter: VenueAdapter = {
  exchange: EXCHANGE,
  fundingHistory: bybitFundingHistory,
  /** `orderbook.50` books (depth.ts). */
  depth: bybitDepth,

  /**
   * Every linear perpetual: instruments-info lists only Trading symbols by default, so a second query asks
   * for the PreLaunch (pre-market) ones; both follow the cursor (the endpoint pages at ≤ 1000 entries).
   */
  async discover(rest: string, fetchJson: FetchJson): Promise<Discovery> {
    const b = new DiscoveryBuilder(EXCHANGE, ASSET_ALIASES);
    const readAll = async (statusParam: string): Promise<void> => {
      let cursor = '';
      for (let page = 0; page < BYBIT_MAX_PAGES; page++) {
        const url = `${rest}/v5/market/instruments-info?category=linear&limit=1000${statusParam ? `&status=${statusParam}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await fetchPage(url, fetchJson);
        for (const item of res.list) {
          // The PreLaunch query adds only those; anything else it returns was read by the first query.
          if (statusParam && !(isRecord(item) && item.status === statusParam)) continue;
          addInstrument(b, item);
        }
        cursor = res.cursor;
        if (!cursor) break;
      }
    };
    await readAll('');
    // Pre-launch contracts are never subscribed: losing their list must not lose the tradable ones.
    try {
      await readAll('PreLaunch');
    } catch {
      b.skip('prelaunch_list_unavailable');
    }
    return b.result();
  },

  async loadMetadata(rest: string, symbols: string[] | null, fetchJson: FetchJson, nowMs: number): Promise<MetadataTable> {
    return pick((await this.discover(rest, fetchJson, nowMs)).table, symbols);
  },

  async plan(endpoints: VenueEndpoints, symbols: string[]): Promise<ConnectionPlan[]> {
    return quotes.plan(endpoints, symbols);
  },

  createParser(meta: MetadataTable): VenueParser {
    return new BybitParser(meta);
  },

  liveChange: quotes.liveChange,
};

export type { InstrumentMeta };
