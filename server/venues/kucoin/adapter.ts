/**
 * KuCoin Futures (USDT-margined, `XBTUSDTM`): `/contractMarket/tickerV2:{syms}` for top of book and
 * `/contract/instrument:{syms}` for funding (`subject: funding.rate`) and the mark price (`mark.index.price`,
 * the funding reference price).
 *
 * Connect: POST /api/v1/bullet-public → token + endpoint + pingInterval; connect with
 * `?token=…&connectId=…`, wait for the welcome, then subscribe (≤ 100 symbols per topic, comma-joined).
 * Sizes are in contracts (× `multiplier`). tickerV2 `ts` is in NANOseconds, which a double cannot
 * hold exactly: we cut the digits to milliseconds from the raw text instead of dividing.
 * The WS funding carries no next funding time: it comes from REST (contracts/active) and is rolled
 * forward by the interval once it passes.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { DiscoveryBuilder, pick } from '../discovery.js';
import { ASSET_ALIASES, parseNative } from './symbols.js';
import { instrumentKey } from '../symbology.js';
import { facts } from './facts.js';
import { bulletConnection } from './bullet.js';
import { kucoinDepth } from './depth.js';
import { changesOf, redistribute, splitSymbols, subscribeSpacingMs, topicsPerMessage, type SymbolCost } from '../../feeds/plan-limits.js';
import {
  JsonVenueParser,
  emitQuote,
  emitStats,
  wireFundingPrice,
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
  chunk,
  count,
  isEpochMs,
  isRecord,
  num,
} from '../../feeds/adapter.js';
import { kucoinFundingHistory } from './history.js';
import { kucoinRestStats } from './stats.js';
import { kucoinControlOutcome } from './envelope.js';

const EXCHANGE: Exchange = 'kucoin';
/** Symbols per subscribe request (facts.ts: ≤ 100 topics per request; ≤ 100 uplink messages per 10 s). */
export const KUCOIN_TOPICS_PER_MESSAGE = topicsPerMessage(facts.limits);
/** Two topics per symbol (tickerV2 and instrument); KuCoin Futures documents no topic cap per socket. */
const TOPIC_COST: SymbolCost = { topics: 2, chars: () => 0 };
/** Granularity of the per-minute predicted funding rate on the instrument channel. */
export const KUCOIN_PREDICTED_GRANULARITY = 60_000;
const TICKER_PREFIX = '/contractMarket/tickerV2:';
const INSTRUMENT_PREFIX = '/contract/instrument:';

/**
 * Epoch ms from the raw digits of a ms/µs/ns integer timestamp, without going through a double:
 * `1705708800078000000` → 1705708800078. Returns NaN when the text is not such an integer.
 */
export function msFromDigits(digits: string): number {
  if (!/^\d{13}(\d{3}){0,2}$/.test(digits)) return NaN;
  return Number(digits.slice(0, 13));
}

/**
 * The digits of the last `"ts"` key's integer value in a frame (tickerV2 has exactly one, inside `data`).
 * Any JSON whitespace is allowed before and after the colon (pretty-printed frames parse alike).
 */
function rawTsDigits(raw: string): string {
  for (let at = raw.lastIndexOf('"ts"'); at >= 0; at = at > 0 ? raw.lastIndexOf('"ts"', at - 1) : -1) {
    let i = skipJsonSpace(raw, at + 4);
    if (raw.charCodeAt(i) !== 58) continue; // not a key (a string value "ts"): look further back
    i = skipJsonSpace(raw, i + 1);
    const start = i;
    while (i < raw.length) {
      const c = raw.charCodeAt(i);
      if (c < 48 || c > 57) break;
      i++;
    }
    return raw.slice(start, i);
  }
  return '';
}

/** The index of the first non-whitespace character (JSON: space, \n, \r, \t) at or after `i`. */
function skipJsonSpace(raw: string, i: number): number {
  while (i < raw.length) {
    const c = raw.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    i++;
  }
  return i;
}

export class KucoinParser extends JsonVenueParser {
  /**
   * Per symbol, the interval a current-rate frame's granularity gave (venue data, kept across reconnects):
   * it replaces an assumed metadata interval for the predicted frames that follow.
   */
  private readonly wireIntervalMs = new Map<string, number>();

  parse(raw: string, sink: UpdateSink): ParseOutcome {
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    const control = kucoinControlOutcome(msg, this.errors);
    if (control !== null) return control;
    const topic = msg.topic;
    const data = msg.data;
    if (typeof topic !== 'string' || !isRecord(data)) return this.reject('missing_data');
    if (msg.subject === 'tickerV2' && topic.startsWith(TICKER_PREFIX)) return this.ticker(raw, topic, data, sink);
    if (topic.startsWith(INSTRUMENT_PREFIX)) {
      if (msg.subject === 'funding.rate') return this.funding(topic, data, sink);
      if (msg.subject === 'mark.index.price') return this.mark(topic, data, sink);
    }
    return this.reject('unknown_subject');
  }

  private ticker(raw: string, topic: string, d: Record<string, unknown>, sink: UpdateSink): ParseOutcome {
    const symbol = typeof d.symbol === 'string' ? d.symbol : topic.slice(TICKER_PREFIX.length);
    const meta = this.meta.get(symbol);
    if (meta === undefined) return this.reject('unknown_symbol');
    const bid = num(d.bestBidPrice);
    const ask = num(d.bestAskPrice);
    const bidSz = num(d.bestBidSize);
    const askSz = num(d.bestAskSize);
    if (!(bid > 0 && ask > 0 && bidSz >= 0 && askSz >= 0)) return this.reject('bad_number');
    if (typeof d.ts !== 'number') return this.reject('bad_timestamp');
    const ts = msFromDigits(rawTsDigits(raw));
    // The digits we cut must be this frame's data.ts (guards against a `"ts":` elsewhere in the text).
    if (!isEpochMs(ts) || Math.abs(ts - d.ts / 1e6) > 1) return this.reject('bad_timestamp');
    emitQuote(sink, meta, bid, ask, bidSz, askSz, ts);
    return 'data';
  }

  /**
   * `mark.index.price` on the instrument channel we already subscribe for funding (`{markPrice, indexPrice,
   * granularity, timestamp}`, numbers, about once a second: kucoin.com/docs/websocket/futures-trading/public-channels/contract-market-data).
   * KuCoin values funding at the mark: funding fee = position value × funding rate
   * (https://www.kucoin.com/support/26686295987353), position value = mark price × size × multiplier; so
   * `markPrice` is the leg's funding reference price. A damaged one reaches the engine, which counts it.
   */
  private mark(topic: string, d: Record<string, unknown>, sink: UpdateSink): ParseOutcome {
    const meta = this.meta.get(topic.slice(INSTRUMENT_PREFIX.length));
    if (meta === undefined) return this.reject('unknown_symbol');
    const ts = num(d.timestamp);
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    const price = wireFundingPrice(d.markPrice);
    if (price !== price) return 'ignored';
    emitStats(sink, meta, NaN, NaN, price, ts);
    return 'data';
  }

  /**
   * KUCOIN_SETTLED_RATE: a settlement charges the CURRENT rate in force for the period it ends — the
   * `funding.rate` frame whose granularity is the funding interval (REST: contracts/active `fundingFeeRate`,
   * funding-rate/{symbol}/current `value`) — never the per-minute PREDICTED rate (granularity 60000;
   * `predictedFundingFeeRate` / `predictedValue`), which estimates the next period. Sources (read 2026-12-01):
   * https://www.kucoin.com/docs/rest/futures-trading/funding-fees/get-public-funding-history ("the funding
   * rate at each settlement time point": `fundingRate` per `timepoint`),
   * https://www.kucoin.com/docs/rest/futures-trading/market-data/get-current-funding-rate (`value` vs
   * `predictedValue`), https://kucoin.com/docs-new/3470088w0 (`funding.begin`/`funding.end` carry the
   * `fundingRate` applied at `fundingTime`), https://www.kucoin.com/support/26686295987353 (fee = position
   * value × funding rate). So the predicted rate is emitted `predicted: true` and the engine never lets it
   * replace a current rate for the same settlement (MarketStore.setFunding; the settled-rate record takes
   * current rates only). Tested: test/fixtures/kucoin/protocol.ts "settled rate: …".
   */
  private funding(topic: string, d: Record<string, unknown>, sink: UpdateSink): ParseOutcome {
    const meta = this.meta.get(topic.slice(INSTRUMENT_PREFIX.length));
    if (meta === undefined) return this.reject('unknown_symbol');
    const rate = num(d.fundingRate);
    const granularity = num(d.granularity);
    const ts = num(d.timestamp);
    if (Number.isNaN(rate) || !(granularity > 0)) return this.reject('bad_funding');
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    const predicted = granularity === KUCOIN_PREDICTED_GRANULARITY;
    // The predicted rate is published per minute but applies to the contract's funding interval.
    // A predicted frame's interval: the venue's own (a current-rate frame's granularity, else the metadata's);
    // unknown (0) while the metadata's is only assumed and no current-rate frame has given one.
    if (!predicted) this.wireIntervalMs.set(meta.symbol, granularity);
    const interval = predicted ? (meta.fundingIntervalAssumed === true ? (this.wireIntervalMs.get(meta.symbol) ?? 0) : meta.fundingIntervalMs) : granularity;
    if (!(meta.nextFundingMs > 0)) return this.reject('no_next_funding_time');
    // REST gave the next settlement; once it has passed, the following one is one interval later.
    let next = meta.nextFundingMs;
    if (next <= ts) next += Math.ceil((ts - next + 1) / meta.fundingIntervalMs) * meta.fundingIntervalMs;
    sink.funding(meta, rate, interval, next, predicted, ts);
    return 'data';
  }
}

/** Contract type of KuCoin's perpetuals (`FFICSX` = dated futures). */
const PERPETUAL_TYPE = 'FFWCSX';
/** contracts/active `status` → ours (`Settled`/`Closed` contracts are gone). */
const STATUS: Readonly<Record<string, InstrumentStatus | 'closed'>> = {
  Open: 'trading',
  Init: 'prelaunch',
  BeingSettled: 'delisting',
  Paused: 'delisting',
  CancelOnly: 'delisting',
  Settled: 'closed',
  Closed: 'closed',
};

/** Reads one contracts/active entry into the builder (or counts why not). */
function addContract(b: DiscoveryBuilder, c: unknown, nowMs: number): void {
  if (!isRecord(c) || typeof c.symbol !== 'string' || c.symbol === '') return b.skip('malformed');
  if (c.isInverse === true) return b.skip('not_linear');
  if (c.type !== undefined && c.type !== PERPETUAL_TYPE) return b.skip('not_perpetual');
  const word = c.status === undefined ? 'trading' : typeof c.status === 'string' ? STATUS[c.status] : undefined;
  if (word === undefined) return b.skip('unknown_status');
  if (word === 'closed') return b.skip('closed');
  const granularity = num(c.fundingRateGranularity);
  // ASSUMPTION only when fundingRateGranularity is missing; the settled funding message's granularity and the next refresh replace it.
  const assumed = !(granularity > 0);
  const interval = assumed ? DEFAULT_FUNDING_INTERVAL_MS : granularity;
  // Absolute time when given; otherwise `nextFundingRateTime` is the ms REMAINING from now. Without either
  // (a contract not trading yet) the funding frames are rejected until a refresh brings one.
  const absolute = num(c.nextFundingRateDateTime);
  const relative = num(c.nextFundingRateTime);
  const next = isEpochMs(absolute) ? absolute : relative >= 0 ? nowMs + relative : 0;
  const rate = num(c.fundingFeeRate);
  b.add(
    {
      symbol: c.symbol,
      baseField: c.baseCurrency,
      symbolBase: parseNative(c.symbol)?.base ?? null,
      settle: typeof c.settleCurrency === 'string' && c.settleCurrency !== '' ? c.settleCurrency : c.quoteCurrency,
      contractValue: num(c.multiplier),
      tickSize: num(c.tickSize),
      minQty: num(c.lotSize), // one lot of contracts
      fundingIntervalMs: interval,
      ...(assumed ? { fundingIntervalAssumed: true } : {}),
      nextFundingMs: next,
      status: word,
    },
    Number.isNaN(rate) || !(next > 0) ? {} : { seedFunding: { rate, intervalMs: assumed ? 0 : interval, nextFundingMs: next, predicted: false, tsMs: nowMs } },
  );
}

let changeSeq = 0;

export const kucoinAdapter: VenueAdapter = {
  exchange: EXCHANGE,
  fundingHistory: kucoinFundingHistory,
  /**
   * The next settlement and the interval come from REST (contracts/active `nextFundingRateDateTime`,
   * `fundingRateGranularity`); the stream only rolls the time forward. Re-read right after each
   * settlement so a changed interval or schedule takes effect from the venue's data, not the roll.
   */
  refreshAfterSettlement: true,
  depth: kucoinDepth,
  /** Open interest and 24 h turnover from contracts/active once a minute (stats.ts): the streams carry neither. */
  restStats: kucoinRestStats,

  /** Every linear perpetual from contracts/active, with the funding seed and next funding time it carries. */
  async discover(rest: string, fetchJson: FetchJson, nowMs: number): Promise<Discovery> {
    const body = await fetchJson(`${rest}/api/v1/contracts/active`);
    if (!isRecord(body) || body.code !== '200000' || !Array.isArray(body.data)) throw new Error('kucoin contracts/active: unexpected body');
    const b = new DiscoveryBuilder(EXCHANGE, ASSET_ALIASES);
    for (const c of body.data) addContract(b, c, nowMs);
    return b.result();
  },

  async loadMetadata(rest: string, symbols: string[] | null, fetchJson: FetchJson, nowMs: number): Promise<MetadataTable> {
    return pick((await this.discover(rest, fetchJson, nowMs)).table, symbols);
  },

  async plan(endpoints: VenueEndpoints, symbols: string[], fetchJson: FetchJson, opts: { maxAgeMs?: number }): Promise<ConnectionPlan[]> {
    if (symbols.length === 0) return [];
    const { socketUrl, heartbeat } = await bulletConnection(endpoints, fetchJson);
    let seq = 0;
    const subscribe = (topic: string) => JSON.stringify({ id: `sub${seq++}`, type: 'subscribe', topic, privateChannel: false, response: true });
    // One token serves the plan's sockets; each socket has its own connectId.
    return splitSymbols(symbols, facts.limits, TOPIC_COST).map((group, i) => {
      const groups = chunk(group, KUCOIN_TOPICS_PER_MESSAGE);
      return {
        label: `kucoin#${i}`,
        url: socketUrl(i),
        subscribeMessages: [...groups.map((g) => subscribe(`${TICKER_PREFIX}${g.join(',')}`)), ...groups.map((g) => subscribe(`${INSTRUMENT_PREFIX}${g.join(',')}`))],
        topicCount: group.length * 2,
        awaitWelcome: true,
        subscribeSpacingMs: subscribeSpacingMs(facts.limits),
        heartbeat,
        maxAgeMs: opts.maxAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS,
        symbols: group,
        limits: facts.limits,
      };
    });
  },

  createParser(meta: MetadataTable): VenueParser {
    return new KucoinParser(meta);
  },

  liveChange(plans, _symbols, add, remove) {
    const r = redistribute(plans.map((p) => p.symbols), add, remove, facts.limits, TOPIC_COST);
    if (r === null) return null;
    const frames = (type: 'subscribe' | 'unsubscribe', syms: readonly string[]) =>
      chunk(syms, KUCOIN_TOPICS_PER_MESSAGE).flatMap((g) =>
        [TICKER_PREFIX, INSTRUMENT_PREFIX].map((prefix) => JSON.stringify({ id: `chg${++changeSeq}`, type, topic: `${prefix}${g.join(',')}`, privateChannel: false, response: true })),
      );
    return changesOf(r, frames, 2);
  },
};
