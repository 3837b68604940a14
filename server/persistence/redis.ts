/**
 * Redis persistence with a write-behind writer thread (key layout: docs/persistence.md).
 *
 * The caller's path (the save and append methods) touches memory only — no Redis command, no await:
 * a market record or an opportunity event is copied into a fixed-size binary ring slot (MarketRing,
 * EventRing); state is kept by reference. A timer every `flushIntervalMs` (or sooner when `maxBatch`
 * records are waiting, but never more often than every `minFlushGapMs`) hands what is pending to the
 * writer thread (writer-worker.ts → BatchWriter): raw slot bytes (one memcpy per ring, moved, not
 * copied, across threads) and state as JSON. Encoding the stream chunks and the ONE MULTI/EXEC per
 * batch happen on that thread, so neither occupies the detection thread's event loop, and Redis round
 * trips per second stay bounded by the batch interval, not by the update rate.
 *
 * State (config, portfolio, positions by id, fills by id) is coalesced by key (latest wins) and never
 * dropped. Stream records wait in bounded rings: when Redis is away and a ring is full the OLDEST
 * record is dropped and counted exactly (`health().dropped`). One batch is in flight at a time; the
 * writer retries it unchanged until Redis acknowledges it (idempotent: see batch-writer.ts).
 *
 * Reads (start-up restore, REST history, replay) use a separate connection on this thread; they are
 * never on the per-update path.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { AlertsConfig } from '../../shared/alerts.js';
import type { VersionedConfig } from '../../shared/config.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import { isPositionClosed, type Fill, type Position } from '../../shared/position.js';
import type { ClosedOpportunity } from '../../shared/protocol.js';
import { resolveCaps, type PersistenceCaps } from './caps.js';
import { closedEventSlots, decodeEventSlots, EventRing } from './event-ring.js';
import { MarketRing } from './market-ring.js';
import { RedisReader, takeClosed } from './redis-reader.js';
import type { MarketRecord, Persistence, PersistenceHealth, PortfolioState, StateSnapshot } from './persistence.js';
import { DEFAULT_PREFIX, redisKeys, type RedisKeys } from './redis-keys.js';
import { StringTable } from './string-table.js';
import { emptyThreadStats, type BatchMessage, type MainToWriter, type WriterThreadOptions, type WriterThreadStats, type WriterToMain, type WriteFence } from './writer-protocol.js';

export { DEFAULT_PREFIX, redisKeys, type RedisKeys } from './redis-keys.js';

export interface RedisPersistenceOptions {
  url: string;
  /** Key prefix (namespace), so several instances can share one Redis. Default `perpscan:`. */
  prefix?: string;
  logger?: Logger;
  caps?: Partial<PersistenceCaps>;
  /** Write a batch at least this often while anything is pending (ms). Default 50. */
  flushIntervalMs?: number;
  /** A full batch (`maxBatch` records waiting) is written early, but never within this long of the previous one (ms). Default 10. */
  minFlushGapMs?: number;
  /** Stream records of each kind per batch. Default 5,000. */
  maxBatch?: number;
  /** Market records queued while Redis is slow or away; beyond it the oldest are dropped and counted. Default 200,000. */
  maxBacklog?: number;
  /** Opportunity events queued likewise. Default 50,000. */
  maxEventBacklog?: number;
  /** `load*` and reads wait this long for a connection before failing (ms). Default 5,000. */
  loadTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Longest wait between reconnection attempts (ms). Default 1,000. */
  retryMaxDelayMs?: number;
  /** Wall clock for batch ids (ms). */
  now?: () => number;
  /**
   * Nice value of the writer thread on Linux (thread-level), so under CPU contention it yields to the
   * detection thread. Default 5 (10 starved the writer on a saturated 2-core box: backlog towards its
   * bound); 0 leaves it alone. If the writer lags, the backlog bound caps memory and drops are counted.
   */
  writerNice?: number;
  /** Cluster fencing: batches are written only while the fence key holds this token (stale engines are refused). */
  fence?: WriteFence;
}

export interface WriterStats extends WriterThreadStats {
  maxBacklogSeen: number;
  droppedMarket: number;
  droppedEvents: number;
  /** Main-thread time to hand one batch to the writer thread (take slots, JSON of state, postMessage), ms. */
  maxBuildMs: number;
  totalBuildMs: number;
  /** Batches handed over. */
  handoffs: number;
}

/** The batch the writer thread holds (at most one). */
interface InFlight {
  seq: number;
  /** Its stream id, once the writer assigned it. */
  id: string | null;
  items: number;
  /** Stream records (events + market) in it. */
  records: number;
  /** Its closed events' slots, kept for REST history while the batch is unacknowledged. */
  closedSlots: Uint8Array;
  closedCount: number;
}


function isClosedPosition(p: Position): boolean {
  return p.closedMs !== null && isPositionClosed(p);
}

/**
 * Starts the writer thread. Run from TypeScript source (tsx, vitest) the thread registers tsx's
 * loader itself before importing writer-worker.ts (a worker does not inherit the parent's loader);
 * compiled, it loads writer-worker.js directly.
 */
function startWriterThread(options: WriterThreadOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: options });
  const entry = new URL('./writer-worker.ts', import.meta.url).href;
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/index\.cjs$/, 'index.mjs')).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: options });
}

export class RedisPersistence implements Persistence {
  readonly kind = 'redis' as const;
  readonly prefix: string;
  readonly keys: RedisKeys;
  /** Reads (restore, history, replay) on their own connection; writes go through the writer thread's. */
  readonly reads: RedisReader;
  private readonly caps: PersistenceCaps;
  private readonly log: Logger | undefined;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly minFlushGapMs: number;
  private readonly maxBatch: number;
  private readonly loadTimeoutMs: number;
  private readonly threadOptions: WriterThreadOptions;

  // Pending writes (the caller's path only touches these).
  private pendingConfig: VersionedConfig | null = null;
  private pendingAlerts: AlertsConfig | null = null;
  private pendingPortfolio: PortfolioState | null = null;
  private readonly pendingPositions = new Map<string, Position>();
  private readonly pendingFills = new Map<string, Fill>();
  private readonly strings = new StringTable();
  private readonly events: EventRing;
  private readonly market: MarketRing;

  private worker: Worker | null = null;
  private opening: Promise<void> | null = null;
  private writerConnected = false;
  private sentStrings = 0;
  /** Slot buffers handed back by the writer thread, reused for the next batch. */
  private spareEventSlots: ArrayBuffer | undefined;
  private spareMarketSlots: ArrayBuffer | undefined;
  private nextSeq = 1;
  private inFlight: InFlight | null = null;
  /** Resolved on every message from the writer thread (flush and close wait on these). */
  private waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private earlyTimer: NodeJS.Timeout | null = null;
  private lastBatchStartMs = 0;
  private closing = false;
  private written = 0;
  /** The last batch attempt failed (until one succeeds). */
  private failing = false;
  /** Records lost with a writer thread that died while holding them. */
  private lostRecords = 0;
  private threadBase = emptyThreadStats();
  private thread: WriterThreadStats = emptyThreadStats();
  private readonly local = { maxBacklogSeen: 0, maxBuildMs: 0, totalBuildMs: 0, handoffs: 0 };
  private lastErrorLogMs = 0;
  /** The epoch key was seen or written by this process: from then on a missing key means the store lost its data. */
  private epochEstablished = false;
  private resyncSource: (() => StateSnapshot) | null = null;
  private resyncs = 0;
  private lastResyncMs: number | null = null;

  constructor(opts: RedisPersistenceOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.keys = redisKeys(this.prefix);
    this.caps = resolveCaps(opts.caps);
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.flushIntervalMs = opts.flushIntervalMs ?? 50;
    this.minFlushGapMs = opts.minFlushGapMs ?? 10;
    this.maxBatch = opts.maxBatch ?? 5_000;
    this.loadTimeoutMs = opts.loadTimeoutMs ?? 5_000;
    this.events = new EventRing(opts.maxEventBacklog ?? 50_000, this.strings);
    this.market = new MarketRing(opts.maxBacklog ?? 200_000, this.strings);
    const retryMaxDelayMs = opts.retryMaxDelayMs ?? 1_000;
    const connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    const epoch = `${this.now()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
    this.threadOptions = { url: opts.url, prefix: this.prefix, caps: this.caps, retryIntervalMs: this.flushIntervalMs, connectTimeoutMs, retryMaxDelayMs, nice: opts.writerNice ?? 5, epoch, fence: opts.fence };
    this.reads = new RedisReader({
      url: opts.url,
      prefix: this.prefix,
      keys: this.keys,
      caps: this.caps,
      loadTimeoutMs: this.loadTimeoutMs,
      connectTimeoutMs,
      retryMaxDelayMs,
      logError: (msg, err) => this.logError(msg, err),
    });
  }

  /**
   * Cluster: the fencing token batches must carry from now on. A standby engine opens its persistence
   * ahead of time fenced with token 0 (which is never valid: nothing gets written) and sets its token
   * once it holds the lease, so the writer thread is already running at takeover.
   */
  setFence(fence: WriteFence): void {
    this.threadOptions.fence = fence;
    this.worker?.postMessage({ type: 'fence', fence } satisfies MainToWriter);
  }

  async open(): Promise<void> {
    if (!this.opening) this.opening = this.start();
    await this.opening;
  }

  private async start(): Promise<void> {
    this.timer = setInterval(() => this.kick(), this.flushIntervalMs);
    this.timer.unref();
    await Promise.all([this.spawnWriter(), this.reads.open()]);
  }

  /** Starts the writer thread; resolves once its first connection attempt finished (or it died). */
  private spawnWriter(): Promise<void> {
    const worker = startWriterThread(this.threadOptions);
    this.worker = worker;
    this.sentStrings = 0; // a new thread mirrors the string table from scratch
    worker.unref();
    return new Promise<void>((resolve) => {
      worker.on('message', (msg: WriterToMain) => {
        if (msg.type === 'opened') resolve();
        this.onWriterMessage(msg);
      });
      worker.on('error', (err) => this.logError('redis persistence: writer thread failed', err));
      worker.on('exit', () => {
        if (this.worker === worker) this.worker = null;
        this.writerConnected = false;
        if (!this.closing) this.restartWriter();
        this.wake();
        resolve();
      });
    });
  }

  /** The writer thread died: the batch it held is lost with it (counted as dropped, exactly); start another. */
  private restartWriter(): void {
    if (this.inFlight) {
      this.lostRecords += this.inFlight.records;
      this.inFlight = null;
    }
    this.failing = true;
    // Its counters restart at zero: keep the totals.
    this.threadBase = this.threadTotals();
    this.thread = emptyThreadStats();
    setTimeout(() => {
      if (!this.closing && !this.worker) void this.spawnWriter();
    }, 1_000).unref();
  }

  // ---- caller's path: memory only -------------------------------------------------------------

  saveConfig(config: VersionedConfig): void {
    this.pendingConfig = config;
  }
  saveAlerts(alerts: AlertsConfig): void {
    this.pendingAlerts = alerts;
  }
  savePortfolioState(state: PortfolioState): void {
    this.pendingPortfolio = state;
  }
  savePosition(position: Position): void {
    this.pendingPositions.set(position.id, position);
  }
  saveFill(fill: Fill): void {
    this.pendingFills.set(fill.id, fill);
  }
  appendOpportunityEvent(event: OpportunityEvent): void {
    this.events.push(event);
    if (this.events.size >= this.maxBatch) this.kickEarly();
  }
  appendMarketRecord(record: MarketRecord): void {
    this.market.push(record);
    if (this.market.size >= this.maxBatch) this.kickEarly();
  }

  setResyncSource(source: () => StateSnapshot): void {
    this.resyncSource = source;
  }

  /**
   * The store was found without our epoch key: it lost everything (restarted without persistence, or
   * flushed). Queue the full state held in memory; the next batches write it (coalesced by key, never
   * dropped). Opportunity and market streams are not rewritten: they were history, not state.
   */
  private resync(): void {
    this.resyncs++;
    this.lastResyncMs = this.now();
    const state = this.resyncSource?.();
    if (!state) {
      this.log?.warn({ prefix: this.prefix }, 'redis persistence: the store lost its data and there is no state source to rewrite it from');
      return;
    }
    this.saveConfig(state.config);
    if (state.alerts) this.saveAlerts(state.alerts);
    if (state.portfolio) this.savePortfolioState(state.portfolio);
    for (const p of state.positions) this.savePosition(p);
    for (const f of state.fills) this.saveFill(f);
    this.log?.warn(
      { prefix: this.prefix, resyncs: this.resyncs, positions: state.positions.length, fills: state.fills.length, configVersion: state.config.version },
      'redis persistence: the store was found empty (restarted without persistence?); rewriting config, portfolio, positions and fills from memory',
    );
    this.kick();
  }

  // ---- hand-over to the writer thread -----------------------------------------------------------

  private onWriterMessage(msg: WriterToMain): void {
    switch (msg.type) {
      case 'status':
        this.writerConnected = msg.connected;
        if (msg.connected) this.kick();
        break;
      case 'buffers':
        this.spareEventSlots = msg.eventSlots;
        this.spareMarketSlots = msg.marketSlots;
        break;
      case 'built':
        if (this.inFlight?.seq === msg.seq) this.inFlight.id = msg.id;
        break;
      case 'settled':
        this.thread = msg.stats;
        if (this.inFlight?.seq === msg.seq) {
          if (msg.outcome === 'failed') this.failing = true;
          else {
            if (msg.outcome === 'acked') {
              this.written += this.inFlight.items;
              this.failing = false;
            }
            this.inFlight = null;
            // More than a full batch waiting: go again after the minimum gap.
            if (this.market.size >= this.maxBatch || this.events.size >= this.maxBatch) this.kickEarly();
          }
        }
        break;
      case 'log':
        this.logError(msg.msg, new Error(msg.err));
        break;
      case 'epoch':
        if (!msg.found && this.epochEstablished) this.resync();
        this.epochEstablished = true;
        break;
      default:
        break;
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves on the next message from the writer thread, or after `ms`. */
  private nextMessage(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private kickEarly(): void {
    if (this.earlyTimer || this.closing) return;
    const wait = Math.max(0, this.lastBatchStartMs + this.minFlushGapMs - performance.now());
    this.earlyTimer = setTimeout(() => {
      this.earlyTimer = null;
      this.kick();
    }, wait);
  }

  /** Hands one batch over unless one is in flight or the writer is not connected. */
  private kick(): void {
    if (this.inFlight || !this.worker || !this.writerConnected || !this.hasPending()) return;
    const start = performance.now();
    this.lastBatchStartMs = start;
    const seen = this.backlog();
    if (seen > this.local.maxBacklogSeen) this.local.maxBacklogSeen = seen;
    const events = this.events.takeSlots(this.maxBatch, this.spareEventSlots);
    const market = this.market.takeSlots(this.maxBatch, this.spareMarketSlots);
    this.spareEventSlots = undefined;
    this.spareMarketSlots = undefined;
    const positions: BatchMessage['positions'] = [];
    for (const p of this.pendingPositions.values()) {
      const json = this.json(p);
      if (json !== null && typeof p.id === 'string') positions.push({ id: p.id, json, closedMs: isClosedPosition(p) ? p.closedMs : null });
    }
    this.pendingPositions.clear();
    const fills: BatchMessage['fills'] = [];
    for (const f of this.pendingFills.values()) {
      const json = this.json(f);
      if (json !== null && typeof f.id === 'string') fills.push({ id: f.id, json, fillMs: Number.isFinite(f.fillMs) ? f.fillMs : 0 });
    }
    this.pendingFills.clear();
    const msg: BatchMessage = {
      type: 'batch',
      seq: this.nextSeq++,
      strings: this.strings.since(this.sentStrings),
      config: this.pendingConfig ? this.json(this.pendingConfig) : null,
      alerts: this.pendingAlerts ? this.json(this.pendingAlerts) : null,
      portfolio: this.pendingPortfolio ? this.json(this.pendingPortfolio) : null,
      positions,
      fills,
      eventSlots: events.bytes.buffer as ArrayBuffer,
      eventCount: events.n,
      marketSlots: market.bytes.buffer as ArrayBuffer,
      marketCount: market.n,
      nowMs: this.now(),
    };
    this.sentStrings = this.strings.size;
    this.pendingConfig = null;
    this.pendingAlerts = null;
    this.pendingPortfolio = null;
    const items = (msg.config ? 1 : 0) + (msg.alerts ? 1 : 0) + (msg.portfolio ? 1 : 0) + positions.length + fills.length + events.n + market.n;
    const closed = closedEventSlots(events.bytes, events.n);
    this.inFlight = { seq: msg.seq, id: null, items, records: events.n + market.n, closedSlots: closed.bytes, closedCount: closed.n };
    this.worker.postMessage(msg satisfies MainToWriter, [msg.marketSlots, msg.eventSlots]);
    const ms = performance.now() - start;
    this.local.handoffs++;
    this.local.totalBuildMs += ms;
    if (ms > this.local.maxBuildMs) this.local.maxBuildMs = ms;
  }

  private hasPending(): boolean {
    return (
      this.pendingConfig !== null ||
      this.pendingAlerts !== null ||
      this.pendingPortfolio !== null ||
      this.pendingPositions.size > 0 ||
      this.pendingFills.size > 0 ||
      this.events.size > 0 ||
      this.market.size > 0
    );
  }

  private backlog(): number {
    return (
      (this.inFlight?.items ?? 0) +
      (this.pendingConfig ? 1 : 0) +
      (this.pendingAlerts ? 1 : 0) +
      (this.pendingPortfolio ? 1 : 0) +
      this.pendingPositions.size +
      this.pendingFills.size +
      this.events.size +
      this.market.size
    );
  }

  /** JSON of a state value, or null (logged) when it cannot be serialised (e.g. a cycle). */
  private json(value: unknown): string | null {
    try {
      return JSON.stringify(value) ?? null;
    } catch (err) {
      this.logError('redis persistence: unserialisable state value skipped', err);
      return null;
    }
  }

  /** Writes everything pending; waits for Redis up to `timeoutMs`. */
  async flush(timeoutMs = 2_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while ((this.inFlight || this.hasPending()) && this.worker && performance.now() < deadline) {
      if (!this.inFlight) this.kick();
      await this.nextMessage(Math.min(20, Math.max(1, deadline - performance.now())));
    }
  }

  /** The writer threads' counters over this instance's life (a restarted thread counts from zero). */
  private threadTotals(): WriterThreadStats {
    const out = emptyThreadStats();
    for (const key of Object.keys(out) as Array<keyof WriterThreadStats>) {
      const [base, now] = [this.threadBase[key], this.thread[key]];
      out[key] = key.startsWith('max') ? Math.max(base, now) : key.startsWith('last') ? now || base : base + now;
    }
    return out;
  }

  health(): PersistenceHealth {
    const thread = this.threadTotals();
    const connected = this.writerConnected;
    return {
      kind: 'redis',
      connected,
      degraded: !connected || this.failing,
      backlog: this.backlog(),
      dropped: this.events.dropped + this.events.rejected + this.market.dropped + this.market.rejected + thread.droppedRejected + this.lostRecords,
      written: this.written,
      batches: thread.batches,
      resyncs: this.resyncs,
      lastResyncMs: this.lastResyncMs,
    };
  }

  /** Writer counters for benchmarks and metrics. */
  writerStats(): WriterStats {
    const thread = this.threadTotals();
    return {
      ...thread,
      ...this.local,
      droppedRejected: thread.droppedRejected + this.events.rejected + this.lostRecords,
      droppedMarket: this.market.dropped,
      droppedEvents: this.events.dropped,
    };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.earlyTimer) clearTimeout(this.earlyTimer);
    this.timer = null;
    this.earlyTimer = null;
    if (this.writerConnected) await this.flush(2_000);
    this.closing = true;
    const worker = this.worker;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' } satisfies MainToWriter);
      const timer = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    }
    await this.reads.close();
  }

  // ---- reads (start-up restore, REST, replay): never per market update ---------------------------

  loadConfig(): Promise<VersionedConfig | null> {
    return this.reads.loadConfig();
  }
  loadAlerts(): Promise<AlertsConfig | null> {
    return this.reads.loadAlerts();
  }
  loadPortfolioState(): Promise<PortfolioState | null> {
    return this.reads.loadPortfolioState();
  }
  loadPositions(): Promise<Position[]> {
    return this.reads.loadPositions();
  }
  loadFills(): Promise<Fill[]> {
    return this.reads.loadFills();
  }
  readOpportunityEvents(sinceMs?: number): Promise<OpportunityEvent[]> {
    return this.reads.readOpportunityEvents(sinceMs);
  }
  readMarketRecords(sinceMs?: number): AsyncIterable<MarketRecord> {
    return this.reads.readMarketRecords(sinceMs);
  }

  async opportunityHistory(limit: number): Promise<ClosedOpportunity[]> {
    const want = Math.min(Math.max(0, Math.floor(limit)), this.caps.closedOpportunities);
    const out: ClosedOpportunity[] = [];
    if (want === 0) return out;
    // Not yet written closed events first (newest), then the stream from its end.
    const inFlight = this.inFlight;
    takeClosed(this.events.peekAll(), out, want);
    if (inFlight) takeClosed(decodeEventSlots(inFlight.closedSlots, inFlight.closedCount, this.strings), out, want);
    if (out.length < want) out.push(...(await this.reads.closedHistory(want - out.length, inFlight?.id ?? null)));
    return out;
  }

  private logError(msg: string, err: unknown): void {
    // Rate-limited: a Redis outage must not flood the log.
    const t = this.now();
    if (t - this.lastErrorLogMs < 5_000) return;
    this.lastErrorLogMs = t;
    this.log?.warn({ err: err instanceof Error ? err.message : String(err), prefix: this.prefix }, msg);
  }
}
