/**
 * Redis persistence with a write-behind worker (key layout: docs/persistence.md).
 *
 * The caller's path (the save and append methods) touches memory only — no Redis command, no await:
 * a market record is copied into a binary ring slot (MarketRing), events and state are kept by
 * reference and serialised by the worker. A timer every `flushIntervalMs` (or sooner when `maxBatch` records are waiting, but
 * never more often than every `minFlushGapMs`) takes what is pending and sends it as ONE MULTI/EXEC
 * (one round trip). So Redis round trips per second are bounded by the batch interval, not by the
 * update rate. Stream records are packed as one entry per stream per batch (a "chunk"), which keeps
 * the command count per batch small at 100,000 updates/s.
 *
 * State (config, portfolio, positions by id, fills by id) is coalesced by key (latest wins) and never
 * dropped. Stream records (opportunity events, market records) wait in bounded queues: when Redis is
 * away and a queue is full the OLDEST record is dropped and counted exactly (`health().dropped`).
 *
 * Idempotence: a batch gets its stream id (`<ms>-<seq>`, increasing) when it is built and is retried
 * unchanged until acknowledged. A chunk whose id is not above the stream's last id was already written
 * (the reply was lost), and the append script skips it, so a retried batch never duplicates a record;
 * state writes are HSET/SET by id and are naturally idempotent.
 *
 * While Redis is unreachable ioredis fails commands fast (offline queue off), the worker keeps the
 * batch for retry, `health()` says degraded, and the worker catches up after reconnecting.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { VersionedConfig } from '../../../shared/config.js';
import { EXCHANGES, type Exchange } from '../../../shared/exchanges.js';
import type { OpportunityEvent } from '../../../shared/opportunity.js';
import type { Fill, Position } from '../../../shared/position.js';
import type { ClosedOpportunity } from '../../../shared/protocol.js';
import { resolveCaps, type PersistenceCaps } from '../../../server/persistence/caps.js';
import {
  compareStreamIds,
  decodeEvents,
  EventEncoder,
  formatStreamId,
  nextStreamId,
  parseStreamId,
  type StreamId,
} from '../../../server/persistence/codec.js';
import type { MarketRecord, Persistence, PersistenceHealth, PortfolioState } from '../../../server/persistence/persistence.js';
import { decodeMarketChunk, MarketRing } from '../../../server/persistence/market-ring.js';
import { BoundedQueue } from '../../../server/persistence/queue.js';

export const DEFAULT_PREFIX = 'perpscan:';

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
  /** Stream records per batch (bounds the main-thread time spent encoding one batch). Default 5,000. */
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
}

/** The key names under a prefix (documented in docs/persistence.md). */
export function redisKeys(prefix: string) {
  return {
    config: `${prefix}config`,
    portfolio: `${prefix}portfolio`,
    positions: `${prefix}positions`,
    closedPositions: `${prefix}positions:closed`,
    fills: `${prefix}fills`,
    fillOrder: `${prefix}fills:order`,
    events: `${prefix}opps`,
    eventsCount: `${prefix}opps:count`,
    eventsSizes: `${prefix}opps:sizes`,
    closed: `${prefix}opps:closed`,
    closedCount: `${prefix}opps:closed:count`,
    closedSizes: `${prefix}opps:closed:sizes`,
    market: (ex: Exchange) => `${prefix}market:${ex}`,
    marketCount: (ex: Exchange) => `${prefix}market:${ex}:count`,
    marketSizes: (ex: Exchange) => `${prefix}market:${ex}:sizes`,
    lastId: `${prefix}writer:lastid`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;

/**
 * Appends one chunk (n records) to a stream unless its id was already written, keeps the record count
 * and a list of `<id> <n>` per chunk, and trims whole chunks from the head while at least `cap` records
 * remain. KEYS: stream, count, sizes. ARGV: id, n, data, cap. Returns 1 written, 0 duplicate.
 */
const APPEND_CHUNK = `
local ok = redis.pcall('XADD', KEYS[1], ARGV[1], 'n', ARGV[2], 'd', ARGV[3])
if type(ok) == 'table' and ok.err then
  if string.find(ok.err, 'equal or smaller', 1, true) then return 0 end
  return redis.error_reply(ok.err)
end
redis.call('RPUSH', KEYS[3], ARGV[1] .. ' ' .. ARGV[2])
local total = redis.call('INCRBY', KEYS[2], ARGV[2])
local cap = tonumber(ARGV[4])
while total > cap do
  local head = redis.call('LINDEX', KEYS[3], 0)
  if not head then break end
  local sp = string.find(head, ' ', 1, true)
  local n = tonumber(string.sub(head, sp + 1))
  if total - n < cap then break end
  redis.call('XDEL', KEYS[1], string.sub(head, 1, sp - 1))
  redis.call('LPOP', KEYS[3])
  total = redis.call('DECRBY', KEYS[2], n)
end
return 1`;

/** Removes the oldest members beyond `cap` from a time-ordered zset and their hash fields. KEYS: hash, zset. ARGV: cap. */
const PRUNE_BY_TIME = `
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[1])
if over <= 0 then return 0 end
local ids = redis.call('ZRANGE', KEYS[2], 0, over - 1)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
for i = 1, #ids do redis.call('HDEL', KEYS[1], ids[i]) end
return over`;

/** One write batch, built once and retried unchanged until Redis acknowledges it. */
interface Batch {
  id: string;
  config: string | null;
  portfolio: string | null;
  positions: Array<{ id: string; json: string; closedMs: number | null }>;
  fills: Array<{ id: string; json: string; fillMs: number }>;
  eventData: Buffer | null;
  closedData: Buffer | null;
  closedCount: number;
  marketChunks: Map<Exchange, { n: number; data: Buffer }>;
  eventCount: number;
  marketCount: number;
  /** State writes + stream records in this batch. */
  items: number;
  attempts: number;
}

export interface WriterStats {
  /** Acknowledged batches. */
  batches: number;
  /** Round trips sent (batch attempts + id initialisations). */
  roundTrips: number;
  /** Redis commands sent inside batches (MULTI and EXEC included). */
  commands: number;
  lastBatchCommands: number;
  lastBatchItems: number;
  maxBacklogSeen: number;
  failedAttempts: number;
  /** Chunks skipped by the server because a retried batch had already been written. */
  duplicateChunks: number;
  droppedMarket: number;
  droppedEvents: number;
  /** Records of batches given up after repeated command errors (counted in `dropped` too). */
  droppedRejected: number;
  /** Main-thread time to build (encode) a batch, and time from send to acknowledgement, in ms. */
  maxBuildMs: number;
  totalBuildMs: number;
  maxExecMs: number;
  totalExecMs: number;
}

const MAX_COMMAND_ERROR_ATTEMPTS = 5;
const READ_PAGE = 64;

function isClosedPosition(p: Position): boolean {
  return p.closedMs !== null && (p.state === 'closed' || p.state === 'broken');
}

export class RedisPersistence implements Persistence {
  readonly kind = 'redis' as const;
  readonly prefix: string;
  readonly keys: RedisKeys;
  readonly client: Redis;
  private readonly caps: PersistenceCaps;
  private readonly log: Logger | undefined;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly minFlushGapMs: number;
  private readonly maxBatch: number;
  private readonly loadTimeoutMs: number;

  // Pending writes (the caller's path only touches these).
  private pendingConfig: VersionedConfig | null = null;
  private pendingPortfolio: PortfolioState | null = null;
  private readonly pendingPositions = new Map<string, Position>();
  private readonly pendingFills = new Map<string, Fill>();
  private readonly events: BoundedQueue<OpportunityEvent>;
  private readonly market: MarketRing;
  private readonly eventEncoder = new EventEncoder();
  private readonly closedEncoder = new EventEncoder();

  private retry: Batch | null = null;
  private lastId: StreamId = { ms: 0, seq: 0 };
  private idsInitialised = false;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private earlyTimer: NodeJS.Timeout | null = null;
  private lastBatchStartMs = 0;
  private closing = false;
  private written = 0;
  private readonly stats: WriterStats = {
    batches: 0,
    roundTrips: 0,
    commands: 0,
    lastBatchCommands: 0,
    lastBatchItems: 0,
    maxBacklogSeen: 0,
    failedAttempts: 0,
    duplicateChunks: 0,
    droppedMarket: 0,
    droppedEvents: 0,
    droppedRejected: 0,
    maxBuildMs: 0,
    totalBuildMs: 0,
    maxExecMs: 0,
    totalExecMs: 0,
  };
  private lastErrorLogMs = 0;
  /** The last batch attempt failed (until one succeeds). */
  private failing = false;

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
    this.events = new BoundedQueue(opts.maxEventBacklog ?? 50_000);
    this.market = new MarketRing(opts.maxBacklog ?? 200_000);
    const retryMaxDelayMs = opts.retryMaxDelayMs ?? 1_000;
    this.client = new Redis(opts.url, {
      lazyConnect: true,
      // Fail fast while disconnected: the worker keeps its own bounded backlog and retries itself.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: opts.connectTimeoutMs ?? 2_000,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 8), retryMaxDelayMs),
      connectionName: `${this.prefix}writer`,
    });
    this.client.on('error', (err: Error) => this.logError('redis connection error', err));
    this.client.on('ready', () => {
      this.idsInitialised = false;
      this.log?.info({ prefix: this.prefix }, 'redis persistence connected');
      this.kick();
    });
    this.client.on('close', () => {
      if (!this.closing) this.logError('redis connection closed', new Error('connection closed'));
    });
  }

  async open(): Promise<void> {
    if (!this.timer) {
      this.timer = setInterval(() => this.kick(), this.flushIntervalMs);
      this.timer.unref();
    }
    if (this.client.status === 'wait') {
      try {
        await this.client.connect();
      } catch (err) {
        // Reconnection continues in the background (retryStrategy); health() says degraded meanwhile.
        this.logError('redis not reachable at start-up', err);
      }
    }
  }

  // ---- caller's path: memory only -------------------------------------------------------------

  saveConfig(config: VersionedConfig): void {
    this.pendingConfig = config;
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

  // ---- worker ------------------------------------------------------------------------------------

  private kickEarly(): void {
    if (this.earlyTimer || this.closing) return;
    const wait = Math.max(0, this.lastBatchStartMs + this.minFlushGapMs - performance.now());
    this.earlyTimer = setTimeout(() => {
      this.earlyTimer = null;
      this.kick();
    }, wait);
  }

  /** Starts one batch unless one is running or Redis is not ready. */
  private kick(): void {
    if (this.running || this.client.status !== 'ready' || !this.hasPending()) return;
    this.running = this.writeOnce()
      .catch((err: unknown) => this.logError('redis persistence: writer error', err))
      .finally(() => {
        this.running = null;
        // More than a full batch waiting: go again after the minimum gap.
        if (this.client.status === 'ready' && (this.market.size >= this.maxBatch || this.events.size >= this.maxBatch)) this.kickEarly();
      });
  }

  private hasPending(): boolean {
    return (
      this.retry !== null ||
      this.pendingConfig !== null ||
      this.pendingPortfolio !== null ||
      this.pendingPositions.size > 0 ||
      this.pendingFills.size > 0 ||
      this.events.size > 0 ||
      this.market.size > 0
    );
  }

  private backlog(): number {
    return (
      (this.retry?.items ?? 0) +
      (this.pendingConfig ? 1 : 0) +
      (this.pendingPortfolio ? 1 : 0) +
      this.pendingPositions.size +
      this.pendingFills.size +
      this.events.size +
      this.market.size
    );
  }

  private async initIds(): Promise<void> {
    this.stats.roundTrips++;
    const stored = await this.client.get(this.keys.lastId);
    const parsed = stored ? parseStreamId(stored) : null;
    if (parsed && compareStreamIds(parsed, this.lastId) > 0) this.lastId = parsed;
    this.idsInitialised = true;
  }

  private buildBatch(): Batch {
    let minMs = this.now();
    const batch: Batch = {
      id: '',
      config: this.pendingConfig ? this.json(this.pendingConfig) : null,
      portfolio: this.pendingPortfolio ? this.json(this.pendingPortfolio) : null,
      positions: [],
      fills: [],
      eventData: null,
      closedData: null,
      closedCount: 0,
      marketChunks: new Map(),
      eventCount: 0,
      marketCount: 0,
      items: 0,
      attempts: 0,
    };
    this.pendingConfig = null;
    this.pendingPortfolio = null;
    for (const p of this.pendingPositions.values()) {
      const json = this.json(p);
      if (json !== null && typeof p.id === 'string') batch.positions.push({ id: p.id, json, closedMs: isClosedPosition(p) ? p.closedMs : null });
    }
    this.pendingPositions.clear();
    for (const f of this.pendingFills.values()) {
      const json = this.json(f);
      if (json !== null && typeof f.id === 'string') batch.fills.push({ id: f.id, json, fillMs: Number.isFinite(f.fillMs) ? f.fillMs : 0 });
    }
    this.pendingFills.clear();

    const events = this.events.take(this.maxBatch);
    let encoded = 0;
    for (const e of events) {
      try {
        this.eventEncoder.add(e);
        if (e.kind === 'closed') this.closedEncoder.add(e);
        encoded++;
      } catch (err) {
        this.stats.droppedRejected++; // a malformed event: counted, never written, never fatal
        this.logError('redis persistence: malformed opportunity event dropped', err);
        continue;
      }
      if (e.tsMs > minMs) minMs = e.tsMs;
    }
    batch.closedCount = this.closedEncoder.count;
    if (encoded > 0) batch.eventData = this.eventEncoder.take();
    if (batch.closedCount > 0) batch.closedData = this.closedEncoder.take();
    const market = this.market.take(this.maxBatch);
    batch.marketChunks = market.chunks;
    if (market.maxRecvMs > minMs) minMs = market.maxRecvMs;
    batch.eventCount = encoded;
    batch.marketCount = market.taken;
    batch.items =
      (batch.config ? 1 : 0) + (batch.portfolio ? 1 : 0) + batch.positions.length + batch.fills.length + encoded + market.taken;
    // The id is ≥ every record's time, so `sinceMs` reads can start at the right entry.
    this.lastId = nextStreamId(this.lastId, Number.isFinite(minMs) ? minMs : this.now());
    batch.id = formatStreamId(this.lastId);
    return batch;
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

  private async writeOnce(): Promise<void> {
    this.lastBatchStartMs = performance.now();
    const seen = this.backlog();
    if (seen > this.stats.maxBacklogSeen) this.stats.maxBacklogSeen = seen;
    try {
      if (!this.idsInitialised) await this.initIds();
    } catch (err) {
      this.stats.failedAttempts++;
      this.failing = true;
      this.logError('redis persistence: reading the last stream id failed', err);
      return;
    }
    const buildStart = performance.now();
    const batch = this.retry ?? this.buildBatch();
    this.retry = batch;
    batch.attempts++;
    const k = this.keys;
    const tx = this.client.multi();
    let commands = 2;
    if (batch.config !== null) (tx.set(k.config, batch.config), commands++);
    if (batch.portfolio !== null) (tx.set(k.portfolio, batch.portfolio), commands++);
    if (batch.positions.length > 0) {
      tx.hset(k.positions, ...batch.positions.flatMap((p) => [p.id, p.json]));
      commands++;
      const closed = batch.positions.filter((p) => p.closedMs !== null);
      if (closed.length > 0) {
        tx.zadd(k.closedPositions, ...closed.flatMap((p) => [p.closedMs as number, p.id]));
        tx.eval(PRUNE_BY_TIME, 2, k.positions, k.closedPositions, this.caps.closedPositions);
        commands += 2;
      }
    }
    if (batch.fills.length > 0) {
      tx.hset(k.fills, ...batch.fills.flatMap((f) => [f.id, f.json]));
      tx.zadd(k.fillOrder, ...batch.fills.flatMap((f) => [f.fillMs, f.id]));
      tx.eval(PRUNE_BY_TIME, 2, k.fills, k.fillOrder, this.caps.fills);
      commands += 3;
    }
    const chunk = (keys: [string, string, string], n: number, data: string | Buffer, cap: number) => {
      tx.eval(APPEND_CHUNK, 3, ...keys, batch.id, n, data, cap);
      commands++;
    };
    if (batch.eventData) chunk([k.events, k.eventsCount, k.eventsSizes], batch.eventCount, batch.eventData, this.caps.opportunityEvents);
    if (batch.closedData) chunk([k.closed, k.closedCount, k.closedSizes], batch.closedCount, batch.closedData, this.caps.closedOpportunities);
    for (const [ex, c] of batch.marketChunks) {
      chunk([k.market(ex), k.marketCount(ex), k.marketSizes(ex)], c.n, c.data, this.caps.marketRecordsPerExchange);
    }
    tx.set(k.lastId, batch.id);
    commands++;

    this.stats.roundTrips++;
    this.stats.commands += commands;
    const execStart = performance.now();
    const buildMs = execStart - buildStart;
    this.stats.totalBuildMs += buildMs;
    if (buildMs > this.stats.maxBuildMs) this.stats.maxBuildMs = buildMs;
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await tx.exec();
      const execMs = performance.now() - execStart;
      this.stats.totalExecMs += execMs;
      if (execMs > this.stats.maxExecMs) this.stats.maxExecMs = execMs;
    } catch (err) {
      // Connection trouble: keep the batch and retry it unchanged once Redis is back.
      this.stats.failedAttempts++;
      this.failing = true;
      this.logError('redis persistence: batch failed, will retry', err);
      return;
    }
    const failed = results?.find(([err]) => err !== null)?.[0] ?? (results === null ? new Error('transaction aborted') : null);
    if (failed) {
      this.stats.failedAttempts++;
      this.failing = true;
      this.logError('redis persistence: batch rejected by redis', failed);
      if (batch.attempts < MAX_COMMAND_ERROR_ATTEMPTS) return;
      // A command error that repeats will not heal by itself: give the batch up, count its records as dropped.
      this.stats.droppedRejected += batch.eventCount + batch.marketCount;
      this.retry = null;
      return;
    }
    for (const [, res] of results ?? []) if (res === 0) this.stats.duplicateChunks++;
    this.retry = null;
    this.failing = false;
    this.written += batch.items;
    this.stats.batches++;
    this.stats.lastBatchCommands = commands;
    this.stats.lastBatchItems = batch.items;
  }

  /** Writes everything pending; waits for Redis up to `timeoutMs`. */
  async flush(timeoutMs = 2_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.hasPending() && performance.now() < deadline) {
      if (this.running) {
        await this.running;
        continue;
      }
      if (this.client.status !== 'ready') {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      this.kick();
      if (this.running) await this.running;
    }
  }

  health(): PersistenceHealth {
    const connected = this.client.status === 'ready';
    return {
      kind: 'redis',
      connected,
      degraded: !connected || this.failing,
      backlog: this.backlog(),
      dropped: this.events.dropped + this.market.dropped + this.market.rejected + this.stats.droppedRejected,
      written: this.written,
      batches: this.stats.batches,
    };
  }

  /** Writer counters for benchmarks and metrics. */
  writerStats(): WriterStats {
    return { ...this.stats, droppedMarket: this.market.dropped, droppedEvents: this.events.dropped };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.earlyTimer) clearTimeout(this.earlyTimer);
    this.timer = null;
    this.earlyTimer = null;
    if (this.client.status === 'ready') await this.flush(2_000);
    if (this.running) await this.running;
    this.closing = true;
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        // fall through to disconnect
      }
    }
    this.client.disconnect();
  }

  // ---- reads (start-up restore, REST, replay): never per market update ---------------------------

  private async connected(): Promise<void> {
    if (this.client.status === 'ready') return;
    if (this.client.status === 'wait') void this.open();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(new Error(`redis persistence: not connected within ${this.loadTimeoutMs} ms`));
      }, this.loadTimeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    });
  }

  private parseJson<T>(text: string | null, what: string): T | null {
    if (text === null) return null;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      this.logError(`redis persistence: unreadable ${what}`, err);
      return null;
    }
  }

  async loadConfig(): Promise<VersionedConfig | null> {
    await this.connected();
    return this.parseJson<VersionedConfig>(await this.client.get(this.keys.config), 'config');
  }

  async loadPortfolioState(): Promise<PortfolioState | null> {
    await this.connected();
    return this.parseJson<PortfolioState>(await this.client.get(this.keys.portfolio), 'portfolio state');
  }

  async loadPositions(): Promise<Position[]> {
    await this.connected();
    const all = Object.values(await this.client.hgetall(this.keys.positions))
      .map((s) => this.parseJson<Position>(s, 'position'))
      .filter((p): p is Position => p !== null && typeof p.id === 'string');
    return all.sort((a, b) => a.openedMs - b.openedMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async loadFills(): Promise<Fill[]> {
    await this.connected();
    const all = Object.values(await this.client.hgetall(this.keys.fills))
      .map((s) => this.parseJson<Fill>(s, 'fill'))
      .filter((f): f is Fill => f !== null && typeof f.id === 'string');
    return all.sort((a, b) => a.fillMs - b.fillMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async opportunityHistory(limit: number): Promise<ClosedOpportunity[]> {
    const want = Math.min(Math.max(0, Math.floor(limit)), this.caps.closedOpportunities);
    const out: ClosedOpportunity[] = [];
    if (want === 0) return out;
    const take = (events: Array<OpportunityEvent | undefined>) => {
      for (let i = events.length - 1; i >= 0 && out.length < want; i--) {
        const e = events[i];
        if (e?.kind === 'closed') out.push({ opportunity: e.opportunity, reason: e.reason, lifetimeMs: e.lifetimeMs, closedMs: e.tsMs });
      }
    };
    // Not yet written closed events first (newest), then the stream from its end.
    const retry = this.retry;
    take(this.events.peekAll());
    if (retry?.closedData) take(decodeEvents(retry.closedData).events);
    // A REST read must not hang while Redis is away: answer with what is held in memory.
    if (this.client.status !== 'ready') return out;
    let end = '+';
    while (out.length < want) {
      const entries = await this.client.xrevrangeBuffer(this.keys.closed, end, '-', 'COUNT', 16);
      if (entries.length === 0) break;
      for (const [id, fields] of entries) {
        if (retry && id.toString() === retry.id) continue; // already taken from the pending batch
        take(decodeEvents(chunkData(fields)).events);
      }
      end = `(${entries[entries.length - 1][0].toString()}`;
    }
    return out;
  }

  async readOpportunityEvents(sinceMs?: number): Promise<OpportunityEvent[]> {
    await this.connected();
    const out: OpportunityEvent[] = [];
    const k = this.keys;
    for await (const { data, skip } of this.readChunks([k.events, k.eventsCount, k.eventsSizes], this.caps.opportunityEvents, sinceMs)) {
      const { events } = decodeEvents(data);
      for (let i = skip; i < events.length; i++) {
        const e = events[i];
        if (sinceMs === undefined || e.tsMs >= sinceMs) out.push(e);
      }
    }
    return out;
  }

  async *readMarketRecords(sinceMs?: number): AsyncIterable<MarketRecord> {
    await this.connected();
    type Head = { id: StreamId; index: number; record: MarketRecord };
    const k = this.keys;
    const cursors = EXCHANGES.map((ex) => {
      const it = this.readChunks([k.market(ex), k.marketCount(ex), k.marketSizes(ex)], this.caps.marketRecordsPerExchange, sinceMs)[
        Symbol.asyncIterator
      ]();
      return { ex, it, records: [] as Array<{ index: number; record: MarketRecord }>, id: { ms: 0, seq: 0 } as StreamId, at: 0, head: null as Head | null, done: false };
    });
    const advance = async (c: (typeof cursors)[number]) => {
      c.head = null;
      while (!c.done) {
        if (c.at >= c.records.length) {
          const next = await c.it.next();
          if (next.done) {
            c.done = true;
            return;
          }
          c.records = decodeMarketChunk(c.ex, next.value.data).records;
          c.at = next.value.skip;
          c.id = next.value.id;
          continue;
        }
        const decoded = c.records[c.at++];
        if (sinceMs !== undefined && decoded.record.recvMs < sinceMs) continue;
        c.head = { id: c.id, index: decoded.index, record: decoded.record };
        return;
      }
    };
    for (const c of cursors) await advance(c);
    for (;;) {
      let best: (typeof cursors)[number] | null = null;
      for (const c of cursors) {
        if (!c.head) continue;
        if (!best?.head) {
          best = c;
          continue;
        }
        const cmp = compareStreamIds(c.head.id, best.head.id);
        if (cmp < 0 || (cmp === 0 && c.head.index < best.head.index)) best = c;
      }
      if (!best?.head) return;
      yield best.head.record;
      await advance(best);
    }
  }

  /**
   * The chunks of a stream, oldest first, from the chunk that may hold `sinceMs` on. The append script
   * keeps at least `cap` records and trims whole chunks, so the excess (count − cap) always lies in the
   * oldest chunk: `skip` says how many of its records to pass over, so readers see at most `cap`.
   */
  private async *readChunks(
    [stream, countKey, sizesKey]: [string, string, string],
    cap: number,
    sinceMs?: number,
  ): AsyncIterable<{ id: StreamId; data: Buffer; skip: number }> {
    const [total, head] = await Promise.all([this.client.get(countKey), this.client.lindex(sizesKey, 0)]);
    const excess = Math.max(0, (Number(total) || 0) - cap);
    const oldest = excess > 0 && head ? head.split(' ')[0] : undefined;
    let start = sinceMs === undefined ? '-' : `${Math.max(0, Math.floor(sinceMs))}-0`;
    for (;;) {
      const page = await this.client.xrangeBuffer(stream, start, '+', 'COUNT', READ_PAGE);
      if (page.length === 0) return;
      for (const [rawId, fields] of page) {
        const idText = rawId.toString();
        const id = parseStreamId(idText);
        if (id) yield { id, data: chunkData(fields), skip: idText === oldest ? excess : 0 };
      }
      start = `(${page[page.length - 1][0].toString()}`;
      if (page.length < READ_PAGE) return;
    }
  }

  private logError(msg: string, err: unknown): void {
    // Rate-limited: a Redis outage must not flood the log.
    const t = this.now();
    if (t - this.lastErrorLogMs < 5_000) return;
    this.lastErrorLogMs = t;
    this.log?.warn({ err: err instanceof Error ? err.message : String(err), prefix: this.prefix }, msg);
  }
}

/** The `d` field of a chunk entry. */
function chunkData(fields: Buffer[]): Buffer {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i].length === 1 && fields[i][0] === 0x64) return fields[i + 1];
  return Buffer.alloc(0);
}
