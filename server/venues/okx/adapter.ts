/**
 * OKX v5 public (USDT swaps): `tickers` (or `bbo-tbt`) for top of book, `funding-rate` for funding.
 *
 * Sizes are in contracts: base = sz × ctVal (public/instruments). In `funding-rate`, `fundingRate`
 * is the rate settled at `fundingTime` (the NEXT settlement) and `nextFundingTime` is the one after,
 * so the interval is their difference. Heartbeat: the text `ping` after < 30 s without traffic.
 *
 * Funding reference price: NONE published. OKX charges funding fee = position value × funding rate, the
 * position valued at the mark price (OKX's perpetual funding-fee FAQ on okx.com/help), but neither
 * channel we subscribe carries a mark: `tickers` has last/bid/ask/24 h figures only and `funding-rate` the
 * rates and times (okx.com/docs-v5/en/#public-data-websocket-tickers-channel, #public-data-websocket-funding-rate-channel,
 * read 2026-12-02). The mark is on a separate `mark-price` channel (#public-data-websocket-mark-price-channel),
 * pushed every 200 ms while it moves:
 * one more topic per symbol and several times the funding traffic, for a figure within a few bps of the
 * book. Not subscribed; OKX settlements are valued at the leg's book price (server/strategy/funding.ts).
 */
import type { Exchange } from '../../../shared/exchanges.js';
import { DiscoveryBuilder, pick } from '../discovery.js';
import { ASSET_ALIASES, parseNative } from './symbols.js';
import { instrumentKey } from '../symbology.js';
import { okxFundingHistory } from './history.js';
import { okxRestStats } from './stats.js';
import { okxDepth } from './depth.js';
import { channelSockets } from './ws-common.js';
import {
  JsonVenueParser,
  emitQuote,
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
  knownFundingIntervalMs,
  count,
  isEpochMs,
  isRecord,
  num,
  statOrNaN,
} from '../../feeds/adapter.js';

const EXCHANGE: Exchange = 'okx';
/** public/funding-rate allows 20 requests per 2 s per IP. */
export const OKX_FUNDING_REST_SPACING_MS = 110;
/** loadMetadata seeds funding over REST only for this many instruments (~2 s); beyond, the WS channel does. */
export const OKX_FUNDING_SEED_MAX = 20;
export type OkxQuoteChannel = 'tickers' | 'bbo-tbt';

export class OkxParser extends JsonVenueParser {

  parse(raw: string, sink: UpdateSink): ParseOutcome {
    if (raw === 'pong') return 'pong';
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    if (typeof msg.event === 'string') return this.event(msg);
    const arg = msg.arg;
    if (!isRecord(arg) || typeof arg.channel !== 'string') return this.reject('unknown_message');
    const data = msg.data;
    if (!Array.isArray(data) || data.length === 0) return this.reject('missing_data');
    const channel = arg.channel;
    const argInst = typeof arg.instId === 'string' ? arg.instId : undefined;
    // Validate every entry before emitting any (one frame = all or nothing).
    if (channel === 'tickers') return this.tickers(data, argInst, sink);
    if (channel === 'bbo-tbt') return this.bbo(data, argInst, sink);
    if (channel === 'funding-rate') return this.funding(data, argInst, sink);
    return this.reject('unknown_channel');
  }

  private event(msg: Record<string, unknown>): ParseOutcome {
    switch (msg.event) {
      case 'subscribe':
      case 'unsubscribe':
        return 'ack';
      case 'error':
        count(this.errors, `venue_error:${typeof msg.code === 'string' ? msg.code : 'unknown'}`);
        return 'venue_error';
      case 'notice':
        // 64008: "The connection will soon be closed for a service upgrade. Please reconnect."
        return msg.code === '64008' ? 'reconnect_notice' : 'ignored';
      case 'channel-conn-count':
      case 'channel-conn-count-error':
        return 'ignored';
      default:
        return this.reject('unknown_event');
    }
  }

  private tickers(data: unknown[], argInst: string | undefined, sink: UpdateSink): ParseOutcome {
    // Validate every entry before emitting any (one frame = all or nothing); OKX sends one entry per push.
    for (let pass = 0; pass < 2; pass++) {
      for (const d of data) {
        if (!isRecord(d)) return this.reject('bad_entry');
        const instId = typeof d.instId === 'string' ? d.instId : argInst;
        const meta = instId === undefined ? undefined : this.meta.get(instId);
        if (meta === undefined) return this.reject('unknown_symbol');
        const bid = num(d.bidPx);
        const ask = num(d.askPx);
        const bidSz = num(d.bidSz);
        const askSz = num(d.askSz);
        const ts = num(d.ts);
        if (!isEpochMs(ts)) return this.reject('bad_timestamp');
        if (!(bid > 0 && ask > 0 && bidSz >= 0 && askSz >= 0)) return this.reject(d.bidPx === '' || d.askPx === '' ? 'empty_book' : 'bad_number');
        if (pass === 1 || data.length === 1) {
          emitQuote(sink, meta, bid, ask, bidSz, askSz, ts);
          // 24 h volume: `volCcy24h` is in the base currency for derivatives (× `last`, USD); the tickers
          // channel carries no open interest (OKX publishes it on a separate `open-interest` channel).
          const volumeUsd = statOrNaN(num(d.volCcy24h) * num(d.last));
          if (volumeUsd === volumeUsd) sink.stats?.(meta, NaN, volumeUsd, ts);
        }
      }
      if (data.length === 1) break;
    }
    return 'data';
  }

  private bbo(data: unknown[], argInst: string | undefined, sink: UpdateSink): ParseOutcome {
    const meta = argInst === undefined ? undefined : this.meta.get(argInst);
    if (meta === undefined) return this.reject('unknown_symbol');
    const d = data[data.length - 1];
    if (!isRecord(d) || !Array.isArray(d.bids) || !Array.isArray(d.asks)) return this.reject('bad_entry');
    const b = d.bids[0];
    const a = d.asks[0];
    if (!Array.isArray(b) || !Array.isArray(a)) return this.reject('empty_book');
    const bid = num(b[0]);
    const bidSz = num(b[1]);
    const ask = num(a[0]);
    const askSz = num(a[1]);
    const ts = num(d.ts);
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    if (!(bid > 0 && ask > 0 && bidSz >= 0 && askSz >= 0)) return this.reject('bad_number');
    emitQuote(sink, meta, bid, ask, bidSz, askSz, ts);
    return 'data';
  }

  private funding(data: unknown[], argInst: string | undefined, sink: UpdateSink): ParseOutcome {
    const d = data[data.length - 1];
    if (!isRecord(d)) return this.reject('bad_entry');
    const instId = typeof d.instId === 'string' ? d.instId : argInst;
    const meta = instId === undefined ? undefined : this.meta.get(instId);
    if (meta === undefined) return this.reject('unknown_symbol');
    const rate = num(d.fundingRate);
    const fundingTime = num(d.fundingTime);
    const nextFundingTime = d.nextFundingTime === '' || d.nextFundingTime === undefined ? NaN : num(d.nextFundingTime);
    // Without `ts` (older pushes) the exchange time is UNKNOWN: 0, which the engine reads as "not sent"
    // (staleness and ordering then use the receive time). Never the settlement time: that is in the future.
    const ts = d.ts === undefined ? 0 : num(d.ts);
    if (Number.isNaN(rate) || !isEpochMs(fundingTime)) return this.reject('bad_funding');
    if (d.ts !== undefined && !isEpochMs(ts)) return this.reject('bad_timestamp');
    // Without nextFundingTime the spacing is not known: the metadata's interval, unknown (0) when only assumed.
    const interval = isEpochMs(nextFundingTime) && nextFundingTime > fundingTime ? nextFundingTime - fundingTime : knownFundingIntervalMs(meta);
    sink.funding(meta, rate, interval, fundingTime, false, ts);
    return 'data';
  }
}

/** The funding fields of a `public/funding-rate` REST entry (same schema as the WS channel); intervalMs 0 = unknown (no nextFundingTime). */
function fundingSeed(entry: unknown): { rate: number; intervalMs: number; nextFundingMs: number; tsMs: number } | null {
  if (!isRecord(entry)) return null;
  const rate = num(entry.fundingRate);
  const at = num(entry.fundingTime);
  const after = num(entry.nextFundingTime);
  const ts = num(entry.ts);
  if (Number.isNaN(rate) || !isEpochMs(at)) return null;
  const intervalMs = isEpochMs(after) && after > at ? after - at : 0;
  // No `ts`: unknown exchange time (0), as on the WS channel; never the (future) settlement time.
  return { rate, intervalMs, nextFundingMs: at, tsMs: isEpochMs(ts) ? ts : 0 };
}

/** OKX swap states → ours (`test` instruments are not real markets). */
const STATUS: Readonly<Record<string, InstrumentStatus | 'test'>> = { live: 'trading', preopen: 'prelaunch', suspend: 'delisting', test: 'test' };

/** Reads one public/instruments entry into the builder (or counts why not). */
function addInstrument(b: DiscoveryBuilder, item: unknown): void {
  if (!isRecord(item) || typeof item.instId !== 'string' || item.instId === '') return b.skip('malformed');
  if (item.instType !== undefined && item.instType !== 'SWAP') return b.skip('not_perpetual');
  if (item.ctType !== undefined && item.ctType !== 'linear') return b.skip('not_linear');
  const word = item.state === undefined ? 'trading' : typeof item.state === 'string' ? STATUS[item.state] : undefined;
  if (word === undefined) return b.skip('unknown_status');
  if (word === 'test') return b.skip('test');
  // A live swap with an expiry time set is being delisted; `pre_market` swaps trade before any index exists.
  const status: InstrumentStatus = word === 'trading' && num(item.expTime) > 0 ? 'delisting' : word === 'trading' && item.ruleType === 'pre_market' ? 'prelaunch' : word;
  const ctMult = item.ctMult === undefined || item.ctMult === '' ? 1 : num(item.ctMult);
  const parsed = parseNative(item.instId);
  b.add({
    symbol: item.instId,
    // For linear swaps ctValCcy is the base coin the contract is counted in.
    baseField: typeof item.ctValCcy === 'string' && item.ctValCcy !== '' ? item.ctValCcy : parsed?.base,
    symbolBase: parsed?.base ?? null,
    settle: typeof item.settleCcy === 'string' && item.settleCcy !== '' ? item.settleCcy : parsed?.quote,
    contractValue: num(item.ctVal) * ctMult,
    tickSize: num(item.tickSz),
    minQty: num(item.minSz), // in contracts
    // ASSUMPTION: public/instruments does not list it; every funding-rate push gives the real one
    // (nextFundingTime − fundingTime). A push without nextFundingTime reports it unknown (fundingIntervalAssumed).
    fundingIntervalMs: DEFAULT_FUNDING_INTERVAL_MS,
    fundingIntervalAssumed: true,
    nextFundingMs: 0,
    status,
  });
}

export function createOkxAdapter(quoteChannel: OkxQuoteChannel = 'tickers'): VenueAdapter {
  /** OKX documents no topic cap per public socket, so one socket carries every symbol. */
  const quotes = channelSockets('okx', '', [quoteChannel, 'funding-rate']);
  return {
    exchange: EXCHANGE,
    fundingHistory: okxFundingHistory,
    /** `books` (depth.ts). */
    depth: okxDepth,
    /** Open interest from public/open-interest once a minute (stats.ts); `tickers` carries the volume. */
    restStats: okxRestStats,

    /**
     * Every linear USDT/USDC swap from public/instruments, without funding: seeding funding would cost one
     * public/funding-rate request per instrument (20 per 2 s: ~15 s for 300 swaps) and block start-up, while
     * the funding-rate channel pushes the same fields as soon as it is subscribed.
     */
    async discover(rest: string, fetchJson: FetchJson): Promise<Discovery> {
      const body = await fetchJson(`${rest}/api/v5/public/instruments?instType=SWAP`);
      if (!isRecord(body) || body.code !== '0' || !Array.isArray(body.data)) throw new Error('okx public/instruments: unexpected body');
      const b = new DiscoveryBuilder(EXCHANGE, ASSET_ALIASES);
      for (const item of body.data) addInstrument(b, item);
      return b.result();
    },

    /**
     * Discovery filtered to `symbols`; for a short explicit list (≤ OKX_FUNDING_SEED_MAX) also the funding
     * seed per instrument, paced under the endpoint's 20 requests / 2 s. A failed seed is not fatal: the
     * funding-rate channel pushes the same fields once subscribed.
     */
    async loadMetadata(rest: string, symbols: string[] | null, fetchJson: FetchJson, nowMs: number): Promise<MetadataTable> {
      const table = pick((await this.discover(rest, fetchJson, nowMs)).table, symbols);
      if (symbols === null || table.size > OKX_FUNDING_SEED_MAX) return table;
      let first = true;
      for (const meta of table.values()) {
        if (!first) await new Promise((r) => setTimeout(r, OKX_FUNDING_REST_SPACING_MS));
        first = false;
        let seed: ReturnType<typeof fundingSeed> = null;
        try {
          const fr = await fetchJson(`${rest}/api/v5/public/funding-rate?instId=${encodeURIComponent(meta.symbol)}`);
          seed = isRecord(fr) && fr.code === '0' && Array.isArray(fr.data) ? fundingSeed(fr.data[0]) : null;
        } catch {
          seed = null;
        }
        if (seed === null) continue;
        if (seed.intervalMs > 0) {
          meta.fundingIntervalMs = seed.intervalMs;
          delete meta.fundingIntervalAssumed;
        }
        meta.seedFunding = { ...seed, predicted: false };
      }
      return table;
    },

    async plan(endpoints: VenueEndpoints, symbols: string[]): Promise<ConnectionPlan[]> {
      return quotes.plan(endpoints, symbols);
    },

    createParser(meta: MetadataTable): VenueParser {
      return new OkxParser(meta);
    },

    liveChange: quotes.liveChange,
  };
}

export const okxAdapter: VenueAdapter = createOkxAdapter('tickers');
