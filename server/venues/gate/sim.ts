/**
 * Gate futures v4 (USDT) twin. WS `/v4/ws/usdt`: requests `{time, channel, event, payload}`; every
 * reply carries `time` (s) and `time_ms` (ms); a subscription is acked on the channel's own name with
 * `event:"subscribe"` and `result:{status:"success"}`, refused with an `error:{code,message}` object
 * (codes 1 invalid argument struct, 2 invalid argument, 3 service error, 4 authentication fail);
 * `futures.ping` → `futures.pong`, plus protocol ping frames from the server (a client that stops
 * answering them is cut); a `futures.system` `upgrade` notice a few seconds before the server closes a
 * connection (timings.connectionMaxAgeMs). Streams: `futures.book_ticker` (sizes in contracts: integers,
 * or decimal strings for a client that connected with `X-Gate-Size-Decimal: 1`; `t` in ms) and `futures.tickers` (funding,
 * strings; array `result`). REST: `/api/v4/futures/usdt/contracts[/{contract}]` (interval and next
 * apply in SECONDS, as the simulated market gives each pair) and `/api/v4/futures/usdt/funding_rate`.
 * Depth: `futures.obu` with payload `ob.{contract}.{50|400}` (one stream per request; a stream already
 * subscribed on the connection answers error code 2 "Alert sub …"): a full push (`full:true`, `u`) after the
 * ack, then incremental pushes with `U` = previous `u` + 1 and `u`, sizes integer contracts as strings,
 * `t` ms (server/venues/gate/depth.ts). The book is the simulator's DepthModel (its best level is the
 * book ticker's; it holds 50 levels, so `.400` streams carry those 50). Faults: `gap` loses one push (the
 * next `U` does not follow), `reset` sends a full push again with the ids restarted.
 */
import type http from 'node:http';
import { WebSocket } from 'ws';
import { askPrice, bidPrice, exchangeLagMs, fundingRate, nextFundingMs, priceString, type MarketModel, type Pair } from '../../simulator/market.js';
import { ok, query, VenueServer, type RestReply, type SimClient, type UpgradeDecision } from '../../simulator/venue.js';
import type { RateLimit } from '../../../shared/venue-facts.js';
import { serveGateFundingHistory } from './sim-history.js';
import type { SimLevel } from '../../simulator/depth.js';
import { GATE_DEPTH_CHANNEL } from './depth.js';

const WS_PATH = '/v4/ws/usdt';
const BOOK_TICKER = 'futures.book_ticker';
const TICKERS = 'futures.tickers';
const CHANNELS = new Set([BOOK_TICKER, TICKERS]);
/** The `futures.obu` stream depths. */
const OBU_DEPTHS = ['50', '400'];
/** Depth ids: this plus the book's update count. */
const DEPTH_ID_BASE = 73_777_700_000;
/**
 * Server protocol pings: Gate documents that its server pings and cuts a client that does not answer, but
 * not the interval or the grace (timings.serverPingIntervalMs / pongTimeoutMs override these guesses).
 */
const SERVER_PING_MS = 10_000;
const PONG_TIMEOUT_MS = 30_000;
/** Public REST: 200 requests per 10 s per endpoint per IP (facts.ts). */
const REST_RATE: RateLimit = { count: 200, windowMs: 10_000 };
/** How long before it closes a connection the twin sends the upgrade notice. */
const UPGRADE_NOTICE_LEAD_MS = 5_000;
/** Decimal sizes for clients that connected with this header (as the venue does since 2026-03). */
const SIZE_DECIMAL_TAG = 'size-decimal';

export class GateVenue extends VenueServer {
  private readonly lastTickersPush = new Map<string, number>();
  private readonly lastPongAt = new Map<SimClient, number>();
  private readonly restWindows = new Map<string, number[]>();

  protected override acceptUpgrade(req: http.IncomingMessage, url: URL): UpgradeDecision {
    if (url.pathname !== WS_PATH) return { accept: false, status: 404, body: 'Not Found' };
    return { accept: true, tag: req.headers['x-gate-size-decimal'] === '1' ? SIZE_DECIMAL_TAG : '' };
  }

  protected override tooManyConnections(): UpgradeDecision {
    return { accept: false, status: 429, body: 'too many connections' };
  }

  protected override onOpen(client: SimClient): void {
    this.lastPongAt.set(client, this.ctx.now());
    client.ws.on('pong', () => this.lastPongAt.set(client, this.ctx.now()));
    this.schedulePing(client);
    // A connection the server is about to close gets Gate's `futures.system` upgrade notice first (Gate
    // announcement 49851: pushed before an upgrade closes the connection; the lead time is not documented).
    const maxAge = this.ctx.timings.connectionMaxAgeMs;
    this.later(client, maxAge - Math.min(UPGRADE_NOTICE_LEAD_MS, maxAge / 2), () => {
      if (client.ws.readyState === WebSocket.OPEN && client.silencedUntil === 0) client.ws.send(upgradeNotice(this.ctx.now()));
    });
    this.later(client, maxAge, () => client.ws.close(1000, 'connection lifetime reached'));
  }

  protected override onClosed(client: SimClient): void {
    this.lastPongAt.delete(client);
  }

  /** A protocol ping every interval; no pong for the interval plus the grace → cut. Silenced clients get none. */
  private schedulePing(client: SimClient): void {
    const every = this.ctx.timings.serverPingIntervalMs ?? SERVER_PING_MS;
    const grace = this.ctx.timings.pongTimeoutMs ?? PONG_TIMEOUT_MS;
    this.later(client, every, () => {
      if (client.ws.readyState !== WebSocket.OPEN) return;
      const now = this.ctx.now();
      if (client.silencedUntil === 0 && now - (this.lastPongAt.get(client) ?? now) > every + grace) {
        client.ws.terminate();
        return;
      }
      if (this.isLive(client)) client.ws.ping(String(now));
      this.schedulePing(client);
    });
  }

  /** The envelope every server frame carries: `time` in seconds, `time_ms` in ms. */
  private envelope(nowMs: number): string {
    return `"time":${Math.floor(nowMs / 1000)},"time_ms":${nowMs}`;
  }

  private reply(client: SimClient, channel: string, event: string, id: unknown, error: { code: number; message: string } | null, result: unknown): void {
    const idPart = typeof id === 'number' && Number.isInteger(id) ? `"id":${id},` : '';
    this.send(client, `{${this.envelope(this.ctx.now())},${idPart}"channel":${JSON.stringify(channel)},"event":${JSON.stringify(event)},"error":${JSON.stringify(error)},"result":${JSON.stringify(result)}}`);
  }

  protected override onText(client: SimClient, text: string): void {
    const now = this.ctx.now();
    let req: { id?: unknown; channel?: unknown; event?: unknown; payload?: unknown; time?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      return this.reply(client, '', '', undefined, { code: 1, message: 'invalid argument struct' }, null);
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req) || typeof req.channel !== 'string') {
      return this.reply(client, '', '', undefined, { code: 1, message: 'invalid argument struct' }, null);
    }
    const { channel, event, id } = req;
    const ev = typeof event === 'string' ? event : '';
    // Gate documents no message rate; a lowered one (tests) is refused with the service error.
    if (this.overRate(client.inboundWindow, this.limits.messageRate, now)) {
      this.violation('message_rate');
      return this.reply(client, channel, ev, id, { code: 3, message: 'service error: too many requests' }, null);
    }
    if (channel === 'futures.ping') {
      this.send(client, `{${this.envelope(now)},"channel":"futures.pong","event":"","result":null}`);
      return;
    }
    if (ev !== 'subscribe' && ev !== 'unsubscribe') return this.reply(client, channel, ev, id, { code: 2, message: `invalid argument: unknown event ${ev}` }, null);
    if (channel === GATE_DEPTH_CHANNEL) return this.onDepthRequest(client, ev, id, req.payload);
    if (!CHANNELS.has(channel)) return this.reply(client, channel, ev, id, { code: 2, message: `invalid argument: unknown channel ${channel}` }, null);
    if (!Array.isArray(req.payload) || req.payload.length === 0 || !req.payload.every((p): p is string => typeof p === 'string')) {
      return this.reply(client, channel, ev, id, { code: 1, message: 'invalid argument struct' }, null);
    }
    const contracts = req.payload;
    if (this.overRate(client.subscribeWindow, this.limits.subscribeRate, now)) {
      this.violation('subscribe_rate');
      return this.reply(client, channel, ev, id, { code: 3, message: 'service error: too many requests' }, null);
    }
    if (contracts.length > this.limits.topicsPerMessage) {
      this.violation('topics_per_message');
      return this.reply(client, channel, ev, id, { code: 2, message: `invalid argument: more than ${this.limits.topicsPerMessage} contracts` }, null);
    }
    const unknown = contracts.find((c) => !this.pair(c));
    if (unknown !== undefined) return this.reply(client, channel, ev, id, { code: 2, message: `invalid argument: unknown contract ${unknown}` }, null);
    const topics = contracts.map((c) => this.topic(client, channel, c));
    if (ev === 'unsubscribe') {
      for (const t of topics) this.unsubscribe(client, t);
      return this.reply(client, channel, ev, id, null, { status: 'success' });
    }
    const fresh = topics.filter((t) => !client.topics.has(t)).length;
    if (client.topics.size + fresh > this.limits.topicsPerConnection) {
      // Gate documents no topic cap per connection; a lowered one (tests) refuses the request.
      this.violation('topics_per_connection');
      return this.reply(client, channel, ev, id, { code: 2, message: `invalid argument: more than ${this.limits.topicsPerConnection} subscriptions` }, null);
    }
    for (const t of topics) this.subscribe(client, t);
    this.reply(client, channel, ev, id, null, { status: 'success' });
    // The current state follows the ack.
    for (const c of contracts) {
      const pair = this.pair(c)!;
      if (channel === BOOK_TICKER) this.send(client, bookTickerFrame(pair, now, client.tag === SIZE_DECIMAL_TAG));
      else this.send(client, tickersFrame(pair, now));
    }
  }

  /** `futures.obu` (un)subscribe of one `ob.{contract}.{depth}` stream; a full push follows a subscription. */
  private onDepthRequest(client: SimClient, ev: 'subscribe' | 'unsubscribe', id: unknown, payload: unknown): void {
    const stream = Array.isArray(payload) && payload.length === 1 && typeof payload[0] === 'string' ? payload[0] : null;
    const parts = stream?.split('.') ?? [];
    const pair = parts.length === 3 && parts[0] === 'ob' && OBU_DEPTHS.includes(parts[2]) ? this.pair(parts[1]) : undefined;
    if (stream === null || pair === undefined) return this.reply(client, GATE_DEPTH_CHANNEL, ev, id, { code: 2, message: `invalid argument: ${JSON.stringify(payload)}` }, null);
    const topic = `${GATE_DEPTH_CHANNEL}:${stream}`;
    if (ev === 'unsubscribe') {
      this.unsubscribe(client, topic);
      return this.reply(client, GATE_DEPTH_CHANNEL, ev, id, null, { status: 'success' });
    }
    if (client.topics.has(topic)) return this.reply(client, GATE_DEPTH_CHANNEL, ev, id, { code: 2, message: `Alert sub ${stream}` }, null);
    this.subscribe(client, topic);
    this.reply(client, GATE_DEPTH_CHANNEL, ev, id, null, { status: 'success' });
    const book = this.depth.book(pair);
    this.send(client, obuFrame(pair, stream, book.bids, book.asks, null, DEPTH_ID_BASE + book.seq, this.ctx.now()));
  }

  /** The pair's book moved with its quote: an incremental push to each depth stream (faults as injected). */
  private publishDepth(pair: Pair, nowMs: number): void {
    const streams = OBU_DEPTHS.map((d) => `ob.${pair.symbol}.${d}`).filter((st) => this.hasSubscribers(`${GATE_DEPTH_CHANNEL}:${st}`));
    if (streams.length === 0) {
      this.depth.drop(pair);
      return;
    }
    const u = this.depth.update(pair);
    if (u === null || u.fault === 'gap') return; // nothing changed, or this push is lost
    const book = this.depth.book(pair);
    for (const st of streams) {
      const frame =
        u.fault === 'reset'
          ? obuFrame(pair, st, book.bids, book.asks, null, DEPTH_ID_BASE + u.seq, nowMs)
          : obuFrame(pair, st, u.bids, u.asks, DEPTH_ID_BASE + u.prevSeq + 1, DEPTH_ID_BASE + u.seq, nowMs);
      this.broadcast(`${GATE_DEPTH_CHANNEL}:${st}`, frame);
    }
  }

  /** A listed contract (a pending or delisted one is unknown, as on the venue). */
  private pair(name: string): Pair | undefined {
    return this.ctx.model.findListed(this.exchange, name);
  }

  /** Book-ticker topics are kept per size format (integers, or decimals for clients with the header). */
  private topic(client: SimClient, channel: string, contract: string): string {
    return channel === BOOK_TICKER && client.tag === SIZE_DECIMAL_TAG ? `${channel}#dec:${contract}` : `${channel}:${contract}`;
  }

  publish(pair: Pair, nowMs: number): void {
    this.publishDepth(pair, nowMs);
    const t = `${BOOK_TICKER}:${pair.symbol}`;
    if (this.hasSubscribers(t)) this.broadcast(t, bookTickerFrame(pair, nowMs, false));
    const d = `${BOOK_TICKER}#dec:${pair.symbol}`;
    if (this.hasSubscribers(d)) this.broadcast(d, bookTickerFrame(pair, nowMs, true));
  }

  override periodic(nowMs: number): void {
    const every = this.ctx.timings.fundingPushMs;
    for (const pair of this.ctx.model.live(this.exchange)) {
      const topic = `${TICKERS}:${pair.symbol}`;
      if (!this.hasSubscribers(topic)) continue;
      const last = this.lastTickersPush.get(pair.symbol) ?? 0;
      const settled = Math.floor(last / pair.fundingIntervalMs) !== Math.floor(nowMs / pair.fundingIntervalMs);
      if (nowMs - last >= every || settled) {
        this.lastTickersPush.set(pair.symbol, nowMs);
        this.broadcast(topic, tickersFrame(pair, nowMs));
      }
    }
  }

  protected override rest(method: string, url: URL): RestReply | null {
    const history = serveGateFundingHistory(this.exchange, this.ctx, method, url); // funding history (sim-history.ts)
    if (history) return history;
    if (method !== 'GET') return null;
    const now = this.ctx.now();
    const path = url.pathname;
    if (!path.startsWith('/api/v4/futures/usdt/')) return null;
    // 200 requests per 10 s per endpoint (path without the contract) per IP: beyond it, Gate's 429.
    const endpoint = path.startsWith('/api/v4/futures/usdt/contracts/') ? '/api/v4/futures/usdt/contracts/{contract}' : path;
    let window = this.restWindows.get(endpoint);
    if (!window) this.restWindows.set(endpoint, (window = []));
    if (this.overRate(window, REST_RATE, now)) {
      this.violation('rest_rate');
      return ok({ label: 'TOO_MANY_REQUESTS', message: 'Request Rate limit Exceeded' }, 429);
    }
    const model = this.ctx.model;
    if (path === '/api/v4/futures/usdt/contracts') return ok(model.listed(this.exchange).map((p) => contract(p, model, now)));
    const m = /^\/api\/v4\/futures\/usdt\/contracts\/([^/]+)$/.exec(path);
    if (m) {
      const p = this.pair(decodeURIComponent(m[1]));
      return p ? ok(contract(p, model, now)) : ok({ label: 'CONTRACT_NOT_FOUND', message: 'Contract not found' }, 404);
    }
    if (path === '/api/v4/futures/usdt/funding_rate') {
      const name = query(url, 'contract');
      if (name === null) return ok({ label: 'MISSING_REQUIRED_PARAM', message: 'Missing required parameter: contract' }, 400);
      const p = this.pair(name);
      if (!p) return ok({ label: 'CONTRACT_NOT_FOUND', message: 'Contract not found' }, 404);
      const limit = Math.min(1000, Math.max(1, Number(query(url, 'limit') ?? 100) || 100));
      // Settled periods, newest first: `t` in SECONDS, `r` a string (FundingRateRecord).
      const last = nextFundingMs(p, now) - p.fundingIntervalMs;
      const rate = fundingRate(p);
      return ok(Array.from({ length: Math.min(limit, 24) }, (_, i) => ({ t: (last - i * p.fundingIntervalMs) / 1000, r: String(rate) })));
    }
    return null;
  }
}

/** A `futures.book_ticker` update: prices strings, sizes contracts, `t` ms, envelope seconds + ms. */
/**
 * One `futures.obu` push (Gate announcement 44946): full (`first` null: `full:true`, the whole book) or
 * incremental (`U` = first, `u` = last id; a removed level has size "0"). Sizes integer contracts as strings.
 */
function obuFrame(pair: Pair, stream: string, bids: readonly SimLevel[], asks: readonly SimLevel[], first: number | null, last: number, nowMs: number): string {
  const side = (levels: readonly SimLevel[]) => levels.map((l) => `["${priceString(pair, l.ticks * pair.spec.tickSize)}","${l.lots}"]`).join(',');
  const ids = first === null ? `"full":true,"s":"${stream}","u":${last}` : `"s":"${stream}","U":${first},"u":${last}`;
  return `{"channel":"futures.obu","result":{"t":${nowMs - exchangeLagMs(pair)},${ids},"b":[${side(bids)}],"a":[${side(asks)}]},"time":${Math.floor(nowMs / 1000)},"time_ms":${nowMs}}`;
}

function bookTickerFrame(pair: Pair, nowMs: number, decimalSizes: boolean): string {
  const size = (lots: number) => (decimalSizes ? `"${lots}"` : String(lots));
  return (
    `{"time":${Math.floor(nowMs / 1000)},"time_ms":${nowMs},"channel":"${BOOK_TICKER}","event":"update","result":{"t":${nowMs - exchangeLagMs(pair)},` +
    `"u":${90_000_000_000 + pair.seq * 3},"s":"${pair.symbol}","b":"${priceString(pair, bidPrice(pair))}","B":${size(pair.bidLots)},` +
    `"a":"${priceString(pair, askPrice(pair))}","A":${size(pair.askLots)}}}`
  );
}

/** Gate's service upgrade notice (gate.com/docs/developers/futures/ws/en, "Service upgrade notification"); the text is ours. */
function upgradeNotice(nowMs: number): string {
  const result = { type: 'upgrade', msg: 'This connection closes soon for a service upgrade: please reconnect.' };
  return JSON.stringify({ time: Math.floor(nowMs / 1000), time_ms: nowMs, channel: 'futures.system', event: 'update', result });
}

/** A `futures.tickers` update (array `result`, every figure a string; funding per the pair's own interval). */
function tickersFrame(pair: Pair, nowMs: number): string {
  const p = (v: number) => priceString(pair, v);
  const open = pair.spec.startPrice;
  const rate = String(fundingRate(pair));
  const contracts = Math.round(1_000_000_000 / open / pair.lot);
  const entry = {
    contract: pair.symbol,
    last: p(bidPrice(pair)),
    change_percentage: ((pair.mid / open - 1) * 100).toFixed(4),
    total_size: String(Math.round(300_000_000 / open / pair.lot)),
    volume_24h: String(contracts),
    volume_24h_base: String(Math.round(contracts * pair.lot)),
    volume_24h_quote: '1000000000',
    volume_24h_settle: '1000000000',
    mark_price: p(pair.mid),
    funding_rate: rate,
    funding_rate_indicative: rate,
    index_price: p(pair.indexPrice),
    quanto_base_rate: '',
    low_24h: p(Math.min(open * 0.98, pair.mid)),
    high_24h: p(Math.max(open * 1.02, pair.mid)),
  };
  return `{"time":${Math.floor(nowMs / 1000)},"time_ms":${nowMs},"channel":"${TICKERS}","event":"update","result":[${JSON.stringify(entry)}]}`;
}

/**
 * One `GET /futures/usdt/contracts` entry (fields as in Gate's OpenAPI `Contract` model). A delisting
 * contract stays `trading` with `in_delisting: true` until it leaves the list; the fee fields are the
 * contract's defaults, not an account's rate.
 */
function contract(pair: Pair, model: MarketModel, nowMs: number): Record<string, unknown> {
  const spec = pair.spec;
  const p = (v: number) => priceString(pair, v);
  const created = pair.listedAt > 0 ? Math.floor(model.wallTimeOf(pair.listedAt, nowMs) / 1000) : 1_600_000_000;
  return {
    name: pair.symbol,
    type: 'direct',
    quanto_multiplier: String(pair.lot),
    ref_discount_rate: '0',
    order_price_deviate: '0.5',
    maintenance_rate: '0.004',
    mark_type: 'index',
    last_price: p(bidPrice(pair)),
    mark_price: p(pair.mid),
    index_price: p(pair.indexPrice),
    funding_rate_indicative: String(fundingRate(pair)),
    mark_price_round: spec.tickSize.toFixed(spec.priceDecimals),
    funding_offset: 0,
    in_delisting: pair.status === 'delisting',
    risk_limit_base: '1000000',
    interest_rate: '0.0003',
    order_price_round: spec.tickSize.toFixed(spec.priceDecimals),
    order_size_min: 1,
    ref_rebate_rate: '0.2',
    funding_interval: pair.fundingIntervalMs / 1000,
    risk_limit_step: '1000000',
    leverage_min: '1',
    leverage_max: '100',
    risk_limit_max: '20000000',
    maker_fee_rate: '0.0002',
    taker_fee_rate: '0.0005',
    funding_rate: String(fundingRate(pair)),
    order_size_max: 1_000_000,
    funding_next_apply: nextFundingMs(pair, nowMs) / 1000,
    short_users: 1200,
    config_change_time: created,
    trade_size: Math.round(5_000_000_000 / spec.startPrice / pair.lot),
    position_size: Math.round(300_000_000 / spec.startPrice / pair.lot),
    long_users: 1500,
    funding_impact_value: '60000',
    orders_limit: 200,
    trade_id: 10_000_000 + pair.seq,
    orderbook_id: 90_000_000_000 + pair.seq * 3,
    enable_bonus: true,
    enable_credit: true,
    create_time: created,
    funding_cap_ratio: '0.75',
    status: 'trading',
    launch_time: created,
    funding_rate_limit: '0.003',
    enable_decimal: false,
    contract_type: '',
  };
}
