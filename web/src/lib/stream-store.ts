/**
 * The dashboard's picture of the server, built from `/ws` frames: a snapshot, then events merged by id.
 * No framework and no I/O: `StreamConnection` feeds it frames, Svelte components subscribe to its view,
 * and unit tests drive it directly.
 */
import type { FundingCrossCheck } from '../../../shared/cross-check.js';
import type { FeedState } from '../../../shared/feeds.js';
import type { Opportunity, OpportunityCloseReason } from '../../../shared/opportunity.js';
import { isPositionClosed, type Fill, type Portfolio, type Position, type RiskRejection, type TradingState } from '../../../shared/position.js';
import type { ClosedOpportunity, EngineStats, ServerFrame, ServerMessage, Snapshot } from '../../../shared/protocol.js';
import { Observable } from './observable.js';

export type RowState = 'open' | 'closing';
export type Direction = 'up' | 'down' | 'none';

export interface OpportunityRow {
  id: string;
  opportunity: Opportunity;
  state: RowState;
  /** Stream seq of the last event applied to this row (0 when it came from a snapshot). */
  lastSeq: number;
  /** Local time of the last change of values, for the flash. */
  changedMs: number;
  /** How projected profit moved on the last change. */
  direction: Direction;
  /** Set once closed: the row stays visible as `closing` for a moment, then moves to recently closed. */
  closeReason: OpportunityCloseReason | null;
  lifetimeMs: number | null;
  closingSinceMs: number | null;
}

export interface FeedView {
  feed: FeedState;
  /** Local time the state was received. */
  receivedMs: number;
  /** Server clock when the server built the state (the carrying message's `tsMs`): ages count from here. */
  asOfServerMs: number;
}

/** Server time of the feed's last message (null before the first): `asOfServerMs − lastMessageAgeMs`. */
export function feedLastMessageServerMs(view: FeedView): number | null {
  const age = view.feed.lastMessageAgeMs;
  return typeof age === 'number' && Number.isFinite(age) ? view.asOfServerMs - Math.max(0, age) : null;
}

export interface HistorySeries {
  /** Seconds since epoch (uPlot's x unit). */
  t: number[];
  spreadBps: number[];
  profitBps: number[];
}

export interface StreamCounters {
  frames: number;
  messages: number;
  snapshots: number;
  gaps: number;
  malformed: number;
  unknownTypes: number;
  /** Opportunity events older than what a row already holds (dropped). */
  outOfOrder: number;
}

export interface StreamView {
  /** Increases on every change; cheap change detection for views. */
  version: number;
  /** True once a snapshot has been applied on the current connection. */
  synced: boolean;
  rows: OpportunityRow[];
  recentlyClosed: ClosedOpportunity[];
  positions: Position[];
  closedPositions: Position[];
  fills: Fill[];
  portfolio: Portfolio | null;
  tradingState: TradingState;
  tradingStateReason: string;
  rejections: RiskRejection[];
  feeds: FeedView[];
  /** Funding cross-check per source venue (venues publishing others' funding), by source id. */
  fundingChecks: FundingCrossCheck[];
  stats: EngineStats | null;
  configVersion: number;
  lastSeq: number;
  /** localNow - serverNow estimate (ms), for countdowns and ages computed from server timestamps. */
  clockOffsetMs: number;
  counters: StreamCounters;
}

export type FrameResult = { ok: true } | { ok: false; reason: 'gap' | 'no_snapshot' | 'missed' | 'malformed'; detail: string };

export interface StreamStoreOptions {
  /** Keep at least this many recently closed opportunities (newest first). */
  closedLimit?: number;
  /** How long a closed row stays in the table marked `closing` (ms). */
  closingHoldMs?: number;
  /** Chart history bounds per opportunity. */
  historyPoints?: number;
  historyWindowMs?: number;
  /** Opportunity ids with a history kept at most (the oldest idle ones are evicted). */
  historyIds?: number;
  closedPositionsLimit?: number;
  fillsLimit?: number;
  rejectionsLimit?: number;
  now?: () => number;
  /** How change notifications are delivered; default synchronous. The app batches them per animation frame. */
  schedule?: (notify: () => void) => void;
}

const EMPTY_COUNTERS: StreamCounters = { frames: 0, messages: 0, snapshots: 0, gaps: 0, malformed: 0, unknownTypes: 0, outOfOrder: 0 };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.unshift(item);
  if (list.length > limit) list.length = limit;
}

export class StreamStore extends Observable<StreamView> {
  private readonly opts: Required<Omit<StreamStoreOptions, 'schedule' | 'now'>>;
  private readonly now: () => number;
  private readonly schedule: (notify: () => void) => void;

  private rows = new Map<string, OpportunityRow>();
  private recentlyClosed: ClosedOpportunity[] = [];
  private positions = new Map<string, Position>();
  private closedPositions: Position[] = [];
  private fills: Fill[] = [];
  private portfolio: Portfolio | null = null;
  private tradingState: TradingState = 'active';
  private tradingStateReason = '';
  private rejections: RiskRejection[] = [];
  private feeds = new Map<string, FeedView>();
  private fundingChecks = new Map<string, FundingCrossCheck>();
  private stats: EngineStats | null = null;
  private configVersion = 0;
  private lastSeq = 0;
  private clockOffsetMs = 0;
  private clockSamples = 0;
  private readonly histories = new Map<string, HistorySeries & { touchedMs: number }>();
  private counters: StreamCounters = { ...EMPTY_COUNTERS };

  /** Frame number expected next on the current connection; 1 right after connecting. */
  private expectedFrame = 1;
  private synced = false;
  private version = 0;
  private pending = false;

  constructor(options: StreamStoreOptions = {}) {
    super(undefined as unknown as StreamView);
    this.opts = {
      closedLimit: options.closedLimit ?? 500,
      closingHoldMs: options.closingHoldMs ?? 1500,
      historyPoints: options.historyPoints ?? 3000,
      historyWindowMs: options.historyWindowMs ?? 10 * 60_000,
      historyIds: options.historyIds ?? 400,
      closedPositionsLimit: options.closedPositionsLimit ?? 500,
      fillsLimit: options.fillsLimit ?? 1000,
      rejectionsLimit: options.rejectionsLimit ?? 300,
    };
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? ((notify) => notify());
    this.set(this.buildView());
  }

  /** Call when a new socket opens: the next frame must be frame 1 holding a snapshot. */
  beginConnection(): void {
    this.expectedFrame = 1;
    this.synced = false;
    this.changed();
  }

  /** Applies one frame. A frame out of sequence or a `missed` notice asks the caller to resync; nothing is applied then. */
  applyFrame(frame: unknown): FrameResult {
    if (!isObject(frame) || typeof frame.frame !== 'number' || !Array.isArray(frame.messages)) {
      this.counters.malformed++;
      this.changed();
      return { ok: false, reason: 'malformed', detail: 'frame is not {frame, messages}' };
    }
    const f = frame as unknown as ServerFrame;
    if (f.frame !== this.expectedFrame) {
      this.counters.gaps++;
      this.changed();
      return { ok: false, reason: 'gap', detail: `expected frame ${this.expectedFrame}, got ${f.frame}` };
    }
    const first: unknown = f.messages[0];
    if (!this.synced && !(isObject(first) && first.type === 'snapshot')) {
      return { ok: false, reason: 'no_snapshot', detail: 'first frame does not start with a snapshot' };
    }
    this.expectedFrame++;
    this.counters.frames++;
    for (const m of f.messages) {
      if (!isObject(m) || typeof m.type !== 'string') {
        this.counters.malformed++;
        continue;
      }
      this.counters.messages++;
      if (m.type === 'missed') {
        this.changed();
        return { ok: false, reason: 'missed', detail: `server dropped ${String(m.count)} events for this client` };
      }
      try {
        this.applyMessage(m as unknown as ServerMessage);
      } catch {
        this.counters.malformed++; // a message missing fields must not take the dashboard down
      }
    }
    this.changed();
    return { ok: true };
  }

  /** Moves rows that finished their `closing` hold out of the table. Call from a timer (the app uses 250 ms). */
  tick(nowMs: number = this.now()): void {
    let removed = false;
    for (const [id, row] of this.rows) {
      if (row.state === 'closing' && row.closingSinceMs !== null && nowMs - row.closingSinceMs >= this.opts.closingHoldMs) {
        this.rows.delete(id);
        removed = true;
      }
    }
    if (removed) this.changed();
  }

  /** Spread/profit history of one opportunity for the chart (shared arrays: treat as read-only). */
  history(id: string): HistorySeries | null {
    return this.histories.get(id) ?? null;
  }

  /** Rejections loaded over REST before the stream had any (newest first). */
  seedRejections(list: RiskRejection[]): void {
    const seen = new Set(this.rejections.map((r) => `${r.tsMs}|${r.opportunityId}|${r.reason}`));
    const merged = [...this.rejections, ...list.filter((r) => !seen.has(`${r.tsMs}|${r.opportunityId}|${r.reason}`))];
    merged.sort((a, b) => b.tsMs - a.tsMs);
    this.rejections = merged.slice(0, this.opts.rejectionsLimit);
    this.changed();
  }

  /** Closed positions loaded over REST (newest first), merged with those seen on the stream. */
  seedClosedPositions(list: Position[]): void {
    const byId = new Map(this.closedPositions.map((p) => [p.id, p]));
    for (const p of list) if (!byId.has(p.id)) byId.set(p.id, p);
    this.closedPositions = [...byId.values()].sort((a, b) => (b.closedMs ?? 0) - (a.closedMs ?? 0)).slice(0, this.opts.closedPositionsLimit);
    this.changed();
  }

  /** Fills loaded over REST (newest first), merged with those seen on the stream. */
  seedFills(list: Fill[]): void {
    const byId = new Map(this.fills.map((f) => [f.id, f]));
    for (const f of list) if (!byId.has(f.id)) byId.set(f.id, f);
    this.fills = [...byId.values()].sort((a, b) => b.fillMs - a.fillMs).slice(0, this.opts.fillsLimit);
    this.changed();
  }

  /** Feed states polled over REST: the stream only sends a feed's state when it changes, so message ages and rates go stale. */
  updateFeeds(list: FeedState[]): void {
    const now = this.now();
    // The server lists exactly the configured venues: one missing from the list was removed.
    const listed = list.filter((f) => f && typeof f.exchange === 'string' && !f.removed);
    this.feeds = new Map(listed.map((f) => [f.exchange, { feed: f, receivedMs: now, asOfServerMs: now - this.clockOffsetMs }]));
    this.changed();
  }

  /** Forgets a position at once (after a successful close request), before the stream confirms it. */
  markPositionClosed(position: Position): void {
    if (isPositionClosed(position)) this.closePosition(position);
    else this.positions.set(position.id, position);
    this.changed();
  }

  private applyMessage(m: ServerMessage): void {
    this.lastSeq = Math.max(this.lastSeq, m.seq ?? 0);
    if (typeof m.tsMs === 'number') this.observeClock(m.tsMs);
    switch (m.type) {
      case 'snapshot':
        this.applySnapshot(m);
        return;
      case 'opportunity':
        if (m.event === 'closed') this.closeOpportunity(m.opportunity, m.reason, m.lifetimeMs, m.seq, m.tsMs);
        else this.upsertOpportunity(m.opportunity, m.seq);
        return;
      case 'position':
        if (m.event === 'closed' || isPositionClosed(m.position)) this.closePosition(m.position);
        else this.positions.set(m.position.id, m.position);
        return;
      case 'fill':
        if (!this.fills.some((f) => f.id === m.fill.id)) pushBounded(this.fills, m.fill, this.opts.fillsLimit);
        return;
      case 'rejection':
        pushBounded(this.rejections, m.rejection, this.opts.rejectionsLimit);
        return;
      case 'portfolio':
        this.portfolio = m.portfolio;
        this.tradingState = m.portfolio.tradingState ?? this.tradingState;
        return;
      case 'trading_state':
        this.tradingState = m.state;
        this.tradingStateReason = m.reason;
        return;
      case 'feed':
        // A venue removed from the config sends its last state once: forget it (it is no longer "down").
        if (m.feed.removed) {
          this.feeds.delete(m.feed.exchange);
          this.fundingChecks.delete(m.feed.exchange);
        } else this.feeds.set(m.feed.exchange, { feed: m.feed, receivedMs: this.now(), asOfServerMs: m.tsMs });
        return;
      case 'funding_check':
        if (isObject(m.check) && typeof m.check.source === 'string') this.fundingChecks.set(m.check.source, m.check);
        return;
      case 'stats':
        this.stats = m.stats;
        return;
      case 'config':
        this.configVersion = m.version;
        return;
      default:
        this.counters.unknownTypes++;
    }
  }

  private applySnapshot(s: Snapshot): void {
    const now = this.now();
    // A resync replaces the picture; rows still `closing` stay until their hold ends unless the snapshot has them open again.
    const next = new Map<string, OpportunityRow>();
    for (const o of s.opportunities) {
      const prev = this.rows.get(o.id);
      next.set(o.id, this.makeRow(o, 0, prev, now));
      this.recordHistory(o);
    }
    for (const [id, row] of this.rows) if (row.state === 'closing' && !next.has(id)) next.set(id, row);
    this.rows = next;
    const closedIds = new Set<string>();
    this.recentlyClosed = [...(s.recentlyClosed ?? []), ...this.recentlyClosed]
      .filter((c) => {
        const key = `${c.opportunity.id}|${c.closedMs}`;
        if (closedIds.has(key)) return false;
        closedIds.add(key);
        return true;
      })
      .sort((a, b) => b.closedMs - a.closedMs)
      .slice(0, this.opts.closedLimit);
    const open = new Map<string, Position>();
    for (const p of s.positions ?? []) {
      if (isPositionClosed(p)) this.closePosition(p);
      else open.set(p.id, p);
    }
    this.positions = open;
    this.portfolio = s.portfolio ?? null;
    this.tradingState = s.tradingState ?? this.portfolio?.tradingState ?? 'active';
    this.feeds = new Map((s.feeds ?? []).map((f) => [f.exchange, { feed: f, receivedMs: now, asOfServerMs: s.tsMs }]));
    this.fundingChecks = new Map((s.fundingChecks ?? []).map((c) => [c.source, c]));
    this.stats = s.stats ?? null;
    this.configVersion = s.configVersion ?? 0;
    this.synced = true;
    this.counters.snapshots++;
  }

  private makeRow(o: Opportunity, seq: number, prev: OpportunityRow | undefined, now: number): OpportunityRow {
    let direction: Direction = prev?.direction ?? 'none';
    let changedMs = prev?.changedMs ?? now;
    if (!prev || prev.state === 'closing') {
      direction = 'none';
      changedMs = now;
    } else if (o.projectedProfitBps !== prev.opportunity.projectedProfitBps || o.spreadBps !== prev.opportunity.spreadBps) {
      direction = o.projectedProfitBps > prev.opportunity.projectedProfitBps ? 'up' : o.projectedProfitBps < prev.opportunity.projectedProfitBps ? 'down' : direction;
      changedMs = now;
    }
    return { id: o.id, opportunity: o, state: 'open', lastSeq: seq, changedMs, direction, closeReason: null, lifetimeMs: null, closingSinceMs: null };
  }

  private upsertOpportunity(o: Opportunity, seq: number): void {
    const prev = this.rows.get(o.id);
    if (prev && prev.state === 'open' && seq <= prev.lastSeq) {
      this.counters.outOfOrder++;
      return;
    }
    this.rows.set(o.id, this.makeRow(o, seq, prev, this.now()));
    this.recordHistory(o);
  }

  private closeOpportunity(o: Opportunity, reason: OpportunityCloseReason, lifetimeMs: number, seq: number, tsMs: number): void {
    const prev = this.rows.get(o.id);
    if (prev && seq <= prev.lastSeq) {
      this.counters.outOfOrder++;
      return;
    }
    const now = this.now();
    this.rows.set(o.id, {
      id: o.id,
      opportunity: o,
      state: 'closing',
      lastSeq: seq,
      changedMs: now,
      direction: prev?.direction ?? 'none',
      closeReason: reason,
      lifetimeMs,
      closingSinceMs: now,
    });
    this.recordHistory(o);
    pushBounded(this.recentlyClosed, { opportunity: o, reason, lifetimeMs, closedMs: tsMs }, this.opts.closedLimit);
  }

  private closePosition(p: Position): void {
    this.positions.delete(p.id);
    const i = this.closedPositions.findIndex((c) => c.id === p.id);
    if (i >= 0) this.closedPositions[i] = p;
    else pushBounded(this.closedPositions, p, this.opts.closedPositionsLimit);
  }

  private recordHistory(o: Opportunity): void {
    const now = this.now();
    let h = this.histories.get(o.id);
    if (!h) {
      if (this.histories.size >= this.opts.historyIds) this.evictHistory();
      h = { t: [], spreadBps: [], profitBps: [], touchedMs: now };
      this.histories.set(o.id, h);
    }
    const t = (o.updatedMs || now) / 1000;
    const last = h.t.length - 1;
    if (last >= 0 && t < h.t[last]) return; // never go back in time
    if (last >= 0 && t === h.t[last]) {
      h.spreadBps[last] = o.spreadBps;
      h.profitBps[last] = o.projectedProfitBps;
    } else {
      h.t.push(t);
      h.spreadBps.push(o.spreadBps);
      h.profitBps.push(o.projectedProfitBps);
    }
    h.touchedMs = now;
    const minT = t - this.opts.historyWindowMs / 1000;
    let drop = 0;
    while (drop < h.t.length && (h.t[drop] < minT || h.t.length - drop > this.opts.historyPoints)) drop++;
    if (drop > 0) {
      h.t.splice(0, drop);
      h.spreadBps.splice(0, drop);
      h.profitBps.splice(0, drop);
    }
  }

  private evictHistory(): void {
    let oldestId: string | null = null;
    let oldest = Infinity;
    for (const [id, h] of this.histories) {
      if (this.rows.get(id)?.state === 'open') continue;
      if (h.touchedMs < oldest) {
        oldest = h.touchedMs;
        oldestId = id;
      }
    }
    if (oldestId !== null) this.histories.delete(oldestId);
  }

  private observeClock(serverMs: number): void {
    const sample = this.now() - serverMs;
    // Smoothed toward the smallest observed delay (delivery latency only ever adds).
    if (this.clockSamples === 0 || sample < this.clockOffsetMs) this.clockOffsetMs = sample;
    else this.clockOffsetMs += (sample - this.clockOffsetMs) * 0.01;
    this.clockSamples++;
  }

  private changed(): void {
    this.version++;
    if (this.pending) return;
    this.pending = true;
    this.schedule(() => {
      this.pending = false;
      this.set(this.buildView());
    });
  }

  private buildView(): StreamView {
    return {
      version: this.version,
      synced: this.synced,
      rows: [...this.rows.values()],
      recentlyClosed: this.recentlyClosed.slice(),
      positions: [...this.positions.values()].sort((a, b) => b.openedMs - a.openedMs),
      closedPositions: this.closedPositions.slice(),
      fills: this.fills.slice(),
      portfolio: this.portfolio,
      tradingState: this.tradingState,
      tradingStateReason: this.tradingStateReason,
      rejections: this.rejections.slice(),
      feeds: [...this.feeds.values()].sort((a, b) => a.feed.exchange.localeCompare(b.feed.exchange)),
      fundingChecks: [...this.fundingChecks.values()].sort((a, b) => a.source.localeCompare(b.source)),
      stats: this.stats,
      configVersion: this.configVersion,
      lastSeq: this.lastSeq,
      clockOffsetMs: this.clockOffsetMs,
      counters: { ...this.counters },
    };
  }
}
