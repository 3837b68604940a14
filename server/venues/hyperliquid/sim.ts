/**
 * Hyperliquid's simulated twin: WS `/ws` and REST `POST /info`, as the real venue speaks them.
 *
 * WS: the plain-text greeting `Websocket connection established.` first; `{"method":"subscribe"|"unsubscribe",
 * "subscription":{…}}` one per message, acked `{"channel":"subscriptionResponse","data":{method,subscription}}`;
 * `bbo` per coin (pushed on every book change, with the venue `time`), `assetCtxs` per dex (every perp of the
 * dex's universe, positional, pushed every CTX_PUSH_MS) and `activeAssetCtx` per coin; `{"method":"ping"}` →
 * `{"channel":"pong"}`; anything refused → `{"channel":"error","data":"<text>"}`.
 * Depth: `l2Book` per coin (server/venues/hyperliquid/depth.ts): the whole book, 20 levels a side as
 * `{px, sz, n}` strings in the listed coin, after the ack and on every book change; the book is the
 * simulator's DepthModel (its best level is the `bbo`). It counts against the same 1,000 subscriptions.
 * Limits (per IP; every client is one IP here): 1,000 subscriptions (error frame), 2,000 client messages a
 * minute (error frame, the message is dropped), connections and new connections per minute (the base class),
 * and a connection the server has sent nothing to for 60 s is closed ("Timeouts and heartbeats";
 * `clientPingIntervalMs` + `clientPingTimeoutMs` shorten it in tests).
 * REST: `metaAndAssetCtxs` (`dex` param: only the main dex `""` exists here), `meta`, `predictedFundings`
 * (this venue's view of the registry's other venues, from the same simulated funding those venues publish).
 *
 * The universe is append-only as on the venue: a coin listed later is appended, a delisted one stays with
 * `isDelisted: true` and a null premium/midPx/impactPxs context, so positions never move.
 */
import type http from 'node:http';
import { isExchange } from '../../../shared/exchanges.js';
import { askPrice, baseQty, bidPrice, exchangeLagMs, fundingRate, nextFundingMs, priceString, type Pair } from '../../simulator/market.js';
import { ok, VenueServer, type RestReply, type SimClient } from '../../simulator/venue.js';
import { HL_INFO_PATH, HL_WELCOME_TEXT, HL_WS_PATH } from './adapter.js';
import { OWN_REFERENCE_NAME, REFERENCE_VENUES } from './references.js';
import { serveHyperliquidFundingHistory } from './sim-history.js';
import type { SimLevel } from '../../simulator/depth.js';
import { HL_BOOK_LEVELS } from './depth.js';

/** Cadence of `assetCtxs` / `activeAssetCtx` pushes (the venue pushes contexts every few seconds). */
const CTX_PUSH_MS = 2_000;
/** The server closes a connection it has sent nothing to for this long (50 + 10 = 60 s by default). */
const IDLE_INTERVAL_MS = 50_000;
const IDLE_GRACE_MS = 10_000;

type Subscription = Record<string, unknown>;

export class HyperliquidVenue extends VenueServer {
  /** The main dex's universe in listing order (positions are indexes into it). */
  private readonly universeList: Pair[] = [];
  private readonly inUniverse = new Set<Pair>();
  private universeVersion = -1;
  private readonly lastSent = new WeakMap<SimClient, number>();
  /** Client messages of every connection (the message rate is per IP). */
  private readonly ipMessages: number[] = [];
  private lastCtxPush = 0;

  private get idleCloseMs(): number {
    return (this.ctx.timings.clientPingIntervalMs ?? IDLE_INTERVAL_MS) + (this.ctx.timings.clientPingTimeoutMs ?? IDLE_GRACE_MS);
  }

  protected override acceptUpgrade(_req: http.IncomingMessage, url: URL) {
    return url.pathname === HL_WS_PATH ? ({ accept: true } as const) : ({ accept: false, status: 404, body: 'Not Found' } as const);
  }

  protected override onOpen(client: SimClient): void {
    this.send(client, HL_WELCOME_TEXT);
    const check = () => {
      const idle = this.ctx.now() - (this.lastSent.get(client) ?? client.openedAt);
      if (idle >= this.idleCloseMs) client.ws.close(1000, 'idle');
      else this.later(client, this.idleCloseMs - idle + 5, check);
    };
    this.later(client, this.idleCloseMs, check);
  }

  protected override send(client: SimClient, text: string): boolean {
    const sent = super.send(client, text);
    if (sent) this.lastSent.set(client, this.ctx.now());
    return sent;
  }

  /** The main dex's universe now: pairs appended in the order they were first listed. */
  private universe(): readonly Pair[] {
    const model = this.ctx.model;
    if (this.universeVersion !== model.lifecycleVersion) {
      this.universeVersion = model.lifecycleVersion;
      for (const p of model.byExchange[this.exchange]) {
        if (p.status !== 'pending' && !this.inUniverse.has(p)) {
          this.inUniverse.add(p);
          this.universeList.push(p);
        }
      }
    }
    return this.universeList;
  }

  private error(client: SimClient, text: string): void {
    this.send(client, JSON.stringify({ channel: 'error', data: text }));
  }

  protected override onText(client: SimClient, text: string): void {
    if (this.overRate(this.ipMessages, this.limits.messageRate, this.ctx.now())) {
      this.violation('message_rate');
      return this.error(client, 'Too many messages');
    }
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch {
      return this.error(client, `Error parsing JSON into valid websocket request: ${text.slice(0, 200)}`);
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req)) return this.error(client, `Error parsing JSON into valid websocket request: ${text.slice(0, 200)}`);
    const { method, subscription } = req as { method?: unknown; subscription?: unknown };
    if (method === 'ping') {
      this.send(client, '{"channel":"pong"}');
      return;
    }
    if ((method !== 'subscribe' && method !== 'unsubscribe') || typeof subscription !== 'object' || subscription === null || Array.isArray(subscription))
      return this.error(client, `Error parsing JSON into valid websocket request: ${text.slice(0, 200)}`);
    const sub = subscription as Subscription;
    const topic = this.topicOf(sub);
    if (topic === null) return this.error(client, `Invalid subscription ${JSON.stringify(sub)}`);
    if (method === 'unsubscribe') {
      if (!client.topics.has(topic)) return this.error(client, `Already unsubscribed: ${JSON.stringify(sub)}`);
      this.unsubscribe(client, topic);
      this.ack(client, method, sub);
      return;
    }
    if (client.topics.has(topic)) return this.error(client, `Already subscribed: ${JSON.stringify(sub)}`);
    if (this.subscriptionCount >= this.limits.topicsPerConnection) {
      this.violation('subscriptions_per_ip');
      return this.error(client, `Cannot track more than ${this.limits.topicsPerConnection} total websocket subscriptions`);
    }
    this.subscribe(client, topic);
    this.ack(client, method, sub);
    const now = this.ctx.now();
    const [kind, arg] = splitTopic(topic);
    if (kind === 'bbo') {
      const pair = this.ctx.model.findListed(this.exchange, arg);
      if (pair?.status === 'live') this.send(client, bboFrame(pair, now));
    } else if (kind === 'l2Book') {
      const pair = this.ctx.model.findListed(this.exchange, arg);
      if (pair?.status === 'live') {
        const book = this.depth.book(pair);
        this.send(client, l2BookFrame(pair, book.bids, book.asks, now));
      }
    } else if (kind === 'assetCtxs') {
      this.send(client, this.ctxsFrame(now));
    } else {
      const pair = this.ctx.model.findListed(this.exchange, arg);
      if (pair) this.send(client, activeCtxFrame(pair, now));
    }
  }

  private ack(client: SimClient, method: string, subscription: Subscription): void {
    this.send(client, JSON.stringify({ channel: 'subscriptionResponse', data: { method, subscription } }));
  }

  /** `bbo:<coin>`, `assetCtxs:<dex>`, `activeAssetCtx:<coin>`, or null for a request the venue refuses. */
  private topicOf(sub: Subscription): string | null {
    if (sub.type === 'bbo' || sub.type === 'activeAssetCtx' || sub.type === 'l2Book') {
      if (typeof sub.coin !== 'string' || !this.ctx.model.findListed(this.exchange, sub.coin)) return null;
      return `${sub.type}:${sub.coin}`;
    }
    if (sub.type === 'assetCtxs') {
      const dex = sub.dex === undefined ? '' : sub.dex;
      return dex === '' ? 'assetCtxs:' : null; // no builder dex is simulated
    }
    return null;
  }

  /** The pair's book moved with its quote: the whole book to its `l2Book` subscribers. */
  private publishDepth(pair: Pair, nowMs: number): void {
    const topic = `l2Book:${pair.symbol}`;
    if (!this.hasSubscribers(topic)) {
      this.depth.drop(pair);
      return;
    }
    const u = this.depth.update(pair);
    if (u === null || u.fault === 'gap') return; // unchanged, or this push is lost (the next one is whole)
    const book = this.depth.book(pair);
    this.broadcast(topic, l2BookFrame(pair, book.bids, book.asks, nowMs));
  }

  publish(pair: Pair, nowMs: number): void {
    this.publishDepth(pair, nowMs);
    const topic = `bbo:${pair.symbol}`;
    if (this.hasSubscribers(topic)) this.broadcast(topic, bboFrame(pair, nowMs));
  }

  override periodic(nowMs: number): void {
    if (nowMs - this.lastCtxPush < CTX_PUSH_MS) return;
    this.lastCtxPush = nowMs;
    if (this.hasSubscribers('assetCtxs:')) this.broadcast('assetCtxs:', this.ctxsFrame(nowMs));
    for (const pair of this.ctx.model.live(this.exchange)) {
      const topic = `activeAssetCtx:${pair.symbol}`;
      if (this.hasSubscribers(topic)) this.broadcast(topic, activeCtxFrame(pair, nowMs));
    }
  }

  private ctxsFrame(nowMs: number): string {
    return JSON.stringify({ channel: 'assetCtxs', data: { dex: '', ctxs: this.universe().map((p) => assetCtx(p, nowMs)) } });
  }

  protected override rest(method: string, url: URL, body?: unknown): RestReply | null {
    if (url.pathname !== HL_INFO_PATH) return null;
    if (method !== 'POST') return ok('Method Not Allowed', 405);
    const req = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
    if (req === null) return ok('Failed to deserialize the JSON body into the target type', 422);
    const history = serveHyperliquidFundingHistory(this.exchange, this.ctx, req);
    if (history) return history;
    const now = this.ctx.now();
    switch (req.type) {
      case 'meta':
      case 'metaAndAssetCtxs': {
        if (req.dex !== undefined && req.dex !== '' && req.dex !== null) return ok(null); // an unknown dex: the venue answers null
        const universe = this.universe();
        const meta = {
          universe: universe.map((p) => ({
            szDecimals: p.lotDecimals,
            name: p.symbol,
            maxLeverage: p.spec.startPrice > 1000 ? 40 : 10,
            marginTableId: p.spec.startPrice > 1000 ? 56 : 52,
            ...(p.status === 'live' ? {} : { isDelisted: true, onlyIsolated: true }),
          })),
          marginTables: [],
          collateralToken: 0,
        };
        return ok(req.type === 'meta' ? meta : [meta, universe.map((p) => assetCtx(p, now))]);
      }
      case 'predictedFundings':
        return ok(this.predictedFundings(now));
      default:
        return ok('Failed to deserialize the JSON body into the target type', 422);
    }
  }

  /**
   * Per live coin: this venue's next funding and its view of the registry's other venues listing the same
   * underlying in USDT (the very figures those twins publish), or a null entry where a venue lacks it.
   */
  private predictedFundings(nowMs: number): unknown[] {
    const model = this.ctx.model;
    const others = Object.entries(REFERENCE_VENUES).flatMap(([name, id]) => {
      if (!isExchange(id)) return [];
      const byKey = new Map<string, Pair>();
      for (const p of model.live(id)) if (p.settle === 'USDT' && !byKey.has(p.spec.key)) byKey.set(p.spec.key, p);
      return [[name, byKey] as const];
    });
    return model.live(this.exchange).map((p) => [
      p.symbol,
      [
        ...others.map(([name, byKey]) => {
          const o = byKey.get(p.spec.key);
          return [name, o ? { fundingRate: formatRate(fundingRate(o)), nextFundingTime: nextFundingMs(o, nowMs), fundingIntervalHours: o.fundingIntervalMs / 3_600_000 } : null];
        }),
        [OWN_REFERENCE_NAME, { fundingRate: formatRate(fundingRate(p)), nextFundingTime: nextFundingMs(p, nowMs), fundingIntervalHours: 1 }],
      ],
    ]);
  }
}

function splitTopic(topic: string): [string, string] {
  const i = topic.indexOf(':');
  return [topic.slice(0, i), topic.slice(i + 1)];
}

/** Up to 10 decimals, trailing zeros dropped but one kept after the point (`0.0000125`, `0.0`), never exponent form. */
function formatRate(rate: number): string {
  const s = rate.toFixed(10).replace(/0+$/, '');
  return s.endsWith('.') ? `${s}0` : s;
}

function bboFrame(pair: Pair, nowMs: number): string {
  const n = 1 + (pair.seq % 7);
  return `{"channel":"bbo","data":{"coin":"${pair.symbol}","time":${nowMs - exchangeLagMs(pair)},"bbo":[{"px":"${priceString(pair, bidPrice(pair))}","sz":"${baseQty(pair, pair.bidLots)}","n":${n}},{"px":"${priceString(pair, askPrice(pair))}","sz":"${baseQty(pair, pair.askLots)}","n":${1 + ((pair.seq * 3) % 5)}}]}}`;
}

/** One `l2Book` push: bids then asks, best first, `{px, sz, n}` with px/sz strings (sizes in the listed coin). */
function l2BookFrame(pair: Pair, bids: readonly SimLevel[], asks: readonly SimLevel[], nowMs: number): string {
  const side = (levels: readonly SimLevel[]) =>
    levels
      .slice(0, HL_BOOK_LEVELS)
      .map((l) => `{"px":"${priceString(pair, l.ticks * pair.spec.tickSize)}","sz":"${baseQty(pair, l.lots)}","n":${1 + ((l.ticks + l.lots) % 9)}}`)
      .join(',');
  return `{"channel":"l2Book","data":{"coin":"${pair.symbol}","time":${nowMs - exchangeLagMs(pair)},"levels":[[${side(bids)}],[${side(asks)}]]}}`;
}

/** One perp context as `metaAndAssetCtxs` / `assetCtxs` carry it (every value a string; nulls for a delisted perp). */
function assetCtx(pair: Pair, _nowMs: number): Record<string, unknown> {
  const spec = pair.spec;
  const live = pair.status === 'live';
  const mid = (bidPrice(pair) + askPrice(pair)) / 2;
  const oi = (300_000_000 / spec.startPrice).toFixed(pair.lotDecimals);
  return {
    funding: live ? formatRate(fundingRate(pair)) : '0.0',
    openInterest: live ? oi : '0.0',
    prevDayPx: priceString(pair, spec.startPrice),
    dayNtlVlm: live ? '1000000000.0' : '0.0',
    premium: live ? formatRate((pair.mid - pair.indexPrice) / pair.indexPrice) : null,
    oraclePx: priceString(pair, pair.indexPrice),
    markPx: priceString(pair, pair.mid),
    midPx: live ? priceString(pair, mid) : null,
    impactPxs: live ? [priceString(pair, bidPrice(pair)), priceString(pair, askPrice(pair))] : null,
    dayBaseVlm: live ? (1_000_000_000 / spec.startPrice).toFixed(pair.lotDecimals) : '0.0',
  };
}

function activeCtxFrame(pair: Pair, nowMs: number): string {
  return JSON.stringify({ channel: 'activeAssetCtx', data: { coin: pair.symbol, ctx: assetCtx(pair, nowMs) } });
}
