/**
 * The writer thread's job: encode a handed-over batch (raw slots → stream chunks), give it an
 * increasing stream id, and send it as ONE MULTI/EXEC; keep it and retry it unchanged until Redis
 * acknowledges it (the append script skips a chunk whose id is already written, so a retry never
 * duplicates a record). Only one batch is held at a time: the main thread sends the next one after
 * this one settled, so round trips per second stay bounded by the batch interval.
 */
import { Redis } from 'ioredis';
import { compareStreamIds, formatStreamId, nextStreamId, parseStreamId, type StreamId } from './codec.js';
import { encodeEventSlots } from './event-ring.js';
import { encodeMarketSlots, type MarketChunks } from './market-ring.js';
import { APPEND_CHUNK, CHECK_EPOCH, PRUNE_BY_TIME, redisKeys, type RedisKeys } from './redis-keys.js';
import { StringTable, Utf8Cache } from './string-table.js';
import { emptyThreadStats, type BatchMessage, type WriterThreadOptions, type WriterThreadStats, type WriterToMain, type WriteFence } from './writer-protocol.js';

const MAX_COMMAND_ERROR_ATTEMPTS = 5;

/** An encoded batch, retried unchanged until acknowledged. */
interface EncodedBatch {
  seq: number;
  id: string;
  minMs: number;
  config: string | null;
  alerts: string | null;
  portfolio: string | null;
  positions: BatchMessage['positions'];
  fills: BatchMessage['fills'];
  eventData: Buffer | null;
  eventCount: number;
  closedData: Buffer | null;
  closedCount: number;
  marketChunks: MarketChunks;
  marketCount: number;
  items: number;
  attempts: number;
}

export class BatchWriter {
  readonly client: Redis;
  private readonly keys: RedisKeys;
  private readonly strings = new StringTable();
  private readonly utf8 = new Utf8Cache(this.strings);
  private batch: EncodedBatch | null = null;
  private lastId: StreamId = { ms: 0, seq: 0 };
  private idsInitialised = false;
  private running = false;
  private closing = false;
  private readonly timer: NodeJS.Timeout;
  private readonly stats: WriterThreadStats = emptyThreadStats();
  private fence: WriteFence | undefined;

  constructor(
    private readonly opts: WriterThreadOptions,
    private readonly post: (msg: WriterToMain, transfer?: ArrayBuffer[]) => void,
  ) {
    this.keys = redisKeys(opts.prefix);
    this.fence = opts.fence;
    this.client = new Redis(opts.url, {
      lazyConnect: true,
      // Fail fast while disconnected: the main thread keeps the bounded backlog and this batch is retried.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: opts.connectTimeoutMs,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 8), opts.retryMaxDelayMs),
      connectionName: `${opts.prefix}writer`,
    });
    this.client.on('error', (err: Error) => this.log('redis connection error', err));
    this.client.on('ready', () => {
      this.idsInitialised = false;
      this.post({ type: 'status', connected: true });
      void this.checkEpoch();
      void this.attempt();
    });
    this.client.on('close', () => {
      this.post({ type: 'status', connected: false });
      if (!this.closing) this.log('redis connection closed', new Error('connection closed'));
    });
    this.timer = setInterval(() => void this.attempt(), opts.retryIntervalMs);
  }

  async open(): Promise<void> {
    try {
      await this.client.connect();
    } catch (err) {
      // Reconnection continues in the background (retryStrategy); the main thread reports degraded meanwhile.
      this.log('redis not reachable at start-up', err);
    }
    this.post({ type: 'opened' });
  }

  receive(msg: BatchMessage): void {
    this.strings.append(msg.strings);
    const t0 = performance.now();
    const events = encodeEventSlots(new Uint8Array(msg.eventSlots), msg.eventCount, this.utf8);
    const market = encodeMarketSlots(new Uint8Array(msg.marketSlots), msg.marketCount, this.utf8);
    const encodeMs = performance.now() - t0;
    this.post({ type: 'buffers', eventSlots: msg.eventSlots, marketSlots: msg.marketSlots }, [msg.eventSlots, msg.marketSlots]);
    this.stats.totalEncodeMs += encodeMs;
    if (encodeMs > this.stats.maxEncodeMs) this.stats.maxEncodeMs = encodeMs;
    this.batch = {
      seq: msg.seq,
      id: '',
      minMs: Math.max(msg.nowMs, events.maxTsMs, market.maxRecvMs),
      config: msg.config,
      alerts: msg.alerts,
      portfolio: msg.portfolio,
      positions: msg.positions,
      fills: msg.fills,
      eventData: events.all,
      eventCount: msg.eventCount,
      closedData: events.closed,
      closedCount: events.closedCount,
      marketChunks: market.chunks,
      marketCount: msg.marketCount,
      items: (msg.config ? 1 : 0) + (msg.alerts ? 1 : 0) + (msg.portfolio ? 1 : 0) + msg.positions.length + msg.fills.length + msg.eventCount + msg.marketCount,
      attempts: 0,
    };
    void this.attempt();
  }

  /** On every (re)connect: is the store still the one this process wrote to? (The main thread decides.) */
  private async checkEpoch(): Promise<void> {
    try {
      this.stats.roundTrips++;
      const found = await this.client.eval(CHECK_EPOCH, 1, this.keys.epoch, this.opts.epoch);
      this.post({ type: 'epoch', found: found !== null });
    } catch (err) {
      // The next batch checks it too.
      this.log('redis persistence: epoch check failed', err);
    }
  }

  /** Sends the held batch unless a send is running or Redis is not ready. */
  private async attempt(): Promise<void> {
    if (this.running || !this.batch || this.client.status !== 'ready') return;
    this.running = true;
    const batch = this.batch;
    let outcome: 'acked' | 'failed' | 'given-up' = 'failed';
    try {
      outcome = await this.send(batch);
    } catch (err) {
      this.log('redis persistence: writer error', err);
    } finally {
      this.running = false;
    }
    if (outcome !== 'failed') this.batch = null;
    this.post({ type: 'settled', seq: batch.seq, outcome, stats: { ...this.stats } });
  }

  private async send(batch: EncodedBatch): Promise<'acked' | 'failed' | 'given-up'> {
    if (!this.idsInitialised) {
      try {
        this.stats.roundTrips++;
        const stored = await this.client.get(this.keys.lastId);
        const parsed = stored ? parseStreamId(stored) : null;
        if (parsed && compareStreamIds(parsed, this.lastId) > 0) this.lastId = parsed;
        this.idsInitialised = true;
      } catch (err) {
        this.stats.failedAttempts++;
        this.log('redis persistence: reading the last stream id failed', err);
        return 'failed';
      }
    }
    if (!batch.id) {
      // The id is ≥ every record's time, so `sinceMs` reads can start at the right entry.
      this.lastId = nextStreamId(this.lastId, Number.isFinite(batch.minMs) ? batch.minMs : Date.now());
      batch.id = formatStreamId(this.lastId);
      this.post({ type: 'built', seq: batch.seq, id: batch.id });
    }
    batch.attempts++;
    if (this.fence && !(await this.fenceHolds(this.fence))) {
      this.stats.fencedBatches++;
      this.log('redis persistence: batch refused: this engine\'s fencing token is stale (another engine holds the lease)', new Error('fenced'));
      return 'given-up';
    }
    const k = this.keys;
    const caps = this.opts.caps;
    const tx = this.client.multi();
    // First in the transaction (result 0): an emptied store is noticed even without a reconnect (FLUSHALL).
    tx.eval(CHECK_EPOCH, 1, k.epoch, this.opts.epoch);
    let commands = 3;
    if (batch.config !== null) (tx.set(k.config, batch.config), commands++);
    if (batch.alerts !== null) (tx.set(k.alerts, batch.alerts), commands++);
    if (batch.portfolio !== null) (tx.set(k.portfolio, batch.portfolio), commands++);
    if (batch.positions.length > 0) {
      tx.hset(k.positions, ...batch.positions.flatMap((p) => [p.id, p.json]));
      commands++;
      const closed = batch.positions.filter((p) => p.closedMs !== null);
      if (closed.length > 0) {
        tx.zadd(k.closedPositions, ...closed.flatMap((p) => [p.closedMs as number, p.id]));
        tx.eval(PRUNE_BY_TIME, 2, k.positions, k.closedPositions, caps.closedPositions);
        commands += 2;
      }
    }
    if (batch.fills.length > 0) {
      tx.hset(k.fills, ...batch.fills.flatMap((f) => [f.id, f.json]));
      tx.zadd(k.fillOrder, ...batch.fills.flatMap((f) => [f.fillMs, f.id]));
      tx.eval(PRUNE_BY_TIME, 2, k.fills, k.fillOrder, caps.fills);
      commands += 3;
    }
    const chunk = (keys: [string, string, string], n: number, data: Buffer, cap: number) => {
      tx.eval(APPEND_CHUNK, 3, ...keys, batch.id, n, data, cap);
      commands++;
    };
    if (batch.eventData) chunk([k.events, k.eventsCount, k.eventsSizes], batch.eventCount, batch.eventData, caps.opportunityEvents);
    if (batch.closedData) chunk([k.closed, k.closedCount, k.closedSizes], batch.closedCount, batch.closedData, caps.closedOpportunities);
    for (const [ex, c] of batch.marketChunks) chunk([k.market(ex), k.marketCount(ex), k.marketSizes(ex)], c.n, c.data, caps.marketRecordsPerExchange);
    tx.set(k.lastId, batch.id);
    commands++;

    this.stats.roundTrips++;
    this.stats.commands += commands;
    const execStart = performance.now();
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await tx.exec();
      const execMs = performance.now() - execStart;
      this.stats.totalExecMs += execMs;
      if (execMs > this.stats.maxExecMs) this.stats.maxExecMs = execMs;
    } catch (err) {
      // Connection trouble: keep the batch and retry it unchanged once Redis is back.
      this.stats.failedAttempts++;
      this.log('redis persistence: batch failed, will retry', err);
      return 'failed';
    }
    const failed = results?.find(([err]) => err !== null)?.[0] ?? (results === null ? new Error('transaction aborted') : null);
    if (failed) {
      this.stats.failedAttempts++;
      this.log('redis persistence: batch rejected by redis', failed);
      if (batch.attempts < MAX_COMMAND_ERROR_ATTEMPTS) return 'failed';
      // A command error that repeats will not heal by itself: give the batch up, count its records as dropped.
      this.stats.droppedRejected += batch.eventCount + batch.marketCount;
      return 'given-up';
    }
    this.post({ type: 'epoch', found: results?.[0]?.[1] !== null });
    for (const [, res] of (results ?? []).slice(1)) if (res === 0) this.stats.duplicateChunks++;
    this.stats.batches++;
    this.stats.lastBatchCommands = commands;
    this.stats.lastBatchItems = batch.items;
    return 'acked';
  }

  /** The token this process now holds (a standby opened persistence fenced with token 0, then took the lease). */
  setFence(fence: WriteFence): void {
    this.fence = fence;
  }

  /**
   * WATCHes the fence key and checks it still holds our token: the MULTI/EXEC that follows then fails as a
   * whole if another engine takes the lease in between, so a stale engine never writes state.
   */
  private async fenceHolds(fence: WriteFence): Promise<boolean> {
    this.stats.roundTrips += 2;
    await this.client.watch(fence.key);
    const current = await this.client.get(fence.key);
    if (current === String(fence.token)) return true;
    await this.client.unwatch();
    return false;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.closing = true;
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
      } catch {
        this.client.disconnect();
      }
    } else {
      this.client.disconnect();
    }
    this.post({ type: 'closed' });
  }

  private log(msg: string, err: unknown): void {
    this.post({ type: 'log', msg, err: err instanceof Error ? err.message : String(err) });
  }
}
