/**
 * Gate futures v4, USDT-settled (`BTC_USDT`): `futures.book_ticker` for the touch and `futures.tickers`
 * for funding, on `/v4/ws/usdt` (gate.com/docs/developers/futures/ws/en, read 2026-12-01).
 *
 * Units, which differ field by field:
 * - envelope `time` is unix SECONDS, `time_ms` (added 2022-11-22) is ms, book_ticker `result.t` is ms;
 * - book_ticker `B`/`A` are CONTRACTS (integers, or decimal strings with the `X-Gate-Size-Decimal: 1`
 *   header): base = size × `quanto_multiplier` (REST contracts); an empty book is `b:""`, `a:""`, `t:0`;
 * - REST `funding_interval` is SECONDS, `funding_next_apply` is unix SECONDS (typed float by Gate's
 *   OpenAPI model, so it may come float-formatted).
 *
 * Funding: `funding_rate` is the rate of the running period, settled at the next funding time, like the
 * other venues' live rates (not flagged predicted). `funding_rate_indicative` is documented as
 * "deprecated, use funding_rate" and is not emitted (older frames show it differing from `funding_rate`).
 * The documented ticker carries no funding time: the next settlement and the interval come from REST
 * (`refreshAfterSettlement`) unless the entry carries them itself, and the parser rolls a passed next time
 * forward by the interval so the engine never sees a settlement in the past. REST answers a few seconds late
 * after a settlement: a just-passed `funding_next_apply` is kept as read (not updated yet), so the feed's
 * post-settlement read is retried until it shows the new next time and interval.
 *
 * Other frames: `futures.system` notices (an `upgrade` one = reconnect soon), acks on the data channel's
 * name with `event:"subscribe"`, `futures.pong`, and errors `{code, message}` with `result` null or
 * `{status:"fail"}` (ws-common.ts).
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { DiscoveryBuilder, pick } from '../discovery.js';
import { ASSET_ALIASES, parseNative } from './symbols.js';
import { facts } from './facts.js';
import { contractSockets, controlOutcome, envelopeMs, isEpochSeconds } from './ws-common.js';
import { gateDepth } from './depth.js';
import { topicsPerMessage } from '../../feeds/plan-limits.js';
import {
  JsonVenueParser,
  emitQuote,
  emitStats,
  wireFundingPrice,
  type ConnectionPlan,
  type Discovery,
  type FetchJson,
  type InstrumentMeta,
  type InstrumentStatus,
  type MetadataTable,
  type ParseOutcome,
  type UpdateSink,
  type VenueAdapter,
  type VenueEndpoints,
  type VenueParser,
  DEFAULT_FUNDING_INTERVAL_MS,
  knownFundingIntervalMs,
  chunk,
  isEpochMs,
  isRecord,
  num,
  statOrNaN,
} from '../../feeds/adapter.js';
import { gateFundingHistory } from './history.js';

const EXCHANGE: Exchange = 'gate';
export { GATE_WS_PATH, envelopeMs } from './ws-common.js';
export const GATE_CONTRACTS_PATH = '/api/v4/futures/usdt/contracts';
export const BOOK_TICKER = 'futures.book_ticker';
export const TICKERS = 'futures.tickers';
const CHANNELS = [BOOK_TICKER, TICKERS] as const;
const quotes = contractSockets('gate', CHANNELS.length);

/** `next` moved forward by whole intervals until it is after `nowMs` (a settlement time never lies in the past). */
export function rollForward(nextMs: number, intervalMs: number, nowMs: number): number {
  if (nextMs > nowMs || !(intervalMs > 0)) return nextMs;
  return nextMs + Math.ceil((nowMs - nextMs + 1) / intervalMs) * intervalMs;
}

interface FundingOut {
  meta: InstrumentMeta;
  rate: number;
  intervalMs: number;
  nextMs: number;
  /** Exchange time (ms) of the entry. */
  tsMs: number;
  /** The ticker entry, for its open interest and volume. */
  ctx: Record<string, unknown>;
}

export class GateParser extends JsonVenueParser {
  parse(raw: string, sink: UpdateSink): ParseOutcome {
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    const control = controlOutcome(msg, this.errors);
    if (control !== null) return control;
    const channel = msg.channel;
    const event = msg.event;
    if (event !== 'update' && event !== 'all') return this.reject('unknown_event');
    // No envelope time at all (as in some of Gate's own examples): the entries' own `t` (ms) must serve.
    const envMs = msg.time === undefined && msg.time_ms === undefined ? NaN : envelopeMs(msg);
    if (Number.isNaN(envMs) && (msg.time !== undefined || msg.time_ms !== undefined)) return this.reject('bad_timestamp');
    if (channel === BOOK_TICKER) return this.bookTicker(msg.result, envMs, sink);
    if (channel === TICKERS) return this.tickers(msg.result, envMs, sink);
    return this.reject('unknown_channel');
  }

  private bookTicker(r: unknown, envMs: number, sink: UpdateSink): ParseOutcome {
    if (!isRecord(r)) return this.reject('missing_data');
    const meta = typeof r.s === 'string' ? this.meta.get(r.s) : undefined;
    if (meta === undefined) return this.reject('unknown_symbol');
    // An empty side is `""` (size 0, or a zero size beside a price: below): an empty book (`t:0` too) or a one-sided one is not a quote.
    if (r.b === '' || r.a === '') return this.reject(r.b === '' && r.a === '' ? 'empty_book' : 'one_sided_book');
    const bid = num(r.b);
    const ask = num(r.a);
    const bidSz = num(r.B);
    const askSz = num(r.A);
    if (!(bid > 0 && ask > 0 && bidSz >= 0 && askSz >= 0)) return this.reject('bad_number');
    // A zero size beside a price (`B:"0"`, recorded with the size-decimal header) is an empty side too: no
    // order rests there, so it is no quote, counted like the `""` side.
    if (bidSz === 0 || askSz === 0) return this.reject(bidSz === 0 && askSz === 0 ? 'empty_book' : 'one_sided_book');
    // `t` (ms) exists since 2021-03-31 (DOC-WS changelog); the channel's first weeks had only the envelope time.
    const t = r.t === undefined ? envMs : r.t;
    if (typeof t !== 'number' || !isEpochMs(t)) return this.reject('bad_timestamp');
    emitQuote(sink, meta, bid, ask, bidSz, askSz, t);
    return 'data';
  }

  private tickers(result: unknown, envMs: number, sink: UpdateSink): ParseOutcome {
    // An object, an array, or (old recordings) an array of arrays.
    const entries = Array.isArray(result) ? (result.length > 0 && Array.isArray(result[0]) ? (result as unknown[]).flat() : result) : isRecord(result) ? [result] : null;
    if (entries === null || entries.length === 0) return this.reject('missing_data');
    // Validate every entry before emitting any (one frame = all or nothing).
    const out: FundingOut[] = [];
    for (const d of entries) {
      if (!isRecord(d)) return this.reject('bad_entry');
      const meta = typeof d.contract === 'string' ? this.meta.get(d.contract) : undefined;
      if (meta === undefined) return this.reject('unknown_symbol');
      const rate = num(d.funding_rate);
      if (Number.isNaN(rate)) return this.reject('bad_funding');
      // The entry's own `t` (ms; recent frames carry it) is the exchange time, else the envelope's.
      const tsMs = d.t === undefined ? envMs : d.t;
      if (typeof tsMs !== 'number' || !isEpochMs(tsMs)) return this.reject('bad_timestamp');
      // 2026 frames also carry `funding_interval` (s), `funding_offset`, `funding_next_apply` (s) and `t` (ms)
      // (third-party live captures, SOURCES.md; not in the docs' field table): used when sane, never required.
      const wsIntervalS = num(d.funding_interval);
      const wsNextS = num(d.funding_next_apply);
      const intervalMs = wsIntervalS > 0 ? wsIntervalS * 1000 : meta.fundingIntervalMs;
      const next = isEpochSeconds(wsNextS) ? Math.round(wsNextS * 1000) : meta.nextFundingMs;
      if (!(next > 0) || !(intervalMs > 0)) return this.reject('no_next_funding_time');
      // The roll uses the interval in force even when assumed; what is reported is unknown (0) then.
      const reportedMs = wsIntervalS > 0 ? intervalMs : knownFundingIntervalMs(meta);
      out.push({ meta, rate, intervalMs: reportedMs, nextMs: rollForward(next, intervalMs, tsMs), tsMs, ctx: d });
    }
    for (const f of out) {
      sink.funding(f.meta, f.rate, f.intervalMs, f.nextMs, false, f.tsMs);
      emitTickerStats(sink, f.meta, f.ctx, f.tsMs);
    }
    return 'data';
  }
}

/**
 * Open interest: `total_size` (contracts) × the contract's `quanto_multiplier` (base per contract, the
 * metadata's contractValue) × `mark_price`; 24 h volume: `volume_24h_quote` (quote currency, USD).
 * Funding reference price: `mark_price` (futures.tickers, gate.com/docs/developers/futures/ws/en/#tickers-api).
 * Gate's funding fee is position value × funding rate (gate.com/help/futures/futures-logic/27569/funding-rate-and-funding-fee,
 * read 2026-12-02), the position valued at the mark price as its futures value positions for margin and PnL
 * (ASSUMPTION as to the exact wording of the fee page: the mark, as on every other centralised venue here).
 */
function emitTickerStats(sink: UpdateSink, meta: InstrumentMeta, d: Record<string, unknown>, tsMs: number): void {
  const oiUsd = statOrNaN(num(d.total_size) * meta.contractValue * num(d.mark_price));
  const volumeUsd = statOrNaN(num(d.volume_24h_quote));
  emitStats(sink, meta, oiUsd, volumeUsd, wireFundingPrice(d.mark_price), tsMs);
}

/** Contract `status` → ours; `in_delisting` marks a trading contract that is being delisted. */
const STATUS: Readonly<Record<string, InstrumentStatus | 'closed'>> = {
  trading: 'trading',
  prelaunch: 'prelaunch',
  delisting: 'delisting',
  circuit_breaker: 'delisting',
  delisted: 'closed',
};

/** Reads one `GET /futures/usdt/contracts` entry into the builder (or counts why not). */
function addContract(b: DiscoveryBuilder, c: unknown, nowMs: number): void {
  if (!isRecord(c) || typeof c.name !== 'string' || c.name === '') return b.skip('malformed');
  // `direct` = linear (USDT-margined); `inverse` contracts live under /futures/btc.
  if (c.type !== undefined && c.type !== 'direct') return b.skip('not_linear');
  const word = c.status === undefined ? 'trading' : typeof c.status === 'string' ? STATUS[c.status] : undefined;
  if (word === undefined) return b.skip('unknown_status');
  if (word === 'closed') return b.skip('closed');
  // OAS: `in_delisting` with open positions = delisting transition; with none (position_size 0) = delisted.
  if (c.in_delisting === true && num(c.position_size) === 0) return b.skip('closed');
  const status: InstrumentStatus = word === 'trading' && c.in_delisting === true ? 'delisting' : word;
  const parsed = parseNative(c.name);
  if (parsed === null || parsed.base !== c.name.split('_')[0]) return b.skip('malformed');
  // ASSUMPTION only when the contract omits funding_interval (no documented default): reported unknown (fundingIntervalAssumed).
  const assumed = c.funding_interval === undefined;
  const intervalS = assumed ? DEFAULT_FUNDING_INTERVAL_MS / 1000 : num(c.funding_interval);
  if (!(intervalS > 0)) return b.skip('bad_funding_interval');
  const intervalMs = Math.round(intervalS * 1000);
  // Seconds, maybe float-formatted (1.7132256e9). A time passed less than an interval ago is kept as it
  // is: Gate's REST lags its settlements by a few seconds, so it means "not updated yet" (the interval may
  // change at that settlement) and the feed's post-settlement read, seeing it, looks again; the stream
  // rolls it forward by the interval in force meanwhile (the parser), so the engine never sees it passed.
  // One passed longer ago is not that lag: rolled forward to the coming one.
  const nextS = num(c.funding_next_apply);
  const raw = isEpochSeconds(nextS) ? Math.round(nextS * 1000) : 0;
  const passed = raw > 0 && raw <= nowMs && raw > nowMs - intervalMs;
  const next = raw === 0 || passed ? raw : rollForward(raw, intervalMs, nowMs);
  const rate = num(c.funding_rate);
  b.add(
    {
      symbol: c.name,
      baseField: parsed.base,
      symbolBase: parsed.base,
      settle: parsed.quote,
      contractValue: num(c.quanto_multiplier),
      tickSize: num(c.order_price_round),
      minQty: num(c.order_size_min), // contracts
      fundingIntervalMs: intervalMs,
      ...(assumed ? { fundingIntervalAssumed: true } : {}),
      nextFundingMs: next,
      status,
    },
    // No seed from a not-yet-updated entry (its rate may be the one just settled): the stream brings the current one.
    Number.isNaN(rate) || !(next > 0) || passed ? {} : { seedFunding: { rate, intervalMs: assumed ? 0 : intervalMs, nextFundingMs: next, predicted: false, tsMs: nowMs } },
  );
}

/** Subscribe/unsubscribe requests for both channels of `syms`, at most `topicsPerMessage` contracts each. */
function requests(event: 'subscribe' | 'unsubscribe', syms: readonly string[]): string[] {
  const time = Math.floor(Date.now() / 1000); // the request's `time` is unix seconds
  const batches = chunk(syms, topicsPerMessage(facts.limits));
  return CHANNELS.flatMap((channel) => batches.map((payload) => JSON.stringify({ time, channel, event, payload })));
}

export const gateAdapter: VenueAdapter = {
  exchange: EXCHANGE,
  fundingHistory: gateFundingHistory,
  refreshAfterSettlement: true,
  depth: gateDepth,

  /** Every USDT-settled linear contract, with interval, next funding time and the funding seed it carries. */
  async discover(rest: string, fetchJson: FetchJson, nowMs: number): Promise<Discovery> {
    const body = await fetchJson(`${rest}${GATE_CONTRACTS_PATH}`);
    if (!Array.isArray(body)) throw new Error('gate futures/usdt/contracts: unexpected body');
    const b = new DiscoveryBuilder(EXCHANGE, ASSET_ALIASES);
    for (const c of body) addContract(b, c, nowMs);
    return b.result();
  },

  async loadMetadata(rest: string, symbols: string[] | null, fetchJson: FetchJson, nowMs: number): Promise<MetadataTable> {
    return pick((await this.discover(rest, fetchJson, nowMs)).table, symbols);
  },

  async plan(endpoints: VenueEndpoints, symbols: string[], _fetchJson: FetchJson, opts: { maxAgeMs?: number }): Promise<ConnectionPlan[]> {
    return quotes.plan(endpoints, symbols, requests, opts.maxAgeMs ?? 0); // Gate documents no maximum connection age
  },

  createParser(meta: MetadataTable): VenueParser {
    return new GateParser(meta);
  },

  liveChange(plans, _symbols, add, remove) {
    return quotes.liveChange(plans, add, remove, requests);
  },
};
