/**
 * Bybit v5 public linear: WS `/v5/public/linear` with `tickers.{symbol}` (a full snapshot, then deltas
 * holding only the fields that changed; every value a string), JSON `{"op":"ping"}` heartbeat, and REST
 * `/v5/market/instruments-info` and `/v5/market/tickers`.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { askPrice, baseQty, bidPrice, exchangeLagMs, fundingRate, nextFundingMs, priceString, type MarketModel, type Pair } from '../../simulator/market.js';
import { ok, query, VenueServer, type RestReply, type SimClient } from '../../simulator/venue.js';
import { serveBybitFundingHistory } from './sim-history.js';
import type { SimLevel } from '../../simulator/depth.js';
import { BYBIT_DEPTH_PREFIX } from './depth.js';

const WS_PATH = '/v5/public/linear';

type Ticker = Record<string, string>;

/**
 * The twin's funding cap (fraction per interval), published in `fundingCap` / instruments-info and used
 * as the profile's `dynamicFundingCap`: Bybit's dynamic settlement frequency (from 2025-10-30) moves a
 * symbol to 1 h when a settlement's rate is at its cap and the ticker's `fundingIntervalHour` follows. Lower
 * than the real venue's 0.5 % for BTC so that the simulator's funding (within ±0.3 % per 8 h) can reach it.
 */
export const BYBIT_SIM_FUNDING_CAP = 0.002;

export class BybitVenue extends VenueServer {
  /** Per symbol: the last published full ticker (the base the next delta is computed against). */
  private readonly published = new Map<string, Ticker>();
  private readonly argsChars = new WeakMap<SimClient, number>();

  protected override acceptUpgrade(_req: http.IncomingMessage, url: URL) {
    return url.pathname === WS_PATH ? ({ accept: true } as const) : ({ accept: false, status: 404, body: 'Not Found' } as const);
  }

  protected override onOpen(client: SimClient): void {
    client.tag = randomUUID();
  }

  /** A listed symbol (a pending or delisted one is unknown, as on the venue). */
  private pair(symbol: string): Pair | undefined {
    return this.ctx.model.findListed(this.exchange, symbol);
  }

  private reply(client: SimClient, op: string, success: boolean, retMsg: string, reqId: unknown): void {
    const msg: Record<string, unknown> = { success, ret_msg: retMsg, conn_id: client.tag };
    if (typeof reqId === 'string' || typeof reqId === 'number') msg.req_id = String(reqId);
    msg.op = op;
    this.send(client, JSON.stringify(msg));
  }

  protected override onText(client: SimClient, text: string): void {
    // Bybit documents no message rate for public sockets; a lowered one (tests) is refused and the socket closed.
    if (this.overRate(client.inboundWindow, this.limits.messageRate, this.ctx.now())) {
      this.violation('message_rate');
      this.reply(client, '', false, 'error:too many requests', undefined);
      client.ws.close(1008, 'too many requests');
      return;
    }
    let req: { op?: unknown; args?: unknown; req_id?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      this.reply(client, '', false, `error:request not json, request: ${text.slice(0, 100)}`, undefined);
      return;
    }
    if (typeof req !== 'object' || req === null) {
      this.reply(client, '', false, 'error:request not json', undefined);
      return;
    }
    const op = typeof req.op === 'string' ? req.op : '';
    if (op === 'ping') return this.reply(client, 'ping', true, 'pong', req.req_id);
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      return this.reply(client, op, false, `error:unsupported op: ${op}`, req.req_id);
    }
    const args = Array.isArray(req.args) ? req.args : null;
    if (!args || args.length === 0 || !args.every((a) => typeof a === 'string')) {
      return this.reply(client, op, false, 'error:args must be a non-empty array of strings', req.req_id);
    }
    const topics = args as string[];
    if (topics.length > this.limits.topicsPerMessage) {
      this.violation('topics_per_message');
      return this.reply(client, op, false, `error:args size >${this.limits.topicsPerMessage}`, req.req_id);
    }
    const unknown = topics.filter((t) => !this.topicPair(t));
    if (unknown.length > 0) {
      return this.reply(client, op, false, `error:handler not found,topic:${unknown.join(',')}`, req.req_id);
    }
    if (op === 'unsubscribe') {
      for (const t of topics) this.unsubscribe(client, t);
      return this.reply(client, op, true, '', req.req_id);
    }
    const dup = topics.filter((t) => client.topics.has(t));
    if (dup.length > 0) return this.reply(client, op, false, `error:already subscribed,topic:${dup.join(',')}`, req.req_id);
    const fresh = [...new Set(topics)];
    const chars = (this.argsChars.get(client) ?? 0) + fresh.reduce((n, t) => n + t.length, 0);
    const maxChars = this.limits.argsCharsPerConnection;
    if (chars > maxChars) {
      this.violation('args_chars_per_connection');
      return this.reply(client, op, false, `error:args length exceeds ${maxChars}`, req.req_id);
    }
    if (client.topics.size + fresh.length > this.limits.topicsPerConnection) {
      this.violation('topics_per_connection');
      return this.reply(client, op, false, `error:topics exceed ${this.limits.topicsPerConnection} per connection`, req.req_id);
    }
    this.argsChars.set(client, chars);
    for (const t of fresh) this.subscribe(client, t);
    this.reply(client, op, true, '', req.req_id);
    const now = this.ctx.now();
    for (const t of fresh) this.sendTopicSnapshot(client, t, now);
  }

  /** The listed pair of a `tickers.<symbol>` or `orderbook.50.<symbol>` topic. */
  private topicPair(topic: string): Pair | undefined {
    if (topic.startsWith('tickers.')) return this.pair(topic.slice(8));
    if (topic.startsWith(BYBIT_DEPTH_PREFIX)) return this.pair(topic.slice(BYBIT_DEPTH_PREFIX.length));
    return undefined;
  }

  private sendTopicSnapshot(client: SimClient, topic: string, nowMs: number): void {
    const p = this.topicPair(topic);
    if (!p) return;
    if (topic.startsWith('tickers.')) this.sendSnapshot(client, p, nowMs);
    else {
      const book = this.depth.book(p);
      this.send(client, this.depthFrame(p, 'snapshot', book.bids, book.asks, book.seq, nowMs));
    }
  }

  /**
   * One `orderbook.50` frame (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook): `b`/`a`
   * as [price, size] strings, `u` the update id, `seq` the cross sequence, `cts` the matching time.
   */
  private depthFrame(pair: Pair, type: 'snapshot' | 'delta', bids: readonly SimLevel[], asks: readonly SimLevel[], u: number, nowMs: number): string {
    const side = (levels: readonly SimLevel[]) => JSON.stringify(levels.map((l) => [priceString(pair, l.ticks * pair.spec.tickSize), baseQty(pair, l.lots)]));
    const ts = nowMs - exchangeLagMs(pair);
    return `{"topic":"${BYBIT_DEPTH_PREFIX}${pair.symbol}","type":"${type}","ts":${ts},"data":{"s":"${pair.symbol}","b":${side(bids)},"a":${side(asks)},"u":${u},"seq":${csOf(pair)}},"cts":${ts - 1}}`;
  }

  /** The pair's book moved with its quote: a delta to the depth subscribers (a fault as injected). */
  private publishDepth(pair: Pair, nowMs: number): void {
    const topic = `${BYBIT_DEPTH_PREFIX}${pair.symbol}`;
    if (!this.hasSubscribers(topic)) {
      this.depth.drop(pair);
      return;
    }
    const u = this.depth.update(pair);
    if (u === null || u.fault === 'gap') return; // a gap: this delta is lost
    if (u.fault === 'reset') {
      // The venue restarted its book: a snapshot with u = 1.
      const book = this.depth.book(pair);
      this.broadcast(topic, this.depthFrame(pair, 'snapshot', book.bids, book.asks, u.seq, nowMs));
      return;
    }
    this.broadcast(topic, this.depthFrame(pair, 'delta', u.bids, u.asks, u.seq, nowMs));
  }

  protected override onResume(client: SimClient): void {
    // Deltas were withheld while silenced: a snapshot restores the client's merge base.
    const now = this.ctx.now();
    for (const t of client.topics) this.sendTopicSnapshot(client, t, now);
  }

  private sendSnapshot(client: SimClient, pair: Pair, nowMs: number): void {
    const ticker = this.published.get(pair.symbol) ?? this.current(pair, nowMs);
    this.published.set(pair.symbol, ticker);
    this.send(client, this.frame(pair, 'snapshot', ticker, nowMs));
  }

  private frame(pair: Pair, type: 'snapshot' | 'delta', data: Ticker, nowMs: number): string {
    return `{"topic":"tickers.${pair.symbol}","type":"${type}","data":${JSON.stringify(data)},"cs":${csOf(pair)},"ts":${nowMs - exchangeLagMs(pair)}}`;
  }

  publish(pair: Pair, nowMs: number): void {
    this.publishDepth(pair, nowMs);
    const topic = `tickers.${pair.symbol}`;
    if (!this.hasSubscribers(topic)) {
      this.published.delete(pair.symbol); // the next subscriber gets a fresh snapshot
      return;
    }
    const next = this.current(pair, nowMs);
    const prev = this.published.get(pair.symbol);
    if (!prev) {
      this.published.set(pair.symbol, next);
      this.broadcast(topic, this.frame(pair, 'snapshot', next, nowMs));
      return;
    }
    const delta: Ticker = { symbol: pair.symbol };
    let changed = 0;
    for (const k in next) {
      if (next[k] !== prev[k]) {
        delta[k] = next[k];
        changed++;
      }
    }
    if (changed === 0) return;
    this.published.set(pair.symbol, next);
    this.broadcast(topic, this.frame(pair, 'delta', delta, nowMs));
  }

  /** The full linear ticker of a pair now, in Bybit's field order; every value a string. */
  private current(pair: Pair, nowMs: number): Ticker {
    const spec = pair.spec;
    const bid = bidPrice(pair);
    const last = bid;
    const prev24 = spec.startPrice;
    const volume = (1_000_000_000 / spec.startPrice).toFixed(pair.lotDecimals);
    return {
      symbol: pair.symbol,
      tickDirection: pair.seq % 2 === 0 ? 'PlusTick' : 'ZeroMinusTick',
      price24hPcnt: ((last - prev24) / prev24).toFixed(6),
      lastPrice: priceString(pair, last),
      prevPrice24h: priceString(pair, prev24),
      highPrice24h: priceString(pair, Math.max(prev24 * 1.02, last)),
      lowPrice24h: priceString(pair, Math.min(prev24 * 0.98, last)),
      prevPrice1h: priceString(pair, prev24),
      markPrice: priceString(pair, pair.mid),
      indexPrice: priceString(pair, pair.indexPrice),
      openInterest: (300_000_000 / spec.startPrice).toFixed(pair.lotDecimals),
      openInterestValue: '300000000.00',
      turnover24h: '1000000000.0000',
      volume24h: volume,
      nextFundingTime: String(nextFundingMs(pair, nowMs)),
      fundingRate: formatRate(fundingRate(pair)),
      bid1Price: priceString(pair, bid),
      bid1Size: baseQty(pair, pair.bidLots),
      ask1Price: priceString(pair, askPrice(pair)),
      ask1Size: baseQty(pair, pair.askLots),
      deliveryTime: '',
      basisRate: '',
      deliveryFeeRate: '',
      predictedDeliveryPrice: '',
      preOpenPrice: '',
      preQty: '',
      curPreListingPhase: '',
      fundingIntervalHour: String(pair.fundingIntervalMs / 3_600_000),
      fundingCap: String(BYBIT_SIM_FUNDING_CAP),
    };
  }

  protected override rest(method: string, url: URL): RestReply | null {
    const history = serveBybitFundingHistory(this.exchange, this.ctx, method, url); // funding history (sim-history.ts)
    if (history) return history;
    if (method !== 'GET') return null;
    const now = this.ctx.now();
    const envelope = (result: unknown, retCode = 0, retMsg = 'OK') => ok({ retCode, retMsg, result, retExtInfo: {}, time: now });
    switch (url.pathname) {
      case '/v5/market/time':
        return envelope({ timeSecond: String(Math.floor(now / 1000)), timeNano: `${now}000000` });
      case '/v5/market/instruments-info': {
        if (query(url, 'category') !== 'linear') return envelope({}, 10001, 'params error: category only support linear here');
        const symbol = query(url, 'symbol');
        const limit = Math.min(1000, Math.max(1, Number(query(url, 'limit') ?? 500) || 500));
        const start = cursorOffset(query(url, 'cursor'));
        const status = query(url, 'status');
        const baseCoin = query(url, 'baseCoin');
        // A delisting perpetual keeps status Trading with its delisting time in deliveryTime; the default
        // query (no status) returns Trading symbols. No simulated symbol is PreLaunch/Delivering/Closed.
        let pairs = status === null || status === 'Trading' ? this.ctx.model.listed(this.exchange) : [];
        if (symbol) pairs = pairs.filter((p) => p.symbol === symbol);
        if (baseCoin) pairs = pairs.filter((p) => p.listedBase === baseCoin);
        const page = pairs.slice(start, start + limit);
        const nextPageCursor = start + limit < pairs.length ? makeCursor(start + limit) : '';
        return envelope({ category: 'linear', list: page.map((p) => instrumentInfo(p, this.ctx.model, now)), nextPageCursor });
      }
      case '/v5/market/tickers': {
        if (query(url, 'category') !== 'linear') return envelope({}, 10001, 'params error: category only support linear here');
        const symbol = query(url, 'symbol');
        let pairs = this.ctx.model.listed(this.exchange);
        if (symbol) pairs = pairs.filter((p) => p.symbol === symbol);
        if (symbol && pairs.length === 0) return envelope({ category: '', list: [] }, 10001, 'params error: symbol invalid');
        return envelope({ category: 'linear', list: pairs.map((p) => this.current(p, now)) });
      }
      default:
        return null;
    }
  }
}

/** Bybit's cross sequence grows with every update of the symbol. */
function csOf(pair: Pair): number {
  return 40_000_000_000 + pair.seq * 3;
}

/** Bybit sends funding with up to 8 decimals, trailing zeros dropped ("0.0001", "-0.00012345"). */
function formatRate(rate: number): string {
  return String(Number(rate.toFixed(8)));
}

/**
 * Bybit's cursor is opaque (`"first%3D…%26last%3D…"` on the venue); ours encodes the next offset the same
 * way a client must treat it: passed back verbatim.
 */
function makeCursor(offset: number): string {
  return `next%3D${offset}`;
}

function cursorOffset(cursor: string | null): number {
  const m = cursor ? /^next(?:%3D|=)(\d+)$/.exec(cursor) : null;
  return m ? Number(m[1]) : 0;
}

/** One instruments-info entry (fields as in https://bybit-exchange.github.io/docs/v5/market/instrument). */
function instrumentInfo(pair: Pair, model: MarketModel, nowMs: number): Record<string, unknown> {
  const spec = pair.spec;
  const step = baseQty(pair, 1);
  return {
    symbol: pair.symbol,
    contractType: 'LinearPerpetual',
    status: 'Trading',
    baseCoin: pair.listedBase,
    quoteCoin: pair.settle,
    launchTime: pair.listedAt > 0 ? String(model.wallTimeOf(pair.listedAt, nowMs)) : '1585526400000',
    deliveryTime: pair.status === 'delisting' ? String(model.wallTimeOf(pair.statusUntil, nowMs)) : '0',
    deliveryFeeRate: '',
    priceScale: String(spec.priceDecimals),
    leverageFilter: { minLeverage: '1', maxLeverage: '100.00', leverageStep: '0.01' },
    priceFilter: { minPrice: spec.tickSize.toFixed(spec.priceDecimals), maxPrice: (spec.startPrice * 20).toFixed(spec.priceDecimals), tickSize: spec.tickSize.toFixed(spec.priceDecimals) },
    lotSizeFilter: {
      maxOrderQty: (10_000_000 / spec.startPrice).toFixed(pair.lotDecimals),
      minOrderQty: step,
      qtyStep: step,
      postOnlyMaxOrderQty: (10_000_000 / spec.startPrice).toFixed(pair.lotDecimals),
      maxMktOrderQty: (2_000_000 / spec.startPrice).toFixed(pair.lotDecimals),
      minNotionalValue: '5',
    },
    unifiedMarginTrade: true,
    fundingInterval: pair.fundingIntervalMs / 60_000,
    settleCoin: pair.settle,
    copyTrading: 'both',
    upperFundingRate: String(BYBIT_SIM_FUNDING_CAP),
    lowerFundingRate: String(-BYBIT_SIM_FUNDING_CAP),
    isPreListing: false,
    preListingInfo: null,
    riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' },
    displayName: '',
  };
}
