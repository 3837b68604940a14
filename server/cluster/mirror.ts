/**
 * Edge side of the cluster: a replica of the engine's read surface built from Redis alone. It takes the
 * snapshot, reads the stream from the snapshot's seq, then follows the live Pub/Sub channel. Every event
 * carries a seq: one at or below the last applied is a duplicate (dropped), one beyond the next expected
 * is a gap, filled from the stream; when the stream no longer holds it (trimmed), when the engine
 * changes (a new fencing token: the standby took over) or when the engine asks (`resync`), a fresh
 * snapshot replaces the state. Nothing here polls: it only reacts to messages.
 *
 * Opportunity and strategy events are re-published on local broadcast rings, so the /ws hub and the REST
 * routes run on an edge unchanged. A fresh snapshot is turned into the events that lead from the old state
 * to the new one (opened / updated / closed, position changes), so connected clients follow it too.
 */
import { Redis } from 'ioredis';
import type { AlertsResponse } from '../../shared/alerts.js';
import type { VersionedConfig } from '../../shared/config.js';
import type { FundingCrossCheck } from '../../shared/cross-check.js';
import type { FeedState } from '../../shared/feeds.js';
import type { Opportunity, OpportunityEvent } from '../../shared/opportunity.js';
import type { Fill, Portfolio, Position, RiskRejection, StrategyEvent, TradingState } from '../../shared/position.js';
import type { EngineStats } from '../../shared/protocol.js';
import type { Logger } from '../api/ports.js';
import { BroadcastRing } from '../engine/bus.js';
import { type ClusterEvent, decodeSnapshot, type EngineSnapshot, type EventBatch, type FundingBoardState, type TradingCounters } from './events.js';
import type { ClusterKeys } from './keys.js';

const RING_CAPACITY = 65_536;
const MAX_FILLS = 10_000;
const MAX_REJECTIONS = 1_000;
/** A `resync` asks for a snapshot at least as new as itself; it is written right after: wait this long per try. */
const SNAPSHOT_RETRY_MS = 25;
const SNAPSHOT_TRIES = 40;

export interface MirrorListeners {
  feed?(state: FeedState): void;
  fundingCheck?(check: FundingCrossCheck): void;
  config?(next: VersionedConfig): void;
}

export interface MirrorStats {
  /** Events applied, in seq order. */
  applied: number;
  /** Events dropped because their seq was already applied. */
  duplicates: number;
  /** Gaps noticed (a batch beyond the next expected seq). */
  gaps: number;
  /** Gaps closed from the stream. */
  gapsFilled: number;
  /** Snapshots taken (start, engine change, trimmed gap, resync request). */
  snapshots: number;
  lastSeq: number;
  token: number;
}

export interface EngineMirrorOptions {
  url: string;
  keys: ClusterKeys;
  logger: Logger;
  listeners?: MirrorListeners;
  connectionName?: string;
}

type StreamEntry = [id: string, fields: string[]];

export class EngineMirror {
  /** Opportunity events in seq order (and those derived from a fresh snapshot): the hub's input. */
  readonly opportunityEvents = new BroadcastRing<OpportunityEvent>(RING_CAPACITY);
  readonly strategyEvents = new BroadcastRing<StrategyEvent>(RING_CAPACITY);
  readonly stats: MirrorStats = { applied: 0, duplicates: 0, gaps: 0, gapsFilled: 0, snapshots: 0, lastSeq: 0, token: 0 };

  private readonly sub: Redis;
  private readonly cmd: Redis;
  private readonly opps = new Map<string, Opportunity>();
  private readonly positionsById = new Map<string, Position>();
  private readonly feedsByVenue = new Map<string, FeedState>();
  private readonly checksBySource = new Map<string, FundingCrossCheck>();
  private fillsList: Fill[] = [];
  /** Newest first, like the engine's. */
  private rejectionsList: RiskRejection[] = [];
  private currentPortfolio: Portfolio | null = null;
  private currentTradingState: TradingState = 'active';
  private currentConfig: VersionedConfig | null = null;
  private currentStats: EngineStats | null = null;
  private currentAlerts: AlertsResponse | null = null;
  private currentCounters: TradingCounters = { rejections: {}, fills: [] };
  private currentFunding: FundingBoardState | null = null;
  /** Funding-board reads started; only the newest one's answer is kept. */
  private fundingReads = 0;
  private readonly inbox: string[] = [];
  private pumping = false;
  private needSnapshot = true;
  /** A `resync` at this seq: the snapshot must be at least this new. */
  private snapshotMinSeq = 0;
  private synced = false;
  private closed = false;
  private readonly syncWaiters: Array<() => void> = [];
  /** Detector lifecycle as seen by this edge (opened, closed by reason), for its /metrics. */
  private readonly lifecycle = { opened: 0, closed: {} as Record<string, number> };

  constructor(private readonly opts: EngineMirrorOptions) {
    const common = { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 1000) };
    this.sub = new Redis(opts.url, { ...common, connectionName: `${opts.connectionName ?? 'edge'}-sub` });
    this.cmd = new Redis(opts.url, { ...common, connectionName: `${opts.connectionName ?? 'edge'}-cmd` });
    this.sub.on('error', (err: Error) => opts.logger.warn({ err: err.message }, 'cluster mirror: redis subscriber error'));
    this.cmd.on('error', (err: Error) => opts.logger.warn({ err: err.message }, 'cluster mirror: redis error'));
    this.sub.on('message', (_channel: string, payload: string) => {
      this.inbox.push(payload);
      void this.pump();
    });
  }

  /** Subscribes first (so nothing published meanwhile is missed), then takes the snapshot. */
  async start(): Promise<void> {
    await Promise.all([this.sub.connect(), this.cmd.connect()]);
    await this.sub.subscribe(this.opts.keys.live);
    // After a reconnect (ioredis resubscribes by itself) messages may have been missed: start from a snapshot.
    this.sub.on('ready', () => {
      this.needSnapshot = true;
      void this.pump();
    });
    this.needSnapshot = true;
    await this.pump();
  }

  /** Resolves once a snapshot was applied (the engine has written one). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get isSynced(): boolean {
    return this.synced;
  }

  opportunities(): Opportunity[] {
    return [...this.opps.values()];
  }
  positions(): Position[] {
    return [...this.positionsById.values()];
  }
  position(id: string): Position | undefined {
    return this.positionsById.get(id);
  }
  fills(): Fill[] {
    return this.fillsList.slice();
  }
  rejections(limit = 100): RiskRejection[] {
    return this.rejectionsList.slice(0, limit);
  }
  portfolio(): Portfolio | null {
    return this.currentPortfolio;
  }
  tradingState(): TradingState {
    return this.currentTradingState;
  }
  feeds(): FeedState[] {
    return [...this.feedsByVenue.values()];
  }
  fundingChecks(): FundingCrossCheck[] {
    return [...this.checksBySource.values()];
  }
  config(): VersionedConfig | null {
    return this.currentConfig;
  }
  engineStats(): EngineStats | null {
    return this.currentStats;
  }
  /** The engine's alerts view (secrets masked by the engine), or null when it runs none or before the snapshot. */
  alerts(): AlertsResponse | null {
    return this.currentAlerts;
  }
  tradingCounters(): TradingCounters {
    return this.currentCounters;
  }
  /** The engine's whole funding board as last written, or null before the first. */
  fundingBoard(): FundingBoardState | null {
    return this.currentFunding;
  }
  opportunityCounts(): { opened: number; closed: Record<string, number> } {
    return { opened: this.lifecycle.opened, closed: { ...this.lifecycle.closed } };
  }

  /** One message at a time, in arrival order; a snapshot or a gap fill is awaited before the next. */
  private async pump(): Promise<void> {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.closed) return;
        if (this.needSnapshot) {
          const ok = await this.takeSnapshot();
          if (!ok) return; // no engine has written one yet: its first batch (a new token) brings us back here
          continue;
        }
        const raw = this.inbox.shift();
        if (raw === undefined) return;
        await this.receive(JSON.parse(raw) as EventBatch);
      }
    } catch (err) {
      // Redis away mid-sync: the reconnect ('ready') starts over from a snapshot.
      this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cluster mirror: sync failed; will start again from a snapshot');
      this.needSnapshot = true;
    } finally {
      this.pumping = false;
    }
  }

  private async receive(batch: EventBatch): Promise<void> {
    if (batch.token !== this.stats.token) {
      // Another engine (the standby took over): its state replaces ours.
      this.needSnapshot = true;
      return;
    }
    const last = batch.first + batch.events.length - 1;
    if (last <= this.stats.lastSeq) {
      this.stats.duplicates += batch.events.length;
      return;
    }
    if (batch.first > this.stats.lastSeq + 1) {
      this.stats.gaps++;
      if (!(await this.fillFromStream(batch.first - 1))) return;
    }
    this.applyBatch(batch);
  }

  /** Applies the stream's events after lastSeq up to `untilSeq` (or all); false (and a snapshot owed) when they were trimmed. */
  private async fillFromStream(untilSeq: number | null): Promise<boolean> {
    const entries = (await this.cmd.xrange(this.opts.keys.events, `(${this.stats.lastSeq}-0`, '+')) as StreamEntry[];
    for (const [, fields] of entries) {
      const batch = JSON.parse(fields[1]) as EventBatch;
      if (batch.token !== this.stats.token || batch.first > this.stats.lastSeq + 1) {
        this.needSnapshot = true;
        return false;
      }
      this.applyBatch(batch);
      if (untilSeq !== null && this.stats.lastSeq >= untilSeq) break;
    }
    if (untilSeq !== null && this.stats.lastSeq < untilSeq) {
      this.needSnapshot = true;
      return false;
    }
    if (untilSeq !== null) this.stats.gapsFilled++;
    return true;
  }

  private applyBatch(batch: EventBatch): void {
    for (let i = 0; i < batch.events.length; i++) {
      const seq = batch.first + i;
      if (seq <= this.stats.lastSeq) {
        this.stats.duplicates++;
        continue;
      }
      this.stats.lastSeq = seq;
      this.stats.applied++;
      this.apply(batch.events[i], seq);
      if (this.needSnapshot) return;
    }
  }

  private apply(ev: ClusterEvent, seq: number): void {
    const l = this.opts.listeners;
    switch (ev.t) {
      case 'opp':
        if (ev.e.kind === 'closed') {
          this.opps.delete(ev.e.opportunity.id);
          this.lifecycle.closed[ev.e.reason] = (this.lifecycle.closed[ev.e.reason] ?? 0) + 1;
        } else {
          if (ev.e.kind === 'opened') this.lifecycle.opened++;
          this.opps.set(ev.e.opportunity.id, ev.e.opportunity);
        }
        this.opportunityEvents.publish(ev.e);
        return;
      case 'strategy':
        this.applyStrategy(ev.e);
        this.strategyEvents.publish(ev.e);
        return;
      case 'feed':
        this.feedsByVenue.set(ev.e.exchange, ev.e);
        l?.feed?.(ev.e);
        return;
      case 'check':
        this.checksBySource.set(ev.e.source, ev.e);
        l?.fundingCheck?.(ev.e);
        return;
      case 'config':
        this.currentConfig = ev.e;
        l?.config?.(ev.e);
        return;
      case 'stats':
        this.currentStats = ev.e;
        return;
      case 'alerts':
        this.currentAlerts = ev.e;
        return;
      case 'counters':
        this.currentCounters = ev.e;
        return;
      case 'funding':
        void this.loadFunding();
        return;
      case 'resync':
        this.needSnapshot = true;
        this.snapshotMinSeq = seq;
        return;
    }
  }

  private applyStrategy(e: StrategyEvent): void {
    switch (e.kind) {
      case 'position_opened':
      case 'position_updated':
      case 'position_closed':
        this.positionsById.set(e.position.id, e.position);
        return;
      case 'fill':
        this.fillsList.push(e.fill);
        if (this.fillsList.length > MAX_FILLS) this.fillsList.splice(0, this.fillsList.length - MAX_FILLS);
        return;
      case 'rejection':
        this.rejectionsList.unshift(e.rejection);
        if (this.rejectionsList.length > MAX_REJECTIONS) this.rejectionsList.length = MAX_REJECTIONS;
        return;
      case 'trading_state':
        this.currentTradingState = e.state;
        return;
      case 'portfolio':
        this.currentPortfolio = e.portfolio;
        return;
    }
  }

  /** Reads the funding key (announced by a `funding` event, and with every snapshot); the newest read wins. */
  private async loadFunding(): Promise<void> {
    const n = ++this.fundingReads;
    try {
      const raw = await this.cmd.get(this.opts.keys.funding);
      if (n !== this.fundingReads || raw === null) return;
      this.currentFunding = JSON.parse(raw) as FundingBoardState;
    } catch (err) {
      // The next announcement (or snapshot) reads it again.
      this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cluster mirror: reading the funding board failed');
    }
  }

  /** Takes the snapshot and reads the stream after it; false when none exists yet. */
  private async takeSnapshot(): Promise<boolean> {
    let snap: EngineSnapshot | null = null;
    for (let tries = 0; tries < SNAPSHOT_TRIES; tries++) {
      snap = decodeSnapshot(await this.cmd.hgetall(this.opts.keys.snapshot));
      if (snap === null || snap.seq >= this.snapshotMinSeq) break;
      await new Promise((r) => setTimeout(r, SNAPSHOT_RETRY_MS));
    }
    if (snap === null) return false;
    this.needSnapshot = false;
    this.snapshotMinSeq = 0;
    this.replaceState(snap);
    this.stats.snapshots++;
    await this.loadFunding();
    if (!(await this.fillFromStream(null))) return true; // trimmed already: the pump takes another snapshot
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    return true;
  }

  /** Replaces the state by a snapshot and publishes the differences as events (so /ws clients follow). */
  private replaceState(s: EngineSnapshot): void {
    const nowMs = Date.now();
    const nowUs = nowMs * 1000;
    const next = new Map(s.opportunities.map((o) => [o.id, o]));
    for (const [id, old] of this.opps) {
      // Closed while this edge did not see it (engine change or lost events): the reason is unknown; feed_down is the nearest.
      if (!next.has(id)) this.opportunityEvents.publish({ kind: 'closed', seq: 0, tsMs: nowMs, recvUs: nowUs, opportunity: old, reason: 'feed_down', lifetimeMs: nowMs - old.firstSeenMs });
    }
    for (const [id, opp] of next) {
      this.opportunityEvents.publish({ kind: this.opps.has(id) ? 'updated' : 'opened', seq: 0, tsMs: nowMs, recvUs: nowUs, opportunity: opp });
    }
    this.opps.clear();
    for (const [id, o] of next) this.opps.set(id, o);

    for (const p of s.positions) {
      const before = this.positionsById.get(p.id);
      if (before === undefined) this.strategyEvents.publish({ kind: 'position_opened', tsMs: nowMs, position: p });
      else if (JSON.stringify(before) !== JSON.stringify(p)) this.strategyEvents.publish({ kind: 'position_updated', tsMs: nowMs, position: p });
    }
    this.positionsById.clear();
    for (const p of s.positions) this.positionsById.set(p.id, p);
    if (s.tradingState !== this.currentTradingState) this.strategyEvents.publish({ kind: 'trading_state', tsMs: nowMs, state: s.tradingState, reason: 'engine snapshot' });
    this.currentTradingState = s.tradingState;
    this.currentPortfolio = s.portfolio;
    this.strategyEvents.publish({ kind: 'portfolio', tsMs: nowMs, portfolio: s.portfolio });
    this.fillsList = s.fills.slice(-MAX_FILLS);
    this.rejectionsList = s.rejections.slice(0, MAX_REJECTIONS);

    this.feedsByVenue.clear();
    for (const f of s.feeds) {
      this.feedsByVenue.set(f.exchange, f);
      this.opts.listeners?.feed?.(f);
    }
    this.checksBySource.clear();
    for (const c of s.fundingChecks) this.checksBySource.set(c.source, c);
    if (this.currentConfig?.version !== s.config.version || this.currentConfig.updatedMs !== s.config.updatedMs) {
      this.currentConfig = s.config;
      this.opts.listeners?.config?.(s.config);
    }
    this.currentStats = s.stats;
    this.currentAlerts = s.alerts;
    this.currentCounters = s.counters;
    this.stats.lastSeq = s.seq;
    this.stats.token = s.token;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sub.disconnect();
    this.cmd.disconnect();
  }
}
