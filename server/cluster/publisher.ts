/**
 * Engine side of the cluster: every event of the engine's opportunity bus and strategy ring, and every
 * feed, funding-check, config and stats change, goes out in batches (one Lua call per event-loop turn)
 * that number events consecutively, append them to the capped stream and publish them live. A snapshot
 * of the engine's state, tagged with the seq it reflects, is rewritten every `snapshotMs` (when anything
 * was published since) so an edge can start from it and read the stream onwards. The funding board, too
 * large for the stream, is written (fenced) to its own key when it changed and announced by a `funding` event.
 *
 * Consistency: the snapshot is taken right after draining the subscriptions into a batch, on the same
 * connection and thread, so it reflects exactly the events numbered before it.
 */
import type { Redis } from 'ioredis';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { StrategyEvent } from '../../shared/position.js';
import type { EventSource, EventSubscription, Logger } from '../api/ports.js';
import { type ClusterEvent, encodeSnapshotFields, type EngineSnapshot, type FundingBoardState } from './events.js';
import type { ClusterKeys } from './keys.js';
import { isFencedError, LuaScript } from './lua.js';
import { PUBLISH_EVENTS, WRITE_FENCED_VALUE, WRITE_SNAPSHOT } from './scripts.js';

const publishScript = new LuaScript(PUBLISH_EVENTS);
const snapshotScript = new LuaScript(WRITE_SNAPSHOT);
const valueScript = new LuaScript(WRITE_FENCED_VALUE);
const POP_MAX = 65_536;

export interface PublisherOptions {
  redis: Redis;
  keys: ClusterKeys;
  /** This engine's fencing token (from the lease). */
  token: number;
  opportunities: EventSource<OpportunityEvent>;
  strategy: EventSource<StrategyEvent>;
  /** The engine's state now, for the snapshot. */
  state: () => Omit<EngineSnapshot, 'seq' | 'token'>;
  /**
   * The funding board (every row): written to its own key when it changed, at most every `everyMs`
   * (default 2,000), then announced by a small `funding` event. Absent = no board is published.
   */
  funding?: { board: () => Omit<FundingBoardState, 'token'>; everyMs?: number };
  /** Stream entries kept (approximately; one entry per batch). Default 100,000. */
  streamMaxLen?: number;
  /** Snapshot cadence (ms). Default 1,000. */
  snapshotMs?: number;
  /** Called once when Redis refuses a write as fenced: this engine is stale and must stop. */
  onFenced: () => void;
  logger: Logger;
}

export interface PublisherStats {
  batches: number;
  events: number;
  snapshots: number;
  /** Funding boards written (only those that changed). */
  fundingBoards: number;
  /** Batches that failed (Redis away): the next turn publishes a resync. */
  failed: number;
  lastSeq: number;
}

export class ClusterPublisher {
  private readonly oppSub: EventSubscription<OpportunityEvent>;
  private readonly strategySub: EventSubscription<StrategyEvent>;
  private readonly queued: ClusterEvent[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private fundingTimer: NodeJS.Timeout | null = null;
  /** The last funding board written (its rows and source), to skip unchanged ones. */
  private lastFunding = '';
  /** Something was published since the last snapshot. */
  private dirty = true;
  /** Events were lost (our subscription fell behind, or a batch failed): edges must take a fresh snapshot. */
  private lostEvents = false;
  private fenced = false;
  private closed = false;
  readonly stats: PublisherStats = { batches: 0, events: 0, snapshots: 0, fundingBoards: 0, failed: 0, lastSeq: 0 };
  private readonly streamMaxLen: number;

  constructor(private readonly opts: PublisherOptions) {
    this.streamMaxLen = opts.streamMaxLen ?? 100_000;
    this.oppSub = opts.opportunities.subscribe('cluster-publisher', () => this.schedule());
    this.strategySub = opts.strategy.subscribe('cluster-publisher', () => this.schedule());
  }

  /** Loads the scripts and writes the first snapshot (before any event, so edges see this engine's state first). */
  async start(): Promise<void> {
    await Promise.all([publishScript.load(this.opts.redis), snapshotScript.load(this.opts.redis), valueScript.load(this.opts.redis)]);
    this.oppSub.popBatch(POP_MAX);
    this.strategySub.popBatch(POP_MAX);
    await this.writeFunding();
    await this.writeSnapshot();
    this.snapshotTimer = setInterval(() => {
      if (this.dirty) void this.writeSnapshot();
    }, this.opts.snapshotMs ?? 1000);
    const funding = this.opts.funding;
    if (funding) this.fundingTimer = setInterval(() => void this.writeFunding(), funding.everyMs ?? 2000);
  }

  /** Writes the funding board when it changed and announces it (the event follows the write on the same connection). */
  private async writeFunding(): Promise<void> {
    const funding = this.opts.funding;
    if (!funding || this.closed || this.fenced) return;
    const { tsMs, historySource, rows } = funding.board();
    // One stringify of the rows (the large part) serves the comparison and the stored value.
    const body = `"historySource":${JSON.stringify(historySource)},"rows":${JSON.stringify(rows)}`;
    if (body === this.lastFunding) return;
    const token: FundingBoardState['token'] = this.opts.token;
    try {
      await valueScript.run(this.opts.redis, [this.opts.keys.fence, this.opts.keys.funding], [token, `{"token":${token},"tsMs":${tsMs},${body}}`]);
      this.lastFunding = body;
      this.stats.fundingBoards++;
      this.push({ t: 'funding', e: { tsMs } });
    } catch (err) {
      // Not a lost event (the board is not in the stream): the next tick writes it again.
      if (isFencedError(err)) this.failed(err, 'cluster: writing the funding board failed');
      else this.opts.logger.warn({ err }, 'cluster: writing the funding board failed');
    }
  }

  /** Feed, funding-check, config, stats, alerts and counter changes (the buses cover opportunities and the strategy). */
  push(event: ClusterEvent): void {
    if (this.closed) return;
    this.queued.push(event);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      this.flush();
    });
  }

  /** Sends everything pending as one batch (no await: the connection keeps the order of calls). */
  flush(): void {
    if (this.closed || this.fenced) return;
    const events: ClusterEvent[] = [];
    for (const e of this.oppSub.popBatch(POP_MAX)) events.push({ t: 'opp', e });
    for (const e of this.strategySub.popBatch(POP_MAX)) events.push({ t: 'strategy', e });
    events.push(...this.queued.splice(0));
    if (this.oppSub.takeMissed() + this.strategySub.takeMissed() > 0) this.lostEvents = true;
    if (this.lostEvents) {
      // The lost events are in the engine's state: a snapshot after this batch carries them; the marker tells edges to take it.
      this.lostEvents = false;
      events.push({ t: 'resync' });
      this.sendBatch(events);
      void this.writeSnapshot();
      return;
    }
    if (events.length > 0) this.sendBatch(events);
  }

  private sendBatch(events: ClusterEvent[]): void {
    const k = this.opts.keys;
    this.dirty = true;
    this.stats.batches++;
    this.stats.events += events.length;
    publishScript
      .run(this.opts.redis, [k.fence, k.seq, k.events, k.live], [this.opts.token, events.length, JSON.stringify(events), this.streamMaxLen])
      .then((last) => {
        this.stats.lastSeq = Number(last);
      })
      .catch((err: unknown) => this.failed(err, 'cluster: publishing events failed'));
  }

  private async writeSnapshot(): Promise<void> {
    if (this.closed || this.fenced) return;
    // Drain first: the snapshot must not reflect events that are not numbered yet.
    this.flush();
    const k = this.opts.keys;
    this.dirty = false;
    try {
      await snapshotScript.run(this.opts.redis, [k.fence, k.seq, k.snapshot], [this.opts.token, ...encodeSnapshotFields(this.opts.state())]);
      this.stats.snapshots++;
    } catch (err) {
      this.dirty = true;
      this.failed(err, 'cluster: writing the snapshot failed');
    }
  }

  private failed(err: unknown, msg: string): void {
    if (isFencedError(err)) {
      if (!this.fenced) {
        this.fenced = true;
        this.opts.logger.error({ token: this.opts.token }, 'cluster: this engine was fenced off (another engine holds the lease); stopping');
        this.opts.onFenced();
      }
      return;
    }
    this.stats.failed++;
    this.lostEvents = true;
    this.opts.logger.warn({ err }, msg);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    if (this.fundingTimer) clearInterval(this.fundingTimer);
    this.oppSub.close();
    this.strategySub.close();
  }
}
