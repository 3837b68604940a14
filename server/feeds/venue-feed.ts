/**
 * One venue's feed inside the FeedManager: its sockets and parsers, its metadata table (shared by its
 * parsers), its discovery result, the engine-facing UpdateSink (parse → push → drain on the same tick)
 * and the FeedState it reports. Decisions about what to subscribe live in manager.ts / universe.ts.
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { FeedError, FeedState } from '../../shared/feeds.js';
import type { LatencyStage, LatencySummary } from '../../shared/protocol.js';
import { LatencyHistogram } from '../engine/histogram.js';
import { nowUs } from '../engine/clock.js';
import { count, type InstrumentMeta, type MetadataTable, type UpdateSink, type VenueAdapter, type VenueParser } from './adapter.js';
import type { FeedConnection } from './connection.js';
import { tradingCount } from './universe.js';
import type { LastFunding } from './funding-timing.js';

/** The part of the engine the feeds use (server/engine Engine satisfies it). */
export interface FeedEngine {
  registerInstrument(exchange: Exchange, symbol: string, meta: { base: string; quote: string }): number;
  pushQuote(id: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, recvUs: number): boolean;
  pushFunding(id: number, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number, recvUs: number): boolean;
  /** Open interest / 24 h volume (USD) and funding reference price (NaN = not in this frame); optional: an engine without it drops them. */
  pushStats?(id: number, openInterestUsd: number, volume24hUsd: number, exchangeTsMs: number, recvUs: number, fundingPrice?: number): boolean;
  drain(max?: number): number;
  setExchangeDown(exchange: Exchange, down: boolean): void;
  /**
   * One venue symbol's id leaves (false) or rejoins (true) the scanned universe; leaving closes its open
   * opportunities with `reason`. Optional: an engine without it only stops receiving the symbol's quotes.
   */
  setInstrumentListed?(id: number, listed: boolean, reason?: 'instrument_delisted' | 'config_changed'): void;
}


export type { LastFunding };

/** Feed-side latency stages (µs), shared by all venues of a manager. */
export class FeedLatency {
  readonly receiveToParsed = new LatencyHistogram();
  readonly parsedToPipeline = new LatencyHistogram();

  summary(): Pick<Record<LatencyStage, LatencySummary>, 'receive_to_parsed' | 'parsed_to_pipeline'> {
    const pick = (h: LatencyHistogram): LatencySummary => {
      const s = h.summary();
      return { p50Us: s.count > 0 ? s.p50Us : 0, p99Us: s.count > 0 ? s.p99Us : 0, count: s.count };
    };
    return { receive_to_parsed: pick(this.receiveToParsed), parsed_to_pipeline: pick(this.parsedToPipeline) };
  }

  reset(): void {
    this.receiveToParsed.reset();
    this.parsedToPipeline.reset();
  }
}

/** Outside [0, 60 s] a difference is not a latency (clocks disagree). */
const MAX_LATENCY_US = 60e6;

export class VenueFeed implements UpdateSink {
  readonly connections: FeedConnection[] = [];
  readonly parsers: VenueParser[] = [];
  metadata: FeedState['metadata'] = 'loading';
  /** The venue's own last failure (metadata, nothing listed); sockets keep theirs. */
  lastError: FeedError | null = null;
  stopped = false;
  /** Removed from the config (its last state says so, then it is forgotten). */
  removed = false;
  /** Down for the engine until every socket has delivered data (at start too: no half-connected venue is scanned). */
  down = true;
  downSinceMs: number | null;
  /** Frames received since the venue was created (survives re-made sockets, so rates never go negative). */
  framesTotal = 0;
  /** Failed metadata loads in a row (the backoff attempt number). */
  metadataAttempts = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  meta: MetadataTable = new Map();
  /** Venue symbols subscribed (listed by the venue and configured). */
  symbols: string[] = [];
  /** Configured instrument keys (explicit list) the venue does not list. */
  unlisted: string[] = [];
  /** The last good discovery: every linear perpetual the venue lists (never shared with parsers). null before the first. */
  discovered: MetadataTable | null = null;
  /** Skipped entries of the last good discovery, by reason. */
  skipped: Record<string, number> = {};
  /** When the last good discovery arrived; null before. */
  refreshedMs: number | null = null;
  /** Failed discoveries since the last good one. */
  discoveryFailures = 0;
  /** A discovery request is in flight (refreshes never overlap). */
  discovering = false;
  /** Bumped on every subscription change: a plan made for an older list is not reused. */
  generation = 0;
  /** Settles when the venue's start (metadata, connections) is done. */
  started: Promise<void> = Promise.resolve();
  private recvUs = 0;
  /** Stamp at the frame's first parsed update (0 = none yet in this frame). */
  private parsedUs = 0;
  private rateAtMs = 0;
  private rateCount = 0;
  messagesPerSec = 0;
  /**
   * The last funding pushed per symbol (rate, next time, exchange time): a discovery refresh that finds a
   * changed interval re-pushes the venue's current rate with it. Entries are mutated, never re-made.
   */
  readonly lastFunding = new Map<InstrumentMeta, LastFunding>();
  /** Earliest next settlement seen (WS or REST) after `settledThroughMs`; Infinity = none known. */
  earliestNextMs = Infinity;
  /** Settlements up to this time have had their post-settlement refresh. */
  settledThroughMs = 0;
  /** Called when `earliestNextMs` moves earlier (the manager re-arms its post-settlement refresh). */
  onEarlierSettlement: (() => void) | null = null;
  /** Post-settlement refresh timer handle (manager-owned). */
  settlementTimer: unknown = null;
  /** The settlement the timer is armed for. */
  settlementTimerFor = 0;
  /** Refreshes in a row after one settlement that still showed it as next (the venue had not rolled yet). */
  settlementRetries = 0;
  /** Periodic REST statistics reads (VenueAdapter.restStats), manager-owned; null = not running. */
  statsTimer: NodeJS.Timeout | null = null;
  /** A statistics round is in flight (rounds never overlap). */
  statsPolling = false;
  /** Failed or unusable statistics reads by reason (shown with the venue's errors). */
  readonly statsErrors: Record<string, number> = {};

  constructor(
    readonly exchange: Exchange,
    readonly adapter: VenueAdapter,
    private readonly engine: FeedEngine,
    private readonly latency: FeedLatency,
    nowMs: number,
  ) {
    this.downSinceMs = nowMs;
  }

  scheduleRetry(delayMs: number, run: () => void): void {
    this.cancelRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      run();
    }, delayMs);
  }

  stopStats(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
  }

  /** Counts one failed or unusable statistics read. */
  statsFailed(reason: string): void {
    count(this.statsErrors, reason);
  }

  /**
   * One REST statistics body: `parse` emits through this sink (received now), then the engine drains.
   * Returns what `parse` returned.
   */
  applyRestStats(parse: (sink: UpdateSink) => number): number {
    this.recvUs = nowUs();
    this.parsedUs = 0;
    const n = parse(this);
    this.parsedUs = 0;
    if (n > 0) this.engine.drain();
    return n;
  }

  cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Every socket of the venue is live (has delivered data since it last (re)subscribed). */
  isLive(): boolean {
    return !this.stopped && this.connections.length > 0 && this.connections.every((c) => c.status === 'live');
  }

  quote(meta: InstrumentMeta, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number): void {
    if (meta.id < 0) return; // not (or no longer) configured
    if (this.parsedUs === 0) this.parsedUs = nowUs();
    this.engine.pushQuote(meta.id, bid, ask, bidSize, askSize, exchangeTsMs, this.recvUs);
  }

  funding(meta: InstrumentMeta, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number): void {
    if (meta.id < 0) return;
    if (this.parsedUs === 0) this.parsedUs = nowUs();
    this.engine.pushFunding(meta.id, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs, this.recvUs);
    this.noteFunding(meta, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs);
  }

  stats(meta: InstrumentMeta, openInterestUsd: number, volume24hUsd: number, exchangeTsMs: number, fundingPrice = Number.NaN): void {
    if (meta.id < 0) return;
    if (this.parsedUs === 0) this.parsedUs = nowUs();
    this.engine.pushStats?.(meta.id, openInterestUsd, volume24hUsd, exchangeTsMs, this.recvUs, fundingPrice);
  }

  /** Remembers a funding figure pushed for `meta` (also the REST seeds) and the earliest next settlement. */
  noteFunding(meta: InstrumentMeta, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number): void {
    const last = this.lastFunding.get(meta);
    if (last === undefined) this.lastFunding.set(meta, { rate, intervalMs, nextFundingMs, predicted, exchangeTsMs });
    else {
      last.rate = rate;
      last.intervalMs = intervalMs;
      last.nextFundingMs = nextFundingMs;
      last.predicted = predicted;
      last.exchangeTsMs = exchangeTsMs;
    }
    this.noteNextSettlement(nextFundingMs);
  }

  noteNextSettlement(nextFundingMs: number): void {
    if (nextFundingMs > this.settledThroughMs && nextFundingMs < this.earliestNextMs) {
      this.earliestNextMs = nextFundingMs;
      this.onEarlierSettlement?.();
    }
  }

  /**
   * One frame: parse → push → drain (detection on the same tick). Latency: receive (socket event) →
   * first update parsed; parsed → all of the frame's records in the pipeline.
   */
  handle(parser: VenueParser, raw: string, recvUs: number): ReturnType<VenueParser['parse']> {
    this.recvUs = recvUs;
    this.parsedUs = 0;
    this.framesTotal++;
    const outcome = parser.parse(raw, this);
    if (this.parsedUs !== 0) {
      const inPipelineUs = nowUs();
      const parse = this.parsedUs - recvUs;
      const push = inPipelineUs - this.parsedUs;
      if (parse >= 0 && parse <= MAX_LATENCY_US) this.latency.receiveToParsed.recordUs(parse);
      if (push >= 0 && push <= MAX_LATENCY_US) this.latency.parsedToPipeline.recordUs(push);
    }
    if (outcome === 'data') this.engine.drain();
    return outcome;
  }

  markDown(nowMs: number): void {
    this.downSinceMs ??= nowMs;
    if (this.down) return;
    this.down = true;
    this.engine.setExchangeDown(this.exchange, true);
    this.engine.drain();
  }

  /** Up again once every socket of the venue has delivered its new snapshot. */
  maybeUp(): void {
    if (!this.down || !this.isLive()) return;
    this.down = false;
    this.downSinceMs = null;
    this.engine.setExchangeDown(this.exchange, false);
  }

  state(nowMs: number): FeedState {
    const cs = this.connections;
    const messages = this.framesTotal;
    if (nowMs - this.rateAtMs >= 1000) {
      this.messagesPerSec = this.rateAtMs === 0 ? 0 : Math.max(0, Math.round(((messages - this.rateCount) * 1000) / (nowMs - this.rateAtMs)));
      this.rateAtMs = nowMs;
      this.rateCount = messages;
    }
    const errors: Record<string, number> = {};
    const add = (src: Record<string, number>) => {
      for (const [k, v] of Object.entries(src)) errors[k] = (errors[k] ?? 0) + v;
    };
    for (const p of this.parsers) add(p.errors);
    for (const c of cs) add(c.errors);
    add(this.statsErrors);
    const last = cs.reduce<number | null>((m, c) => (c.lastMessageMs === null ? m : m === null ? c.lastMessageMs : Math.max(m, c.lastMessageMs)), null);
    let status: FeedState['status'];
    if (this.stopped || (this.metadata === 'loaded' && this.symbols.length === 0)) status = 'stopped';
    // Failed and being retried (also while a retry is in flight), or failed for good (no endpoints).
    else if (this.metadata === 'failed') status = this.metadataAttempts > 0 ? 'backoff' : 'stopped';
    else if (this.isLive()) status = 'live';
    else if (cs.some((c) => c.status === 'stale')) status = 'stale';
    else if (cs.some((c) => c.status === 'backoff')) status = 'backoff';
    else status = 'connecting';
    if (status === 'live') this.downSinceMs = null;
    else this.downSinceMs ??= nowMs;
    // The newest failure, the venue's own or one of its sockets'.
    let lastError = this.lastError;
    for (const c of cs) if (c.lastError && (!lastError || c.lastError.atMs >= lastError.atMs)) lastError = c.lastError;
    return {
      exchange: this.exchange,
      status,
      connections: cs.filter((c) => c.open).length,
      subscriptions: cs.reduce((s, c) => s + c.subscriptions, 0),
      lastMessageAgeMs: last === null ? null : Math.max(0, nowMs - last),
      messages,
      messagesPerSec: this.messagesPerSec,
      errors,
      reconnects: cs.reduce((s, c) => s + c.reconnects, 0),
      metadata: this.metadata,
      lastError,
      downSinceMs: this.downSinceMs,
      ...(this.unlisted.length > 0 ? { unlisted: [...this.unlisted] } : {}),
      discovery: {
        listed: this.discovered ? tradingCount(this.discovered) : 0,
        subscribed: this.symbols.length,
        skipped: { ...this.skipped },
        refreshedMs: this.refreshedMs,
        failures: this.discoveryFailures,
      },
      ...(this.removed ? { removed: true as const } : {}),
    };
  }
}

