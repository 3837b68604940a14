/**
 * Bitget public v3: WS `/v3/ws/public` with the `ticker` topic per perpetual (`instType` `usdt-futures` /
 * `usdc-futures`): one ack per arg (`{"event":"subscribe","arg":{…},"connId":…}`), a `snapshot` push, then
 * `update` pushes (full records, as the live feed sends them; every value a string, envelope `ts` a
 * number). Text `ping` → `pong`; a socket that sent no `ping` for 2 min is cut (no close frame). An unknown
 * symbol or topic gets `{"event":"error","code":30001,"msg":"{…} doesn't exist"}` (numeric code, no arg,
 * as the live server answers); a listed symbol under the wrong `instType` is acked and then silent, also
 * as observed. REST in Bitget's envelope `{"code":"00000","msg":"success","requestTime":…,"data":…}`:
 * v3 `market/instruments`, v2 `mix/market/current-fund-rate` (all symbols of a product type) and v3
 * `market/current-fund-rate` (one symbol). The funding interval is the simulated market's, read live.
 *
 * Limits (facts.ts): 10 messages/s per connection (over it: the socket is closed), 240 subscribe requests
 * per hour per connection (error 30006), 4096 bytes of args per request and 1000 channels per connection
 * (error 30016: the venue documents the limits, not the answer), per-IP connects and connections.
 *
 * Depth: topic `books` (server/venues/bitget/depth.ts): a `snapshot` of the whole simulated book after the
 * ack (`checksum` 0, `pseq` 0), then `update` pushes of the changed levels with `pseq` = the previous push's
 * `seq` and the documented CRC32 `checksum` of the best 25 levels a side (the same strings as sent). The
 * book is the simulator's DepthModel (its best level is the ticker's). Faults: `gap` loses one update (the
 * next `pseq` does not match), `reset` sends an update with `pseq` 0, `checksum` sends a wrong checksum.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { askPrice, baseQty, bidPrice, exchangeLagMs, fundingRate, nextFundingMs, priceString, type MarketModel, type Pair } from '../../simulator/market.js';
import { ok, query, VenueServer, type RestReply, type SimClient } from '../../simulator/venue.js';
import { serveBitgetFundingHistory } from './sim-history.js';
import type { SimLevel } from '../../simulator/depth.js';
import { BITGET_CHECKSUM_LEVELS, BITGET_DEPTH_TOPIC, bitgetChecksum } from './depth.js';

const WS_PATH = '/v3/ws/public';
const H = 3_600_000;
/** The docs: ping every 30 s; the server drops a socket without a `ping` for 2 min (interval + timeout). */
const PING_INTERVAL_MS = 30_000;
const PING_TIMEOUT_MS = 90_000;
const INST_TYPES: Readonly<Record<string, string>> = { 'usdt-futures': 'USDT', 'usdc-futures': 'USDC' };
const CATEGORY_SETTLE: Readonly<Record<string, string>> = { 'USDT-FUTURES': 'USDT', 'USDC-FUTURES': 'USDC' };

type Ticker = Record<string, string>;
/** Depth `seq` numbers: this plus the book's update count (the venue's are larger, beyond 2^53). */
const DEPTH_SEQ_BASE = 1_304_314_508_000;

export class BitgetVenue extends VenueServer {
  /** Last text `ping` per connection. */
  private readonly lastPing = new WeakMap<SimClient, number>();

  protected override acceptUpgrade(_req: http.IncomingMessage, url: URL) {
    return url.pathname === WS_PATH ? ({ accept: true } as const) : ({ accept: false, status: 404, body: 'Not Found' } as const);
  }

  protected override onOpen(client: SimClient): void {
    client.tag = randomBytes(8).toString('hex');
    this.lastPing.set(client, this.ctx.now());
    this.watchPing(client);
    this.later(client, this.ctx.timings.connectionMaxAgeMs, () => client.ws.close(1000, 'connection lifetime reached'));
  }

  /** Cuts a socket that sent no text `ping` for the interval + timeout, data flowing or not (observed: code 1006). */
  private watchPing(client: SimClient): void {
    const limit = (this.ctx.timings.clientPingIntervalMs ?? PING_INTERVAL_MS) + (this.ctx.timings.clientPingTimeoutMs ?? PING_TIMEOUT_MS);
    const check = () => {
      if (client.ws.readyState !== client.ws.OPEN) return;
      const idle = this.ctx.now() - (this.lastPing.get(client) ?? client.openedAt);
      if (idle >= limit) client.ws.terminate();
      else this.later(client, limit - idle + 5, check);
    };
    this.later(client, limit, check);
  }

  private error(client: SimClient, code: number, msg: string, op?: string): void {
    const out: Record<string, unknown> = { event: 'error', code, msg };
    if (op !== undefined) out.op = op;
    out.connId = client.tag;
    this.send(client, JSON.stringify(out));
  }

  protected override onText(client: SimClient, text: string): void {
    const now = this.ctx.now();
    // 10 messages per second per connection, pings included; beyond it the venue disconnects.
    if (this.overRate(client.inboundWindow, this.limits.messageRate, now)) {
      this.violation('message_rate');
      client.ws.close(1008, 'request over limit,connection close');
      return;
    }
    if (text === 'ping') {
      this.lastPing.set(client, now);
      this.send(client, 'pong');
      return;
    }
    let req: { op?: unknown; args?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      return this.error(client, 30016, 'Param error');
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req)) return this.error(client, 30016, 'Param error');
    const op = typeof req.op === 'string' ? req.op : '';
    if (op !== 'subscribe' && op !== 'unsubscribe') return this.error(client, 30016, 'Param error', op || undefined);
    if (!Array.isArray(req.args) || req.args.length === 0) return this.error(client, 30016, 'Param error', op);
    // 240 subscribe/unsubscribe requests per hour per connection.
    if (this.overRate(client.subscribeWindow, this.limits.subscribeRate, now)) {
      this.violation('subscribe_rate');
      return this.error(client, 30006, 'request too many', op);
    }
    if (Buffer.byteLength(JSON.stringify(req.args)) > this.limits.bytesPerMessage) {
      this.violation('bytes_per_message');
      return this.error(client, 30016, `Param error: args exceed ${this.limits.bytesPerMessage} bytes`, op);
    }
    if (req.args.length > this.limits.topicsPerMessage) {
      this.violation('topics_per_message');
      return this.error(client, 30016, `Param error: more than ${this.limits.topicsPerMessage} args`, op);
    }
    for (const raw of req.args as unknown[]) this.arg(client, op, raw, now);
  }

  private arg(client: SimClient, op: 'subscribe' | 'unsubscribe', raw: unknown, now: number): void {
    const a = (typeof raw === 'object' && raw !== null ? raw : {}) as { instType?: unknown; topic?: unknown; symbol?: unknown };
    if (typeof a.instType !== 'string' || typeof a.topic !== 'string' || typeof a.symbol !== 'string') return this.error(client, 30016, 'Param error', op);
    const arg = { instType: a.instType, topic: a.topic, symbol: a.symbol };
    const settle = INST_TYPES[a.instType];
    const pair = settle === undefined || (a.topic !== 'ticker' && a.topic !== BITGET_DEPTH_TOPIC) ? undefined : this.ctx.model.findListed(this.exchange, a.symbol);
    if (pair === undefined) return this.error(client, 30001, `${JSON.stringify({ instType: a.instType, symbol: a.symbol, topic: a.topic })} doesn't exist`);
    // A listed symbol under the other instType: acked, then nothing is ever pushed (as on the venue).
    const depth = a.topic === BITGET_DEPTH_TOPIC;
    const topic = pair.settle !== settle ? `silent:${a.topic}:${a.instType}:${a.symbol}` : depth ? depthTopicOf(pair) : topicOf(pair);
    const ack = JSON.stringify({ event: op, arg, connId: client.tag });
    if (op === 'unsubscribe') {
      this.unsubscribe(client, topic);
      this.send(client, ack);
      return;
    }
    if (!client.topics.has(topic) && client.topics.size >= this.limits.topicsPerConnection) {
      this.violation('topics_per_connection');
      return this.error(client, 30016, `Param error: more than ${this.limits.topicsPerConnection} channels on this connection`, op);
    }
    this.subscribe(client, topic);
    this.send(client, ack);
    if (pair.settle !== settle || pair.status !== 'live') return;
    if (depth) {
      const book = this.depth.book(pair);
      this.send(client, depthFrame(pair, 'snapshot', book.bids, book.asks, DEPTH_SEQ_BASE + book.seq, 0, 0, now));
    } else this.send(client, this.frame(pair, 'snapshot', now));
  }

  /** The pair's book moved with its quote: an `update` to the `books` subscribers (faults as injected). */
  private publishDepth(pair: Pair, nowMs: number): void {
    const topic = depthTopicOf(pair);
    if (!this.hasSubscribers(topic)) {
      this.depth.drop(pair);
      return;
    }
    const u = this.depth.update(pair);
    if (u === null || u.fault === 'gap') return; // nothing changed, or this update is lost
    const book = this.depth.book(pair);
    const texts = (levels: readonly SimLevel[]) => levels.slice(0, BITGET_CHECKSUM_LEVELS).map((l) => levelText(pair, l));
    const checksum = bitgetChecksum(texts(book.bids), texts(book.asks));
    const pseq = u.fault === 'reset' ? 0 : DEPTH_SEQ_BASE + u.prevSeq;
    this.broadcast(topic, depthFrame(pair, 'update', u.bids, u.asks, DEPTH_SEQ_BASE + u.seq, pseq, u.fault === 'checksum' ? checksum ^ 1 : checksum, nowMs));
  }

  protected override onResume(client: SimClient): void {
    const now = this.ctx.now();
    for (const t of client.topics) {
      const p = t.startsWith('ticker:') ? this.ctx.model.findListed(this.exchange, t.slice(t.lastIndexOf(':') + 1)) : undefined;
      if (p) this.send(client, this.frame(p, 'snapshot', now));
    }
  }

  publish(pair: Pair, nowMs: number): void {
    this.publishDepth(pair, nowMs);
    const topic = topicOf(pair);
    if (this.hasSubscribers(topic)) this.broadcast(topic, this.frame(pair, 'update', nowMs));
  }

  private frame(pair: Pair, action: 'snapshot' | 'update', nowMs: number): string {
    return `{"action":"${action}","arg":{"instType":"${instTypeOf(pair)}","topic":"ticker","symbol":"${pair.symbol}"},"data":[${JSON.stringify(ticker(pair, nowMs))}],"ts":${nowMs - exchangeLagMs(pair)}}`;
  }

  protected override rest(method: string, url: URL): RestReply | null {
    const history = serveBitgetFundingHistory(this.exchange, this.ctx, method, url); // funding history (sim-history.ts)
    if (history) return history;
    if (method !== 'GET') return null;
    const now = this.ctx.now();
    const envelope = (data: unknown) => ok({ code: '00000', msg: 'success', requestTime: now, data });
    const fail = (code: string, msg: string) => ok({ code, msg, requestTime: now, data: null }, 400);
    const listed = this.ctx.model.listed(this.exchange);
    switch (url.pathname) {
      case '/api/v2/public/time':
        return envelope({ serverTime: String(now) });
      case '/api/v3/market/instruments': {
        const category = query(url, 'category');
        if (category === null) return fail('40019', 'Parameter category cannot be empty');
        const settle = CATEGORY_SETTLE[category.toUpperCase()];
        if (settle === undefined) return envelope([]); // spot, margin, coin-M: none simulated
        const symbol = query(url, 'symbol');
        let pairs = listed.filter((p) => p.settle === settle);
        if (symbol !== null) {
          pairs = pairs.filter((p) => p.symbol === symbol);
          if (pairs.length === 0) return fail('40034', 'Parameter symbol does not exist');
        }
        return envelope(pairs.map((p) => instrument(p, this.ctx.model, now)));
      }
      case '/api/v2/mix/market/current-fund-rate': {
        const productType = query(url, 'productType');
        if (productType === null) return fail('40019', 'Parameter productType cannot be empty');
        const settle = INST_TYPES[productType.toLowerCase()];
        if (settle === undefined) return envelope([]);
        const symbol = query(url, 'symbol');
        let pairs = listed.filter((p) => p.settle === settle);
        if (symbol !== null) {
          pairs = pairs.filter((p) => p.symbol === symbol);
          if (pairs.length === 0) return fail('40034', 'Parameter symbol does not exist');
        }
        return envelope(pairs.map((p) => fundingRow(p, now)));
      }
      case '/api/v3/market/current-fund-rate': {
        const symbol = query(url, 'symbol');
        if (symbol === null) return fail('40019', 'Parameter symbol cannot be empty');
        const pair = this.ctx.model.findListed(this.exchange, symbol);
        if (pair === undefined) return fail('40034', 'Parameter symbol does not exist');
        return envelope([fundingRow(pair, now)]);
      }
      default:
        return null;
    }
  }
}

function instTypeOf(pair: Pair): string {
  return pair.settle === 'USDC' ? 'usdc-futures' : 'usdt-futures';
}

function depthTopicOf(pair: Pair): string {
  return `${BITGET_DEPTH_TOPIC}:${instTypeOf(pair)}:${pair.symbol}`;
}

/** A level as the `books` channel writes it and its checksum reads it: `price:size`, base-coin size. */
function levelText(pair: Pair, l: SimLevel): string {
  return `${priceString(pair, l.ticks * pair.spec.tickSize)}:${baseQty(pair, l.lots)}`;
}

/** One `books` push (UTA "Depth Channel"): `a`/`b` [price, size] strings, `seq`/`pseq`, `checksum`, `ts` a ms string. */
function depthFrame(pair: Pair, action: 'snapshot' | 'update', bids: readonly SimLevel[], asks: readonly SimLevel[], seq: number, pseq: number, checksum: number, nowMs: number): string {
  const side = (levels: readonly SimLevel[]) => levels.map((l) => `["${priceString(pair, l.ticks * pair.spec.tickSize)}","${baseQty(pair, l.lots)}"]`).join(',');
  const ts = nowMs - exchangeLagMs(pair);
  return `{"action":"${action}","arg":{"instType":"${instTypeOf(pair)}","topic":"${BITGET_DEPTH_TOPIC}","symbol":"${pair.symbol}"},"data":[{"a":[${side(asks)}],"b":[${side(bids)}],"checksum":${checksum},"seq":${seq},"pseq":${pseq},"ts":"${ts}"}],"ts":${ts + 2}}`;
}

function topicOf(pair: Pair): string {
  return `ticker:${instTypeOf(pair)}:${pair.symbol}`;
}

/** Bitget writes rates with up to 8 decimals, trailing zeros dropped (`"0.0001"`, `"-0.000025"`, `"0"`). */
function rateString(rate: number): string {
  const s = rate.toFixed(8).replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

/** The v3 futures ticker of a pair now (fields of the UTA Tickers Channel page; every value a string). */
function ticker(pair: Pair, nowMs: number): Ticker {
  const spec = pair.spec;
  const bid = bidPrice(pair);
  const open = spec.startPrice;
  const volume = (1_000_000_000 / open).toFixed(pair.lotDecimals);
  return {
    highPrice24h: priceString(pair, Math.max(open * 1.02, pair.mid)),
    lowPrice24h: priceString(pair, Math.min(open * 0.98, pair.mid)),
    openPrice24h: priceString(pair, open),
    lastPrice: priceString(pair, bid),
    turnover24h: '1000000000.0000',
    volume24h: volume,
    bid1Price: priceString(pair, bid),
    ask1Price: priceString(pair, askPrice(pair)),
    bid1Size: baseQty(pair, pair.bidLots),
    ask1Size: baseQty(pair, pair.askLots),
    price24hPcnt: ((bid - open) / open).toFixed(4),
    indexPrice: priceString(pair, pair.indexPrice),
    markPrice: priceString(pair, pair.mid),
    // Already per the pair's own interval, as Bitget quotes it since 2025-09-22.
    fundingRate: rateString(fundingRate(pair)),
    openInterest: (300_000_000 / open).toFixed(pair.lotDecimals),
    deliveryTime: '',
    deliveryStartTime: '',
    deliveryStatus: '',
    nextFundingTime: String(nextFundingMs(pair, nowMs)),
  };
}

/** One `current-fund-rate` row: the interval in hours, as the simulated market sets it now. */
function fundingRow(pair: Pair, nowMs: number): Record<string, string> {
  return {
    symbol: pair.symbol,
    fundingRate: rateString(fundingRate(pair)),
    fundingRateInterval: String(pair.fundingIntervalMs / H),
    nextUpdate: String(nextFundingMs(pair, nowMs)),
    minFundingRate: '-0.003',
    maxFundingRate: '0.003',
  };
}

/**
 * One v3 futures instrument (fields as in the UTA "Get Instruments" page). A delisting perpetual shows
 * `limit_open` (opening restricted) with its delisting time in `offTime`, then leaves the list.
 */
function instrument(pair: Pair, model: MarketModel, nowMs: number): Record<string, string> {
  const spec = pair.spec;
  const step = baseQty(pair, 1);
  const delisting = pair.status === 'delisting';
  return {
    symbol: pair.symbol,
    category: pair.settle === 'USDC' ? 'USDC-FUTURES' : 'USDT-FUTURES',
    isRwa: 'NO',
    baseCoin: pair.listedBase,
    quoteCoin: pair.settle,
    buyLimitPriceRatio: '0.05',
    sellLimitPriceRatio: '0.05',
    feeRateUpRatio: '0.1',
    makerFeeRate: '0.0002',
    takerFeeRate: '0.0006',
    openCostUpRatio: '0.1',
    minOrderQty: step,
    maxOrderQty: (10_000_000 / spec.startPrice).toFixed(pair.lotDecimals),
    pricePrecision: String(spec.priceDecimals),
    quantityPrecision: String(pair.lotDecimals),
    quotePrecision: '',
    priceMultiplier: spec.tickSize.toFixed(spec.priceDecimals),
    quantityMultiplier: step,
    symbolType: 'perpetual',
    minOrderAmount: '5',
    maxSymbolOrderNum: '200',
    maxProductOrderNum: '400',
    maxPositionNum: '150',
    status: delisting ? 'limit_open' : 'online',
    offTime: delisting ? String(model.wallTimeOf(pair.statusUntil, nowMs)) : '-1',
    limitOpenTime: '-1',
    deliveryTime: '',
    deliveryStartTime: '',
    deliveryPeriod: '',
    launchTime: pair.listedAt > 0 ? String(model.wallTimeOf(pair.listedAt, nowMs)) : '1648108800000',
    fundInterval: String(pair.fundingIntervalMs / H),
    minLeverage: '1',
    maxLeverage: '125',
    maintainTime: '',
    maxMarketOrderQty: (2_000_000 / spec.startPrice).toFixed(pair.lotDecimals),
  };
}
