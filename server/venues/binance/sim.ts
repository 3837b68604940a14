/**
 * Binance USD-M futures after the 2026 URL split: `<sym>@bookTicker` only on `/public`, `<sym>@markPrice`
 * and `<sym>@markPrice@1s` only on `/market`. Combined-stream mode (`/public/stream`, payloads wrapped as
 * `{"stream","data"}`) and raw mode (`/public/ws/...`), `SUBSCRIBE`/`UNSUBSCRIBE`/`LIST_SUBSCRIPTIONS`,
 * server ping frames, ≤ 1024 streams and ≤ 10 incoming messages/s per connection (limits from facts.ts; over
 * the message rate: disconnected; over the stream cap: refused and disconnected), 300 connections per 5 min,
 * 24 h connection lifetime. REST `/fapi/v1/exchangeInfo`, `/fapi/v1/fundingInfo`, `/fapi/v1/premiumIndex`, `/fapi/v1/ticker/24hr`.
 */
import type { SimLevel } from '../../simulator/depth.js';
import { BINANCE_DEPTH_LIMITS, BINANCE_DEPTH_PATH, BINANCE_DEPTH_SUFFIX } from './depth.js';
import type http from 'node:http';
import { WebSocket } from 'ws';
import { askPrice, baseQty, bidPrice, exchangeLagMs, priceString, fundingRate, nextFundingMs, type MarketModel, type Pair } from '../../simulator/market.js';
import { ok, query, VenueServer, type RestReply, type SimClient } from '../../simulator/venue.js';
import { serveBinanceFundingHistory } from './sim-history.js';

/** Server ping frame every 3 min; no pong within 10 min cuts the connection (timings.serverPingIntervalMs / pongTimeoutMs override). */
const SERVER_PING_MS = 180_000;
const PONG_TIMEOUT_MS = 600_000;
type Base = 'public' | 'market';

interface ClientMode {
  base: Base;
  combined: boolean;
  lastPongAt: number;
}

/** `<symbol>@<stream>[@<option>]` or an all-market `!<stream>`; anything else is "invalid stream". */
const STREAM_NAME = /^(?:[a-z0-9_]+@[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?|![A-Za-z0-9_]+(?:@[A-Za-z0-9_]+){0,2})$/;

const PATH = /^\/(public|market)\/(stream|ws)(?:\/(.*))?$/;

/**
 * The twin's funding cap/floor (fraction per interval), published in fundingInfo and used as the
 * profile's `dynamicFundingCap`: Binance moves a symbol to 1 h when a settlement's rate is at its cap
 * (from 2025-05-02) and fundingInfo then lists `fundingIntervalHours: 1`; markPrice's `T` steps one
 * hour. Lower than the real caps (0.3 %–3 %) so that the simulator's funding (±0.3 % per 8 h) can reach it.
 */
export const BINANCE_SIM_FUNDING_CAP = 0.002;

export class BinanceVenue extends VenueServer {
  private readonly modes = new WeakMap<SimClient, ClientMode>();
  private lastMark = 0;
  private lastMark3s = 0;

  /** A listed symbol (REST answers -1121 Invalid symbol for a pending or delisted one). */
  private pair(symbol: string): Pair | undefined {
    return this.ctx.model.findListed(this.exchange, symbol);
  }

  protected override acceptUpgrade(_req: http.IncomingMessage, url: URL) {
    const m = PATH.exec(url.pathname);
    if (!m) return { accept: false, status: 404, body: 'Not Found' } as const;
    const initial = initialStreams(url, m[3]);
    const max = this.limits.topicsPerConnection;
    if (initial.length > max) {
      this.violation('topics_per_connection');
      return { accept: false, status: 400, body: `too many streams (max ${max})` } as const;
    }
    return { accept: true, tag: `${m[1]}|${m[2]}` } as const;
  }

  protected override onOpen(client: SimClient): void {
    const [base, kind] = client.tag.split('|') as [Base, string];
    this.modes.set(client, { base, combined: kind === 'stream', lastPongAt: this.ctx.now() });
    client.ws.on('pong', () => {
      const mode = this.modes.get(client);
      if (mode) mode.lastPongAt = this.ctx.now();
    });
    const m = PATH.exec(client.url.pathname);
    for (const s of initialStreams(client.url, m?.[3])) this.subscribe(client, `${base}|${s}`);
    this.schedulePing(client);
    this.later(client, this.ctx.timings.connectionMaxAgeMs, () => client.ws.close(1000, 'connection lifetime reached'));
  }

  /** Ping frame every interval; no pong within the timeout → cut. Silenced clients get no ping. */
  private schedulePing(client: SimClient): void {
    const every = this.ctx.timings.serverPingIntervalMs ?? SERVER_PING_MS;
    const timeout = this.ctx.timings.pongTimeoutMs ?? PONG_TIMEOUT_MS;
    this.later(client, every, () => {
      if (client.ws.readyState !== WebSocket.OPEN) return;
      const mode = this.modes.get(client);
      const now = this.ctx.now();
      if (mode && client.silencedUntil === 0 && now - mode.lastPongAt > timeout + every) {
        client.ws.terminate();
        return;
      }
      if (this.isLive(client)) client.ws.ping(String(now));
      this.schedulePing(client);
    });
  }

  protected override onText(client: SimClient, text: string): void {
    const now = this.ctx.now();
    if (this.overRate(client.inboundWindow, this.limits.messageRate, now)) {
      this.violation('message_rate');
      client.ws.close(1008, 'Too many requests');
      return;
    }
    let req: { method?: unknown; params?: unknown; id?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      this.send(client, JSON.stringify({ error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' } }));
      return;
    }
    if (typeof req !== 'object' || req === null) return;
    const id = typeof req.id === 'number' || typeof req.id === 'string' ? req.id : null;
    const fail = (code: number, msg: string): void => {
      this.send(client, JSON.stringify({ error: { code, msg }, id }));
    };
    const mode = this.modes.get(client) as ClientMode;
    if (req.method === 'LIST_SUBSCRIPTIONS') {
      const streams = [...client.topics].map((t) => t.slice(t.indexOf('|') + 1));
      this.send(client, JSON.stringify({ result: streams, id }));
      return;
    }
    if (req.method !== 'SUBSCRIBE' && req.method !== 'UNSUBSCRIBE') {
      return fail(2, `Invalid request: unknown variant \`${String(req.method)}\`, expected one of \`SUBSCRIBE\`, \`UNSUBSCRIBE\`, \`LIST_SUBSCRIPTIONS\`, \`SET_PROPERTY\`, \`GET_PROPERTY\``);
    }
    if (id === null) return fail(2, 'Invalid request: request ID must be an unsigned integer');
    if (!Array.isArray(req.params) || !req.params.every((p) => typeof p === 'string')) return fail(2, 'Invalid request: params must be an array of strings');
    if (!(req.params as string[]).every((s) => STREAM_NAME.test(s))) return fail(2, 'Invalid request: invalid stream');
    if (req.params.length > this.limits.topicsPerMessage) {
      this.violation('topics_per_message');
      return fail(2, `Invalid request: too many streams in one request (max ${this.limits.topicsPerMessage})`);
    }
    const topics = (req.params as string[]).map((s) => `${mode.base}|${s}`);
    if (req.method === 'UNSUBSCRIBE') {
      for (const t of topics) this.unsubscribe(client, t);
    } else {
      const total = new Set([...client.topics, ...topics]).size;
      const max = this.limits.topicsPerConnection;
      if (total > max) {
        this.violation('topics_per_connection');
        fail(-1, `Too many streams: at most ${max} per connection`);
        client.ws.close(1008, 'Too many streams');
        return;
      }
      for (const t of topics) this.subscribe(client, t);
    }
    this.send(client, JSON.stringify({ result: null, id }));
  }

  /** Sends `data` (a JSON object text) to the subscribers of `stream` on `base`, wrapped or raw per connection. */
  private deliver(base: Base, stream: string, data: string): void {
    const subs = this.subscribers(`${base}|${stream}`);
    if (!subs || subs.size === 0) return;
    let wrapped: string | null = null;
    for (const c of subs) {
      if (this.modes.get(c)?.combined) this.send(c, (wrapped ??= `{"stream":"${stream}","data":${data}}`));
      else this.send(c, data);
    }
  }

  /** The pair's book moved with its quote: a `depthUpdate` to the diff stream's subscribers (a fault as injected). */
  private publishDepth(pair: Pair, nowMs: number): void {
    const stream = `${pair.symbol.toLowerCase()}${BINANCE_DEPTH_SUFFIX}`;
    if (!this.subscribers(`public|${stream}`)?.size) {
      this.depth.drop(pair);
      return;
    }
    const u = this.depth.update(pair);
    // A gap: this event is lost. A reset restarts the ids (Binance has no reset message: clients see a broken `pu`).
    if (u === null || u.fault === 'gap') return;
    const t = nowMs - exchangeLagMs(pair);
    const side = (levels: readonly SimLevel[]) => JSON.stringify(levels.map((l) => [priceString(pair, l.ticks * pair.spec.tickSize), baseQty(pair, l.lots)]));
    this.deliver(
      'public',
      stream,
      `{"e":"depthUpdate","E":${t + 1},"T":${t},"s":"${pair.symbol}","U":${depthIdOf(u.seq) - 9},"u":${depthIdOf(u.seq)},"pu":${depthIdOf(u.prevSeq)},"b":${side(u.bids)},"a":${side(u.asks)}}`,
    );
  }

  /** `GET /fapi/v1/depth`: the book now, `limit` levels per side, with the id of the last event it includes. */
  private depthSnapshot(pair: Pair, limitRaw: string | null, nowMs: number): RestReply {
    const limit = limitRaw === null ? 500 : Number(limitRaw);
    if (!(BINANCE_DEPTH_LIMITS as readonly number[]).includes(limit)) return ok({ code: -1130, msg: "Data sent for parameter 'limit' is not valid." }, 400);
    const book = this.depth.book(pair);
    const side = (levels: readonly SimLevel[]) => levels.slice(0, limit).map((l) => [priceString(pair, l.ticks * pair.spec.tickSize), baseQty(pair, l.lots)]);
    const t = nowMs - exchangeLagMs(pair);
    return ok({ lastUpdateId: depthIdOf(book.seq), E: t + 1, T: t, bids: side(book.bids), asks: side(book.asks) });
  }

  publish(pair: Pair, nowMs: number): void {
    this.publishDepth(pair, nowMs);
    const stream = `${pair.symbol.toLowerCase()}@bookTicker`;
    if (!this.subscribers(`public|${stream}`)?.size) return;
    const t = nowMs - exchangeLagMs(pair);
    const p = pair.spec.priceDecimals;
    this.deliver(
      'public',
      stream,
      `{"e":"bookTicker","u":${updateIdOf(pair)},"s":"${pair.symbol}","b":"${bidPrice(pair).toFixed(p)}","B":"${baseQty(pair, pair.bidLots)}",` +
        `"a":"${askPrice(pair).toFixed(p)}","A":"${baseQty(pair, pair.askLots)}","T":${t},"E":${t + 1}}`,
    );
  }

  override periodic(nowMs: number): void {
    const every1s = nowMs - this.lastMark >= 1000;
    const every3s = nowMs - this.lastMark3s >= 3000;
    if (!every1s) return;
    this.lastMark = nowMs;
    if (every3s) this.lastMark3s = nowMs;
    const all: string[] = [];
    const wantAll = (s: string) => this.subscribers(`market|${s}`)?.size;
    const wantArr1s = wantAll('!markPrice@arr@1s');
    const wantArr = every3s && wantAll('!markPrice@arr');
    for (const pair of this.ctx.model.live(this.exchange)) {
      const lower = pair.symbol.toLowerCase();
      const fast = this.subscribers(`market|${lower}@markPrice@1s`)?.size;
      const slow = every3s && this.subscribers(`market|${lower}@markPrice`)?.size;
      if (!fast && !slow && !wantArr1s && !wantArr) continue;
      const data = markPriceData(pair, nowMs);
      if (fast) this.deliver('market', `${lower}@markPrice@1s`, data);
      if (slow) this.deliver('market', `${lower}@markPrice`, data);
      if (wantArr1s || wantArr) all.push(data);
    }
    if (wantArr1s) this.deliver('market', '!markPrice@arr@1s', `[${all.join(',')}]`);
    if (wantArr) this.deliver('market', '!markPrice@arr', `[${all.join(',')}]`);
  }

  protected override rest(method: string, url: URL): RestReply | null {
    const history = serveBinanceFundingHistory(this.exchange, this.ctx, method, url); // funding history (sim-history.ts)
    if (history) return history;
    if (method !== 'GET') return null;
    const now = this.ctx.now();
    const model = this.ctx.model;
    const pairs = model.listed(this.exchange);
    const symbol = query(url, 'symbol');
    const pick = () => (symbol ? this.pair(symbol) : undefined);
    const badSymbol = ok({ code: -1121, msg: 'Invalid symbol.' }, 400);
    switch (url.pathname) {
      case '/fapi/v1/ping':
        return ok({});
      case BINANCE_DEPTH_PATH: {
        const p = pick();
        return p ? this.depthSnapshot(p, query(url, 'limit'), now) : badSymbol;
      }
      case '/fapi/v1/time':
        return ok({ serverTime: now });
      case '/fapi/v1/exchangeInfo':
        return ok({
          timezone: 'UTC',
          serverTime: now,
          futuresType: 'U_MARGINED',
          rateLimits: [
            { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
            { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
          ],
          exchangeFilters: [],
          assets: [
            { asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' },
            { asset: 'USDC', marginAvailable: true, autoAssetExchange: '-10000' },
          ],
          // Delisted perpetuals stay in exchangeInfo for good as SETTLING (as on the venue).
          symbols: model.byExchange[this.exchange].filter((p) => p.status !== 'pending').map((p) => symbolInfo(p, model, now)),
        });
      case '/fapi/v1/fundingInfo':
        return ok(
          pairs
            .filter((p) => p.fundingIntervalMs !== 8 * 3_600_000)
            .map((p) => ({
              symbol: p.symbol,
              adjustedFundingRateCap: BINANCE_SIM_FUNDING_CAP.toFixed(8),
              adjustedFundingRateFloor: (-BINANCE_SIM_FUNDING_CAP).toFixed(8),
              fundingIntervalHours: p.fundingIntervalMs / 3_600_000,
              disclaimer: false,
            })),
        );
      case '/fapi/v1/premiumIndex': {
        if (!symbol) return ok(pairs.map((p) => premiumIndex(p, now)));
        const p = pick();
        return p ? ok(premiumIndex(p, now)) : badSymbol;
      }
      case '/fapi/v1/ticker/24hr': {
        // All symbols (weight 40) or one (weight 1); the simulator enforces no request weight.
        if (!symbol) return ok(pairs.map((p) => ticker24h(p, now)));
        const p = pick();
        return p ? ok(ticker24h(p, now)) : badSymbol;
      }
      case '/fapi/v1/ticker/bookTicker': {
        const view = (p: Pair) => ({
          symbol: p.symbol,
          bidPrice: bidPrice(p).toFixed(p.spec.priceDecimals),
          bidQty: baseQty(p, p.bidLots),
          askPrice: askPrice(p).toFixed(p.spec.priceDecimals),
          askQty: baseQty(p, p.askLots),
          time: now,
          lastUpdateId: updateIdOf(p),
        });
        if (!symbol) return ok(pairs.map(view));
        const p = pick();
        return p ? ok(view(p)) : badSymbol;
      }
      default:
        return null;
    }
  }
}

/** Streams named in the URL: `/public/ws/a/b` or `/public/stream?streams=a/b`. */
function initialStreams(url: URL, pathRest: string | undefined): string[] {
  const fromQuery = url.searchParams.get('streams');
  const list = fromQuery ?? pathRest ?? '';
  return list.split('/').filter((s) => s.length > 0);
}

function updateIdOf(pair: Pair): number {
  return 180_000_000_000 + pair.seq * 7;
}

function markPriceData(pair: Pair, nowMs: number): string {
  const mark = pair.mid.toFixed(8);
  return (
    `{"e":"markPriceUpdate","E":${nowMs},"s":"${pair.symbol}","p":"${mark}","P":"${pair.indexPrice.toFixed(8)}",` +
    `"i":"${pair.indexPrice.toFixed(8)}","r":"${fundingRate(pair).toFixed(8)}","T":${nextFundingMs(pair, nowMs)}}`
  );
}

/**
 * One `GET /fapi/v1/ticker/24hr` entry (fields as in developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/24hr-Ticker-Price-Change-Statistics):
 * decimal strings, times epoch ms. A steady simulated day: about $500 M traded (base volume × the mid).
 */
function ticker24h(pair: Pair, nowMs: number): Record<string, unknown> {
  const spec = pair.spec;
  const last = pair.mid.toFixed(spec.priceDecimals);
  const volume = Number((500_000_000 / spec.startPrice).toFixed(pair.lotDecimals));
  return {
    symbol: pair.symbol,
    priceChange: (pair.mid - spec.startPrice).toFixed(spec.priceDecimals),
    priceChangePercent: (((pair.mid - spec.startPrice) / spec.startPrice) * 100).toFixed(3),
    weightedAvgPrice: last,
    lastPrice: last,
    lastQty: baseQty(pair, 1),
    openPrice: spec.startPrice.toFixed(spec.priceDecimals),
    highPrice: (spec.startPrice * 1.02).toFixed(spec.priceDecimals),
    lowPrice: (spec.startPrice * 0.98).toFixed(spec.priceDecimals),
    volume: String(volume),
    quoteVolume: (volume * pair.mid).toFixed(2),
    openTime: nowMs - 86_400_000,
    closeTime: nowMs - 1,
    firstId: 1_000_000 + pair.seq,
    lastId: 1_000_000 + pair.seq * 2,
    count: pair.seq + 1,
  };
}

function premiumIndex(pair: Pair, nowMs: number): Record<string, unknown> {
  return {
    symbol: pair.symbol,
    markPrice: pair.mid.toFixed(8),
    indexPrice: pair.indexPrice.toFixed(8),
    estimatedSettlePrice: pair.indexPrice.toFixed(8),
    lastFundingRate: fundingRate(pair).toFixed(8),
    interestRate: '0.00010000',
    nextFundingTime: nextFundingMs(pair, nowMs),
    time: nowMs,
  };
}

/**
 * One exchangeInfo symbol (fields as in https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information).
 * A coming delisting shows as `deliveryDate` (the delisting time) on a TRADING symbol; once delisted it
 * stays listed as `SETTLING` with no more quotes.
 */
function symbolInfo(pair: Pair, model: MarketModel, nowMs: number): Record<string, unknown> {
  const spec = pair.spec;
  const delisting = pair.status === 'delisting';
  const tick = spec.tickSize.toFixed(spec.priceDecimals);
  const step = baseQty(pair, 1);
  return {
    symbol: pair.symbol,
    pair: pair.symbol,
    contractType: 'PERPETUAL',
    deliveryDate: delisting ? model.wallTimeOf(pair.statusUntil, nowMs) : pair.status === 'delisted' ? model.wallTimeOf(pair.statusSince, nowMs) : 4133404800000,
    onboardDate: pair.listedAt > 0 ? model.wallTimeOf(pair.listedAt, nowMs) : 1569398400000,
    status: pair.status === 'delisted' ? 'SETTLING' : 'TRADING',
    maintMarginPercent: '2.5000',
    requiredMarginPercent: '5.0000',
    baseAsset: pair.listedBase,
    quoteAsset: pair.settle,
    marginAsset: pair.settle,
    pricePrecision: spec.priceDecimals,
    quantityPrecision: pair.lotDecimals,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    underlyingSubType: [],
    triggerProtect: '0.0500',
    liquidationFee: '0.012500',
    marketTakeBound: '0.05',
    maxMoveOrderLimit: 10000,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: tick, maxPrice: (spec.startPrice * 20).toFixed(spec.priceDecimals), tickSize: tick },
      { filterType: 'LOT_SIZE', stepSize: step, minQty: step, maxQty: (10_000_000 / spec.startPrice).toFixed(pair.lotDecimals) },
      { filterType: 'MARKET_LOT_SIZE', stepSize: step, minQty: step, maxQty: (2_000_000 / spec.startPrice).toFixed(pair.lotDecimals) },
      { filterType: 'MAX_NUM_ORDERS', limit: 200 },
      { filterType: 'MIN_NOTIONAL', notional: '5' },
      { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
    ],
    orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
  };
}

/** Binance update ids of the model book's sequence numbers (ten ids per event, as the venue's grow by many). */
function depthIdOf(seq: number): number {
  return seq * 10;
}
