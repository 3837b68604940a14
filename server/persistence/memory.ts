/**
 * The embedded default store (no REDIS_URL): same interface and semantics as RedisPersistence — the
 * same caps, newest-first history, idempotent by id, values stored as JSON snapshots so a later
 * mutation of a saved object does not change what was saved. Lives only as long as the process.
 */
import type { AlertsConfig } from '../../shared/alerts.js';
import type { VersionedConfig } from '../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { isPositionClosed, type Fill, type Position } from '../../shared/position.js';
import type { ClosedOpportunity } from '../../shared/protocol.js';
import { resolveCaps, type PersistenceCaps } from './caps.js';
import type { MarketRecord, Persistence, PersistenceHealth, PortfolioState } from './persistence.js';

/** An append-only log that keeps the newest `cap` items (exactly), compacting in amortised O(1). */
export class CappedLog<T> {
  private items: T[] = [];
  private start = 0;
  constructor(private readonly cap: number) {}

  get length(): number {
    return this.items.length - this.start;
  }
  push(item: T): void {
    this.items.push(item);
    if (this.items.length - this.start > this.cap) this.start++;
    if (this.start > 1024 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
  }
  /** Item `i` counted from the oldest kept. */
  at(i: number): T {
    return this.items[this.start + i];
  }
  toArray(): T[] {
    return this.items.slice(this.start);
  }
}

/** Ids ordered by a time key, so the oldest beyond the cap can be pruned like Redis' sorted set. */
class TimeIndex {
  private entries: Array<{ id: string; t: number }> = [];
  private readonly where = new Map<string, number>();

  /** Adds or re-scores `id`; returns the ids pruned beyond `cap` (oldest time first). */
  upsert(id: string, t: number, cap: number): string[] {
    if (this.where.get(id) === t) return [];
    if (this.where.has(id)) this.entries = this.entries.filter((e) => e.id !== id);
    this.where.set(id, t);
    // Usually appended at the end: walk back from the tail.
    let i = this.entries.length;
    while (i > 0 && (this.entries[i - 1].t > t || (this.entries[i - 1].t === t && this.entries[i - 1].id > id))) i--;
    this.entries.splice(i, 0, { id, t });
    if (this.entries.length <= cap) return [];
    const pruned = this.entries.splice(0, this.entries.length - cap).map((e) => e.id);
    for (const p of pruned) this.where.delete(p);
    return pruned;
  }
}

function toClosed(event: OpportunityEvent): ClosedOpportunity | null {
  if (event.kind !== 'closed') return null;
  return { opportunity: event.opportunity, reason: event.reason, lifetimeMs: event.lifetimeMs, closedMs: event.tsMs };
}

export class MemoryPersistence implements Persistence {
  readonly kind = 'memory' as const;
  private readonly caps: PersistenceCaps;
  private config: string | null = null;
  private alerts: string | null = null;
  private portfolio: string | null = null;
  private readonly positions = new Map<string, string>();
  private readonly closedPositions = new TimeIndex();
  private readonly fills = new Map<string, string>();
  private readonly fillOrder = new TimeIndex();
  private readonly events: CappedLog<OpportunityEvent>;
  private readonly closed: CappedLog<ClosedOpportunity>;
  private readonly market = new Map<Exchange, CappedLog<{ order: number; record: MarketRecord }>>();
  private marketOrder = 0;
  private written = 0;
  /** Values refused because they could not be stored (unserialisable, unknown exchange). */
  private dropped = 0;

  private json(value: unknown): string | null {
    try {
      return JSON.stringify(value) ?? null;
    } catch {
      this.dropped++;
      return null;
    }
  }

  constructor(opts: { caps?: Partial<PersistenceCaps> } = {}) {
    this.caps = resolveCaps(opts.caps);
    this.events = new CappedLog(this.caps.opportunityEvents);
    this.closed = new CappedLog(this.caps.closedOpportunities);
    for (const ex of EXCHANGES) this.market.set(ex, new CappedLog(this.caps.marketRecordsPerExchange));
  }

  async open(): Promise<void> {}

  async loadConfig(): Promise<VersionedConfig | null> {
    return this.config === null ? null : (JSON.parse(this.config) as VersionedConfig);
  }
  saveConfig(config: VersionedConfig): void {
    const json = this.json(config);
    if (json === null) return;
    this.config = json;
    this.written++;
  }

  async loadAlerts(): Promise<AlertsConfig | null> {
    return this.alerts === null ? null : (JSON.parse(this.alerts) as AlertsConfig);
  }
  saveAlerts(alerts: AlertsConfig): void {
    const json = this.json(alerts);
    if (json === null) return;
    this.alerts = json;
    this.written++;
  }

  async loadPositions(): Promise<Position[]> {
    const all = [...this.positions.values()].map((s) => JSON.parse(s) as Position);
    return all.sort((a, b) => a.openedMs - b.openedMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  savePosition(position: Position): void {
    const json = this.json(position);
    if (json === null) return;
    this.positions.set(position.id, json);
    this.written++;
    if (position.closedMs !== null && isPositionClosed(position)) {
      for (const id of this.closedPositions.upsert(position.id, position.closedMs, this.caps.closedPositions)) this.positions.delete(id);
    }
  }

  async loadFills(): Promise<Fill[]> {
    const all = [...this.fills.values()].map((s) => JSON.parse(s) as Fill);
    return all.sort((a, b) => a.fillMs - b.fillMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  saveFill(fill: Fill): void {
    const json = this.json(fill);
    if (json === null) return;
    this.fills.set(fill.id, json);
    this.written++;
    for (const id of this.fillOrder.upsert(fill.id, fill.fillMs, this.caps.fills)) this.fills.delete(id);
  }

  async loadPortfolioState(): Promise<PortfolioState | null> {
    return this.portfolio === null ? null : (JSON.parse(this.portfolio) as PortfolioState);
  }
  savePortfolioState(state: PortfolioState): void {
    const json = this.json(state);
    if (json === null) return;
    this.portfolio = json;
    this.written++;
  }

  appendOpportunityEvent(event: OpportunityEvent): void {
    this.events.push(event);
    const closed = toClosed(event);
    if (closed) this.closed.push(closed);
    this.written++;
  }
  async opportunityHistory(limit: number): Promise<ClosedOpportunity[]> {
    const n = Math.min(Math.max(0, Math.floor(limit)), this.closed.length);
    const out: ClosedOpportunity[] = [];
    for (let i = this.closed.length - 1; out.length < n; i--) out.push(this.closed.at(i));
    return out;
  }
  async readOpportunityEvents(sinceMs?: number): Promise<OpportunityEvent[]> {
    const all = this.events.toArray();
    return sinceMs === undefined ? all : all.filter((e) => e.tsMs >= sinceMs);
  }

  appendMarketRecord(record: MarketRecord): void {
    const log = this.market.get(record.exchange);
    if (!log || typeof record.symbol !== 'string') {
      this.dropped++; // not a known exchange or no symbol: nothing to replay it into
      return;
    }
    log.push({ order: this.marketOrder++, record: { ...record } });
    this.written++;
  }
  async *readMarketRecords(sinceMs?: number): AsyncIterable<MarketRecord> {
    const lists = [...this.market.values()].map((log) => log.toArray()).filter((l) => l.length > 0);
    const pos = lists.map(() => 0);
    for (;;) {
      let best = -1;
      for (let i = 0; i < lists.length; i++) {
        if (pos[i] < lists[i].length && (best < 0 || lists[i][pos[i]].order < lists[best][pos[best]].order)) best = i;
      }
      if (best < 0) return;
      const { record } = lists[best][pos[best]++];
      if (sinceMs === undefined || record.recvMs >= sinceMs) yield { ...record };
    }
  }

  /** Memory never loses what it holds while the process lives: nothing to resync. */
  setResyncSource(): void {}
  health(): PersistenceHealth {
    return { kind: 'memory', connected: true, degraded: false, backlog: 0, dropped: this.dropped, written: this.written, batches: 0, resyncs: 0, lastResyncMs: null };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
