/**
 * Shared plumbing of one simulated venue: an HTTP server on 127.0.0.1 for its REST endpoints, a `ws`
 * WebSocket server on its real URL paths, the registry of connections and topic subscriptions, and the
 * drop / silence controls. Each venue module adds its protocol on top.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { venueFacts, type Exchange } from '../../shared/exchanges.js';
import type { RateLimit, WsLimits } from '../../shared/venue-facts.js';
import { DepthModel, type DepthFault } from './depth.js';
import type { MarketModel, Pair } from './market.js';

export interface VenueEndpoints {
  ws: string;
  rest: string;
}

/**
 * Heartbeat, limit and cadence timings, named by mechanism (not by venue). A twin uses the ones its
 * venue has; the optional ones default to the real venue's value inside the twin (tests shorten them).
 */
export interface SimulatorTimings {
  /** Server-sent ping frames: interval, and how long a pong may take before the connection is cut. */
  serverPingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** Client pings the venue advertises: interval and timeout; a connection silent for their sum is closed. */
  clientPingIntervalMs?: number;
  clientPingTimeoutMs?: number;
  /** How long a connection token from REST may be used to connect. */
  tokenTtlMs?: number;
  /** A connection that subscribed to nothing within this time is closed. */
  idleUnsubscribedMs?: number;
  /** Venues that cut connections at a maximum age close them after this (24 h on the real venues). */
  connectionMaxAgeMs: number;
  /** Cadence of periodic funding pushes. */
  fundingPushMs: number;
}

/** Per venue, limits that replace the documented ones (tests lower them). */
export type SimulatorLimits = Partial<Record<Exchange, Partial<WsLimits>>>;

export interface VenueContext {
  readonly model: MarketModel;
  readonly timings: SimulatorTimings;
  /** Overrides of the venues' documented WS limits (facts.ts); absent = the real venue's. */
  readonly limits?: SimulatorLimits;
  /** Epoch ms. */
  now(): number;
}

export interface SimClient {
  readonly id: string;
  readonly ws: WebSocket;
  readonly url: URL;
  readonly topics: Set<string>;
  readonly openedAt: number;
  lastInboundAt: number;
  /** Inbound message times within the venue's message-rate window. */
  inboundWindow: number[];
  /** Subscribe/unsubscribe request times within the venue's subscribe-rate window. */
  subscribeWindow: number[];
  silencedUntil: number;
  /** Per-venue connection data (e.g. a connect id from the URL). */
  tag: string;
  /** Timers owned by this connection (heartbeat, max age, silence); cleared when it closes. */
  readonly timers: Set<NodeJS.Timeout>;
}

export interface RestReply {
  status: number;
  body: unknown;
}

export type UpgradeDecision = { accept: true; tag?: string } | { accept: false; status: number; body: string };

const MAX_TIMER_MS = 2_147_483_647;

/** A client whose unsent buffer passes this is cut off, like the venues do with slow consumers. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

export abstract class VenueServer {
  protected readonly clients = new Set<SimClient>();
  private readonly topicSubs = new Map<string, Set<SimClient>>();
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private port = 0;
  private host = '127.0.0.1';
  /** Messages sent (all clients). */
  sent = 0;
  private batching = false;
  private readonly pending = new Map<SimClient, string[]>();
  /** The WS limits this twin enforces: the venue's documented ones unless the context overrides them. */
  readonly limits: WsLimits;
  /** Connection attempts (epoch ms) within the connect-rate window: every client is one IP here. */
  private readonly connectWindow: number[] = [];
  /** Requests refused or connections closed for breaking a limit, by rule. */
  readonly violations: Record<string, number> = {};
  /** The order books behind the twin's depth channel (twins without one never touch it). */
  readonly depth = new DepthModel();

  constructor(
    readonly exchange: Exchange,
    protected readonly ctx: VenueContext,
  ) {
    this.server = http.createServer((req, res) => this.onHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.server.keepAliveTimeout = 5_000;
    this.limits = { ...venueFacts(exchange).limits, ...ctx.limits?.[exchange] };
  }

  /** Counts one broken rule (tests read `violations`). */
  protected violation(rule: string): void {
    this.violations[rule] = (this.violations[rule] ?? 0) + 1;
  }

  /**
   * Records one event at `nowMs` in `window` and says whether it breaks `rate` (more than `count` events
   * in the last `windowMs`). No rate: never.
   */
  protected overRate(window: number[], rate: RateLimit | null, nowMs: number): boolean {
    if (rate === null || !Number.isFinite(rate.count)) return false;
    window.push(nowMs);
    while (window.length > 0 && window[0]! <= nowMs - rate.windowMs) window.shift();
    return window.length > rate.count;
  }

  /** The upgrade refusal for too many connections (per IP); venues override the reply text. */
  protected tooManyConnections(rule: 'connect_rate' | 'max_connections'): UpgradeDecision {
    return { accept: false, status: 429, body: rule === 'connect_rate' ? 'Too many connection attempts' : 'Too many connections' };
  }

  async listen(host: string, port: number): Promise<void> {
    this.host = host;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  get endpoints(): VenueEndpoints {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return { ws: `ws://${h}:${this.port}`, rest: `http://${h}:${this.port}` };
  }

  get connectionCount(): number {
    return this.clients.size;
  }

  /** Topics subscribed, summed over the open connections. */
  get subscriptionCount(): number {
    let n = 0;
    for (const c of this.clients) n += c.topics.size;
    return n;
  }

  /** Abrupt close of every connection (no close frame), like a network drop. */
  dropConnections(): void {
    for (const c of this.clients) c.ws.terminate();
  }

  /** The current connections stay open but receive nothing (not even heartbeat replies) for `ms`. */
  silence(ms: number): void {
    const until = this.ctx.now() + ms;
    for (const c of this.clients) {
      c.silencedUntil = until;
      this.later(c, ms, () => {
        if (c.silencedUntil === until && c.ws.readyState === WebSocket.OPEN) {
          c.silencedUntil = 0;
          this.onResume(c);
        }
      });
    }
  }

  /**
   * The next depth update of a listed `symbol` shows `fault` (see DepthFault); false when the symbol is
   * not listed. Twins without a depth channel ignore it.
   */
  injectDepthFault(symbol: string, fault: DepthFault): boolean {
    const pair = this.ctx.model.findListed(this.exchange, symbol);
    if (!pair) return false;
    this.depth.inject(pair, fault);
    return true;
  }

  async close(): Promise<void> {
    for (const c of this.clients) {
      clearClientTimers(c);
      c.ws.terminate();
    }
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Between `beginBatch()` and `endBatch()` (one timer tick) frames are queued per client and then written
   * as one buffer of WebSocket frames per client: one socket write per client per tick instead of one per
   * message, which is what makes 100,000 msgs/s affordable. Order per client is kept because the batch is
   * flushed before the tick returns (acks and heartbeats are sent outside ticks).
   */
  beginBatch(): void {
    this.batching = true;
  }

  endBatch(): void {
    this.batching = false;
    for (const [client, texts] of this.pending) {
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      const socket = socketOf(client.ws);
      if (socket) socket.write(encodeTextFrames(texts));
      else for (const t of texts) client.ws.send(t);
    }
    this.pending.clear();
  }

  /** Publishes the current quote of `pair` to its subscribers. */
  abstract publish(pair: Pair, nowMs: number): void;

  /** Called about once a second: periodic streams (mark price, funding), heartbeats, limits. */
  periodic(_nowMs: number): void {}

  /** A REST request: `body` is the parsed JSON body (undefined when empty, the raw text when not JSON). */
  protected abstract rest(method: string, url: URL, body?: unknown): RestReply | null;
  protected abstract acceptUpgrade(req: http.IncomingMessage, url: URL): UpgradeDecision;
  protected abstract onOpen(client: SimClient): void;
  protected abstract onText(client: SimClient, text: string): void;
  /** A silenced client is live again. */
  protected onResume(_client: SimClient): void {}
  protected onClosed(_client: SimClient): void {}

  /** Runs `fn` after `ms` unless the client's connection has closed by then. */
  protected later(client: SimClient, ms: number, fn: () => void): void {
    if (!(ms <= MAX_TIMER_MS)) return; // "never" (Infinity) or beyond what setTimeout can hold
    const t = setTimeout(() => {
      client.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    client.timers.add(t);
  }

  protected subscribe(client: SimClient, topic: string): void {
    client.topics.add(topic);
    let set = this.topicSubs.get(topic);
    if (!set) this.topicSubs.set(topic, (set = new Set()));
    set.add(client);
  }

  protected unsubscribe(client: SimClient, topic: string): void {
    client.topics.delete(topic);
    this.topicSubs.get(topic)?.delete(client);
  }

  protected hasSubscribers(topic: string): boolean {
    const set = this.topicSubs.get(topic);
    return set !== undefined && set.size > 0;
  }

  protected subscribers(topic: string): ReadonlySet<SimClient> | undefined {
    return this.topicSubs.get(topic);
  }

  /** Sends one text frame unless the client is silenced or gone; returns whether it was sent. */
  protected send(client: SimClient, text: string): boolean {
    if (client.silencedUntil !== 0 || client.ws.readyState !== WebSocket.OPEN) return false;
    if (client.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      client.ws.terminate();
      return false;
    }
    if (this.batching) {
      const queued = this.pending.get(client);
      if (queued) queued.push(text);
      else this.pending.set(client, [text]);
    } else {
      client.ws.send(text);
    }
    this.sent++;
    return true;
  }

  /** Sends `text` to every live subscriber of `topic`; returns how many received it. */
  protected broadcast(topic: string, text: string): number {
    const set = this.topicSubs.get(topic);
    if (!set) return 0;
    let n = 0;
    for (const c of set) if (this.send(c, text)) n++;
    return n;
  }

  protected isLive(client: SimClient): boolean {
    return client.silencedUntil === 0 && client.ws.readyState === WebSocket.OPEN;
  }

  private onHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_REST_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      let reply: RestReply | null;
      try {
        const url = new URL(req.url ?? '/', 'http://sim');
        if (size > MAX_REST_BODY_BYTES) reply = { status: 413, body: { error: 'request body too large' } };
        else reply = this.rest(req.method ?? 'GET', url, restBody(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reply = { status: 500, body: { error: String(err) } };
      }
      const out = reply ?? { status: 404, body: { code: 404, msg: 'Not Found' } };
      const body = JSON.stringify(out.body);
      res.writeHead(out.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://sim');
    } catch {
      return rejectUpgrade(socket, 400, 'bad url');
    }
    // Per-IP connection limits first, as a venue's edge does: attempts count even when refused.
    const now0 = this.ctx.now();
    let decision: UpgradeDecision;
    if (this.overRate(this.connectWindow, this.limits.connectRate, now0)) {
      this.violation('connect_rate');
      decision = this.tooManyConnections('connect_rate');
    } else if (this.clients.size >= this.limits.maxConnections) {
      this.violation('max_connections');
      decision = this.tooManyConnections('max_connections');
    } else {
      decision = this.acceptUpgrade(req, url);
    }
    if (!decision.accept) return rejectUpgrade(socket, decision.status, decision.body);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const now = this.ctx.now();
      const client: SimClient = {
        id: randomBytes(8).toString('hex'),
        ws,
        url,
        topics: new Set(),
        openedAt: now,
        lastInboundAt: now,
        inboundWindow: [],
        subscribeWindow: [],
        silencedUntil: 0,
        tag: decision.tag ?? '',
        timers: new Set(),
      };
      this.clients.add(client);
      ws.on('message', (data, isBinary) => {
        client.lastInboundAt = this.ctx.now();
        if (isBinary) return;
        try {
          this.onText(client, data.toString());
        } catch {
          // a protocol handler bug must not take the simulator down; the client just gets no reply
        }
      });
      ws.on('pong', () => {
        client.lastInboundAt = this.ctx.now();
      });
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        clearClientTimers(client);
        this.clients.delete(client);
        for (const t of client.topics) this.topicSubs.get(t)?.delete(client);
        this.onClosed(client);
      });
      this.onOpen(client);
    });
  }
}

function clearClientTimers(client: SimClient): void {
  for (const t of client.timers) clearTimeout(t);
  client.timers.clear();
}

/** `ws` keeps the socket private; without it the batch falls back to `ws.send` per frame. */
function socketOf(ws: WebSocket): Duplex | undefined {
  const socket = (ws as unknown as { _socket?: Duplex })._socket;
  return socket && !socket.destroyed ? socket : undefined;
}

/** Unmasked, unfragmented server→client text frames (RFC 6455 §5.2), concatenated. */
export function encodeTextFrames(texts: readonly string[]): Buffer {
  let total = 0;
  const lengths = new Array<number>(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const n = Buffer.byteLength(texts[i]);
    lengths[i] = n;
    total += n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
  }
  const buf = Buffer.allocUnsafe(total);
  let o = 0;
  for (let i = 0; i < texts.length; i++) {
    const n = lengths[i];
    buf[o++] = 0x81; // FIN + text opcode
    if (n < 126) {
      buf[o++] = n;
    } else if (n < 65536) {
      buf[o++] = 126;
      buf.writeUInt16BE(n, o);
      o += 2;
    } else {
      buf[o++] = 127;
      buf.writeBigUInt64BE(BigInt(n), o);
      o += 8;
    }
    o += buf.write(texts[i], o, 'utf8');
  }
  return buf;
}

function rejectUpgrade(socket: Duplex, status: number, body: string): void {
  const reason = http.STATUS_CODES[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** JSON reply helper for REST handlers. */
export function ok(body: unknown, status = 200): RestReply {
  return { status, body };
}

/** Splits `/a/b` query values like `?symbol=` safely. */
export function query(url: URL, name: string): string | null {
  const v = url.searchParams.get(name);
  return v === null || v === '' ? null : v;
}

/** Simulated REST endpoints take small JSON bodies only. */
const MAX_REST_BODY_BYTES = 64 * 1024;

function restBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
