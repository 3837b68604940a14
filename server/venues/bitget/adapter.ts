/**
 * Bitget public WebSocket v3 (UTA): one `ticker` topic per perpetual carries the best bid/ask with sizes
 * (base coin), `fundingRate` and `nextFundingTime`; every value is a string, the envelope `ts` a number.
 *
 * Funding: since 2025-09-22 Bitget quotes `fundingRate` already scaled to the symbol's own interval
 * (the 8 h rate divided by 8 ÷ N for an N-hour interval), so it is a per-interval rate like every other
 * venue's and is passed on as is. The ticker has no interval field: the interval is REST data
 * (`current-fund-rate` → `fundingRateInterval`, instruments → `fundInterval`), re-read at each discovery
 * refresh and a few seconds after every settlement (`refreshAfterSettlement`: one call per product type
 * lists every symbol), and Bitget changes it per symbol at run time (at a settlement, by its notices). The
 * parser therefore takes the interval from the metadata (updated in place by a refresh) and also from the
 * spacing of `nextFundingTime` when it jumps at a settlement; either change is emitted with the next frame.
 * The ticker's own next time also vetoes an interval it contradicts (the next settlement further away than
 * one interval, or moved to another hour by a step that is not a whole number of intervals): the interval
 * is then reported unknown (0) until REST or a settlement shows the new one, never the stale one.
 * Funding is passed on when it changes (rate, next time or interval), not with every push: the quote is.
 *
 * Pushes: the docs call a push `snapshot` (full) or `update` (incremental); a live feed sends full
 * records. An `update` that leaves fields out is merged onto the last frame of the same connection;
 * without one it stands alone for what it carries (and is rejected when it carries nothing usable).
 *
 * Heartbeat: the text `ping`, answered by the text `pong`; the server drops a socket that sent no `ping`
 * for 2 minutes (docs), even while it streams data.
 *
 * The classic (v2) ticker shape (`channel`/`instId`, `bidPr`/`askPr`/`bidSz`/`askSz`, upper-case
 * `instType`) is read the same way, so a recording from the v2 socket replays; plans speak v3 only.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { DiscoveryBuilder, pick } from '../discovery.js';
import { ASSET_ALIASES, parseNative } from './symbols.js';
import { codeOf, topicSockets } from './ws-common.js';
import { bitgetDepth } from './depth.js';
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
  DEFAULT_MAX_CONNECTION_AGE_MS,
  HOUR_MS,
  count,
  isEpochMs,
  isRecord,
  num,
  statOrNaN,
} from '../../feeds/adapter.js';
import { bitgetFundingHistory } from './history.js';

const EXCHANGE: Exchange = 'bitget';
export { BITGET_PING_MS, BITGET_TOPICS_PER_SOCKET, BITGET_WS_PATH } from './ws-common.js';
/** The documented funding intervals (hours): `fundingRateInterval` enumerates 1, 2, 4, 8. */
const INTERVAL_HOURS = new Set([1, 2, 4, 8]);
/** A `nextFundingTime` jump counts as the new interval only when seen around the settlement it follows. */
const JUMP_WINDOW_BEFORE_MS = 10 * 60_000;
const JUMP_WINDOW_AFTER_MS = HOUR_MS;
/** Slack on "the next settlement is at most one interval away" (venue clock, a push sent just as the time rolls). */
const NEXT_SLACK_MS = JUMP_WINDOW_BEFORE_MS;

/** v3 `instType` (lower case) → settle currency. */
const SETTLE_OF: Readonly<Record<string, string>> = { 'usdt-futures': 'USDT', 'usdc-futures': 'USDC' };
/** REST `category` (v3 instruments) / `productType` (current-fund-rate) per settle currency. */
const CATEGORIES: ReadonlyArray<{ settle: string; category: string; productType: string }> = [
  { settle: 'USDT', category: 'USDT-FUTURES', productType: 'usdt-futures' },
  { settle: 'USDC', category: 'USDC-FUTURES', productType: 'usdc-futures' },
];

const quotes = topicSockets('bitget', 'ticker');

/** Merged ticker of one symbol on the current connection. NaN = not known. */
interface TickerState {
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  rate: number;
  nextFundingMs: number;
}

/** What the parser knows of a symbol's funding interval (kept across reconnects: it is venue data, not merge state). */
interface IntervalState {
  /** The interval in force (ms). */
  intervalMs: number;
  /** The metadata's interval when last looked at: a refresh that changes it wins over what we inferred. */
  metaMs: number;
  /** `intervalMs` is the metadata's undocumented 8 h fallback (reported as unknown, 0) until a `nextFundingTime` jump shows the real one. */
  assumed: boolean;
  /** The metadata's `fundingIntervalAssumed` when last looked at. */
  metaAssumed: boolean;
  /** The metadata's `nextFundingMs` when last looked at (a refresh that moves it pushed REST's timing to the engine). */
  metaNextMs: number;
  /** The last `nextFundingTime` seen on this connection (NaN after a reset). */
  lastNextMs: number;
  /** A next time on the schedule of `intervalMs` (NaN = none yet): later next times must differ from it by whole intervals. */
  anchorMs: number;
  /**
   * The next time left that schedule (to another whole hour): the interval changed and is unknown until the
   * metadata changes, REST's next time matches the new schedule, a settlement jump shows the spacing, or the
   * next time is back on the old schedule (a one-off value).
   */
  moved: boolean;
  /** The funding last emitted on this connection (NaN before the first): unchanged funding is not re-sent. */
  emittedMs: number;
  emittedRate: number;
  emittedNextMs: number;
}

/** A string field: undefined = absent (keep the merged value), "" = empty (no value), else a number or NaN. */
function field(v: unknown, prev: number): number {
  if (v === undefined) return prev;
  if (v === '') return NaN;
  return num(v);
}

const isBad = (v: unknown, x: number) => v !== undefined && v !== '' && !(x >= 0);

export class BitgetParser extends JsonVenueParser {
  private readonly states = new Map<string, TickerState>();
  private readonly intervals = new Map<string, IntervalState>();

  override reset(): void {
    this.states.clear();
    // Learned intervals (and a schedule seen moved) stay: venue data; the next-funding baseline does not, so a
    // settlement missed while disconnected is never read as an interval change.
    for (const iv of this.intervals.values()) {
      iv.lastNextMs = NaN;
      iv.emittedMs = iv.emittedRate = iv.emittedNextMs = NaN;
    }
  }

  parse(raw: string, sink: UpdateSink): ParseOutcome {
    if (raw === 'pong') return 'pong';
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    if (msg.event !== undefined) return this.event(msg);
    const arg = msg.arg;
    if (!isRecord(arg)) {
      // The docs' unsubscribe answer echoes the request (`{"op":"unsubscribe","args":[…]}`) without `event`.
      if ((msg.op === 'subscribe' || msg.op === 'unsubscribe') && Array.isArray(msg.args) && msg.data === undefined) return 'ack';
      return this.reject('unknown_message');
    }
    // v3 names the topic and symbol `topic`/`symbol`; the classic (v2) socket `channel`/`instId` (read too, same meaning).
    const topic = 'topic' in arg ? arg.topic : arg.channel;
    if (topic !== 'ticker') return this.reject(typeof topic === 'string' ? 'unknown_topic' : 'unknown_message');
    const settle = typeof arg.instType === 'string' ? SETTLE_OF[arg.instType.toLowerCase()] : undefined;
    if (settle === undefined) return this.reject('unknown_inst_type');
    const symbol = 'symbol' in arg ? arg.symbol : arg.instId;
    if (typeof symbol !== 'string') return this.reject('unknown_message');
    const meta = this.meta.get(symbol);
    if (meta === undefined) return this.reject('unknown_symbol');
    if (meta.quote !== settle) return this.reject('inst_type_mismatch');
    const data = msg.data;
    if (!Array.isArray(data) || data.length === 0) return this.reject('missing_data');
    const d = data[data.length - 1];
    if (!isRecord(d)) return this.reject('bad_entry');
    const dataSymbol = 'symbol' in d ? d.symbol : d.instId;
    if (dataSymbol !== undefined && dataSymbol !== symbol) return this.reject('symbol_mismatch');
    // The envelope `ts` (a number as sent; a string is read too); the classic shape also has `ts` in the record.
    const ts = num(msg.ts ?? d.ts);
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    const snapshot = msg.action === 'snapshot';
    if (!snapshot && msg.action !== 'update') return this.reject('unknown_action');

    const prev = snapshot ? undefined : this.states.get(symbol);
    const bidRaw = 'bid1Price' in d ? d.bid1Price : d.bidPr;
    const askRaw = 'ask1Price' in d ? d.ask1Price : d.askPr;
    const bidSizeRaw = 'bid1Size' in d ? d.bid1Size : d.bidSz;
    const askSizeRaw = 'ask1Size' in d ? d.ask1Size : d.askSz;
    const bid = field(bidRaw, prev?.bid ?? NaN);
    const ask = field(askRaw, prev?.ask ?? NaN);
    const bidSize = field(bidSizeRaw, prev?.bidSize ?? NaN);
    const askSize = field(askSizeRaw, prev?.askSize ?? NaN);
    if (isBad(bidRaw, bid) || isBad(askRaw, ask) || isBad(bidSizeRaw, bidSize) || isBad(askSizeRaw, askSize)) return this.reject('bad_number');
    // Delivery contracts carry "" for funding: no funding, not an error.
    const rate = field(d.fundingRate, prev?.rate ?? NaN);
    if (d.fundingRate !== undefined && d.fundingRate !== '' && Number.isNaN(rate)) return this.reject('bad_funding');
    const next = d.nextFundingTime === '0' ? NaN : field(d.nextFundingTime, prev?.nextFundingMs ?? NaN);
    if (d.nextFundingTime !== undefined && d.nextFundingTime !== '' && d.nextFundingTime !== '0' && !isEpochMs(next)) return this.reject('bad_funding');

    const quoteOk = bid > 0 && ask > 0 && bidSize >= 0 && askSize >= 0;
    const fundingOk = !Number.isNaN(rate) && isEpochMs(next);
    if (!snapshot && prev === undefined && !quoteOk && !fundingOk) return this.reject('delta_before_snapshot');

    // Validated: commit.
    const state = this.states.get(symbol);
    if (state === undefined || snapshot) this.states.set(symbol, { bid, ask, bidSize, askSize, rate, nextFundingMs: next });
    else Object.assign(state, { bid, ask, bidSize, askSize, rate, nextFundingMs: next });
    const iv = this.intervalOf(symbol, meta, next, ts);
    // Unknown (0) while only assumed, while the schedule moved unexplained, or while the next settlement is
    // further away than one interval.
    const intervalMs = iv.assumed || iv.moved || next - ts > iv.intervalMs + NEXT_SLACK_MS ? 0 : iv.intervalMs;

    let emitted = false;
    if (quoteOk) {
      emitQuote(sink, meta, bid, ask, bidSize, askSize, ts);
      emitted = true;
    }
    // Every push repeats the funding fields: only a change (rate, next time or interval) is passed on.
    if (fundingOk && (rate !== iv.emittedRate || next !== iv.emittedNextMs || intervalMs !== iv.emittedMs)) {
      sink.funding(meta, rate, intervalMs, next, false, ts);
      iv.emittedMs = intervalMs;
      iv.emittedRate = rate;
      iv.emittedNextMs = next;
      emitted = true;
    }
    // Open interest `openInterest` (v2: `holdingAmount`; base coin) × `markPrice`; 24 h volume `turnover24h`
    // (v2: `quoteVolume`; quote currency). Absent = NaN.
    const oiUsd = statOrNaN(num(d.openInterest ?? d.holdingAmount) * num(d.markPrice));
    const volumeUsd = statOrNaN(num(d.turnover24h ?? d.quoteVolume));
    // Funding reference price: `markPrice` (v3 public ticker, bitget.com/api-doc/uta/websocket/public/Tickers-Channel;
    // same name on v2). Bitget charges funding on the position value at the mark: fund fee = fund rate × position
    // value, USDT-margined position value = face value × contracts × latest mark price (Bitget "Contract Fund Fee",
    // bitget.zendesk.com/hc/en-us/articles/360053300511, read 2026-12-02).
    // Ancillary: the frame's outcome stays that of its quote and funding.
    emitStats(sink, meta, oiUsd, volumeUsd, wireFundingPrice(d.markPrice), ts);
    return emitted ? 'data' : 'ignored';
  }

  /**
   * The symbol's interval after this frame: the metadata's when it changed (a REST refresh), else the
   * spacing of a `nextFundingTime` jump seen around the settlement when it is a documented interval. A
   * next time that moved (to a whole hour) by a step the interval does not explain sets `moved`.
   */
  private intervalOf(symbol: string, meta: InstrumentMeta, next: number, ts: number): IntervalState {
    const metaMs = meta.fundingIntervalMs;
    const metaAssumed = meta.fundingIntervalAssumed === true;
    let iv = this.intervals.get(symbol);
    if (iv === undefined) {
      iv = { intervalMs: metaMs, metaMs, assumed: metaAssumed, metaAssumed, metaNextMs: meta.nextFundingMs, lastNextMs: NaN, anchorMs: NaN, moved: false, emittedMs: NaN, emittedRate: NaN, emittedNextMs: NaN };
      this.intervals.set(symbol, iv);
    } else if (iv.metaMs !== metaMs || (iv.metaAssumed && !metaAssumed)) {
      // Refreshed metadata: its interval wins, and one it now gives is known.
      iv.intervalMs = metaMs;
      iv.metaMs = metaMs;
      iv.assumed = metaAssumed;
      iv.moved = false;
      iv.anchorMs = NaN;
      iv.emittedMs = NaN;
    }
    iv.metaAssumed = metaAssumed;
    if (iv.metaNextMs !== meta.nextFundingMs) {
      iv.metaNextMs = meta.nextFundingMs;
      iv.emittedMs = NaN;
    }
    // A refresh that changed the interval or next time pushed REST's timing to the engine itself (emittedMs
    // NaN above): ours is re-sent with this frame even when unchanged, as it may veto REST's.
    if (isEpochMs(next)) {
      const last = iv.lastNextMs;
      if (next > last && ts >= last - JUMP_WINDOW_BEFORE_MS && ts < last + JUMP_WINDOW_AFTER_MS) {
        // A settlement: the jump of the next time is the interval from now on when it is a documented one.
        const spacing = next - last;
        if (spacing % HOUR_MS === 0 && INTERVAL_HOURS.has(spacing / HOUR_MS)) {
          iv.intervalMs = spacing;
          iv.assumed = false;
          iv.moved = false;
          iv.anchorMs = last;
        }
      }
      const onSchedule = !isEpochMs(iv.anchorMs) || (iv.intervalMs > 0 && (next - iv.anchorMs) % iv.intervalMs === 0);
      if (iv.moved) {
        // Back on the schedule in force (the odd value was a one-off), or REST has caught up with the new one.
        if (onSchedule) iv.moved = false;
        else if (!metaAssumed && meta.nextFundingMs === next) {
          iv.intervalMs = metaMs;
          iv.moved = false;
        }
      } else if (!onSchedule && next % HOUR_MS === 0) {
        // Moved to another settlement hour the interval cannot reach: Bitget re-scheduled the symbol.
        iv.moved = true;
      }
      // Only a whole hour anchors the schedule (settlements are on the hour; anything else is not evidence).
      if (!iv.moved && onSchedule && next % HOUR_MS === 0) iv.anchorMs = next;
      iv.lastNextMs = next;
    }
    return iv;
  }

  private event(msg: Record<string, unknown>): ParseOutcome {
    switch (msg.event) {
      case 'subscribe':
      case 'unsubscribe':
        return 'ack';
      case 'error':
        // e.g. {"event":"error","code":30001,"msg":"{…} doesn't exist","connId":"…"}; code 30016 = param error.
        count(this.errors, `venue_error:${codeOf(msg.code)}`);
        return 'venue_error';
      case 'login':
        // Public sockets never log in; a login answer is harmless when it succeeded (code "0").
        if (msg.code === '0' || msg.code === 0) return 'ignored';
        count(this.errors, `venue_error:${codeOf(msg.code)}`);
        return 'venue_error';
      default:
        return this.reject('unknown_event');
    }
  }
}

// ------------------------------------------------------------------------------------------- discovery

/**
 * Instrument `status` (v3) and `symbolStatus` (v2) words → ours. `listed` = announced, not open yet;
 * `limit_open` = opening positions restricted (the wind-down before a delisting); `limit_close` (added to
 * the v3 enum 2025-11-21, UTA change log) = closing restricted, not tradable both ways; `restrictedAPI` = API
 * trading restricted (we cannot trade it); `offline`/`off`/`maintain` = not trading at all.
 */
const STATUS: Readonly<Record<string, InstrumentStatus | 'offline' | 'maintenance'>> = {
  online: 'trading',
  normal: 'trading',
  listed: 'prelaunch',
  limit_open: 'delisting',
  limit_close: 'delisting',
  restrictedAPI: 'delisting',
  offline: 'offline',
  off: 'offline',
  maintain: 'maintenance',
};

/** A time field that is set: not "", "-1" or "0". */
const isSet = (v: unknown) => num(v) > 0;

/** Price tick: v3 `priceMultiplier`, else v2 `priceEndStep` × 10^-`pricePlace`. */
function tickOf(item: Record<string, unknown>): number {
  const m = num(item.priceMultiplier);
  if (m > 0) return m;
  const place = num(item.pricePlace);
  const step = num(item.priceEndStep);
  return Number.isInteger(place) && place >= 0 && step > 0 ? step / 10 ** place : NaN;
}

/** Funding facts of one symbol from `current-fund-rate`. */
interface FundingRow {
  rate: number;
  intervalMs: number;
  nextFundingMs: number;
}

/** Hours as the docs write them ("8") → ms, or NaN. */
function hoursMs(v: unknown): number {
  const h = num(v);
  return Number.isInteger(h) && h > 0 && h <= 24 ? h * HOUR_MS : NaN;
}

/** Reads one instruments entry into the builder (or counts why not). */
function addInstrument(b: DiscoveryBuilder, item: unknown, settle: string, funding: ReadonlyMap<string, FundingRow>, requestTime: number): void {
  if (!isRecord(item) || typeof item.symbol !== 'string' || item.symbol === '') return b.skip('malformed');
  const kind = item.symbolType ?? item.type;
  if (kind !== undefined && kind !== 'perpetual') return b.skip('not_perpetual');
  const word = typeof (item.status ?? item.symbolStatus) === 'string' ? STATUS[(item.status ?? item.symbolStatus) as string] : undefined;
  if (word === undefined) return b.skip('unknown_status');
  if (word === 'offline' || word === 'maintenance') return b.skip(word);
  // A trading perpetual with a delisting (`offTime`) or delivery time set is on its way out.
  const status: InstrumentStatus = word === 'trading' && (isSet(item.offTime) || isSet(item.deliveryTime)) ? 'delisting' : word;
  const parsed = parseNative(item.symbol);
  const f = funding.get(item.symbol);
  const listedHours = hoursMs(item.fundInterval);
  // ASSUMPTION only when neither current-fund-rate nor the instrument gives one: reported unknown (fundingIntervalAssumed).
  const assumed = !(f && f.intervalMs > 0) && !(listedHours > 0);
  const intervalMs = f && f.intervalMs > 0 ? f.intervalMs : listedHours > 0 ? listedHours : DEFAULT_FUNDING_INTERVAL_MS;
  b.add(
    {
      symbol: item.symbol,
      baseField: item.baseCoin,
      symbolBase: parsed?.base ?? null,
      settle: typeof item.quoteCoin === 'string' && item.quoteCoin !== '' ? item.quoteCoin : settle,
      contractValue: 1, // futures sizes are in the base coin (instruments: minOrderQty "in terms of the base coin")
      tickSize: tickOf(item),
      minQty: num(item.minOrderQty ?? item.minTradeNum),
      fundingIntervalMs: intervalMs,
      ...(assumed ? { fundingIntervalAssumed: true } : {}),
      nextFundingMs: f && isEpochMs(f.nextFundingMs) ? f.nextFundingMs : 0,
      status,
    },
    f && !Number.isNaN(f.rate) && isEpochMs(f.nextFundingMs)
      ? { seedFunding: { rate: f.rate, intervalMs: assumed ? 0 : intervalMs, nextFundingMs: f.nextFundingMs, predicted: false, tsMs: isEpochMs(requestTime) ? requestTime : f.nextFundingMs } }
      : {},
  );
}

/** The `data` list of a Bitget REST envelope (`{"code":"00000","msg":"success","requestTime":…,"data":[…]}`), or a thrown error. */
async function fetchList(url: string, fetchJson: FetchJson, what: string): Promise<{ list: unknown[]; requestTime: number }> {
  const body = await fetchJson(url);
  if (!isRecord(body) || body.code !== '00000' || !Array.isArray(body.data)) throw new Error(`bitget ${what}: unexpected body (code ${isRecord(body) ? String(body.code) : '?'})`);
  return { list: body.data, requestTime: num(body.requestTime) };
}

/** Every symbol's funding from v2 `current-fund-rate` for one product type (the v3 endpoint takes one symbol per call). */
async function fundingRows(rest: string, productType: string, fetchJson: FetchJson): Promise<Map<string, FundingRow>> {
  const { list } = await fetchList(`${rest}/api/v2/mix/market/current-fund-rate?productType=${productType}`, fetchJson, 'current-fund-rate');
  const out = new Map<string, FundingRow>();
  for (const e of list) {
    if (!isRecord(e) || typeof e.symbol !== 'string') continue;
    out.set(e.symbol, { rate: e.fundingRate === '' ? NaN : num(e.fundingRate), intervalMs: hoursMs(e.fundingRateInterval), nextFundingMs: num(e.nextUpdate) });
  }
  return out;
}

export const bitgetAdapter: VenueAdapter = {
  exchange: EXCHANGE,
  fundingHistory: bitgetFundingHistory,

  /**
   * Every USDT- and USDC-settled perpetual from v3 `market/instruments` (one call per category), with each
   * symbol's live funding interval and next settlement from `current-fund-rate` (one call per product type;
   * without it the instruments' `fundInterval`). The USDT list must be readable; a missing USDC list or
   * funding list is counted in `skipped` and does not fail the venue.
   */
  async discover(rest: string, fetchJson: FetchJson): Promise<Discovery> {
    const b = new DiscoveryBuilder(EXCHANGE, ASSET_ALIASES);
    for (const { settle, category, productType } of CATEGORIES) {
      let instruments: { list: unknown[]; requestTime: number };
      try {
        instruments = await fetchList(`${rest}/api/v3/market/instruments?category=${category}`, fetchJson, `instruments ${category}`);
      } catch (err) {
        if (settle === 'USDT') throw err;
        b.skip(`${settle.toLowerCase()}_list_unavailable`);
        continue;
      }
      let funding = new Map<string, FundingRow>();
      try {
        funding = await fundingRows(rest, productType, fetchJson);
      } catch {
        b.skip(`${settle.toLowerCase()}_funding_unavailable`);
      }
      for (const item of instruments.list) addInstrument(b, item, settle, funding, instruments.requestTime);
    }
    return b.result();
  },

  async loadMetadata(rest: string, symbols: string[] | null, fetchJson: FetchJson, nowMs: number): Promise<MetadataTable> {
    return pick((await this.discover(rest, fetchJson, nowMs)).table, symbols);
  },

  async plan(endpoints: VenueEndpoints, symbols: string[], _fetchJson: FetchJson, opts: { maxAgeMs?: number }): Promise<ConnectionPlan[]> {
    // One copy of the docs says sockets are cut every 24 h: rotate before.
    return quotes.plan(endpoints, symbols, opts.maxAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS);
  },

  createParser(meta: MetadataTable): VenueParser {
    return new BitgetParser(meta);
  },

  liveChange: quotes.liveChange,

  // The ticker carries no interval: a settlement is when a changed interval shows in REST.
  refreshAfterSettlement: true,
  depth: bitgetDepth,
};
