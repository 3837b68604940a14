/**
 * Binance USD-M: `<sym>@bookTicker` on the `/public` base and `<sym>@markPrice@1s` on the `/market`
 * base (split since 2026), combined-stream mode (`{"stream":…,"data":…}`).
 *
 * markPrice: `r` = funding rate, `T` = next funding time. markPrice carries no interval: it comes from
 * fundingInfo (re-read at every discovery refresh, and shortly after each settlement:
 * `refreshAfterSettlement`); a symbol missing there has the default 8 h (fundingInfo only lists symbols
 * with adjusted settings). Binance switches a symbol to 1 h by itself when a settlement's rate is at its
 * cap/floor: the next `T` is then one hour after the settlement instead of one interval (announcement
 * 3243c81a…, effective 2025-05-02: "rate at 08:00 reaches the cap → the new frequency starts from
 * 09:00"), and fundingInfo may follow minutes later. So the parser also reads the interval from the
 * spacing of successive `T` across a settlement (see `intervalOf`).
 * Limits (facts.ts): ≤ 1024 streams per connection, ≤ 10 incoming messages/s; connections end at 24 h.
 * Heartbeat: the server pings, `ws` answers with pong frames automatically.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { instrumentKey } from '../symbology.js';
import { facts } from './facts.js';
import { binanceDepth } from './depth.js';
import { changesOf, planGroup, redistribute, splitSymbols, subscribeSpacingMs, topicsPerMessage, type SymbolCost } from '../../feeds/plan-limits.js';
import { DiscoveryBuilder, pick } from '../discovery.js';
import { ASSET_ALIASES, parseNative } from './symbols.js';
import {
  JsonVenueParser,
  emitQuote,
  emitStats,
  wireFundingPrice,
  type SubscriptionChange,
  type ConnectionPlan,
  type FetchJson,
  type MetadataTable,
  type InstrumentStatus,
  type ParseOutcome,
  type UpdateSink,
  type VenueAdapter,
  type Discovery,
  type VenueEndpoints,
  type VenueParser,
  DEFAULT_FUNDING_INTERVAL_MS,
  DEFAULT_MAX_CONNECTION_AGE_MS,
  HOUR_MS,
  chunk,
  count,
  isEpochMs,
  isRecord,
  num,
} from '../../feeds/adapter.js';
import { binanceFundingHistory } from './history.js';
import { binanceRestStats } from './stats.js';

const EXCHANGE: Exchange = 'binance';
export const BINANCE_PUBLIC_PATH = '/public/stream';
export const BINANCE_MARKET_PATH = '/market/stream';
/** From the venue's facts (documented limits and our batch size): 1024 streams per socket, ≤ 10 messages/s. */
export const BINANCE_STREAMS_PER_CONNECTION = facts.limits.topicsPerConnection;
export const BINANCE_STREAMS_PER_MESSAGE = topicsPerMessage(facts.limits);
export const BINANCE_SUBSCRIBE_SPACING_MS = subscribeSpacingMs(facts.limits);
/** One stream per symbol; stream names count against nothing but the stream cap. */
const STREAM_COST: SymbolCost = { topics: 1, chars: () => 0 };

/** A `T` that moves within this long of the previous `T` passing is a settlement roll (not a reschedule). */
const ROLL_WINDOW_MS = 60_000;
/** Clock slack between the event time `E` and `T` at the roll. */
const ROLL_SLACK_MS = 5_000;
/** Binance intervals are whole hours, at most 8 h (steps beyond that are a missed settlement, not an interval). */
const MAX_INTERVAL_MS = 8 * HOUR_MS;

/** An interval read from the spacing of `T`, valid while fundingInfo still says `metaMs`. */
interface Observed {
  intervalMs: number;
  metaMs: number;
}

/** Stream names are lower-case; payload symbols (`s`) and metadata keys are upper-case. */
export class BinanceParser extends JsonVenueParser {
  /** Per symbol: the last next-funding time `T` seen on this socket (cleared on reconnect). */
  private readonly lastNext = new Map<string, number>();
  /** Per symbol: the interval read from the spacing of `T` when it differs from fundingInfo's. */
  private readonly observed = new Map<string, Observed>();

  /**
   * The last `T` is forgotten (a roll is only read between two frames of one connection). An interval
   * already read from `T` is kept: it is the venue's schedule, not quote state, and lapses as soon as
   * fundingInfo changes or a roll shows fundingInfo's interval again.
   */
  override reset(): void {
    this.lastNext.clear();
  }

  /**
   * The symbol's interval: fundingInfo's (live metadata), unless the spacing of `T` across the latest
   * settlement roll showed another one since fundingInfo last changed. A roll = `T` moves forward within
   * a minute after the previous `T` passed; its step is the interval now in force (4 h → 1 h at the cap
   * reads exactly; a revert to a longer interval off the longer grid reads short until the next roll or
   * the next fundingInfo, which the post-settlement refresh fetches). A `T` moved mid-period is left to
   * fundingInfo.
   */
  private intervalOf(symbol: string, metaMs: number, next: number, ts: number): number {
    const prev = this.lastNext.get(symbol);
    if (prev !== next) this.lastNext.set(symbol, next);
    let obs = this.observed.get(symbol);
    if (obs !== undefined && obs.metaMs !== metaMs) {
      this.observed.delete(symbol); // fundingInfo changed since: the venue's REST figure wins
      obs = undefined;
    }
    if (prev !== undefined && next > prev && ts >= prev - ROLL_SLACK_MS && ts <= prev + ROLL_WINDOW_MS) {
      const step = next - prev;
      if (step % HOUR_MS === 0 && step <= MAX_INTERVAL_MS) {
        if (step === metaMs) {
          this.observed.delete(symbol);
          obs = undefined;
        } else if (obs === undefined || obs.intervalMs !== step) {
          obs = { intervalMs: step, metaMs };
          this.observed.set(symbol, obs);
        }
      }
    }
    return obs === undefined ? metaMs : obs.intervalMs;
  }

  parse(raw: string, sink: UpdateSink): ParseOutcome {
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    // Combined stream wrapper, or a raw event (ws mode).
    const d = isRecord(msg.data) && typeof msg.stream === 'string' ? msg.data : msg;
    switch (d.e) {
      case 'bookTicker':
        return this.bookTicker(d, sink);
      case 'markPriceUpdate':
        return this.markPrice(d, sink);
      case undefined:
        break;
      default:
        return this.reject('unknown_event');
    }
    if ('id' in msg && 'result' in msg) return msg.result === null ? 'ack' : 'ignored';
    if (isRecord(msg.error) || (typeof msg.code === 'number' && typeof msg.msg === 'string')) {
      const code = isRecord(msg.error) ? msg.error.code : msg.code;
      count(this.errors, `venue_error:${typeof code === 'number' ? code : 'unknown'}`);
      return 'venue_error';
    }
    return this.reject('unknown_message');
  }

  private bookTicker(d: Record<string, unknown>, sink: UpdateSink): ParseOutcome {
    const meta = typeof d.s === 'string' ? this.meta.get(d.s) : undefined;
    if (meta === undefined) return this.reject('unknown_symbol');
    const bid = num(d.b);
    const bidSz = num(d.B);
    const ask = num(d.a);
    const askSz = num(d.A);
    const ts = typeof d.T === 'number' ? d.T : num(d.E);
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    if (!(bid > 0 && ask > 0 && bidSz >= 0 && askSz >= 0)) return this.reject('bad_number');
    emitQuote(sink, meta, bid, ask, bidSz, askSz, ts);
    return 'data';
  }

  /**
   * `r` funding rate, `T` next funding time, `p` mark price (Mark Price Stream,
   * developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Mark-Price-Stream).
   * Binance values funding at the mark: "Funding Amount = Nominal Value of Positions × Funding Rate",
   * nominal value = mark price × size (binance.com/en/support/faq/introduction-to-binance-futures-funding-rates-360033525031,
   * read 2026-12-02), so `p` is the leg's funding reference price.
   */
  private markPrice(d: Record<string, unknown>, sink: UpdateSink): ParseOutcome {
    const meta = typeof d.s === 'string' ? this.meta.get(d.s) : undefined;
    if (meta === undefined) return this.reject('unknown_symbol');
    const rate = num(d.r);
    const next = num(d.T);
    const ts = num(d.E);
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    // Dated contracts send r "" and T 0: no funding.
    if (d.r === '' || next === 0) return 'ignored';
    if (Number.isNaN(rate) || !isEpochMs(next)) return this.reject('bad_funding');
    sink.funding(meta, rate, this.intervalOf(meta.symbol, meta.fundingIntervalMs, next, ts), next, false, ts);
    emitStats(sink, meta, NaN, NaN, wireFundingPrice(d.p), ts);
    return 'data';
  }
}

type StreamKind = 'public' | 'market';
const SUFFIX: Record<StreamKind, string> = { public: '@bookTicker', market: '@markPrice@1s' };
const streamOf = (symbol: string, kind: StreamKind) => `${symbol.toLowerCase()}${SUFFIX[kind]}`;

/** `/public` (bookTicker) and `/market` (markPrice) sockets, each filled up to the stream cap before the next opens. */
function streamPlans(base: string, kind: StreamKind, symbols: readonly string[], maxAgeMs: number): ConnectionPlan[] {
  return splitSymbols(symbols, facts.limits, STREAM_COST).map((group, i) => {
    let id = 1;
    return {
      label: `binance/${kind}#${i}`,
      url: base,
      subscribeMessages: chunk(group.map((s) => streamOf(s, kind)), BINANCE_STREAMS_PER_MESSAGE).map((params) => JSON.stringify({ method: 'SUBSCRIBE', params, id: id++ })),
      topicCount: group.length,
      awaitWelcome: false,
      subscribeSpacingMs: BINANCE_SUBSCRIBE_SPACING_MS,
      heartbeat: null,
      maxAgeMs,
      symbols: group,
      limits: facts.limits,
    };
  });
}

/** deliveryDate of a perpetual with no delisting scheduled (2100-12-25); an earlier one is its delisting time. */
export const BINANCE_NO_DELIVERY_MS = 4_133_404_800_000;
/**
 * Contract status → ours (USD-M enum `contractStatus`). exchangeInfo keeps delisted perpetuals for good as
 * `SETTLING` (a sixth or so of its symbols in 2026), so those count as gone with `CLOSE`/`DELIVERED`; a
 * coming delisting shows first as a deliveryDate on a TRADING symbol. Halted / cancel-only are not tradable.
 */
const STATUS: Readonly<Record<string, InstrumentStatus | 'closed'>> = {
  TRADING: 'trading',
  PENDING_TRADING: 'prelaunch',
  PRE_SETTLE: 'delisting',
  PRE_DELIVERING: 'delisting',
  DELIVERING: 'delisting',
  TRADING_HALT: 'delisting',
  TRADING_CANCEL_ONLY: 'delisting',
  SETTLING: 'closed',
  CLOSE: 'closed',
  DELIVERED: 'closed',
};

/** The first filter of `type` in an exchangeInfo symbol's `filters`, or an empty record. */
function filter(s: Record<string, unknown>, type: string): Record<string, unknown> {
  const found = Array.isArray(s.filters) ? s.filters.find((f) => isRecord(f) && f.filterType === type) : undefined;
  return isRecord(found) ? found : {};
}

/** Reads one exchangeInfo symbol into the builder (or counts why not). */
function addSymbol(b: DiscoveryBuilder, s: unknown, hours: ReadonlyMap<string, number>): void {
  if (!isRecord(s) || typeof s.symbol !== 'string' || s.symbol === '') return b.skip('malformed');
  // A perpetual being delivered (delisted) is typed PERPETUAL_DELIVERING while it settles.
  if (s.contractType !== 'PERPETUAL' && s.contractType !== 'PERPETUAL_DELIVERING') return b.skip('not_perpetual');
  const word = s.status === undefined ? 'trading' : typeof s.status === 'string' ? STATUS[s.status] : undefined;
  if (word === undefined) return b.skip('unknown_status');
  if (word === 'closed') return b.skip('closed');
  const delivery = num(s.deliveryDate);
  const delisting = s.contractType === 'PERPETUAL_DELIVERING' || (isEpochMs(delivery) && delivery < BINANCE_NO_DELIVERY_MS);
  const h = hours.get(s.symbol);
  b.add({
    symbol: s.symbol,
    baseField: s.baseAsset,
    symbolBase: parseNative(s.symbol)?.base ?? null,
    settle: typeof s.marginAsset === 'string' && s.marginAsset !== '' ? s.marginAsset : s.quoteAsset,
    contractValue: 1, // quantities are in the listed base asset
    tickSize: num(filter(s, 'PRICE_FILTER').tickSize),
    minQty: num(filter(s, 'LOT_SIZE').minQty),
    // A documented default, so KNOWN (not fundingIntervalAssumed): fundingInfo "only returns symbols whose
    // FundingRateCap/FundingRateFloor/fundingIntervalHours have been specially adjusted"
    // (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-Info,
    // read 2026-12-02); the others keep the standard 8 h.
    fundingIntervalMs: h !== undefined ? h * HOUR_MS : DEFAULT_FUNDING_INTERVAL_MS,
    nextFundingMs: 0, // markPrice carries the next funding time
    status: word === 'trading' && delisting ? 'delisting' : word,
  });
}

/** Request ids for subscription changes (the start-up subscribes use 1..n per socket). */
let changeSeq = 1_000_000;

export const binanceAdapter: VenueAdapter = {
  exchange: EXCHANGE,
  fundingHistory: binanceFundingHistory,
  /** `<symbol>@depth@100ms` diffs with REST snapshots (depth.ts). */
  depth: binanceDepth,
  /** 24 h volume from ticker/24hr once a minute (stats.ts); open interest is not read. */
  restStats: binanceRestStats,
  /** The interval is REST-only (fundingInfo): re-read it shortly after each settlement, when Binance switches intervals. */
  refreshAfterSettlement: true,

  /**
   * Every USDT/USDC perpetual from exchangeInfo, with the funding interval from fundingInfo (which lists
   * only symbols with adjusted settings: a missing one runs the default 8 h).
   */
  async discover(rest: string, fetchJson: FetchJson): Promise<Discovery> {
    const info = await fetchJson(`${rest}/fapi/v1/exchangeInfo`);
    if (!isRecord(info) || !Array.isArray(info.symbols)) throw new Error('binance exchangeInfo: unexpected body');
    const funding = await fetchJson(`${rest}/fapi/v1/fundingInfo`);
    if (!Array.isArray(funding)) throw new Error('binance fundingInfo: unexpected body');
    const hours = new Map<string, number>();
    for (const f of funding) if (isRecord(f) && typeof f.symbol === 'string' && num(f.fundingIntervalHours) > 0) hours.set(f.symbol, num(f.fundingIntervalHours));
    const b = new DiscoveryBuilder(EXCHANGE, ASSET_ALIASES);
    for (const s of info.symbols) addSymbol(b, s, hours);
    return b.result();
  },

  async loadMetadata(rest: string, symbols: string[] | null, fetchJson: FetchJson, nowMs: number): Promise<MetadataTable> {
    return pick((await this.discover(rest, fetchJson, nowMs)).table, symbols);
  },

  async plan(endpoints: VenueEndpoints, symbols: string[], _fetchJson: FetchJson, opts: { maxAgeMs?: number }): Promise<ConnectionPlan[]> {
    const maxAge = opts.maxAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS;
    return [
      ...streamPlans(`${endpoints.ws}${BINANCE_PUBLIC_PATH}`, 'public', symbols, maxAge),
      ...streamPlans(`${endpoints.ws}${BINANCE_MARKET_PATH}`, 'market', symbols, maxAge),
    ];
  },

  createParser(meta: MetadataTable): VenueParser {
    return new BinanceParser(meta);
  },

  liveChange(plans, _symbols, add, remove) {
    // Per stream kind: added symbols go to sockets with room; when none has room the sockets are re-planned.
    const out: SubscriptionChange[] = new Array<SubscriptionChange>(plans.length);
    for (const kind of ['public', 'market'] as const) {
      const idx = plans.flatMap((p, i) => (planGroup(p.label) === `binance/${kind}` ? [i] : []));
      const r = redistribute(idx.map((i) => plans[i]!.symbols), add, remove, facts.limits, STREAM_COST);
      if (r === null) return null;
      const changes = changesOf(r, (op, syms) =>
        chunk(syms.map((s) => streamOf(s, kind)), BINANCE_STREAMS_PER_MESSAGE).map((params) => JSON.stringify({ method: op.toUpperCase(), params, id: ++changeSeq })),
      );
      idx.forEach((planIdx, j) => (out[planIdx] = changes[j]!));
    }
    return out.every((c) => c !== undefined) ? out : null;
  },
};
