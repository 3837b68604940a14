/**
 * The `/ws` fan-out. One subscriber on the engine's opportunity bus and one on the strategy's event ring
 * turn events into `ServerMessage`s, each JSON-encoded ONCE, and hand them to every client entitled to them.
 *
 * - `opened`/`closed` (and position opened/closed, fills, rejections, feed and trading-state changes) go
 *   out on the same tick they are published.
 * - `updated` events (and position updates, portfolio) are coalesced per id, latest wins, and sent on a
 *   timer at `stream.updateRateHz`; each coalesced message gets a fresh `seq` so every client sees `seq`
 *   increase.
 * - Periodic stats (and the feed-counter refresh that comes with them) ride on the next coalescing tick.
 * - Unfiltered clients share one pre-encoded body per tick (only `{"frame":N` and the WebSocket header are
 *   written per client, see StreamClient.sendSharedFrame); filtered clients get their own list.
 * - Each client gets at most one frame per tick; one whose send buffer passes `maxClientBufferBytes` is
 *   terminated (others are unaffected, the engine is never blocked). Large fan-outs are written in slices
 *   across event-loop turns so feeds and the engine keep running in between.
 * - If the shared subscriber itself fell behind the bus (events lost), every client gets `missed` and
 *   should resync (reconnect → new snapshot).
 */
import type { WebSocket } from 'ws';
import { Value } from 'typebox/value';
import type { Config } from '../../../shared/config.js';
import type { FundingCrossCheck } from '../../../shared/cross-check.js';
import type { FeedState } from '../../../shared/feeds.js';
import type { Opportunity, OpportunityEvent } from '../../../shared/opportunity.js';
import type { Portfolio, Position, StrategyEvent, TradingState } from '../../../shared/position.js';
import type { ClientMessage, ClosedOpportunity, EngineStats, ServerMessage, Snapshot, StreamFilter } from '../../../shared/protocol.js';
import { LatencyWindow } from '../latency.js';
import type { EventSource, EventSubscription, Logger } from '../ports.js';
import { type ClientLimits, HeadScratch, StreamClient } from './client.js';
import { ClientMessageSchema, CompiledFilter } from './filter.js';

/** What a snapshot and the periodic stats are made of. */
export interface StreamState {
  opportunities(): Opportunity[];
  positions(): Position[];
  portfolio(): Portfolio | null;
  tradingState(): TradingState;
  feeds(): FeedState[];
  /** The funding cross-check per source venue; absent = none runs. */
  fundingChecks?(): FundingCrossCheck[];
  configVersion(): number;
  /** Engine counters and latency; the hub adds its own (ws clients, bus_to_sent, end_to_end). */
  engineStats(): EngineStats;
}

export interface StreamHubOptions {
  opportunities: EventSource<OpportunityEvent>;
  strategy?: EventSource<StrategyEvent> | null;
  state: StreamState;
  stream: Config['stream'];
  logger?: Logger;
  now?: () => number;
  nowUs?: () => number;
  recentlyClosedLimit?: number;
  heartbeatMs?: number;
  /** What each client may send; default 20 messages/s and one applied subscribe per 250 ms. */
  clientLimits?: Partial<ClientLimits>;
}

export interface StreamCounters {
  clients: number;
  connectionsTotal: number;
  framesSent: number;
  messagesCreated: number;
  terminatedSlow: number;
  malformedClientMessages: number;
  /** Client messages dropped because their client sent faster than its budget. */
  rateLimitedClientMessages: number;
  missedEvents: number;
}

type OppRoute = { opp: Opportunity; kind: 'opened' | 'updated' | 'closed' };

const POP_BATCH = 4096;
/**
 * Time a flush may write before yielding to the event loop (checked every FLUSH_CHECK clients). A
 * 1,000-client tick fits in one pass, so every client of a tick gets the same, short delay; a much larger
 * fan-out still lets feeds and the engine run in between.
 */
const FLUSH_BUDGET_MS = 50;
const FLUSH_CHECK = 64;
/** A client whose dropped messages pass this many times its burst is closed (1008): it ignores the limit. */
const DROPPED_BURSTS_BEFORE_CLOSE = 10;
const defaultNowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

export class StreamHub {
  private readonly clients = new Set<StreamClient>();
  private readonly oppSub: EventSubscription<OpportunityEvent>;
  private readonly strategySub: EventSubscription<StrategyEvent> | null;
  private readonly now: () => number;
  private readonly nowUs: () => number;
  private stream: Config['stream'];
  private seq = 0;
  private nextClientId = 1;
  /** Encoded messages for all unfiltered clients since the last flush. */
  private readonly broadcast: string[] = [];
  private readonly pendingUpdates = new Map<string, OpportunityEvent>();
  private readonly pendingPositions = new Map<string, Position>();
  private pendingPortfolio: Portfolio | null = null;
  private readonly recentlyClosed: ClosedOpportunity[] = [];
  private readonly recentlyClosedLimit: number;
  /** recvUs of immediate opportunity messages dispatched since the last flush (for end-to-end latency). */
  private readonly sentRecvUs: number[] = [];
  private pumpStartUs = 0;
  private pendingFlush: {
    clients: StreamClient[];
    index: number;
    tail: Buffer | null;
    scratch: HeadScratch;
    sentUs: number;
    recvUs: number[] | null;
    pumpStartUs: number;
  } | null = null;
  private flushImmediate: NodeJS.Immediate | null = null;
  /** Some filtered client has messages in its own list. */
  private ownOutPending = false;
  /** Something that must go out now (not just periodic stats riding on the next tick) is waiting. */
  private urgentOwed = false;
  private updateTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pumping = false;
  private closed = false;
  readonly latency = { busToSent: new LatencyWindow(), endToEnd: new LatencyWindow() };
  readonly counters: StreamCounters = {
    clients: 0,
    connectionsTotal: 0,
    framesSent: 0,
    messagesCreated: 0,
    terminatedSlow: 0,
    malformedClientMessages: 0,
    rateLimitedClientMessages: 0,
    missedEvents: 0,
  };
  private readonly clientLimits: ClientLimits;
  private lastStats: EngineStats | null = null;

  constructor(private readonly opts: StreamHubOptions) {
    this.now = opts.now ?? Date.now;
    this.nowUs = opts.nowUs ?? defaultNowUs;
    this.stream = opts.stream;
    this.recentlyClosedLimit = opts.recentlyClosedLimit ?? 200;
    this.clientLimits = { messagesPerSec: 20, subscribeIntervalMs: 250, ...opts.clientLimits };
    this.oppSub = opts.opportunities.subscribe('ws', () => this.pump());
    this.strategySub = opts.strategy ? opts.strategy.subscribe('ws-strategy', () => this.pump()) : null;
    this.startTimers();
    const hb = opts.heartbeatMs ?? 30_000;
    if (hb > 0) this.heartbeatTimer = setInterval(() => this.heartbeat(), hb);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  setStreamConfig(stream: Config['stream']): void {
    const changed = stream.updateRateHz !== this.stream.updateRateHz || stream.statsIntervalMs !== this.stream.statsIntervalMs;
    this.stream = stream;
    if (changed) this.startTimers();
  }

  private startTimers(): void {
    if (this.updateTimer) clearInterval(this.updateTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.closed) return;
    this.updateTimer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / this.stream.updateRateHz)));
    this.statsTimer = setInterval(() => this.publishStats(), this.stream.statsIntervalMs);
  }

  // ---- connections -------------------------------------------------------------------------------

  /** Registers a connected socket: sends its snapshot, then it receives the stream. */
  addClient(socket: WebSocket, remote = ''): StreamClient {
    const client = new StreamClient(this.nextClientId++, socket, remote, this.clientLimits, (c, filter) => this.applySubscribe(c, filter));
    // Everything published before this point is reflected in the snapshot, so deliver it to the others first.
    this.pump(true);
    this.clients.add(client);
    this.counters.clients = this.clients.size;
    this.counters.connectionsTotal++;
    socket.on('message', (data, isBinary) => this.onClientMessage(client, data as Buffer, isBinary));
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('close', () => this.removeClient(client));
    socket.on('error', () => this.removeClient(client));
    this.sendSnapshot(client);
    return client;
  }

  private removeClient(client: StreamClient): void {
    client.closed = true;
    client.subscribes.cancel();
    if (this.clients.delete(client)) this.counters.clients = this.clients.size;
  }

  private onClientMessage(client: StreamClient, data: Buffer, isBinary: boolean): void {
    if (client.closed) return;
    if (!client.messageBudget.take()) {
      this.dropOverRate(client);
      return;
    }
    let msg: unknown;
    try {
      msg = isBinary ? undefined : JSON.parse(data.toString('utf8'));
    } catch {
      msg = undefined;
    }
    if (msg === undefined || !Value.Check(ClientMessageSchema, msg)) {
      client.malformed++;
      this.counters.malformedClientMessages++;
      if (client.malformed > 100) client.terminate(); // a client that only sends garbage
      return;
    }
    const m = msg as ClientMessage;
    client.alive = true;
    if (m.type === 'subscribe') client.subscribes.request(m.filter); // → applySubscribe, at most every subscribeIntervalMs
  }

  private applySubscribe(client: StreamClient, spec: StreamFilter): void {
    if (client.closed || this.closed) return;
    this.pump(true); // flush what is owed under the old filter first
    const filter = new CompiledFilter(spec);
    client.filter = filter.isEmpty ? null : filter;
    this.sendSnapshot(client); // a fresh, filtered snapshot: the client's view restarts from it
  }

  private dropOverRate(client: StreamClient): void {
    client.rateLimited++;
    this.counters.rateLimitedClientMessages++;
    const burst = 2 * this.clientLimits.messagesPerSec;
    if (client.rateLimited === 1) {
      this.opts.logger?.warn({ client: client.id, remote: client.remote, limitPerSec: this.clientLimits.messagesPerSec }, 'ws client sends too fast: excess messages dropped');
    }
    if (client.rateLimited > DROPPED_BURSTS_BEFORE_CLOSE * burst) {
      this.opts.logger?.warn({ client: client.id, remote: client.remote, dropped: client.rateLimited }, 'ws client closed (1008): it keeps exceeding its message rate');
      client.closeWith(1008, 'message rate limit exceeded');
      this.removeClient(client);
    }
  }

  private heartbeat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        c.terminate();
        this.removeClient(c);
        continue;
      }
      c.alive = false;
      if (c.socket.readyState === 1) c.socket.ping();
    }
  }

  // ---- snapshot & stats --------------------------------------------------------------------------

  private sendSnapshot(client: StreamClient): void {
    this.completePendingFlush(); // older frames first
    const state = this.opts.state;
    const all = state.opportunities();
    const opportunities = client.filter ? client.filter.snapshot(all) : all;
    const recentlyClosed = client.filter ? this.recentlyClosed.filter((c) => client.filter!.matchesClosed(c.opportunity)) : this.recentlyClosed;
    const snapshot: Snapshot = {
      type: 'snapshot',
      seq: this.seq,
      tsMs: this.now(),
      opportunities,
      recentlyClosed: recentlyClosed.slice().reverse(),
      positions: state.positions(),
      portfolio: state.portfolio(),
      tradingState: state.tradingState(),
      feeds: state.feeds(),
      ...(state.fundingChecks ? { fundingChecks: state.fundingChecks() } : {}),
      configVersion: state.configVersion(),
      stats: this.stats(),
    };
    if (!client.sendFrame(JSON.stringify(snapshot), this.stream.maxClientBufferBytes, Math.round(this.nowUs()))) this.cutOff(client);
  }

  /** Engine stats plus the stream's own numbers. */
  stats(): EngineStats {
    const s = this.opts.state.engineStats();
    return {
      ...s,
      wsClients: this.clients.size,
      busMissed: { ...s.busMissed, ws: this.counters.missedEvents },
      latency: { ...s.latency, bus_to_sent: this.latency.busToSent.summary, end_to_end: this.latency.endToEnd.summary },
    };
  }

  get lastPublishedStats(): EngineStats | null {
    return this.lastStats;
  }

  private publishStats(): void {
    this.latency.busToSent.roll();
    this.latency.endToEnd.roll();
    const stats = this.stats();
    this.lastStats = stats;
    if (this.clients.size === 0) return;
    const tsMs = this.now();
    // Periodic, not urgent: these ride on the next coalescing tick (or an earlier urgent frame), so every
    // client gets one frame per tick instead of an extra fan-out pass per stats interval.
    this.dispatch({ type: 'stats', seq: ++this.seq, tsMs, stats }, null, false);
    // Feed counters (messages/s, last message age) move continuously: refresh them with the stats.
    for (const feed of this.opts.state.feeds()) this.dispatch({ type: 'feed', seq: ++this.seq, tsMs, feed }, null, false);
  }

  // ---- out-of-band events (feeds, config) ---------------------------------------------------------

  publishFeed(feed: FeedState): void {
    this.pump();
    this.dispatch({ type: 'feed', seq: ++this.seq, tsMs: this.now(), feed }, null);
    this.flush();
  }

  publishFundingCheck(check: FundingCrossCheck): void {
    this.pump();
    this.dispatch({ type: 'funding_check', seq: ++this.seq, tsMs: this.now(), check }, null);
    this.flush();
  }

  publishConfigVersion(version: number): void {
    this.pump();
    this.dispatch({ type: 'config', seq: ++this.seq, tsMs: this.now(), version }, null);
    this.flush();
  }

  // ---- the event path ----------------------------------------------------------------------------

  /** Drains both subscriptions and sends what is due now (`all`: also what could wait for the tick). Safe to call at any time. */
  pump(all = false): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      this.pumpStartUs = this.nowUs();
      const missed = this.oppSub.takeMissed() + (this.strategySub ? this.strategySub.takeMissed() : 0);
      if (missed > 0) {
        this.counters.missedEvents += missed;
        this.opts.logger?.warn({ missed }, 'stream subscriber fell behind the bus; clients told to resync');
        this.dispatch({ type: 'missed', seq: ++this.seq, tsMs: this.now(), count: missed }, null);
      }
      for (;;) {
        const batch = this.oppSub.popBatch(POP_BATCH);
        for (const ev of batch) this.onOpportunityEvent(ev);
        if (batch.length < POP_BATCH) break;
      }
      if (this.strategySub) {
        for (;;) {
          const batch = this.strategySub.popBatch(POP_BATCH);
          for (const ev of batch) this.onStrategyEvent(ev);
          if (batch.length < POP_BATCH) break;
        }
      }
      if (all || this.urgentOwed) this.flush();
    } finally {
      this.pumping = false;
    }
  }

  private onOpportunityEvent(ev: OpportunityEvent): void {
    const id = ev.opportunity.id;
    if (ev.kind === 'updated') {
      this.pendingUpdates.set(id, ev);
      return;
    }
    this.pendingUpdates.delete(id);
    if (ev.kind === 'closed') {
      this.recentlyClosed.push({ opportunity: ev.opportunity, reason: ev.reason, lifetimeMs: ev.lifetimeMs, closedMs: ev.tsMs });
      if (this.recentlyClosed.length > this.recentlyClosedLimit) this.recentlyClosed.shift();
    }
    if (this.clients.size === 0) return;
    this.dispatchOpportunity(ev);
    this.sentRecvUs.push(ev.recvUs);
  }

  private dispatchOpportunity(ev: OpportunityEvent): void {
    const seq = ++this.seq;
    const msg: ServerMessage =
      ev.kind === 'closed'
        ? { type: 'opportunity', seq, tsMs: ev.tsMs, recvUs: ev.recvUs, event: 'closed', opportunity: ev.opportunity, reason: ev.reason, lifetimeMs: ev.lifetimeMs }
        : { type: 'opportunity', seq, tsMs: ev.tsMs, recvUs: ev.recvUs, event: ev.kind, opportunity: ev.opportunity };
    this.dispatch(msg, { opp: ev.opportunity, kind: ev.kind });
  }

  private onStrategyEvent(ev: StrategyEvent): void {
    const tsMs = ev.tsMs;
    switch (ev.kind) {
      case 'position_updated':
        this.pendingPositions.set(ev.position.id, ev.position);
        return;
      case 'portfolio':
        this.pendingPortfolio = ev.portfolio;
        return;
      case 'position_opened':
      case 'position_closed':
        this.pendingPositions.delete(ev.position.id);
        if (this.clients.size > 0)
          this.dispatch({ type: 'position', seq: ++this.seq, tsMs, event: ev.kind === 'position_opened' ? 'opened' : 'closed', position: ev.position }, null);
        return;
      case 'fill':
        if (this.clients.size > 0) this.dispatch({ type: 'fill', seq: ++this.seq, tsMs, fill: ev.fill }, null);
        return;
      case 'rejection':
        if (this.clients.size > 0) this.dispatch({ type: 'rejection', seq: ++this.seq, tsMs, rejection: ev.rejection }, null);
        return;
      case 'trading_state':
        if (this.clients.size > 0) this.dispatch({ type: 'trading_state', seq: ++this.seq, tsMs, state: ev.state, reason: ev.reason }, null);
        return;
    }
  }

  /** The coalescing tick: latest update per opportunity / position, then the portfolio. */
  private tick(): void {
    this.pump();
    if (this.pendingUpdates.size === 0 && this.pendingPositions.size === 0 && this.pendingPortfolio === null) {
      this.flush(); // deferred stats, if any
      return;
    }
    if (this.clients.size > 0) {
      for (const ev of this.pendingUpdates.values()) this.dispatchOpportunity(ev);
      const tsMs = this.now();
      for (const position of this.pendingPositions.values()) this.dispatch({ type: 'position', seq: ++this.seq, tsMs, event: 'updated', position }, null);
      if (this.pendingPortfolio) this.dispatch({ type: 'portfolio', seq: ++this.seq, tsMs, portfolio: this.pendingPortfolio }, null);
    }
    this.pendingUpdates.clear();
    this.pendingPositions.clear();
    this.pendingPortfolio = null;
    this.flush();
  }

  private dispatch(msg: ServerMessage, route: OppRoute | null, urgent = true): void {
    this.counters.messagesCreated++;
    if (urgent) this.urgentOwed = true;
    const encoded = JSON.stringify(msg);
    let anyUnfiltered = false;
    for (const c of this.clients) {
      if (c.filter === null) {
        anyUnfiltered = true;
        continue;
      }
      if (route === null || c.filter.pass(route.opp, route.kind)) {
        c.out.push(encoded);
        this.ownOutPending = true;
      }
    }
    if (anyUnfiltered) this.broadcast.push(encoded);
  }

  /**
   * One frame per client with something owed. With many clients the writes are spread over event-loop
   * turns (FLUSH_BUDGET_MS of writing per turn) so a large fan-out never holds up the feeds and the engine; a
   * later flush (or a snapshot) first completes the one in progress, so every client's frames stay in order.
   */
  private flush(): void {
    this.completePendingFlush();
    this.urgentOwed = false;
    const sentUs = Math.round(this.nowUs());
    const tail = this.broadcast.length > 0 ? Buffer.from(`,"sentUs":${sentUs},"messages":[${this.broadcast.join(',')}]}`) : null;
    this.broadcast.length = 0;
    const recvUs = this.sentRecvUs.length > 0 ? this.sentRecvUs.splice(0) : null;
    const owed = tail !== null || this.ownOutPending;
    this.ownOutPending = false;
    if (!owed) return;
    const clients = [...this.clients];
    this.pendingFlush = { clients, index: 0, tail, scratch: new HeadScratch(clients.length), sentUs, recvUs, pumpStartUs: this.pumpStartUs };
    this.runFlushSlice(FLUSH_BUDGET_MS);
    if (this.pendingFlush && !this.flushImmediate) this.flushImmediate = setImmediate(() => this.continueFlush());
  }

  private continueFlush(): void {
    this.flushImmediate = null;
    if (!this.pendingFlush || this.closed) return;
    this.runFlushSlice(FLUSH_BUDGET_MS);
    if (this.pendingFlush) this.flushImmediate = setImmediate(() => this.continueFlush());
  }

  private completePendingFlush(): void {
    if (this.pendingFlush) this.runFlushSlice(Number.POSITIVE_INFINITY);
    if (this.flushImmediate) {
      clearImmediate(this.flushImmediate);
      this.flushImmediate = null;
    }
  }

  /** Writes the pending flush's clients until done or `budgetMs` has passed. */
  private runFlushSlice(budgetMs: number): void {
    const job = this.pendingFlush;
    if (!job) return;
    const max = this.stream.maxClientBufferBytes;
    const deadline = performance.now() + budgetMs;
    const end = job.clients.length;
    for (; job.index < end; job.index++) {
      if (job.index % FLUSH_CHECK === FLUSH_CHECK - 1 && performance.now() > deadline) break;
      const c = job.clients[job.index];
      if (c.closed) continue;
      const before = c.framesSent;
      let ok = true;
      if (c.filter === null) {
        if (job.tail !== null) ok = c.sendSharedFrame(job.tail, max, job.scratch);
      } else {
        ok = c.flushOwn(max, job.sentUs);
      }
      this.counters.framesSent += c.framesSent - before;
      if (!ok) this.cutOff(c);
    }
    if (job.index < job.clients.length) return;
    this.pendingFlush = null;
    if (job.recvUs) {
      const doneUs = this.nowUs(); // after the last client's write
      this.latency.busToSent.record(doneUs - job.pumpStartUs);
      for (const r of job.recvUs) this.latency.endToEnd.record(doneUs - r);
    }
  }

  private cutOff(client: StreamClient): void {
    if (!this.clients.has(client)) return;
    this.counters.terminatedSlow++;
    this.opts.logger?.warn({ client: client.id, remote: client.remote, bufferedBytes: client.bufferedAmount }, 'ws client cut off: send buffer over limit');
    client.terminate();
    this.removeClient(client);
  }

  /** Closes every client (1001 going away) and stops the timers and subscriptions. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.updateTimer, this.statsTimer, this.heartbeatTimer]) if (t) clearInterval(t);
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    this.pendingFlush = null;
    this.oppSub.close();
    this.strategySub?.close();
    for (const c of this.clients) {
      c.closed = true;
      c.subscribes.cancel();
      try {
        c.socket.close(1001, 'server shutting down');
      } catch {
        c.socket.terminate();
      }
    }
    this.clients.clear();
  }
}
