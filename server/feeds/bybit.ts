/**
 * Bybit v5 linear (USDT perpetuals): `tickers.{symbol}` carries top of book AND funding.
 *
 * The venue sends a snapshot, then deltas that omit unchanged fields; we keep the merged state per
 * symbol and drop it on reconnect (`reset`). A delta for a symbol without a snapshot is rejected, so
 * nothing from before a drop is ever merged into the new stream.
 *
 * Hot path: ticker frames are read by a strict single-pass scan of the flat JSON layout Bybit uses
 * (no allocation besides the few value strings). Anything the scan does not fully recognise (escapes,
 * whitespace, other value types, other topics) falls back to JSON.parse, so the scan only ever accepts
 * frames the JSON path would read identically.
 */
import type { Exchange } from '../../shared/exchanges.js';
import { instrumentKey } from '../engine/symbols.js';
import {
  type ConnectionPlan,
  type FetchJson,
  type InstrumentMeta,
  type MetadataTable,
  type ParseOutcome,
  type UpdateSink,
  type VenueAdapter,
  type VenueEndpoints,
  type VenueParser,
  DEFAULT_FUNDING_INTERVAL_MS,
  HOUR_MS,
  chunk,
  count,
  isEpochMs,
  isRecord,
  num,
} from './adapter.js';

const EXCHANGE: Exchange = 'bybit';
export const BYBIT_WS_PATH = '/v5/public/linear';
/** Bybit's docs ask for ≤ 10 args per subscribe request (spot rule; futures have none, we stay conservative). */
export const BYBIT_ARGS_PER_MESSAGE = 10;
export const BYBIT_PING_MS = 20_000;

/** Merged ticker state of one symbol. NaN = not known yet. */
interface TickerState {
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  rate: number;
  nextFundingMs: number;
  intervalMs: number;
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
}

const QUOTE = 34; // "
const COLON = 58;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;
const PLUS = 43;
const FAST_PREFIX = '{"topic":"tickers.';
const ESCAPE_OR_CONTROL = /[\u0000-\u001f\\]/;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** End index (exclusive) of a JSON number starting at `i`, or -1 when it is not one. */
function scanNumber(s: string, i: number): number {
  let c = s.charCodeAt(i);
  if (c === MINUS) c = s.charCodeAt(++i);
  if (c === ZERO) c = s.charCodeAt(++i);
  else if (isDigit(c)) {
    do c = s.charCodeAt(++i);
    while (isDigit(c));
  } else return -1;
  if (c === DOT) {
    c = s.charCodeAt(++i);
    if (!isDigit(c)) return -1;
    do c = s.charCodeAt(++i);
    while (isDigit(c));
  }
  if (c === LOWER_E || c === UPPER_E) {
    c = s.charCodeAt(++i);
    if (c === PLUS || c === MINUS) c = s.charCodeAt(++i);
    if (!isDigit(c)) return -1;
    do c = s.charCodeAt(++i);
    while (isDigit(c));
  }
  return i;
}

const F_NONE = 0;
const F_SYMBOL = 1;
const F_BID = 2;
const F_BID_SIZE = 3;
const F_ASK = 4;
const F_ASK_SIZE = 5;
const F_RATE = 6;
const F_NEXT = 7;
const F_INTERVAL = 8;

/** Which ticker field the key at raw[ks, ks+len) names (F_NONE for the ones we do not read). */
function fieldId(raw: string, ks: number, len: number): number {
  switch (len) {
    case 6:
      return raw.startsWith('symbol', ks) ? F_SYMBOL : F_NONE;
    case 8:
      return raw.startsWith('bid1Size', ks) ? F_BID_SIZE : raw.startsWith('ask1Size', ks) ? F_ASK_SIZE : F_NONE;
    case 9:
      return raw.startsWith('bid1Price', ks) ? F_BID : raw.startsWith('ask1Price', ks) ? F_ASK : F_NONE;
    case 11:
      return raw.startsWith('fundingRate', ks) ? F_RATE : F_NONE;
    case 15:
      return raw.startsWith('nextFundingTime', ks) ? F_NEXT : F_NONE;
    case 19:
      return raw.startsWith('fundingIntervalHour', ks) ? F_INTERVAL : F_NONE;
    default:
      return F_NONE;
  }
}

function setField(f: TickerFields, field: number, value: string): void {
  switch (field) {
    case F_SYMBOL:
      f.symbol = value;
      break;
    case F_BID:
      f.bid = value;
      break;
    case F_BID_SIZE:
      f.bidSize = value;
      break;
    case F_ASK:
      f.ask = value;
      break;
    case F_ASK_SIZE:
      f.askSize = value;
      break;
    case F_RATE:
      f.rate = value;
      break;
    case F_NEXT:
      f.next = value;
      break;
    case F_INTERVAL:
      f.intervalHours = value;
      break;
  }
}

export class BybitParser implements VenueParser {
  readonly errors: Record<string, number> = {};
  private readonly states = new Map<string, TickerState>();
  private readonly fields: TickerFields = { symbol: undefined, bid: undefined, bidSize: undefined, ask: undefined, askSize: undefined, rate: undefined, next: undefined, intervalHours: undefined };

  constructor(
    private readonly meta: MetadataTable,
    private readonly opts: { fastPath?: boolean } = {},
  ) {}

  reset(): void {
    this.states.clear();
  }

  parse(raw: string, sink: UpdateSink): ParseOutcome {
    if (this.opts.fastPath !== false) {
      const fast = this.scanTicker(raw, sink);
      if (fast !== null) return fast;
    }
    return this.parseJson(raw, sink);
  }

  private reject(reason: string): ParseOutcome {
    count(this.errors, reason);
    return 'rejected';
  }

  private parseJson(raw: string, sink: UpdateSink): ParseOutcome {
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      return this.reject('invalid_json');
    }
    if (!isRecord(msg)) return this.reject('not_an_object');
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
      return this.apply(topic.slice(8), msg.type, msg.ts, sink);
    }
    if (msg.ret_msg === 'pong' || msg.op === 'pong') return 'pong';
    if (msg.success === false) {
      count(this.errors, `venue_error:${msg.op ?? 'unknown'}`);
      return 'venue_error';
    }
    if (msg.op === 'subscribe' && msg.success === true) return 'ack';
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
    const intervalMs = hours > 0 ? hours * HOUR_MS : snapshot || state === undefined ? meta.fundingIntervalMs : state.intervalMs;

    const fundingChanged = snapshot || rate !== state!.rate || next !== state!.nextFundingMs || intervalMs !== state!.intervalMs;
    if (state === undefined || snapshot) {
      state = { bid, ask, bidSize, askSize, rate, nextFundingMs: next, intervalMs };
      this.states.set(symbol, state);
    } else {
      state.bid = bid;
      state.ask = ask;
      state.bidSize = bidSize;
      state.askSize = askSize;
      state.rate = rate;
      state.nextFundingMs = next;
      state.intervalMs = intervalMs;
    }
    let emitted = false;
    // Every ticker frame refreshes the quote: Bybit only pushes while something changes.
    if (bid > 0 && ask > 0 && bidSize >= 0 && askSize >= 0) {
      sink.quote(meta, bid, ask, bidSize, askSize, ts);
      emitted = true;
    }
    if (fundingChanged && !Number.isNaN(rate) && next > 0) {
      sink.funding(meta, rate, intervalMs, next, false, ts);
      emitted = true;
    }
    return emitted ? 'data' : 'ignored';
  }

  /**
   * Strict scan of `{"topic":"tickers.X","type":"…","data":{flat strings/numbers},"cs":N,"ts":N}` in any
   * key order. Returns null (use JSON.parse) for anything outside that shape.
   */
  private scanTicker(raw: string, sink: UpdateSink): ParseOutcome | null {
    const n = raw.length;
    // Escapes and control characters (invalid in JSON strings; could hide a key we read): JSON.parse decides.
    if (!raw.startsWith(FAST_PREFIX) || raw.charCodeAt(n - 1) !== RBRACE || ESCAPE_OR_CONTROL.test(raw)) return null;
    const f = this.fields;
    f.symbol = f.bid = f.bidSize = f.ask = f.askSize = f.rate = f.next = f.intervalHours = undefined;
    let topic: string | undefined;
    let type: string | undefined;
    let ts: string | undefined;
    let sawData = false;
    let i = 1;
    for (;;) {
      if (raw.charCodeAt(i) !== QUOTE) return null;
      const ks = i + 1;
      const ke = raw.indexOf('"', ks);
      if (ke < 0 || raw.charCodeAt(ke + 1) !== COLON) return null;
      const klen = ke - ks;
      let v = ke + 2;
      const c = raw.charCodeAt(v);
      if (c === LBRACE) {
        if (klen !== 4 || !raw.startsWith('data', ks)) return null;
        v = this.scanData(raw, v + 1);
        if (v < 0) return null;
        sawData = true;
      } else if (c === QUOTE) {
        const se = raw.indexOf('"', v + 1);
        if (se < 0) return null;
        if (klen === 5 && raw.startsWith('topic', ks)) topic = raw.slice(v + 1, se);
        else if (klen === 4 && raw.startsWith('type', ks)) type = raw.slice(v + 1, se);
        else if (klen === 2 && raw.startsWith('ts', ks)) return null; // unusual: let JSON.parse decide
        v = se + 1;
      } else {
        const e = scanNumber(raw, v);
        if (e < 0) return null;
        if (klen === 2 && raw.startsWith('ts', ks)) ts = raw.slice(v, e);
        v = e;
      }
      const d = raw.charCodeAt(v);
      if (d === COMMA) {
        i = v + 1;
        continue;
      }
      if (d === RBRACE && v === n - 1) break;
      return null;
    }
    if (!sawData || topic === undefined || !topic.startsWith('tickers.')) return null;
    const symbol = topic.slice(8);
    if (!this.meta.has(symbol)) return null;
    return this.apply(symbol, type, ts, sink);
  }

  /** Scans a flat object body from `i` (just after `{`); returns the index after `}` or -1. */
  private scanData(raw: string, i: number): number {
    const f = this.fields;
    if (raw.charCodeAt(i) === RBRACE) return i + 1;
    for (;;) {
      if (raw.charCodeAt(i) !== QUOTE) return -1;
      const ks = i + 1;
      const ke = raw.indexOf('"', ks);
      if (ke < 0 || raw.charCodeAt(ke + 1) !== COLON) return -1;
      const field = fieldId(raw, ks, ke - ks);
      let v = ke + 2;
      if (raw.charCodeAt(v) === QUOTE) {
        const se = raw.indexOf('"', v + 1);
        if (se < 0) return -1;
        if (field !== F_NONE) setField(f, field, raw.slice(v + 1, se));
        v = se + 1;
      } else {
        const e = scanNumber(raw, v);
        if (e < 0) return -1;
        // A number where Bybit sends strings: hand the frame to JSON.parse (same semantics, rare).
        if (field !== F_NONE) return -1;
        v = e;
      }
      const d = raw.charCodeAt(v);
      if (d === COMMA) {
        i = v + 1;
        continue;
      }
      if (d === RBRACE) return v + 1;
      return -1;
    }
  }
}

interface BybitInstrument {
  symbol?: unknown;
  contractType?: unknown;
  baseCoin?: unknown;
  quoteCoin?: unknown;
  fundingInterval?: unknown;
}

export const bybitAdapter: VenueAdapter = {
  exchange: EXCHANGE,

  async loadMetadata(rest: string, symbols: string[], fetchJson: FetchJson): Promise<MetadataTable> {
    const wanted = new Set(symbols);
    const table: MetadataTable = new Map();
    let cursor = '';
    for (let page = 0; page < 20; page++) {
      const url = `${rest}/v5/market/instruments-info?category=linear&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const body = await fetchJson(url);
      if (!isRecord(body) || body.retCode !== 0 || !isRecord(body.result) || !Array.isArray(body.result.list))
        throw new Error(`bybit instruments-info: unexpected body (retCode ${isRecord(body) ? String(body.retCode) : '?'})`);
      for (const item of body.result.list as BybitInstrument[]) {
        if (!isRecord(item) || typeof item.symbol !== 'string' || !wanted.has(item.symbol)) continue;
        if (item.contractType !== 'LinearPerpetual' || typeof item.baseCoin !== 'string' || typeof item.quoteCoin !== 'string') continue;
        const minutes = num(item.fundingInterval);
        table.set(item.symbol, {
          exchange: EXCHANGE,
          symbol: item.symbol,
          key: instrumentKey(item.baseCoin, item.quoteCoin),
          base: item.baseCoin,
          quote: item.quoteCoin,
          contractValue: 1, // linear sizes are in base coin
          fundingIntervalMs: minutes > 0 ? minutes * 60_000 : DEFAULT_FUNDING_INTERVAL_MS,
          nextFundingMs: 0,
          id: -1,
        });
      }
      cursor = typeof body.result.nextPageCursor === 'string' ? body.result.nextPageCursor : '';
      if (!cursor || table.size === wanted.size) break;
    }
    return table;
  },

  async plan(endpoints: VenueEndpoints, symbols: string[]): Promise<ConnectionPlan[]> {
    if (symbols.length === 0) return [];
    const args = symbols.map((s) => `tickers.${s}`);
    return [
      {
        label: 'bybit#0',
        url: `${endpoints.ws}${BYBIT_WS_PATH}`,
        subscribeMessages: chunk(args, BYBIT_ARGS_PER_MESSAGE).map((a, i) => JSON.stringify({ req_id: `sub-${i}`, op: 'subscribe', args: a })),
        topicCount: args.length,
        awaitWelcome: false,
        subscribeSpacingMs: 20,
        heartbeat: { everyMs: BYBIT_PING_MS, whenIdle: false, message: () => '{"op":"ping"}' },
        maxAgeMs: 0,
      },
    ];
  },

  createParser(meta: MetadataTable): VenueParser {
    return new BybitParser(meta);
  },
};

export type { InstrumentMeta };
