/**
 * OKX v5 public: WS `/ws/v5/public` with `tickers`, `bbo-tbt` (sizes in contracts) and `funding-rate`
 * (fundingTime = the coming settlement, nextFundingTime = the one after), text `ping` → `pong`, one ack
 * or error event per subscribe arg; REST `/api/v5/public/instruments`, `/api/v5/public/funding-rate`,
 * `/api/v5/public/open-interest`.
 */
import type { SimLevel } from '../../simulator/depth.js';
import { OKX_DEPTH_CHANNEL, okxChecksum, okxChecksumString } from './depth.js';
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { askPrice, bidPrice, exchangeLagMs, fundingRate, nextFundingMs, priceString, type MarketModel, type Pair } from '../../simulator/market.js';
import { ok, query, VenueServer, type RestReply, type SimClient } from '../../simulator/venue.js';
import { serveOkxFundingHistory } from './sim-history.js';

const WS_PATH = '/ws/v5/public';
const CHANNELS = new Set(['tickers', 'bbo-tbt', 'funding-rate', OKX_DEPTH_CHANNEL]);
/** OKX closes a connection that subscribed to nothing within 30 s (timings.idleUnsubscribedMs overrides). */
const IDLE_UNSUBSCRIBED_MS = 30_000;

export class OkxVenue extends VenueServer {
  private readonly lastFundingPush = new Map<string, number>();

  protected override acceptUpgrade(_req: http.IncomingMessage, url: URL) {
    return url.pathname === WS_PATH ? ({ accept: true } as const) : ({ accept: false, status: 404, body: 'Not Found' } as const);
  }

  protected override onOpen(client: SimClient): void {
    client.tag = randomBytes(4).toString('hex');
    const idleMs = this.ctx.timings.idleUnsubscribedMs ?? IDLE_UNSUBSCRIBED_MS;
    this.later(client, idleMs, () => {
      if (client.topics.size === 0) client.ws.close(4004, 'No data received in 30s.');
    });
  }

  /** A listed instrument (a pending or delisted one does not exist, as on the venue). */
  private pair(instId: string): Pair | undefined {
    return this.ctx.model.findListed(this.exchange, instId);
  }

  private error(client: SimClient, code: string, msg: string, id: unknown): void {
    const out: Record<string, unknown> = {};
    if (typeof id === 'string') out.id = id;
    Object.assign(out, { event: 'error', code, msg, connId: client.tag });
    this.send(client, JSON.stringify(out));
  }

  protected override onText(client: SimClient, text: string): void {
    const now = this.ctx.now();
    // OKX documents no per-message rate for public sockets; a lowered one (tests) refuses like the hourly cap.
    if (this.overRate(client.inboundWindow, this.limits.messageRate, now)) {
      this.violation('message_rate');
      return this.error(client, '60014', 'Requests too frequent.', undefined);
    }
    if (text === 'ping') {
      this.send(client, 'pong');
      return;
    }
    if (Buffer.byteLength(text) > this.limits.bytesPerMessage) {
      this.violation('bytes_per_message');
      return this.error(client, '60012', `Invalid request: request exceeds ${this.limits.bytesPerMessage} bytes`, undefined);
    }
    let req: { op?: unknown; args?: unknown; id?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      return this.error(client, '60012', `Invalid request: ${text.slice(0, 200)}`, undefined);
    }
    if (typeof req !== 'object' || req === null || (req.op !== 'subscribe' && req.op !== 'unsubscribe') || !Array.isArray(req.args) || req.args.length === 0) {
      return this.error(client, '60012', `Invalid request: ${text.slice(0, 200)}`, (req as { id?: unknown } | null)?.id);
    }
    const op = req.op;
    // 480 subscribe/unsubscribe/login requests per hour per connection (facts.ts): beyond it, refused.
    if (this.overRate(client.subscribeWindow, this.limits.subscribeRate, now)) {
      this.violation('subscribe_rate');
      return this.error(client, '60014', 'Requests too frequent.', req.id);
    }
    if (req.args.length > this.limits.topicsPerMessage) {
      this.violation('topics_per_message');
      return this.error(client, '60012', `Invalid request: more than ${this.limits.topicsPerMessage} args`, req.id);
    }
    for (const raw of req.args as unknown[]) {
      const arg = raw as { channel?: unknown; instId?: unknown } | null;
      const channel = typeof arg?.channel === 'string' ? arg.channel : '';
      const instId = typeof arg?.instId === 'string' ? arg.instId : '';
      const pair = this.pair(instId);
      if (!CHANNELS.has(channel) || !pair) {
        this.error(
          client,
          '60018',
          `Wrong URL or channel:${channel},instId:${instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
          req.id,
        );
        continue;
      }
      const topic = `${channel}:${instId}`;
      const ack: Record<string, unknown> = {};
      if (typeof req.id === 'string') ack.id = req.id;
      Object.assign(ack, { event: op, arg: { channel, instId }, connId: client.tag });
      if (op === 'unsubscribe') {
        this.unsubscribe(client, topic);
        this.send(client, JSON.stringify(ack));
        continue;
      }
      if (!client.topics.has(topic) && client.topics.size >= this.limits.topicsPerConnection) {
        // OKX documents no topic cap on public sockets; a lowered one (tests) refuses the arg.
        this.violation('topics_per_connection');
        this.error(client, '60012', `Invalid request: more than ${this.limits.topicsPerConnection} channels on this connection`, req.id);
        continue;
      }
      this.subscribe(client, topic);
      this.send(client, JSON.stringify(ack));
      // OKX pushes the current state right after a subscription.
      if (channel === 'tickers') this.send(client, this.tickerFrame(pair, now));
      else if (channel === 'bbo-tbt') this.send(client, this.bboFrame(pair, now));
      else if (channel === OKX_DEPTH_CHANNEL) this.send(client, this.depthSnapshotFrame(pair, now));
      else this.send(client, this.fundingFrame(pair, now));
    }
  }

  publish(pair: Pair, nowMs: number): void {
    this.publishDepth(pair, nowMs);
    const t = `tickers:${pair.symbol}`;
    if (this.hasSubscribers(t)) this.broadcast(t, this.tickerFrame(pair, nowMs));
    const b = `bbo-tbt:${pair.symbol}`;
    if (this.hasSubscribers(b)) this.broadcast(b, this.bboFrame(pair, nowMs));
  }

  override periodic(nowMs: number): void {
    const every = this.ctx.timings.fundingPushMs;
    for (const pair of this.ctx.model.live(this.exchange)) {
      const topic = `funding-rate:${pair.symbol}`;
      if (!this.hasSubscribers(topic)) continue;
      const last = this.lastFundingPush.get(pair.symbol) ?? 0;
      // Pushed on its cadence and right after each settlement (the times roll forward).
      const settled = Math.floor(last / pair.fundingIntervalMs) !== Math.floor(nowMs / pair.fundingIntervalMs);
      if (nowMs - last >= every || settled) {
        this.lastFundingPush.set(pair.symbol, nowMs);
        this.broadcast(topic, this.fundingFrame(pair, nowMs));
      }
    }
  }

  private tickerFrame(pair: Pair, nowMs: number): string {
    const p = (v: number) => priceString(pair, v);
    const open = pair.spec.startPrice;
    const vol = Math.round(1_000_000_000 / open / pair.lot);
    return (
      `{"arg":{"channel":"tickers","instId":"${pair.symbol}"},"data":[{"instType":"SWAP","instId":"${pair.symbol}",` +
      `"last":"${p(bidPrice(pair))}","lastSz":"${1 + (pair.seq % 7)}","askPx":"${p(askPrice(pair))}","askSz":"${pair.askLots}",` +
      `"bidPx":"${p(bidPrice(pair))}","bidSz":"${pair.bidLots}","open24h":"${p(open)}","high24h":"${p(Math.max(open * 1.02, pair.mid))}",` +
      `"low24h":"${p(Math.min(open * 0.98, pair.mid))}","sodUtc0":"${p(open)}","sodUtc8":"${p(open)}",` +
      `"volCcy24h":"${(vol * pair.lot).toFixed(pair.lotDecimals)}","vol24h":"${vol}","ts":"${nowMs - exchangeLagMs(pair)}"}]}`
    );
  }

  /** The pair's book moved with its quote: an `update` to the `books` subscribers (a fault as injected). */
  private publishDepth(pair: Pair, nowMs: number): void {
    const topic = `${OKX_DEPTH_CHANNEL}:${pair.symbol}`;
    if (!this.hasSubscribers(topic)) {
      this.depth.drop(pair);
      return;
    }
    const u = this.depth.update(pair);
    if (u === null || u.fault === 'gap') return; // a gap: this update is lost
    if (u.fault === 'reset') {
      // The venue restarted the book: a new snapshot (prevSeqId -1).
      this.broadcast(topic, this.depthSnapshotFrame(pair, nowMs));
      return;
    }
    const checksum = this.depthChecksum(pair) + (u.fault === 'checksum' ? 1 : 0);
    this.broadcast(topic, this.depthFrame(pair, 'update', u.bids, u.asks, u.prevSeq, u.seq, checksum, nowMs));
  }

  private depthSnapshotFrame(pair: Pair, nowMs: number): string {
    const book = this.depth.book(pair);
    return this.depthFrame(pair, 'snapshot', book.bids, book.asks, -1, book.seq, this.depthChecksum(pair), nowMs);
  }

  /** The documented checksum over the book's top 25 levels per side, on the strings this twin sends. */
  private depthChecksum(pair: Pair): number {
    const book = this.depth.book(pair);
    const text = new Map<number, string>();
    for (const l of [...book.bids, ...book.asks]) text.set(l.ticks, `${priceString(pair, l.ticks * pair.spec.tickSize)}:${l.lots}`);
    const t = (ticks: number) => text.get(ticks) ?? '';
    return okxChecksum(okxChecksumString(book.bids.map((l) => l.ticks), book.asks.map((l) => l.ticks), t, t));
  }

  /** One `books` frame (levels [px, sz (contracts), "0", orders] as strings). */
  private depthFrame(pair: Pair, action: 'snapshot' | 'update', bids: readonly SimLevel[], asks: readonly SimLevel[], prevSeqId: number, seqId: number, checksum: number, nowMs: number): string {
    const side = (levels: readonly SimLevel[]) => JSON.stringify(levels.map((l) => [priceString(pair, l.ticks * pair.spec.tickSize), String(l.lots), '0', String(l.lots === 0 ? 0 : 1 + (l.lots % 7))]));
    return (
      `{"arg":{"channel":"${OKX_DEPTH_CHANNEL}","instId":"${pair.symbol}"},"action":"${action}","data":[{"asks":${side(asks)},"bids":${side(bids)},` +
      `"ts":"${nowMs - exchangeLagMs(pair)}","checksum":${checksum},"prevSeqId":${prevSeqId},"seqId":${seqId}}]}`
    );
  }

  private bboFrame(pair: Pair, nowMs: number): string {
    const p = (v: number) => priceString(pair, v);
    return (
      `{"arg":{"channel":"bbo-tbt","instId":"${pair.symbol}"},"data":[{"asks":[["${p(askPrice(pair))}","${pair.askLots}","0","${1 + (pair.askLots % 13)}"]],` +
      `"bids":[["${p(bidPrice(pair))}","${pair.bidLots}","0","${1 + (pair.bidLots % 11)}"]],"ts":"${nowMs - exchangeLagMs(pair)}","seqId":${seqIdOf(pair)}}]}`
    );
  }

  private fundingFrame(pair: Pair, nowMs: number): string {
    return `{"arg":{"channel":"funding-rate","instId":"${pair.symbol}"},"data":[${JSON.stringify(fundingData(pair, nowMs))}]}`;
  }

  protected override rest(method: string, url: URL): RestReply | null {
    const history = serveOkxFundingHistory(this.exchange, this.ctx, method, url); // funding history (sim-history.ts)
    if (history) return history;
    if (method !== 'GET') return null;
    const now = this.ctx.now();
    const pairs = this.ctx.model.listed(this.exchange);
    switch (url.pathname) {
      case '/api/v5/public/time':
        return ok({ code: '0', msg: '', data: [{ ts: String(now) }] });
      case '/api/v5/public/instruments': {
        const sel = swapSelection(url, pairs);
        if ('status' in sel) return sel; // the venue's error reply
        if (query(url, 'instId') && sel.length === 0) return ok({ code: '51001', msg: "Instrument ID doesn't exist.", data: [] }, 400);
        return ok({ code: '0', msg: '', data: sel.map((p) => instrument(p, this.ctx.model, now)) });
      }
      case '/api/v5/public/open-interest': {
        // okx.com/docs-v5/en/#public-data-rest-api-get-open-interest: instType required; instId / instFamily narrow it.
        const sel = swapSelection(url, pairs);
        if ('status' in sel) return sel; // the venue's error reply
        return ok({ code: '0', msg: '', data: sel.map((p) => openInterest(p, now)) });
      }
      case '/api/v5/public/funding-rate': {
        const instId = query(url, 'instId');
        if (instId === null) return ok({ code: '50014', msg: 'Parameter instId can not be empty.', data: [] }, 400);
        const list = instId === 'ANY' ? pairs : pairs.filter((p) => p.symbol === instId);
        if (list.length === 0) return ok({ code: '51001', msg: "Instrument ID doesn't exist.", data: [] }, 400);
        return ok({ code: '0', msg: '', data: list.map((p) => fundingData(p, now)) });
      }
      default:
        return null;
    }
  }
}

function seqIdOf(pair: Pair): number {
  return 9_000_000_000 + pair.seq * 5;
}

function fundingData(pair: Pair, nowMs: number): Record<string, string> {
  const next = nextFundingMs(pair, nowMs);
  const rate = fundingRate(pair).toFixed(16).replace(/0+$/, '').replace(/\.$/, '.0');
  return {
    formulaType: 'withRate',
    fundingRate: rate,
    fundingTime: String(next),
    impactValue: '20000.0000000000000000',
    instId: pair.symbol,
    instType: 'SWAP',
    interestRate: '0.0001000000000000',
    maxFundingRate: '0.00375',
    method: 'current_period',
    minFundingRate: '-0.00375',
    nextFundingRate: '',
    nextFundingTime: String(next + pair.fundingIntervalMs),
    premium: (pair.mid / pair.indexPrice - 1).toFixed(16),
    prevFundingTime: String(next - pair.fundingIntervalMs),
    settFundingRate: rate,
    settState: 'settled',
    ts: String(nowMs - 3),
  };
}

/**
 * One SWAP instrument (fields as in https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments).
 * A delisting swap stays `live` with `expTime` set to its delisting time, then leaves the list.
 */
function instrument(pair: Pair, model: MarketModel, nowMs: number): Record<string, string> {
  const spec = pair.spec;
  return {
    alias: '',
    baseCcy: '', // OKX leaves these empty for SWAP: base comes from ctValCcy / uly
    category: '1',
    ctMult: '1',
    ctType: 'linear',
    ctVal: String(pair.lot),
    ctValCcy: spec.base,
    expTime: pair.status === 'delisting' ? String(model.wallTimeOf(pair.statusUntil, nowMs)) : '',
    instFamily: `${spec.base}-${pair.settle}`,
    instId: pair.symbol,
    instType: 'SWAP',
    lever: '100',
    listTime: pair.listedAt > 0 ? String(model.wallTimeOf(pair.listedAt, nowMs)) : '1611916828000',
    lotSz: '1',
    maxIcebergSz: '100000000',
    maxLmtAmt: '20000000',
    maxLmtSz: '100000000',
    maxMktAmt: '',
    maxMktSz: '12000',
    maxStopSz: '12000',
    maxTriggerSz: '100000000',
    maxTwapSz: '100000000',
    minSz: '1',
    optType: '',
    quoteCcy: '',
    ruleType: 'normal',
    settleCcy: pair.settle,
    state: 'live',
    stk: '',
    tickSz: spec.tickSize.toFixed(spec.priceDecimals),
    uly: `${spec.base}-${pair.settle}`,
  };
}

/** One open-interest entry: about $300 M open, in contracts (`oi`), base coin (`oiCcy`) and USD (`oiUsd`); strings. */
function openInterest(pair: Pair, nowMs: number): Record<string, unknown> {
  const contracts = Math.round(300_000_000 / pair.spec.startPrice / pair.lot);
  const coins = contracts * pair.lot;
  return { instType: 'SWAP', instId: pair.symbol, oi: String(contracts), oiCcy: coins.toFixed(pair.lotDecimals), oiUsd: (coins * pair.mid).toFixed(2), ts: String(nowMs - exchangeLagMs(pair)) };
}

/**
 * The swaps a public-data request selects (instruments, open interest): `instType` is required (50014
 * without it), anything but SWAP is an empty list here, `instId` / `instFamily` (or the older `uly`) narrow it.
 */
function swapSelection(url: URL, pairs: readonly Pair[]): readonly Pair[] | RestReply {
  const instType = query(url, 'instType');
  if (instType === null) return ok({ code: '50014', msg: 'Parameter instType can not be empty.', data: [] }, 400);
  if (instType !== 'SWAP') return [];
  const instId = query(url, 'instId');
  const family = query(url, 'instFamily') ?? query(url, 'uly');
  let list = instId ? pairs.filter((p) => p.symbol === instId) : pairs;
  if (family) list = list.filter((p) => `${p.listedBase}-${p.settle}` === family);
  return list;
}
