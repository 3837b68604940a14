/**
 * KuCoin Futures: REST `POST /api/v1/bullet-public` hands out a token and the WS endpoint; the WS
 * (`/endpoint?token=&connectId=`) sends `welcome`, acks subscriptions with `response:true`, answers
 * `{"type":"ping"}` with a pong and closes a connection that stops pinging. Streams:
 * `/contractMarket/tickerV2:SYM` (prices strings, sizes integer contracts, `ts` in nanoseconds) and
 * `/contract/instrument:SYM` (`mark.index.price` every second, `funding.rate` predicted per minute and the
 * current rate at settlement; numbers). REST `contracts/active` carries multiplier and next funding time.
 * Depth: `/contractMarket/level2Depth50:SYM` pushes the 50 best levels per side as a whole (prices strings,
 * sizes integer contracts, the book's `sequence`), at most every 100 ms per symbol and only when the book
 * changed, as the real channel (server/venues/kucoin/depth.ts); the book is the simulator's DepthModel, so
 * its best level is the ticker's. Faults: `gap` loses one push, `reset` restarts the sequence.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { askPrice, bidPrice, exchangeLagMs, fundingRate, nextFundingMs, priceString, type MarketModel, type Pair } from '../../simulator/market.js';
import { ok, VenueServer, type RestReply, type SimClient } from '../../simulator/venue.js';
import { serveKucoinFundingHistory } from './sim-history.js';
import type { SimLevel } from '../../simulator/depth.js';
import { KUCOIN_DEPTH_LEVELS, KUCOIN_DEPTH_PREFIX } from './depth.js';

const WS_PATH = '/endpoint';
const TICKER = '/contractMarket/tickerV2:';
const INSTRUMENT = '/contract/instrument:';
/** `level2Depth50` pushes at most this often per symbol ("Best 50 | 100ms"). */
const DEPTH_PUSH_MS = 100;
/** Depth `sequence` numbers: this plus the book's update count (a reset restarts them far below). */
const DEPTH_SEQ_BASE = 1_709_000_000_000;
/** Advertised in the bullet response (real values; timings.clientPing* override); a connection silent for their sum is closed. */
const PING_INTERVAL_MS = 18_000;
const PING_TIMEOUT_MS = 10_000;
/** How long a bullet token may be used to connect (timings.tokenTtlMs overrides). */
const TOKEN_TTL_MS = 24 * 3_600_000;

export class KucoinVenue extends VenueServer {
  private pingIntervalMs(): number {
    return this.ctx.timings.clientPingIntervalMs ?? PING_INTERVAL_MS;
  }
  private pingTimeoutMs(): number {
    return this.ctx.timings.clientPingTimeoutMs ?? PING_TIMEOUT_MS;
  }
  /** token → expiry (epoch ms). */
  private readonly tokens = new Map<string, number>();
  private lastPredictedPush = 0;
  private lastMarkPush = 0;
  private readonly lastSettlement = new Map<string, number>();
  private readonly lastDepthPush = new WeakMap<Pair, number>();
  tokensIssued = 0;

  /** A listed contract (a pending or delisted one is unknown, as on the venue). */
  private pair(symbol: string): Pair | undefined {
    return this.ctx.model.findListed(this.exchange, symbol);
  }

  protected override acceptUpgrade(_req: http.IncomingMessage, url: URL) {
    if (url.pathname !== WS_PATH && url.pathname !== `${WS_PATH}/`) return { accept: false, status: 404, body: 'Not Found' } as const;
    if (!url.searchParams.get('token')) return { accept: false, status: 401, body: 'token is required' } as const;
    return { accept: true, tag: url.searchParams.get('connectId') ?? '' } as const;
  }

  protected override onOpen(client: SimClient): void {
    const connectId = client.tag || randomBytes(6).toString('hex');
    client.tag = connectId;
    const token = client.url.searchParams.get('token') ?? '';
    const expiry = this.tokens.get(token);
    const now = this.ctx.now();
    if (expiry === undefined || expiry <= now) {
      this.send(client, JSON.stringify({ id: connectId, type: 'error', code: 401, data: expiry === undefined ? 'token is invalid' : 'token is expired' }));
      client.ws.close(1000, 'token');
      return;
    }
    this.send(client, JSON.stringify({ id: connectId, type: 'welcome' }));
    this.watchHeartbeat(client);
    this.later(client, this.ctx.timings.connectionMaxAgeMs, () => client.ws.close(1000, 'connection expired'));
  }

  /** KuCoin closes a connection that sent nothing for pingInterval + pingTimeout. */
  private watchHeartbeat(client: SimClient): void {
    const limit = this.pingIntervalMs() + this.pingTimeoutMs();
    const check = () => {
      if (client.ws.readyState !== client.ws.OPEN) return;
      const idle = this.ctx.now() - client.lastInboundAt;
      if (idle >= limit) client.ws.close(1000, 'ping timeout');
      else this.later(client, limit - idle + 5, check);
    };
    this.later(client, limit, check);
  }

  protected override onText(client: SimClient, text: string): void {
    let req: { id?: unknown; type?: unknown; topic?: unknown; response?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      this.send(client, JSON.stringify({ id: '', type: 'error', code: 400, data: 'message must be json' }));
      return;
    }
    if (typeof req !== 'object' || req === null) return;
    const id = typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : '';
    const err = (code: number, data: string): void => {
      this.send(client, JSON.stringify({ id, type: 'error', code, data }));
    };
    // 100 uplink messages per 10 s, pings included (facts.ts): beyond it the message is refused.
    if (this.overRate(client.inboundWindow, this.limits.messageRate, this.ctx.now())) {
      this.violation('message_rate');
      return err(509, 'exceed max permits per second');
    }
    if (req.type === 'ping') {
      this.send(client, JSON.stringify({ id, type: 'pong', timestamp: this.ctx.now() * 1000 }));
      return;
    }
    if (req.type !== 'subscribe' && req.type !== 'unsubscribe') return err(400, `unsupported type: ${String(req.type)}`);
    if (typeof req.topic !== 'string') return err(400, 'topic is required');
    const colon = req.topic.indexOf(':');
    const prefix = colon < 0 ? req.topic : req.topic.slice(0, colon + 1);
    if ((prefix !== TICKER && prefix !== INSTRUMENT && prefix !== KUCOIN_DEPTH_PREFIX) || colon < 0) return err(404, `topic ${req.topic} is not found`);
    const symbols = req.topic.slice(colon + 1).split(',');
    const perRequest = this.limits.topicsPerMessage;
    if (symbols.length > perRequest) {
      this.violation('topics_per_message');
      return err(509, `exceed max subscription count limitation of ${perRequest} per time`);
    }
    const bad = symbols.filter((s) => !this.pair(s));
    if (bad.length > 0) return err(404, `topic ${prefix}${bad.join(',')} is not found`);
    const fresh = symbols.filter((s) => !client.topics.has(prefix + s)).length;
    if (req.type === 'subscribe' && client.topics.size + fresh > this.limits.topicsPerConnection) {
      // Futures documents no per-socket cap (spot: 400); a lowered one (tests) refuses like the per-request cap.
      this.violation('topics_per_connection');
      return err(509, `exceed max subscription count limitation of ${this.limits.topicsPerConnection} per session`);
    }
    for (const s of symbols) {
      if (req.type === 'subscribe') this.subscribe(client, prefix + s);
      else this.unsubscribe(client, prefix + s);
    }
    if (req.response === true) this.send(client, JSON.stringify({ id, type: 'ack' }));
    if (req.type === 'subscribe' && prefix === KUCOIN_DEPTH_PREFIX) {
      const now = this.ctx.now();
      for (const s of symbols) {
        const pair = this.pair(s)!;
        const book = this.depth.book(pair);
        this.send(client, depthFrame(pair, book.bids, book.asks, DEPTH_SEQ_BASE + book.seq, now));
      }
    }
  }

  /** The pair's book moved with its quote: its 50 best levels to the depth subscribers (throttled; faults as injected). */
  private publishDepth(pair: Pair, nowMs: number): void {
    const topic = KUCOIN_DEPTH_PREFIX + pair.symbol;
    if (!this.hasSubscribers(topic)) {
      this.depth.drop(pair);
      return;
    }
    if (nowMs - (this.lastDepthPush.get(pair) ?? -Infinity) < DEPTH_PUSH_MS) return;
    const u = this.depth.update(pair);
    if (u === null) return; // unchanged: nothing is pushed
    this.lastDepthPush.set(pair, nowMs);
    if (u.fault === 'gap') return; // this push is lost (harmless on a snapshot channel)
    const book = this.depth.book(pair);
    this.broadcast(topic, depthFrame(pair, book.bids, book.asks, DEPTH_SEQ_BASE + u.seq, nowMs));
  }

  publish(pair: Pair, nowMs: number): void {
    this.publishDepth(pair, nowMs);
    const topic = TICKER + pair.symbol;
    if (!this.hasSubscribers(topic)) return;
    const seq = sequenceOf(pair);
    const tsMs = nowMs - exchangeLagMs(pair);
    // Nanoseconds: written as an integer literal (past 2^53, exactly like the venue's frames).
    const ns = `${tsMs}${String((pair.seq * 7717) % 1_000_000).padStart(6, '0')}`;
    this.broadcast(
      topic,
      `{"topic":"${topic}","type":"message","subject":"tickerV2","sn":${seq},"data":{"symbol":"${pair.symbol}","sequence":${seq},` +
        `"bestBidSize":${pair.bidLots},"bestBidPrice":"${priceString(pair, bidPrice(pair))}","bestAskPrice":"${priceString(pair, askPrice(pair))}",` +
        `"bestAskSize":${pair.askLots},"ts":${ns}}}`,
    );
  }

  override periodic(nowMs: number): void {
    const markDue = nowMs - this.lastMarkPush >= 1000;
    const predictedDue = nowMs - this.lastPredictedPush >= this.ctx.timings.fundingPushMs;
    if (markDue) this.lastMarkPush = nowMs;
    if (predictedDue) this.lastPredictedPush = nowMs;
    for (const pair of this.ctx.model.live(this.exchange)) {
      const topic = INSTRUMENT + pair.symbol;
      if (!this.hasSubscribers(topic)) continue;
      const p = pair.spec.priceDecimals + 1;
      if (markDue) {
        this.broadcast(
          topic,
          `{"topic":"${topic}","type":"message","subject":"mark.index.price","data":{"markPrice":${round(pair.mid, p)},"indexPrice":${round(pair.indexPrice, p)},"granularity":1000,"timestamp":${nowMs}}}`,
        );
      }
      if (predictedDue) this.broadcast(topic, fundingFrame(topic, 60_000, fundingRate(pair), nowMs));
      // The current interval's rate is announced at each settlement.
      const period = Math.floor(nowMs / pair.fundingIntervalMs);
      const last = this.lastSettlement.get(pair.symbol);
      this.lastSettlement.set(pair.symbol, period);
      if (last !== undefined && last !== period) this.broadcast(topic, fundingFrame(topic, pair.fundingIntervalMs, fundingRate(pair), period * pair.fundingIntervalMs));
    }
  }

  protected override rest(method: string, url: URL): RestReply | null {
    const history = serveKucoinFundingHistory(this.exchange, this.ctx, method, url); // funding history (sim-history.ts)
    if (history) return history;
    const now = this.ctx.now();
    if (method === 'POST' && url.pathname === '/api/v1/bullet-public') {
      const token = `${randomBytes(24).toString('base64url')}.sim${++this.tokensIssued}`;
      this.tokens.set(token, now + (this.ctx.timings.tokenTtlMs ?? TOKEN_TTL_MS));
      for (const [t, exp] of this.tokens) if (exp <= now) this.tokens.delete(t);
      return ok({
        code: '200000',
        data: {
          token,
          instanceServers: [
            {
              endpoint: `${this.endpoints.ws}${WS_PATH}`,
              encrypt: false,
              protocol: 'websocket',
              pingInterval: this.pingIntervalMs(),
              pingTimeout: this.pingTimeoutMs(),
            },
          ],
        },
      });
    }
    if (method !== 'GET') return null;
    const model = this.ctx.model;
    const pairs = model.listed(this.exchange);
    const path = url.pathname;
    if (path === '/api/v1/timestamp') return ok({ code: '200000', data: now });
    if (path === '/api/v1/contracts/active') return ok({ code: '200000', data: pairs.map((p) => contract(p, model, now)) });
    let m = /^\/api\/v1\/contracts\/([A-Z0-9]+)$/.exec(path);
    if (m) {
      const p = this.pair(m[1]);
      return p ? ok({ code: '200000', data: contract(p, model, now) }) : ok({ code: '40010', msg: 'Contract does not exist' }, 404);
    }
    m = /^\/api\/v1\/funding-rate\/([A-Z0-9]+)\/current$/.exec(path);
    if (m) {
      const p = this.pair(m[1]);
      if (!p) return ok({ code: '40010', msg: 'Contract does not exist' }, 404);
      const next = nextFundingMs(p, now);
      return ok({
        code: '200000',
        data: {
          symbol: `.${p.symbol}FPI${p.fundingIntervalMs / 3_600_000}H`,
          granularity: p.fundingIntervalMs,
          timePoint: next - p.fundingIntervalMs,
          value: fundingRate(p),
          predictedValue: fundingRate(p),
          fundingRateCap: 0.003,
          fundingRateFloor: -0.003,
          period: p.fundingIntervalMs / 3_600_000 === 8 ? 0 : 1,
          fundingTime: next,
        },
      });
    }
    return null;
  }
}

/** One `level2Depth50` push (https://www.kucoin.com/docs-new/3470097w0): prices strings, sizes integer contracts. */
function depthFrame(pair: Pair, bids: readonly SimLevel[], asks: readonly SimLevel[], sequence: number, nowMs: number): string {
  const side = (levels: readonly SimLevel[]) => levels.slice(0, KUCOIN_DEPTH_LEVELS).map((l) => `["${priceString(pair, l.ticks * pair.spec.tickSize)}",${l.lots}]`).join(',');
  const ts = nowMs - exchangeLagMs(pair);
  return `{"topic":"${KUCOIN_DEPTH_PREFIX}${pair.symbol}","type":"message","subject":"level2","sn":${ts},"data":{"bids":[${side(bids)}],"sequence":${sequence},"timestamp":${ts},"ts":${ts},"asks":[${side(asks)}]}}`;
}

function sequenceOf(pair: Pair): number {
  return 1_700_000_000_000 + pair.seq * 4;
}

function round(v: number, decimals: number): number {
  return Number(v.toFixed(decimals));
}

function fundingFrame(topic: string, granularity: number, rate: number, timestamp: number): string {
  return `{"topic":"${topic}","type":"message","subject":"funding.rate","data":{"granularity":${granularity},"fundingRate":${rate},"timestamp":${timestamp}}}`;
}

/**
 * One contracts/active entry (fields as in https://www.kucoin.com/docs-new/rest/futures-trading/market-data/get-all-symbols).
 * A contract being delisted is `CancelOnly` (orders can only be cancelled) until it leaves the list.
 */
function contract(pair: Pair, model: MarketModel, nowMs: number): Record<string, unknown> {
  const spec = pair.spec;
  const base = spec.base === 'BTC' ? 'XBT' : spec.base;
  const next = nextFundingMs(pair, nowMs);
  const hours = pair.fundingIntervalMs / 3_600_000;
  const rate = fundingRate(pair);
  return {
    symbol: pair.symbol,
    rootSymbol: pair.settle,
    type: 'FFWCSX',
    firstOpenDate: pair.listedAt > 0 ? model.wallTimeOf(pair.listedAt, nowMs) : 1585555200000,
    expireDate: null,
    settleDate: null,
    baseCurrency: base,
    quoteCurrency: pair.settle,
    settleCurrency: pair.settle,
    maxOrderQty: 1000000,
    maxPrice: 1000000.0,
    lotSize: 1,
    tickSize: spec.tickSize,
    indexPriceTickSize: spec.tickSize / 10,
    multiplier: pair.lot,
    initialMargin: 0.008,
    maintainMargin: 0.004,
    maxRiskLimit: 100000,
    minRiskLimit: 100000,
    riskStep: 50000,
    makerFeeRate: 0.0002,
    takerFeeRate: 0.0006,
    takerFixFee: 0.0,
    makerFixFee: 0.0,
    settlementFee: null,
    isDeleverage: true,
    isQuanto: true,
    isInverse: false,
    markMethod: 'FairPrice',
    fairMethod: 'FundingRate',
    fundingBaseSymbol: `.${base}INT${hours}H`,
    fundingQuoteSymbol: `.${pair.settle}INT${hours}H`,
    fundingRateSymbol: `.${pair.symbol}FPI${hours}H`,
    indexSymbol: `.K${base}${pair.settle}`,
    settlementSymbol: '',
    status: pair.status === 'delisting' ? 'CancelOnly' : 'Open',
    fundingFeeRate: rate,
    predictedFundingFeeRate: rate,
    fundingRateGranularity: pair.fundingIntervalMs,
    openInterest: String(Math.round(300_000_000 / spec.startPrice / pair.lot)),
    turnoverOf24h: 500000000.0,
    volumeOf24h: Number((500_000_000 / spec.startPrice).toFixed(4)),
    markPrice: Number(pair.mid.toFixed(spec.priceDecimals + 1)),
    indexPrice: Number(pair.indexPrice.toFixed(spec.priceDecimals + 1)),
    lastTradePrice: Number(bidPrice(pair).toFixed(spec.priceDecimals)),
    nextFundingRateTime: next - nowMs,
    maxLeverage: 125,
    sourceExchanges: ['okex', 'binance', 'kucoin', 'bybit', 'bitget', 'gateio'],
    premiumsSymbol1M: `.${base}${pair.settle}MPI`,
    premiumsSymbol8H: `.${base}${pair.settle}MPI8H`,
    fundingBaseSymbol1M: `.${base}INT`,
    fundingQuoteSymbol1M: `.${pair.settle}INT`,
    lowPrice: Number((spec.startPrice * 0.98).toFixed(spec.priceDecimals)),
    highPrice: Number((spec.startPrice * 1.02).toFixed(spec.priceDecimals)),
    priceChgPct: 0.0012,
    priceChg: Number((spec.startPrice * 0.0012).toFixed(spec.priceDecimals)),
    k: 490.0,
    m: 300.0,
    f: 1.3,
    mmrLimit: 0.3,
    mmrLevConstant: 125.0,
    supportCross: true,
    buyLimit: Number((spec.startPrice * 1.05).toFixed(spec.priceDecimals)),
    sellLimit: Number((spec.startPrice * 0.95).toFixed(spec.priceDecimals)),
    fundingRateCap: 0.003,
    fundingRateFloor: -0.003,
    period: hours === 8 ? 0 : 1,
    nextFundingRateDateTime: next,
  };
}
