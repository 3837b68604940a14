/**
 * KuCoin Futures (USDT-margined, `XBTUSDTM`): `/contractMarket/tickerV2:{syms}` for top of book and
 * `/contract/instrument:{syms}` for funding (`subject: funding.rate`).
 *
 * Connect: POST /api/v1/bullet-public → token + endpoint + pingInterval; connect with
 * `?token=…&connectId=…`, wait for the welcome, then subscribe (≤ 100 symbols per topic, comma-joined).
 * Sizes are in contracts (× `multiplier`). tickerV2 `ts` is in NANOseconds, which a double cannot
 * hold exactly: we cut the digits to milliseconds from the raw text instead of dividing.
 * The WS funding carries no next funding time: it comes from REST (contracts/active) and is rolled
 * forward by the interval once it passes.
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { instrumentKey } from '../symbology.js';
import { ASSET_ALIASES } from './symbols.js';
import {
  JsonVenueParser,
  type ConnectionPlan,
  type FetchJson,
  type MetadataTable,
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

const EXCHANGE: Exchange = 'kucoin';
export const KUCOIN_BULLET_PATH = '/api/v1/bullet-public';
export const KUCOIN_TOPICS_PER_MESSAGE = 100;
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

/** The digits of the last `"ts":<integer>` in a frame (tickerV2 has exactly one, inside `data`); JSON whitespace after the colon is allowed. */
function rawTsDigits(raw: string): string {
  const at = raw.lastIndexOf('"ts":');
  if (at < 0) return '';
  let i = at + 5;
  while (i < raw.length && (raw.charCodeAt(i) === 32 || raw.charCodeAt(i) === 10 || raw.charCodeAt(i) === 13 || raw.charCodeAt(i) === 9)) i++;
  const start = i;
  while (i < raw.length) {
    const c = raw.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return raw.slice(start, i);
}

export class KucoinParser extends JsonVenueParser {

  parse(raw: string, sink: UpdateSink): ParseOutcome {
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    switch (msg.type) {
      case 'message':
        break;
      case 'welcome':
        return 'welcome';
      case 'ack':
        return 'ack';
      case 'pong':
        return 'pong';
      case 'error':
        count(this.errors, `venue_error:${typeof msg.code === 'number' || typeof msg.code === 'string' ? String(msg.code) : 'unknown'}`);
        return 'venue_error';
      case 'notice':
        return 'ignored';
      default:
        return this.reject('unknown_type');
    }
    const topic = msg.topic;
    const data = msg.data;
    if (typeof topic !== 'string' || !isRecord(data)) return this.reject('missing_data');
    if (msg.subject === 'tickerV2' && topic.startsWith(TICKER_PREFIX)) return this.ticker(raw, topic, data, sink);
    if (topic.startsWith(INSTRUMENT_PREFIX)) {
      if (msg.subject === 'funding.rate') return this.funding(topic, data, sink);
      if (msg.subject === 'mark.index.price') return 'ignored';
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
    sink.quote(meta, bid, ask, bidSz * meta.contractValue, askSz * meta.contractValue, ts);
    return 'data';
  }

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
    const interval = predicted ? meta.fundingIntervalMs : granularity;
    if (!(meta.nextFundingMs > 0)) return this.reject('no_next_funding_time');
    // REST gave the next settlement; once it has passed, the following one is one interval later.
    let next = meta.nextFundingMs;
    if (next <= ts) next += Math.ceil((ts - next + 1) / meta.fundingIntervalMs) * meta.fundingIntervalMs;
    sink.funding(meta, rate, interval, next, predicted, ts);
    return 'data';
  }
}

let changeSeq = 0;

export const kucoinAdapter: VenueAdapter = {
  exchange: EXCHANGE,

  // Provisional: every listed symbol through loadMetadata, no skip counts (issue 11 discovery replaces it).

  async discover(rest: string, fetchJson: FetchJson, nowMs: number): Promise<Discovery> {

    return { table: await this.loadMetadata(rest, null, fetchJson, nowMs), skipped: {} };

  },


  async loadMetadata(rest: string, symbols: string[] | null, fetchJson: FetchJson, nowMs: number): Promise<MetadataTable> {
    const body = await fetchJson(`${rest}/api/v1/contracts/active`);
    if (!isRecord(body) || body.code !== '200000' || !Array.isArray(body.data)) throw new Error('kucoin contracts/active: unexpected body');
    const wanted = symbols === null ? null : new Set(symbols);
    const table: MetadataTable = new Map();
    for (const c of body.data) {
      if (!isRecord(c) || typeof c.symbol !== 'string' || (wanted !== null && !wanted.has(c.symbol))) continue;
      if (c.isInverse === true || typeof c.baseCurrency !== 'string' || typeof c.quoteCurrency !== 'string') continue;
      const multiplier = num(c.multiplier);
      if (!(multiplier > 0)) throw new Error(`kucoin contracts/active: bad multiplier for ${c.symbol}`);
      const granularity = num(c.fundingRateGranularity);
      const interval = granularity > 0 ? granularity : DEFAULT_FUNDING_INTERVAL_MS;
      // Absolute time when given; otherwise `nextFundingRateTime` is the ms REMAINING from now.
      const absolute = num(c.nextFundingRateDateTime);
      const relative = num(c.nextFundingRateTime);
      const next = isEpochMs(absolute) ? absolute : relative >= 0 ? nowMs + relative : 0;
      if (!(next > 0)) throw new Error(`kucoin contracts/active: no next funding time for ${c.symbol}`);
      const rate = num(c.fundingFeeRate);
      table.set(c.symbol, {
        exchange: EXCHANGE,
        symbol: c.symbol,
        key: instrumentKey(ASSET_ALIASES[c.baseCurrency] ?? c.baseCurrency),
        base: ASSET_ALIASES[c.baseCurrency] ?? c.baseCurrency, // XBT → BTC
        quote: c.quoteCurrency,
        contractValue: multiplier,
        fundingIntervalMs: interval,
        nextFundingMs: next,
        ...(Number.isNaN(rate) ? {} : { seedFunding: { rate, intervalMs: interval, nextFundingMs: next, predicted: false, tsMs: nowMs } }),
        id: -1,
      });
    }
    return table;
  },

  async plan(endpoints: VenueEndpoints, symbols: string[], fetchJson: FetchJson, opts: { maxAgeMs?: number }): Promise<ConnectionPlan[]> {
    if (symbols.length === 0) return [];
    // A fresh token for every connection (never reuse one: it expires at 24 h).
    const body = await fetchJson(`${endpoints.rest}${KUCOIN_BULLET_PATH}`, { method: 'POST' });
    const data = isRecord(body) && body.code === '200000' && isRecord(body.data) ? body.data : null;
    const server = data && Array.isArray(data.instanceServers) && isRecord(data.instanceServers[0]) ? data.instanceServers[0] : null;
    if (!data || typeof data.token !== 'string' || !server || typeof server.endpoint !== 'string') throw new Error('kucoin bullet-public: unexpected body');
    const pingInterval = num(server.pingInterval);
    const connectId = `ps${Date.now().toString(36)}${Math.floor(Math.random() * 1e9).toString(36)}`;
    const sep = server.endpoint.includes('?') ? '&' : '?';
    const groups = chunk(symbols, KUCOIN_TOPICS_PER_MESSAGE);
    let seq = 0;
    const subscribe = (topic: string) => JSON.stringify({ id: `sub${seq++}`, type: 'subscribe', topic, privateChannel: false, response: true });
    return [
      {
        label: 'kucoin#0',
        url: `${server.endpoint}${sep}token=${encodeURIComponent(data.token)}&connectId=${connectId}`,
        subscribeMessages: [...groups.map((g) => subscribe(`${TICKER_PREFIX}${g.join(',')}`)), ...groups.map((g) => subscribe(`${INSTRUMENT_PREFIX}${g.join(',')}`))],
        topicCount: symbols.length * 2,
        awaitWelcome: true,
        // 100 uplink messages per 10 s.
        subscribeSpacingMs: 110,
        heartbeat: { everyMs: pingInterval > 0 ? pingInterval : 18_000, whenIdle: false, message: () => JSON.stringify({ id: String(Date.now()), type: 'ping' }) },
        maxAgeMs: opts.maxAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS,
      },
    ];
  },

  createParser(meta: MetadataTable): VenueParser {
    return new KucoinParser(meta);
  },

  liveChange(plans, symbols, add, remove) {
    if (plans.length !== 1) return null;
    const frames = (type: 'subscribe' | 'unsubscribe', syms: readonly string[]) =>
      chunk(syms, KUCOIN_TOPICS_PER_MESSAGE).flatMap((g) =>
        [TICKER_PREFIX, INSTRUMENT_PREFIX].map((prefix) => JSON.stringify({ id: `chg${++changeSeq}`, type, topic: `${prefix}${g.join(',')}`, privateChannel: false, response: true })),
      );
    return [{ messages: [...frames('unsubscribe', remove), ...frames('subscribe', add)], topicCount: symbols.length * 2 }];
  },
};
