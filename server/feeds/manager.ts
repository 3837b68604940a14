/**
 * FeedManager: per venue, load metadata (REST, cached), register instruments with the engine, open the
 * adapter's connections, push parsed updates into the engine and drain it on the same tick, and keep
 * a FeedState per venue. A venue counts as live (its quotes usable by the engine) only once every one
 * of its sockets has delivered data; until then, and from any drop until the venue's new snapshot, the
 * engine has it down. A venue whose metadata cannot be loaded is reported (`metadata: 'failed'`) and
 * retried with backoff for as long as it stays configured; `restartVenue` starts one venue afresh.
 * `reconfigure` applies a new exchange/instrument set to running feeds (live
 * subscribe/unsubscribe where the venue allows it). Records the feed-side latency stages
 * (receive_to_parsed, parsed_to_pipeline) without allocating per frame.
 */
import type { Logger } from 'pino';
import type { Exchange } from '../../shared/exchanges.js';
import type { FeedError, FeedState } from '../../shared/feeds.js';
import type { LatencyStage, LatencySummary } from '../../shared/protocol.js';
import { type LatencyBuckets, LatencyHistogram } from '../engine/histogram.js';
import { defaultSymbol } from '../venues/index.js';
import { parseInstrumentKey } from '../venues/symbology.js';
import type { ConnectionPlan, FetchJson, InstrumentMeta, MetadataTable, UpdateSink, VenueAdapter, VenueEndpoints, VenueParser } from './adapter.js';
import { nowUs } from '../engine/clock.js';
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF, FeedConnection } from './connection.js';
import { ADAPTERS } from './endpoints.js';
import { feedError, reasonError } from './feed-error.js';
import { MetadataCache, createFetchJson } from './metadata.js';
import type { FrameRecorder } from './recorder.js';

/** The part of the engine the feeds use (server/engine Engine satisfies it). */
export interface FeedEngine {
  registerInstrument(exchange: Exchange, symbol: string, meta: { base: string; quote: string }): number;
  pushQuote(id: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, recvUs: number): boolean;
  pushFunding(id: number, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number, recvUs: number): boolean;
  drain(max?: number): number;
  setExchangeDown(exchange: Exchange, down: boolean): void;
}

export interface FeedManagerOptions {
  engine: FeedEngine;
  exchanges: Exchange[];
  /** Instrument keys, e.g. `BTC-PERP`. */
  instruments: string[];
  endpoints: Record<Exchange, VenueEndpoints>;
  logger?: Logger;
  /** Reconnect a socket that is silent this long (ms). Default 15 s. */
  silenceMs?: number;
  recorder?: FrameRecorder;
  now?: () => number;
  /** Rotate the sockets of venues that cut connections at 24 h after this long (ms); default 23 h. */
  maxConnectionAgeMs?: number;
  /** Reconnect and metadata-retry backoff. Default DEFAULT_BACKOFF (capped at 3 s). */
  backoff?: BackoffOptions;
  /** [0,1) source for the backoff jitter (injectable for tests). Default Math.random. */
  random?: () => number;
  fetchJson?: FetchJson;
  metadataCache?: MetadataCache;
  adapters?: Partial<Record<Exchange, VenueAdapter>>;
}

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

class VenueFeed implements UpdateSink {
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
  /** Configured symbols the venue does not list. */
  unlisted: string[] = [];
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
      ...(this.removed ? { removed: true as const } : {}),
    };
  }
}

export class FeedManager {
  private venues: VenueFeed[];
  private readonly listeners: Array<(state: FeedState) => void> = [];
  private readonly now: () => number;
  private readonly fetchJson: FetchJson;
  private readonly cache: MetadataCache;
  private readonly feedLatency = new FeedLatency();
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private instruments: string[];
  private running = false;
  /** Reconfigurations run one after another. */
  private changes: Promise<void> = Promise.resolve();

  constructor(private readonly opts: FeedManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.fetchJson = opts.fetchJson ?? createFetchJson();
    this.cache = opts.metadataCache ?? new MetadataCache();
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.random = opts.random ?? Math.random;
    this.instruments = [...opts.instruments];
    this.venues = opts.exchanges.map((ex) => this.newVenue(ex));
  }

  /** Loads metadata, registers instruments, connects and subscribes (does not wait for data). */
  async start(): Promise<void> {
    this.running = true;
    await Promise.all(this.venues.map((v) => this.launch(v)));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.changes.catch(() => {});
    for (const v of this.venues) {
      v.stopped = true;
      v.cancelRetry();
    }
    await Promise.all(this.venues.flatMap((v) => v.connections.map((c) => c.stop())));
    for (const v of this.venues) this.emit(v);
  }

  /**
   * Applies a new exchange/instrument set: venues newly enabled start (metadata, connect); venues
   * disabled stop and their quotes are forgotten (call engine.setConfig first, so their opportunities
   * close `config_changed`); instruments added/removed are subscribed/unsubscribed on the live sockets
   * where the venue allows it, else that venue's sockets are re-made. New instruments are registered in
   * the engine from the cached venue metadata; one a venue does not list shows in FeedState.unlisted.
   * Resolves when the change is applied (not when data has arrived).
   */
  reconfigure(next: { exchanges: readonly Exchange[]; instruments: readonly string[] }): Promise<void> {
    return this.enqueue(() => this.apply([...next.exchanges], [...next.instruments]));
  }

  /** Runs `job` after every change queued before it (changes to the venue set never interleave). */
  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.changes.then(job);
    this.changes = run.catch((err: unknown) => this.log('error', 'feed reconfiguration failed', { err: (err as Error).message }));
    return run;
  }

  states(): FeedState[] {
    const now = this.now();
    return this.venues.map((v) => v.state(now));
  }

  /** The state of one configured venue; null when it is not configured. */
  venueState(venue: Exchange): FeedState | null {
    return this.venues.find((v) => v.exchange === venue)?.state(this.now()) ?? null;
  }

  /** The venue is configured and every one of its sockets is live (its quotes are usable). */
  isVenueLive(venue: Exchange): boolean {
    return this.venues.find((v) => v.exchange === venue)?.isLive() ?? false;
  }

  /**
   * Starts one configured venue afresh (metadata, sockets, backoff reset): its quotes are forgotten and
   * its opportunities close `feed_down` until its new snapshot. Resolves false when the venue is not
   * configured; does not wait for the venue to be live.
   */
  restartVenue(venue: Exchange): Promise<boolean> {
    const run = this.changes.then(async () => {
      const old = this.venues.find((v) => v.exchange === venue);
      if (!old) return false;
      old.stopped = true; // an in-flight metadata load or plan of the old venue makes nothing
      old.cancelRetry();
      await Promise.all(old.connections.map((c) => c.stop()));
      const fresh = this.newVenue(venue);
      this.venues = this.venues.map((v) => (v === old ? fresh : v));
      this.log('info', `${venue}: restarting on request`);
      if (this.running) void this.launch(fresh);
      else this.emit(fresh);
      return true;
    });
    this.changes = run.then(
      () => undefined,
      (err: unknown) => this.log('error', `${venue}: restart failed`, { err: (err as Error).message }),
    );
    return run;
  }

  onState(listener: (state: FeedState) => void): void {
    this.listeners.push(listener);
  }

  /** Metadata per venue as loaded (for `--instruments` files and diagnostics). */
  metadata(): Partial<Record<Exchange, MetadataTable>> {
    return Object.fromEntries(this.venues.map((v) => [v.exchange, v.meta]));
  }

  /** Feed-side latency stages since start (or the last resetLatency), for EngineStats.latency. */
  latency(): Partial<Record<LatencyStage, LatencySummary>> {
    return this.feedLatency.summary();
  }

  /** The cumulative feed-side latency histograms, read-only (Prometheus histograms at /metrics). */
  latencyBuckets(): { receive_to_parsed: LatencyBuckets; parsed_to_pipeline: LatencyBuckets } {
    return { receive_to_parsed: this.feedLatency.receiveToParsed, parsed_to_pipeline: this.feedLatency.parsedToPipeline };
  }

  resetLatency(): void {
    this.feedLatency.reset();
  }

  /** The REST fetch for one venue's metadata: with a recorder, every response is recorded too (for replay). */
  private metadataFetch(ex: Exchange): FetchJson {
    const recorder = this.opts.recorder;
    if (!recorder) return this.fetchJson;
    return async (url, init) => {
      const requestMs = this.now();
      const body = await this.fetchJson(url, init);
      recorder.recordRest(ex, url, body, requestMs);
      return body;
    };
  }

  private newVenue(ex: Exchange): VenueFeed {
    return new VenueFeed(ex, this.opts.adapters?.[ex] ?? ADAPTERS[ex], this.opts.engine, this.feedLatency, this.now());
  }

  private launch(v: VenueFeed): Promise<void> {
    v.started = this.startVenue(v);
    return v.started;
  }

  private async apply(exchanges: Exchange[], instruments: string[]): Promise<void> {
    const instrumentsChanged = instruments.length !== this.instruments.length || instruments.some((k, i) => k !== this.instruments[i]);
    this.instruments = instruments;
    const wanted = new Set(exchanges);
    const removed = this.venues.filter((v) => !wanted.has(v.exchange));
    const kept = this.venues.filter((v) => wanted.has(v.exchange));
    const added = exchanges.filter((ex, i) => exchanges.indexOf(ex) === i && !this.venues.some((v) => v.exchange === ex)).map((ex) => this.newVenue(ex));
    this.venues = [...kept, ...added];
    for (const v of removed) await this.disableVenue(v);
    if (!this.running) return; // start() picks the new lists up
    for (const v of added) {
      this.log('info', `${v.exchange}: enabled`);
      void this.launch(v);
    }
    if (instrumentsChanged) await Promise.all(kept.map((v) => this.changeInstruments(v)));
  }

  private async disableVenue(v: VenueFeed): Promise<void> {
    v.stopped = true;
    v.removed = true;
    v.cancelRetry();
    await v.started.catch(() => {});
    await Promise.all(v.connections.map((c) => c.stop()));
    // Its quotes must not be used again until the venue is re-enabled and has sent new data.
    this.opts.engine.setExchangeDown(v.exchange, true);
    this.opts.engine.drain();
    this.log('info', `${v.exchange}: disabled`);
    this.emit(v);
  }

  /** Diffs a running venue's instruments against the configured list and applies the difference. */
  private async changeInstruments(v: VenueFeed): Promise<void> {
    await v.started.catch(() => {});
    if (v.stopped) return; // being shut down
    const ex = v.exchange;
    if (v.metadata !== 'loaded' || v.connections.length === 0) {
      // Never connected (metadata failed, nothing listed): start over with the new list.
      v.stopped = true; // a metadata retry of the old venue makes nothing
      v.cancelRetry();
      await Promise.all(v.connections.map((c) => c.stop()));
      const fresh = this.newVenue(ex);
      this.venues = this.venues.map((x) => (x === v ? fresh : x));
      await this.launch(fresh);
      return;
    }
    const wanted = this.symbolsFor(ex);
    const unknown = wanted.filter((s) => !v.meta.has(s));
    /** Symbols whose metadata could not be loaded: not known to be unlisted, retried with backoff. */
    let pending = new Set<string>();
    if (unknown.length > 0) {
      try {
        const loaded = await this.cache.load(v.adapter, this.opts.endpoints[ex].rest, unknown, this.metadataFetch(ex), this.now());
        for (const [s, m] of loaded) v.meta.set(s, m); // parsers share this table
        v.metadataAttempts = 0;
      } catch (e) {
        pending = new Set(unknown);
        v.lastError = feedError(e, 'metadata', this.now());
        const delay = backoffDelayMs(this.backoff, v.metadataAttempts++, this.random);
        this.log('error', `${ex}: metadata for new instruments could not be loaded; retrying in ${delay} ms`, { err: v.lastError.message, code: v.lastError.code });
        v.scheduleRetry(delay, () => {
          if (this.running && !v.stopped && this.venues.includes(v)) void this.enqueue(() => this.changeInstruments(v));
        });
      }
    }
    if (v.stopped) return; // stopped while loading
    v.unlisted = wanted.filter((s) => !v.meta.has(s) && !pending.has(s));
    if (v.unlisted.length > 0) this.log('warn', `${ex}: not listed by the venue: ${v.unlisted.join(', ')}`);
    const listed = wanted.filter((s) => v.meta.has(s));
    const before = new Set(v.symbols);
    const now = new Set(listed);
    const add = listed.filter((s) => !before.has(s));
    const remove = v.symbols.filter((s) => !now.has(s));
    if (add.length === 0 && remove.length === 0) {
      this.emit(v);
      return;
    }
    this.register(v, add);
    for (const s of remove) v.meta.get(s)!.id = -1; // frames still in flight are dropped quietly
    v.symbols = listed;
    v.generation++;
    this.log('info', `${ex}: instruments changed`, { added: add, removed: remove });
    if (listed.length === 0) {
      await Promise.all(v.connections.map((c) => c.stop()));
      v.connections.length = 0;
      v.parsers.length = 0;
      v.lastError = reasonError('NOT_LISTED', `none of the instruments is listed by ${ex}`, this.now());
      this.emit(v);
      return;
    }
    const plans = v.connections.map((c) => c.currentPlan);
    const change = plans.every((p): p is ConnectionPlan => p !== null) ? (v.adapter.liveChange?.(plans, listed, add, remove) ?? null) : null;
    if (change && change.length === v.connections.length) {
      v.connections.forEach((c, i) => c.applyChange(change[i]!.messages, change[i]!.topicCount));
    } else {
      // The venue's socket layout changes: re-make its sockets with the new list.
      await Promise.all(v.connections.map((c) => c.stop()));
      v.connections.length = 0;
      v.parsers.length = 0;
      await this.connectVenue(v);
    }
    this.emit(v);
  }

  /** Registers `symbols` of the venue's metadata with the engine and pushes their REST-seeded funding. */
  private register(v: VenueFeed, symbols: readonly string[]): void {
    const { engine } = this.opts;
    const recvUs = nowUs();
    for (const s of symbols) {
      const m = v.meta.get(s);
      if (!m) continue;
      m.id = engine.registerInstrument(v.exchange, m.symbol, { base: m.base, quote: m.quote });
      const seed = m.seedFunding;
      if (seed) engine.pushFunding(m.id, seed.rate, seed.intervalMs, seed.nextFundingMs, seed.predicted, seed.tsMs, recvUs);
    }
    engine.drain();
  }

  /** The venue's default symbols for the configured instruments. */
  private symbolsFor(ex: Exchange): string[] {
    return this.instruments.flatMap((k) => {
      const bq = parseInstrumentKey(k);
      return bq ? [defaultSymbol(ex, bq.base)] : [];
    });
  }

  private emit(v: VenueFeed): void {
    if (this.listeners.length === 0) return;
    const s = v.state(this.now());
    for (const l of this.listeners) l(s);
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>): void {
    this.opts.logger?.[level]({ component: 'feeds', ...extra }, msg);
  }

  private async startVenue(v: VenueFeed): Promise<void> {
    const ex = v.exchange;
    const { endpoints } = this.opts;
    const symbols = this.symbolsFor(ex);
    // Not scanned until every socket is live (a no-op for a venue that never had quotes).
    this.opts.engine.setExchangeDown(ex, true);
    this.emit(v);
    if (!endpoints[ex]?.rest) {
      v.metadata = 'failed';
      v.lastError = reasonError('NO_ENDPOINTS', `no endpoints configured for ${ex}`, this.now());
      this.emit(v);
      return;
    }
    try {
      v.meta = await this.cache.load(v.adapter, endpoints[ex].rest, symbols, this.metadataFetch(ex), this.now());
    } catch (e) {
      if (v.stopped) return;
      v.metadata = 'failed';
      v.lastError = feedError(e, 'metadata', this.now());
      // Retried for as long as the venue stays configured: a venue that was away at start joins when it returns.
      const delay = backoffDelayMs(this.backoff, v.metadataAttempts++, this.random);
      this.log('error', `${ex}: metadata could not be loaded; retrying in ${delay} ms`, { err: v.lastError.message, code: v.lastError.code });
      v.scheduleRetry(delay, () => {
        if (this.running && !v.stopped && this.venues.includes(v)) void this.launch(v);
      });
      this.emit(v);
      return;
    }
    v.metadataAttempts = 0;
    v.metadata = 'loaded';
    v.unlisted = symbols.filter((s) => !v.meta.has(s));
    if (v.unlisted.length > 0) this.log('warn', `${ex}: not listed by the venue: ${v.unlisted.join(', ')}`);
    v.symbols = symbols.filter((s) => v.meta.has(s));
    if (v.stopped) return; // disabled while loading
    this.register(v, v.symbols);
    if (v.symbols.length === 0) {
      v.lastError = reasonError('NOT_LISTED', `none of the instruments is listed by ${ex}`, this.now());
      this.emit(v);
      return;
    }
    await this.connectVenue(v);
    this.emit(v);
  }

  /** Makes the venue's sockets for its current symbol list and starts them. */
  private async connectVenue(v: VenueFeed): Promise<void> {
    const ex = v.exchange;
    const endpoints = this.opts.endpoints[ex];
    const planFor = (symbols: string[]) => v.adapter.plan(endpoints, symbols, this.fetchJson, { maxAgeMs: this.opts.maxConnectionAgeMs });
    const generation = v.generation;
    let plans: Array<ConnectionPlan | null>;
    try {
      plans = await planFor(v.symbols);
    } catch (e) {
      // Only a plan that fetches a connection token can fail here: connect anyway and let the connection retry with backoff.
      plans = [null];
      v.lastError = feedError(e, 'plan', this.now());
    }
    if (v.stopped || generation !== v.generation) {
      // Disabled, or the list changed while planning (that change re-plans): make nothing from this plan.
      if (!v.stopped && v.connections.length === 0) return this.connectVenue(v);
      return;
    }
    plans.forEach((first, i) => {
      const parser = v.adapter.createParser(v.meta);
      v.parsers.push(parser);
      let reuse = first;
      const planner = async () => {
        // The first plan is used once; every reconnect re-plans with the current list (and a fresh token where the venue needs one).
        if (reuse && generation === v.generation) {
          const p = reuse;
          reuse = null;
          return p;
        }
        reuse = null;
        const fresh = await planFor(v.symbols);
        if (!fresh[i]) throw new Error(`no plan #${i}`);
        return fresh[i];
      };
      const conn = new FeedConnection(
        `${ex}#${i}`,
        planner,
        {
          onFrame: (raw, recvMs, recvUs) => {
            this.opts.recorder?.record(ex, raw, recvMs);
            return v.handle(parser, raw, recvUs);
          },
          onDown: (reason) => {
            parser.reset(); // no merge state survives a drop
            this.log('warn', `${ex}: connection down (${reason})`);
            v.markDown(this.now());
          },
          onLive: () => v.maybeUp(),
          onChange: () => this.emit(v),
        },
        {
          silenceMs: this.opts.silenceMs ?? 15_000,
          backoff: this.backoff,
          random: this.random,
          now: this.now,
          log: (level, msg) => this.log(level, msg),
        },
      );
      v.connections.push(conn);
    });
    for (const c of v.connections) c.start();
  }
}
