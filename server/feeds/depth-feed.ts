/**
 * One venue's depth channel (issue 14 §1): separate sockets from the quote feed (FeedConnection: heartbeats,
 * backoff, limits, pacing), carrying only the candidate symbols it is given (`setSymbols`), within the
 * venue's limits (VenueDepth.plan / liveChange). It is the parsers' DepthSink: an in-sync book goes to the
 * engine (pushDepth), a lost one is dropped there (dropDepth) and recovered — resubscribed on its socket
 * (VenueDepth.resubscribe) or, for a diff-only venue, from its REST snapshot (VenueDepth.snapshotUrl). A
 * dropped socket drops every book it carried (`disconnected`) until the venue's new snapshots arrive.
 *
 * Depth frames are not written to the frame recorder: replays feed recorded frames to the quote parsers.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { DepthVenueStatus } from '../../shared/depth.js';
import type { DepthBook, DepthParser, DepthResyncReason, DepthSink, VenueDepth } from '../depth/types.js';
import { type ConnectionPlan, type FetchJson, type InstrumentMeta, type MetadataTable, type VenueEndpoints } from './adapter.js';
import { type BackoffOptions, FeedConnection } from './connection.js';
import { pickReplan } from './plan-limits.js';
import type { ConnectPacer } from './rate-limiter.js';

/** The part of the engine the depth feed uses (server/engine Engine satisfies it). */
export interface DepthEngine {
  pushDepth(id: number, book: DepthBook): boolean;
  dropDepth(id: number, reason: DepthResyncReason | 'released'): void;
}

export interface VenueDepthFeedOptions {
  exchange: Exchange;
  depth: VenueDepth;
  engine: DepthEngine;
  /** The venue's live metadata table (shared with its quote feed: ids follow its registrations). */
  meta: () => MetadataTable;
  endpoints: VenueEndpoints;
  fetchJson: FetchJson;
  levels: number;
  silenceMs: number;
  backoff?: BackoffOptions;
  random?: () => number;
  now?: () => number;
  /** The venue's new-socket pacing, shared with its quote sockets (connections per IP). */
  connectPacer?: ConnectPacer;
  log?: (level: 'info' | 'warn', msg: string) => void;
}

/** One resubscribe (or REST snapshot) per symbol at most this often: a venue that keeps failing is not hammered. */
const RECOVER_MIN_INTERVAL_MS = 1_000;

export class VenueDepthFeed implements DepthSink {
  readonly exchange: Exchange;
  private connections: FeedConnection[] = [];
  private parsers: DepthParser[] = [];
  /** Parsers of sockets already stopped (their counters still count). */
  private retiredErrors: Record<string, number> = {};
  private retiredResyncs: Record<string, number> = {};
  private symbols: string[] = [];
  private wanted = new Set<string>();
  /** Symbols whose book is in sync (pushed since its last loss). */
  private readonly inSync = new Set<string>();
  private readonly lastRecoverMs = new Map<string, number>();
  private readonly recoverTimers = new Map<string, NodeJS.Timeout>();
  private readonly snapshotsInFlight = new Set<string>();
  private generation = 0;
  private stopped = false;
  private messages = 0;
  private disconnects = 0;
  private restSnapshots = 0;
  private restSnapshotFailures = 0;
  private readonly now: () => number;

  constructor(private readonly opts: VenueDepthFeedOptions) {
    this.exchange = opts.exchange;
    this.now = opts.now ?? Date.now;
  }

  /** The symbols the depth sockets carry now. */
  get subscribed(): readonly string[] {
    return this.symbols;
  }

  /**
   * Carries exactly `wanted` (venue symbols) from now on: added ones are subscribed, removed ones
   * unsubscribed and their books dropped from the engine (`released`). Live where the venue allows it,
   * else the sockets are re-made.
   */
  async setSymbols(wanted: readonly string[]): Promise<void> {
    if (this.stopped) return;
    const before = new Set(this.symbols);
    const next = [...new Set(wanted)];
    const now = new Set(next);
    const add = next.filter((s) => !before.has(s));
    const remove = this.symbols.filter((s) => !now.has(s));
    if (add.length === 0 && remove.length === 0) return;
    this.wanted = now;
    for (const s of remove) this.release(s);
    this.symbols = next;
    this.generation++;
    if (next.length === 0) {
      await this.stopSockets();
      return;
    }
    if (this.connections.length === 0) {
      await this.connect();
      return;
    }
    const plans = this.connections.map((c) => c.currentPlan);
    const change = plans.every((p): p is ConnectionPlan => p !== null) ? (this.opts.depth.liveChange?.(plans, next, add, remove) ?? null) : null;
    if (change && change.length === this.connections.length) {
      this.connections.forEach((c, i) => c.applyChange(change[i]!.messages, change[i]!.topicCount, change[i]!.symbols));
    } else {
      await this.stopSockets();
      await this.connect();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.symbols) this.release(s);
    this.symbols = [];
    await this.stopSockets();
  }

  // DepthSink --------------------------------------------------------------------------------------

  book(meta: InstrumentMeta, book: DepthBook): void {
    if (meta.id < 0 || !this.wanted.has(meta.symbol)) return; // released, or not (yet) registered
    if (this.opts.engine.pushDepth(meta.id, book)) this.inSync.add(meta.symbol);
  }

  resync(meta: InstrumentMeta, reason: DepthResyncReason): void {
    this.inSync.delete(meta.symbol);
    if (meta.id >= 0) this.opts.engine.dropDepth(meta.id, reason);
    if (!this.wanted.has(meta.symbol) || reason === 'disconnected') return;
    const resubscribe = this.opts.depth.resubscribe;
    if (!resubscribe) return; // a diff-only venue: its parser asks for the REST snapshot
    this.recover(meta.symbol, () => {
      const conn = this.connections.find((c) => c.currentPlan?.symbols?.includes(meta.symbol));
      const plan = conn?.currentPlan;
      if (conn && plan) conn.applyChange(resubscribe(meta.symbol), plan.topicCount, plan.symbols);
    });
  }

  snapshotNeeded(meta: InstrumentMeta): void {
    if (!this.opts.depth.snapshotUrl || !this.wanted.has(meta.symbol) || this.snapshotsInFlight.has(meta.symbol)) return;
    this.recover(meta.symbol, () => this.fetchSnapshot(meta));
  }

  private fetchSnapshot(meta: InstrumentMeta): void {
    const url = this.opts.depth.snapshotUrl?.(this.opts.endpoints, meta.symbol, this.opts.levels);
    if (!url || this.snapshotsInFlight.has(meta.symbol)) return;
    this.snapshotsInFlight.add(meta.symbol);
    this.opts
      .fetchJson(url)
      .then((body) => {
        this.restSnapshots++;
        if (this.stopped || !this.wanted.has(meta.symbol)) return;
        // The parser of the socket carrying the symbol holds its buffered deltas.
        const i = this.connections.findIndex((c) => c.currentPlan?.symbols?.includes(meta.symbol));
        if (i >= 0) this.parsers[i]?.applySnapshot?.(meta, body, this);
      })
      .catch((e: unknown) => {
        this.restSnapshotFailures++;
        this.opts.log?.('warn', `${this.exchange}: depth snapshot of ${meta.symbol} failed: ${(e as Error).message}`);
      })
      .finally(() => this.snapshotsInFlight.delete(meta.symbol));
  }

  // ------------------------------------------------------------------------------------------------

  status(): DepthVenueStatus {
    const errors: Record<string, number> = {};
    const resyncs: Record<string, number> = {};
    const add = mergeInto;
    add(errors, this.retiredErrors);
    add(resyncs, this.retiredResyncs);
    for (const p of this.parsers) {
      add(errors, p.errors);
      add(resyncs, p.resyncs);
    }
    for (const c of this.connections) add(errors, c.errors);
    const cs = this.connections;
    let status: DepthVenueStatus['status'];
    if (this.stopped || this.symbols.length === 0) status = 'stopped';
    else if (cs.length > 0 && cs.every((c) => c.status === 'live')) status = 'live';
    else if (cs.some((c) => c.status === 'stale')) status = 'stale';
    else if (cs.some((c) => c.status === 'backoff')) status = 'backoff';
    else status = 'connecting';
    const parserResyncs = Object.values(resyncs).reduce((a, b) => a + b, 0);
    return {
      exchange: this.exchange,
      status,
      connections: cs.filter((c) => c.open).length,
      symbols: this.symbols.length,
      books: this.inSync.size,
      messages: this.messages,
      gaps: resyncs.gap ?? 0,
      checksumFailures: resyncs.checksum ?? 0,
      resyncs: parserResyncs + this.disconnects,
      restSnapshots: this.restSnapshots,
      restSnapshotFailures: this.restSnapshotFailures,
      errors,
    };
  }

  /**
   * Runs `run` (a resubscribe or a snapshot request) now, or once RECOVER_MIN_INTERVAL_MS has passed since
   * the symbol's last recovery: a recovery is delayed by the cap, never lost to it.
   */
  private recover(symbol: string, run: () => void): void {
    if (this.recoverTimers.has(symbol)) return; // one is already scheduled
    const now = this.now();
    const last = this.lastRecoverMs.get(symbol);
    const waitMs = last === undefined ? 0 : last + RECOVER_MIN_INTERVAL_MS - now;
    if (waitMs <= 0) {
      this.lastRecoverMs.set(symbol, now);
      run();
      return;
    }
    const t = setTimeout(() => {
      this.recoverTimers.delete(symbol);
      if (this.stopped || !this.wanted.has(symbol) || this.inSync.has(symbol)) return;
      this.lastRecoverMs.set(symbol, this.now());
      run();
    }, waitMs);
    t.unref();
    this.recoverTimers.set(symbol, t);
  }

  private cancelRecover(symbol: string): void {
    const t = this.recoverTimers.get(symbol);
    if (t) clearTimeout(t);
    this.recoverTimers.delete(symbol);
  }

  /** A symbol leaves: its book is forgotten here and dropped from the engine. */
  private release(symbol: string): void {
    for (const p of this.parsers) p.forget(symbol);
    this.inSync.delete(symbol);
    this.lastRecoverMs.delete(symbol);
    this.cancelRecover(symbol);
    const m = this.opts.meta().get(symbol);
    if (m && m.id >= 0) this.opts.engine.dropDepth(m.id, 'released');
  }

  private async stopSockets(): Promise<void> {
    const cs = this.connections;
    this.connections = [];
    for (const p of this.parsers) {
      mergeInto(this.retiredErrors, p.errors);
      mergeInto(this.retiredResyncs, p.resyncs);
    }
    this.parsers = [];
    await Promise.all(cs.map((c) => c.stop()));
  }

  /** Books of `symbols` (a dropped socket's) are gone until the venue's new snapshots. */
  private dropAll(parser: DepthParser, symbols: readonly string[]): void {
    parser.reset();
    const meta = this.opts.meta();
    for (const s of symbols) {
      const m = meta.get(s);
      if (this.inSync.delete(s)) this.disconnects++;
      if (m && m.id >= 0) this.opts.engine.dropDepth(m.id, 'disconnected');
    }
  }

  private async connect(): Promise<void> {
    const { depth, endpoints, levels, fetchJson } = this.opts;
    const planFor = (symbols: string[]) => depth.plan(endpoints, symbols, levels, fetchJson);
    const generation = this.generation;
    let plans: Array<ConnectionPlan | null>;
    try {
      plans = await planFor(this.symbols);
    } catch {
      plans = [null]; // a plan that needs a token: the connection retries with backoff
    }
    if (this.stopped || generation !== this.generation) {
      if (!this.stopped && this.connections.length === 0 && this.symbols.length > 0) return this.connect();
      return;
    }
    plans.forEach((first, i) => {
      const parser = depth.createParser(this.opts.meta(), levels);
      this.parsers.push(parser);
      let reuse = first;
      const planner = async (): Promise<ConnectionPlan> => {
        if (reuse && generation === this.generation) {
          const p = reuse;
          reuse = null;
          return p;
        }
        reuse = null;
        const previous = conn.currentPlan;
        const fresh = pickReplan(await planFor(previous?.symbols ? [...previous.symbols] : this.symbols), previous, i);
        if (!fresh) throw new Error(`no depth plan #${i}`);
        return fresh;
      };
      const conn = new FeedConnection(
        `${this.exchange}/depth#${i}`,
        planner,
        {
          onFrame: (raw) => {
            this.messages++;
            return parser.parse(raw, this);
          },
          onDown: (reason) => {
            this.dropAll(parser, conn.currentPlan?.symbols ?? this.symbols);
            this.opts.log?.('warn', `${this.exchange}: depth connection down (${reason})`);
          },
          onLive: () => {},
          onChange: () => {},
        },
        {
          silenceMs: this.opts.silenceMs,
          backoff: this.opts.backoff,
          random: this.opts.random,
          now: this.now,
          log: this.opts.log,
          connectPacer: this.opts.connectPacer,
        },
      );
      this.connections.push(conn);
    });
    for (const c of this.connections) c.start();
  }
}

function mergeInto(dst: Record<string, number>, src: Record<string, number>): void {
  for (const [k, v] of Object.entries(src)) dst[k] = (dst[k] ?? 0) + v;
}
