/**
 * The read side of Redis persistence (start-up restore, REST history, `--replay redis`): its own
 * connection on the calling thread, never used per market update.
 */
import { Redis } from 'ioredis';
import type { AlertsConfig } from '../../shared/alerts.js';
import type { VersionedConfig } from '../../shared/config.js';
import { EXCHANGES } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { Fill, Position } from '../../shared/position.js';
import type { ClosedOpportunity } from '../../shared/protocol.js';
import type { PersistenceCaps } from './caps.js';
import { compareStreamIds, decodeEvents, parseStreamId, type StreamId } from './codec.js';
import { decodeMarketChunk } from './market-ring.js';
import type { MarketRecord, PortfolioState } from './persistence.js';
import type { RedisKeys } from './redis-keys.js';

const READ_PAGE = 64;

export interface RedisReaderOptions {
  url: string;
  prefix: string;
  keys: RedisKeys;
  caps: PersistenceCaps;
  /** Reads wait this long for a connection before failing (ms). */
  loadTimeoutMs: number;
  connectTimeoutMs: number;
  retryMaxDelayMs: number;
  logError: (msg: string, err: unknown) => void;
}

/** Appends the closed events of `events` (oldest first) to `out`, newest first, up to `want`. */
export function takeClosed(events: ReadonlyArray<OpportunityEvent | undefined>, out: ClosedOpportunity[], want: number): void {
  for (let i = events.length - 1; i >= 0 && out.length < want; i--) {
    const e = events[i];
    if (e?.kind === 'closed') out.push({ opportunity: e.opportunity, reason: e.reason, lifetimeMs: e.lifetimeMs, closedMs: e.tsMs });
  }
}

export class RedisReader {
  readonly client: Redis;
  private readonly keys: RedisKeys;
  private readonly caps: PersistenceCaps;
  private readonly loadTimeoutMs: number;
  private readonly logError: (msg: string, err: unknown) => void;

  constructor(opts: RedisReaderOptions) {
    this.keys = opts.keys;
    this.caps = opts.caps;
    this.loadTimeoutMs = opts.loadTimeoutMs;
    this.logError = opts.logError;
    this.client = new Redis(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: opts.connectTimeoutMs,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 8), opts.retryMaxDelayMs),
      connectionName: `${opts.prefix}reader`,
    });
    this.client.on('error', (err: Error) => this.logError('redis read connection error', err));
  }

  /** Connects; never throws (reconnection continues in the background, reads wait for it). */
  async open(): Promise<void> {
    if (this.client.status !== 'wait') return;
    await this.client.connect().catch((err: unknown) => this.logError('redis not reachable at start-up', err));
  }

  async close(): Promise<void> {
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

  async loadAlerts(): Promise<AlertsConfig | null> {
    await this.connected();
    return this.parseJson<AlertsConfig>(await this.client.get(this.keys.alerts), 'alerts config');
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

  /**
   * Up to `want` closed opportunities from the closed-history stream, newest first, skipping the entry
   * `skipId` (a batch still held in memory). Empty while disconnected: a REST read must not hang.
   */
  async closedHistory(want: number, skipId: string | null): Promise<ClosedOpportunity[]> {
    const out: ClosedOpportunity[] = [];
    if (this.client.status !== 'ready') return out;
    let end = '+';
    while (out.length < want) {
      const entries = await this.client.xrevrangeBuffer(this.keys.closed, end, '-', 'COUNT', 16);
      if (entries.length === 0) break;
      for (const [id, fields] of entries) {
        if (skipId && id.toString() === skipId) continue;
        takeClosed(decodeEvents(chunkData(fields)).events, out, want);
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
}

/** The `d` field of a chunk entry. */
function chunkData(fields: Buffer[]): Buffer {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i].length === 1 && fields[i][0] === 0x64) return fields[i + 1];
  return Buffer.alloc(0);
}
