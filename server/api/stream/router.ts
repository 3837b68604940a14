/**
 * The `/ws` message router: what each audience (clients of one subscribe filter) should get. It drains
 * the hub's input (the opportunity bus and the strategy's event ring, see StreamInput), turns events into
 * `ServerMessage`s, encodes each message ONCE and queues it for every audience whose filter passes it.
 *
 * - `opened`/`closed` (and position opened/closed, fills, rejections, feed and trading-state changes) are
 *   urgent: the hub sends them on the tick they are published.
 * - `updated` events (and position updates, portfolio) are coalesced per id, latest wins, and queued by
 *   `tick()` at `stream.updateRateHz`; each coalesced message gets a fresh `seq`, so every client sees
 *   `seq` increase.
 * - If a subscription fell behind its ring (events lost), every audience gets `missed` (clients resync).
 * It writes nothing to sockets: the FanoutWriter sends what the audiences owe.
 */
import type { FundingCrossCheck } from '../../../shared/cross-check.js';
import type { FeedState } from '../../../shared/feeds.js';
import type { Opportunity, OpportunityEvent } from '../../../shared/opportunity.js';
import type { Portfolio, Position, StrategyEvent, TradingState } from '../../../shared/position.js';
import type { ClosedOpportunity, EngineStats, ServerMessage, Snapshot } from '../../../shared/protocol.js';
import type { EventSource, EventSubscription, Logger } from '../ports.js';
import type { Audience, Audiences } from './audience.js';

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

/**
 * The hub's whole input: two event rings it subscribes to and the state it snapshots. In one process these
 * are the engine's bus, the strategy's event ring and live views of both; an edge node can implement the
 * same from Redis (a ring fed by the engine's stream, state from the engine's keys). Out-of-band changes
 * (a feed's state, a funding check, a config version) are pushed with the hub's `publish*` methods.
 */
export interface StreamInput {
  opportunities: EventSource<OpportunityEvent>;
  strategy?: EventSource<StrategyEvent> | null;
  state: StreamState;
}

type OppRoute = { opp: Opportunity; kind: 'opened' | 'updated' | 'closed' };

const POP_BATCH = 4096;

export interface MessageRouterOptions {
  now: () => number;
  logger?: Logger;
  recentlyClosedLimit: number;
  /** True when any client is connected (no messages are built for nobody). */
  hasClients: () => boolean;
}

export class MessageRouter {
  private seq = 0;
  private readonly oppSub: EventSubscription<OpportunityEvent>;
  private readonly strategySub: EventSubscription<StrategyEvent> | null;
  private readonly pendingUpdates = new Map<string, OpportunityEvent>();
  private readonly pendingPositions = new Map<string, Position>();
  private pendingPortfolio: Portfolio | null = null;
  private readonly recentlyClosed: ClosedOpportunity[] = [];
  /** recvUs of urgent opportunity messages queued since the last take (for end-to-end latency). */
  private readonly sentRecvUs: number[] = [];
  /** Something that must go out now (not just periodic stats riding on the next tick) is queued. */
  urgentOwed = false;
  messagesCreated = 0;
  missedEvents = 0;

  constructor(
    private readonly input: StreamInput,
    private readonly audiences: Audiences,
    private readonly opts: MessageRouterOptions,
    onWake: () => void,
  ) {
    this.oppSub = input.opportunities.subscribe('ws', onWake);
    this.strategySub = input.strategy ? input.strategy.subscribe('ws-strategy', onWake) : null;
  }

  /** Drains both subscriptions into the audiences' queues (updates into the coalescing maps). */
  drain(): void {
    const missed = this.oppSub.takeMissed() + (this.strategySub ? this.strategySub.takeMissed() : 0);
    if (missed > 0) {
      this.missedEvents += missed;
      this.opts.logger?.warn({ missed }, 'stream subscriber fell behind the bus; clients told to resync');
      this.queue({ type: 'missed', seq: ++this.seq, tsMs: this.opts.now(), count: missed }, null);
    }
    for (;;) {
      const batch = this.oppSub.popBatch(POP_BATCH);
      for (const ev of batch) this.onOpportunityEvent(ev);
      if (batch.length < POP_BATCH) break;
    }
    if (!this.strategySub) return;
    for (;;) {
      const batch = this.strategySub.popBatch(POP_BATCH);
      for (const ev of batch) this.onStrategyEvent(ev);
      if (batch.length < POP_BATCH) break;
    }
  }

  /** The coalescing tick: queues the latest update per opportunity / position, then the portfolio. */
  tick(): void {
    if (this.pendingUpdates.size === 0 && this.pendingPositions.size === 0 && this.pendingPortfolio === null) return;
    if (this.opts.hasClients()) {
      for (const ev of this.pendingUpdates.values()) this.queueOpportunity(ev);
      const tsMs = this.opts.now();
      for (const position of this.pendingPositions.values()) this.queue({ type: 'position', seq: ++this.seq, tsMs, event: 'updated', position }, null);
      if (this.pendingPortfolio) this.queue({ type: 'portfolio', seq: ++this.seq, tsMs, portfolio: this.pendingPortfolio }, null);
    }
    this.pendingUpdates.clear();
    this.pendingPositions.clear();
    this.pendingPortfolio = null;
  }

  /** Queues a message for every audience (`urgent` = send now; else it rides on the next tick). */
  publish(build: (seq: number, tsMs: number) => ServerMessage, urgent = true): void {
    this.queue(build(++this.seq, this.opts.now()), null, urgent);
  }

  /** recvUs of the urgent opportunity messages queued since the last call (null when none). */
  takeRecvUs(): number[] | null {
    return this.sentRecvUs.length > 0 ? this.sentRecvUs.splice(0) : null;
  }

  /** The encoded snapshot for a client of `audience`: its view restarts from it. */
  snapshot(audience: Audience, stats: EngineStats): string {
    const state = this.input.state;
    const all = state.opportunities();
    const filter = audience.filter;
    const opportunities = filter ? filter.snapshotFor(all) : all;
    const recentlyClosed = filter ? this.recentlyClosed.filter((c) => filter.matchesClosed(c.opportunity)) : this.recentlyClosed;
    const snapshot: Snapshot = {
      type: 'snapshot',
      seq: this.seq,
      tsMs: this.opts.now(),
      opportunities,
      recentlyClosed: recentlyClosed.slice().reverse(),
      positions: state.positions(),
      portfolio: state.portfolio(),
      tradingState: state.tradingState(),
      feeds: state.feeds(),
      ...(state.fundingChecks ? { fundingChecks: state.fundingChecks() } : {}),
      configVersion: state.configVersion(),
      stats,
    };
    return JSON.stringify(snapshot);
  }

  close(): void {
    this.oppSub.close();
    this.strategySub?.close();
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
      if (this.recentlyClosed.length > this.opts.recentlyClosedLimit) this.recentlyClosed.shift();
    }
    if (!this.opts.hasClients()) return;
    this.queueOpportunity(ev);
    this.sentRecvUs.push(ev.recvUs);
  }

  private queueOpportunity(ev: OpportunityEvent): void {
    const seq = ++this.seq;
    const msg: ServerMessage =
      ev.kind === 'closed'
        ? { type: 'opportunity', seq, tsMs: ev.tsMs, recvUs: ev.recvUs, event: 'closed', opportunity: ev.opportunity, reason: ev.reason, lifetimeMs: ev.lifetimeMs }
        : { type: 'opportunity', seq, tsMs: ev.tsMs, recvUs: ev.recvUs, event: ev.kind, opportunity: ev.opportunity };
    this.queue(msg, { opp: ev.opportunity, kind: ev.kind });
  }

  private onStrategyEvent(ev: StrategyEvent): void {
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
        break;
    }
    if (!this.opts.hasClients()) return;
    const tsMs = ev.tsMs;
    switch (ev.kind) {
      case 'position_opened':
      case 'position_closed':
        this.queue({ type: 'position', seq: ++this.seq, tsMs, event: ev.kind === 'position_opened' ? 'opened' : 'closed', position: ev.position }, null);
        return;
      case 'fill':
        this.queue({ type: 'fill', seq: ++this.seq, tsMs, fill: ev.fill }, null);
        return;
      case 'rejection':
        this.queue({ type: 'rejection', seq: ++this.seq, tsMs, rejection: ev.rejection }, null);
        return;
      case 'trading_state':
        this.queue({ type: 'trading_state', seq: ++this.seq, tsMs, state: ev.state, reason: ev.reason }, null);
        return;
    }
  }

  /** Encodes once; every audience whose filter passes it (all, for non-opportunity messages) gets it. */
  private queue(msg: ServerMessage, route: OppRoute | null, urgent = true): void {
    this.messagesCreated++;
    if (urgent) this.urgentOwed = true;
    const encoded = JSON.stringify(msg);
    for (const a of this.audiences.values()) {
      if (route === null || a.filter === null || a.filter.pass(route.opp, route.kind)) a.out.push(encoded);
    }
  }
}
