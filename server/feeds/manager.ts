/**
 * FeedManager: per venue, discover every listed linear perpetual (REST, at start and every
 * `discoveryRefreshMs`), work out the scanned universe over the enabled venues (universe.ts), register
 * its symbols with the engine, open the adapter's connections, push parsed updates into the engine and
 * drain it on the same tick, and keep a FeedState per venue. Each venue proceeds on its own: a slow or
 * failing discovery delays nobody else (it is retried with backoff; a failed refresh keeps the last good
 * table), and a venue that arrives late joins the universe then (instruments it brings over minVenues
 * are subscribed on the others too). New listings are subscribed and delistings unsubscribed on the
 * live sockets (re-made where the venue cannot change in place); a delisted symbol's opportunities
 * close `instrument_delisted` (engine.setInstrumentListed). A venue counts as live (its quotes usable
 * by the engine) only once every one of its sockets has delivered data; until then, and from any drop
 * until the venue's new snapshot, the engine has it down. `restartVenue` starts one venue afresh;
 * `reconfigure` applies a new market config to running feeds; `setVenueOptions` hands a venue's new
 * options (config.venues) to its discovery, re-run at once. Records the feed-side latency stages
 * (receive_to_parsed, parsed_to_pipeline) without allocating per frame.
 */
import type { Logger } from 'pino';
import type { Exchange } from '../../shared/exchanges.js';
import type { FeedState } from '../../shared/feeds.js';
import type { LatencyStage, LatencySummary } from '../../shared/protocol.js';
import type { LatencyBuckets } from '../engine/histogram.js';
import { normaliseInstrumentKey } from '../venues/symbology.js';
import { type ConnectionPlan, type FetchJson, type InstrumentMeta, type MetadataTable, type VenueAdapter, type VenueEndpoints, type VenueOptions } from './adapter.js';
import { nowUs } from '../engine/clock.js';
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF, FeedConnection } from './connection.js';
import { pickReplan } from './plan-limits.js';
import { type ConnectPacer, ConnectPacers } from './rate-limiter.js';
import { ADAPTERS } from './endpoints.js';
import { feedError, reasonError } from './feed-error.js';
import { type MetadataCache, createFetchJson } from './metadata.js';
import type { FrameRecorder } from './recorder.js';
import type { FundingSource } from './funding-cross-check.js';
import { computeUniverse, isTrading, type UniverseRules } from './universe.js';
import { type FeedEngine, FeedLatency, VenueFeed } from './venue-feed.js';
import { applyRefreshedMeta, type FundingTiming, timingPush } from './funding-timing.js';

export { type FeedEngine, FeedLatency } from './venue-feed.js';

/** The market part of the config the feeds follow (config.market). */
export interface FeedMarket {
  exchanges: readonly Exchange[];
  /** `all`, or instrument keys (`BTC-PERP`; first-release `BTC-USDT-PERP` is normalised). */
  instruments: 'all' | readonly string[];
  /** Instrument keys, or `venue:KEY` to drop one venue's leg. Default none. */
  exclude?: readonly string[];
  /** With `all`: instruments listed on fewer enabled venues are not subscribed. Default 2. */
  minVenues?: number;
  /** Default 5 min. */
  discoveryRefreshMs?: number;
}

export const DEFAULT_MIN_VENUES = 2;
export const DEFAULT_DISCOVERY_REFRESH_MS = 5 * 60_000;

export interface FeedManagerOptions {
  engine: FeedEngine;
  exchanges: Exchange[];
  /** `all` (every perpetual listed on at least minVenues enabled venues), or instrument keys, e.g. `BTC-PERP`. */
  instruments: 'all' | readonly string[];
  exclude?: readonly string[];
  minVenues?: number;
  discoveryRefreshMs?: number;
  endpoints: Record<Exchange, VenueEndpoints>;
  logger?: Logger;
  /** Reconnect a socket that is silent this long (ms). Default 15 s. */
  silenceMs?: number;
  recorder?: FrameRecorder;
  now?: () => number;
  /** Rotate the sockets of venues that cut connections at 24 h after this long (ms); default 23 h. */
  maxConnectionAgeMs?: number;
  /** Reconnect and discovery-retry backoff. Default DEFAULT_BACKOFF (capped at 3 s). */
  backoff?: BackoffOptions;
  /** [0,1) source for the backoff jitter (injectable for tests). Default Math.random. */
  random?: () => number;
  fetchJson?: FetchJson;
  /** Unused since discovery replaced per-symbol metadata loads; accepted for existing callers. */
  metadataCache?: MetadataCache;
  adapters?: Partial<Record<Exchange, VenueAdapter>>;
  /** Venue-specific settings (config.venues), handed to each venue's discovery; `{}` for a venue absent here. */
  venues?: Readonly<Record<string, VenueOptions>>;
  /** Timers for the post-settlement refreshes (injectable for tests). Default the global ones, unref'd. */
  timers?: FeedTimers;
  /** A venue with `refreshAfterSettlement` is re-read this long after its earliest next settlement, plus jitter. Default 3 s. */
  settlementRefreshDelayMs?: number;
  /** Up to this much random delay on top (so venues and instances do not all call at once). Default 2 s. */
  settlementRefreshJitterMs?: number;
  /** A post-settlement read that still showed the settled time as next is retried after this long. Default 15 s. */
  settlementRetryMs?: number;
  /** Overrides every venue's REST statistics period (VenueAdapter.restStats.periodMs), e.g. for tests. */
  restStatsPeriodMs?: number;
}

/** See FeedManager.depthContext. */
export interface DepthContext {
  adapter: VenueAdapter;
  meta: () => MetadataTable;
  endpoints: VenueEndpoints;
  fetchJson: FetchJson;
  connectPacer: ConnectPacer;
}

/** setTimeout/clearTimeout as the manager uses them. */
export interface FeedTimers {
  setTimeout(run: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

const GLOBAL_TIMERS: FeedTimers = {
  setTimeout: (run, delayMs) => {
    const t = setTimeout(run, delayMs);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export const DEFAULT_SETTLEMENT_REFRESH_DELAY_MS = 3_000;
export const DEFAULT_SETTLEMENT_REFRESH_JITTER_MS = 2_000;
/** A post-settlement refresh that still shows the settled time as next is retried this often, this many times. */
const SETTLEMENT_RETRY_MS = 15_000;
const SETTLEMENT_RETRIES = 3;

/** Rules with legacy keys normalised and defaults applied. */
function rulesOf(m: { instruments: 'all' | readonly string[]; exclude?: readonly string[]; minVenues?: number }): UniverseRules {
  const norm = (k: string): string => {
    const i = k.indexOf(':');
    const key = normaliseInstrumentKey(i < 0 ? k : k.slice(i + 1)) ?? (i < 0 ? k : k.slice(i + 1));
    return i < 0 ? key : `${k.slice(0, i)}:${key}`;
  };
  return {
    instruments: m.instruments === 'all' ? 'all' : [...new Set(m.instruments.map(norm))],
    exclude: [...new Set((m.exclude ?? []).map(norm))],
    minVenues: m.minVenues ?? DEFAULT_MIN_VENUES,
  };
}

function sameRules(a: UniverseRules, b: UniverseRules): boolean {
  const list = (x: 'all' | readonly string[]) => (x === 'all' ? 'all' : x.join());
  return list(a.instruments) === list(b.instruments) && a.exclude.join() === b.exclude.join() && a.minVenues === b.minVenues;
}

export class FeedManager {
  private venues: VenueFeed[];
  private readonly listeners: Array<(state: FeedState) => void> = [];
  private readonly now: () => number;
  private readonly fetchJson: FetchJson;
  /** New-socket pacing per venue (connections per IP, from the plans' limits). */
  private readonly connectPacers = new ConnectPacers();
  private readonly feedLatency = new FeedLatency();
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly timers: FeedTimers;
  private rules: UniverseRules;
  private refreshMs: number;
  private refreshTimer: NodeJS.Timeout | null = null;
  private running = false;
  private venueOptions: Readonly<Record<string, VenueOptions>>;
  /** Venues whose options changed while a discovery was in flight: discovered again when it ends. */
  private readonly rediscover = new Set<Exchange>();
  /** Universe changes (reconfigurations, discoveries arriving) run one after another. */
  private changes: Promise<void> = Promise.resolve();

  constructor(private readonly opts: FeedManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.fetchJson = opts.fetchJson ?? createFetchJson();
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.random = opts.random ?? Math.random;
    this.timers = opts.timers ?? GLOBAL_TIMERS;
    this.rules = rulesOf(opts);
    this.refreshMs = opts.discoveryRefreshMs ?? DEFAULT_DISCOVERY_REFRESH_MS;
    this.venueOptions = opts.venues ?? {};
    this.venues = opts.exchanges.map((ex) => this.newVenue(ex));
  }

  /**
   * Discovers, registers, connects and subscribes every venue (does not wait for data). Each venue
   * proceeds on its own: the others' subscriptions never wait for a slow one, though the promise does.
   */
  async start(): Promise<void> {
    this.running = true;
    this.scheduleRefresh();
    await Promise.all(this.venues.map((v) => this.launch(v)));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    await this.changes.catch(() => {});
    for (const v of this.venues) {
      v.stopped = true;
      v.cancelRetry();
      v.stopStats();
      this.clearSettlementTimer(v);
    }
    await Promise.all(this.venues.flatMap((v) => v.connections.map((c) => c.stop())));
    for (const v of this.venues) this.emit(v);
  }

  /**
   * Applies a new market config: venues newly enabled start (discovery, connect); venues disabled stop
   * and their quotes are forgotten (call engine.setConfig first, so their opportunities close
   * `config_changed`); the universe is recomputed and the difference subscribed/unsubscribed on the
   * live sockets where the venue allows it, else that venue's sockets are re-made. A configured key a
   * venue does not list shows in FeedState.unlisted. Resolves when the change is applied (not when data
   * has arrived).
   */
  reconfigure(next: FeedMarket): Promise<void> {
    return this.enqueue(() => this.apply(next));
  }

  /** Runs `job` after every change queued before it (changes to the venue set never interleave). */
  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.changes.then(job);
    this.changes = run.catch((err: unknown) => this.log('error', 'feed reconfiguration failed', { err: (err as Error).message }));
    return run;
  }

  /**
   * New venue options (config.venues): each configured venue whose options changed discovers again with
   * them (and so re-subscribes to what the new discovery lists); the others are untouched. Resolves once
   * those discoveries are done (not when data has arrived).
   */
  setVenueOptions(next: Readonly<Record<string, VenueOptions>>): Promise<void> {
    const before = this.venueOptions;
    this.venueOptions = next;
    const changed = this.venues.filter((v) => JSON.stringify(before[v.exchange] ?? {}) !== JSON.stringify(next[v.exchange] ?? {}));
    return Promise.all(
      changed.map((v) => {
        this.log('info', `${v.exchange}: venue options changed; discovering again`);
        if (v.discovering) {
          this.rediscover.add(v.exchange); // the discovery in flight used the old options
          return undefined;
        }
        // Not discovered yet: its start (or retry) reads the new options by itself.
        return v.discovered !== null ? this.refreshVenue(v) : undefined;
      }),
    ).then(() => undefined);
  }

  /**
   * The configured venues whose adapter publishes other venues' funding (VenueAdapter.fundingReferences),
   * for the funding cross-check (funding-cross-check.ts); read at each of its rounds.
   */
  fundingSources(): FundingSource[] {
    const out: FundingSource[] = [];
    for (const v of this.venues) {
      const rest = this.opts.endpoints[v.exchange]?.rest;
      const adapter = v.adapter;
      if (v.stopped || !rest || !adapter.fundingReferences) continue;
      out.push({ exchange: v.exchange, rest, fundingReferences: (r, f, n) => adapter.fundingReferences!(r, f, n) });
    }
    return out;
  }

  /**
   * What a venue's depth feed (depth-manager.ts) shares with its quote feed: the adapter, the live metadata
   * table (ids follow the quote feed's registrations), endpoints, the REST fetch and the new-socket pacing
   * (both channels count against the venue's connections per IP). null when the venue is not running.
   */
  depthContext(exchange: Exchange): DepthContext | null {
    const v = this.venues.find((x) => x.exchange === exchange);
    const endpoints = this.opts.endpoints[exchange];
    if (!v || v.stopped || !endpoints) return null;
    return { adapter: v.adapter, meta: () => v.meta, endpoints, fetchJson: this.fetchJson, connectPacer: this.connectPacers.for(exchange) };
  }

  /** The configured venues, in order. */
  get exchanges(): Exchange[] {
    return this.venues.map((v) => v.exchange);
  }

  /** The REST fetch the feeds use (the funding cross-check asks through it too). */
  get restFetch(): FetchJson {
    return this.fetchJson;
  }

  /** The options handed to a venue's discovery. */
  optionsOf(venue: Exchange): VenueOptions {
    return this.venueOptions[venue] ?? {};
  }

  /** Re-reads every discovered venue's instrument list now (the periodic refresh does the same). */
  refreshDiscovery(): Promise<void> {
    return Promise.all(this.venues.filter((v) => v.discovered !== null).map((v) => this.refreshVenue(v))).then(() => undefined);
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
      old.stopStats();
      this.clearSettlementTimer(old);
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
      recorder.recordRest(ex, url, body, requestMs, init?.body);
      return body;
    };
  }

  private newVenue(ex: Exchange): VenueFeed {
    const v = new VenueFeed(ex, this.opts.adapters?.[ex] ?? ADAPTERS[ex], this.opts.engine, this.feedLatency, this.now());
    if (v.adapter.refreshAfterSettlement) v.onEarlierSettlement = () => this.armSettlementRefresh(v);
    return v;
  }

  /**
   * For a venue whose funding timing comes from REST (`refreshAfterSettlement`): one discovery refresh a
   * few seconds (jittered) after the earliest next settlement among its subscribed symbols, on top of
   * the periodic one, so a changed interval or next time takes effect right after the settlement.
   */
  private armSettlementRefresh(v: VenueFeed): void {
    if (!v.adapter.refreshAfterSettlement || !this.running || v.stopped) return;
    const at = v.earliestNextMs;
    if (!Number.isFinite(at) || v.settlementTimerFor === at) return;
    this.clearSettlementTimer(v);
    const delay = (this.opts.settlementRefreshDelayMs ?? DEFAULT_SETTLEMENT_REFRESH_DELAY_MS) + Math.floor(this.random() * (this.opts.settlementRefreshJitterMs ?? DEFAULT_SETTLEMENT_REFRESH_JITTER_MS));
    v.settlementTimerFor = at;
    v.settlementTimer = this.timers.setTimeout(() => void this.afterSettlement(v, at), Math.max(0, at + delay - this.now()));
  }

  private clearSettlementTimer(v: VenueFeed): void {
    if (v.settlementTimer !== null) this.timers.clearTimeout(v.settlementTimer);
    v.settlementTimer = null;
    v.settlementTimerFor = 0;
  }

  /** The settlement at `at` has passed: re-read the venue, then arm for the next one. */
  private async afterSettlement(v: VenueFeed, at: number): Promise<void> {
    v.settlementTimer = null;
    v.settlementTimerFor = 0;
    if (!this.running || v.stopped || !this.venues.includes(v)) return;
    v.settledThroughMs = Math.max(v.settledThroughMs, at);
    v.earliestNextMs = Infinity;
    // Later settlements already known (other symbols, streamed next times) stay armed.
    for (const [m, f] of v.lastFunding) if (m.id >= 0) v.noteNextSettlement(f.nextFundingMs);
    await this.refreshVenue(v);
    if (!this.running || v.stopped) return;
    // The venue's REST still shows the settled time as next (it had not rolled yet; its interval may change
    // there): look again shortly, even when a later settlement is already known (the stream's figures roll
    // forward by the interval in force, which is what may be about to change).
    const stale = v.symbols.some((s) => {
      const m = v.meta.get(s);
      return m !== undefined && m.nextFundingMs > 0 && m.nextFundingMs <= at;
    });
    if (stale && v.settlementRetries < SETTLEMENT_RETRIES) {
      v.settlementRetries++;
      this.clearSettlementTimer(v); // the retry re-arms for the next settlement when it runs
      v.settlementTimerFor = at;
      v.settlementTimer = this.timers.setTimeout(() => void this.afterSettlement(v, at), this.opts.settlementRetryMs ?? SETTLEMENT_RETRY_MS);
      return;
    }
    v.settlementRetries = 0;
  }

  private launch(v: VenueFeed): Promise<void> {
    v.started = this.startVenue(v);
    return v.started;
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(() => void this.refreshDiscovery(), this.refreshMs);
    this.refreshTimer.unref?.();
  }

  private async apply(next: FeedMarket): Promise<void> {
    const exchanges = next.exchanges.filter((ex, i) => next.exchanges.indexOf(ex) === i);
    const rules = rulesOf(next);
    const rulesChanged = !sameRules(rules, this.rules);
    this.rules = rules;
    if (next.discoveryRefreshMs !== undefined && next.discoveryRefreshMs !== this.refreshMs) {
      this.refreshMs = next.discoveryRefreshMs;
      if (this.running) this.scheduleRefresh();
    }
    const wanted = new Set(exchanges);
    const removed = this.venues.filter((v) => !wanted.has(v.exchange));
    const kept = this.venues.filter((v) => wanted.has(v.exchange));
    const added = exchanges.filter((ex) => !this.venues.some((v) => v.exchange === ex)).map((ex) => this.newVenue(ex));
    this.venues = [...kept, ...added];
    for (const v of removed) await this.disableVenue(v);
    if (!this.running) return; // start() picks the new lists up
    for (const v of added) {
      this.log('info', `${v.exchange}: enabled`);
      void this.launch(v);
    }
    // A removed venue changes the venue counts behind minVenues; added ones resync when discovered.
    if (rulesChanged || removed.length > 0) await this.resync();
  }

  private async disableVenue(v: VenueFeed): Promise<void> {
    v.stopped = true;
    v.removed = true;
    v.cancelRetry();
    v.stopStats();
    this.clearSettlementTimer(v);
    await Promise.all(v.connections.map((c) => c.stop()));
    // Its quotes must not be used again until the venue is re-enabled and has sent new data.
    this.opts.engine.setExchangeDown(v.exchange, true);
    this.opts.engine.drain();
    this.log('info', `${v.exchange}: disabled`);
    this.emit(v);
  }

  /**
   * One discovery of the venue. A good one replaces its table; a failed one keeps the last good table
   * (none before the first: the venue is `failed` and not scanned) and is retried with backoff.
   * Resolves true when a new table arrived.
   */
  private async discoverVenue(v: VenueFeed): Promise<boolean> {
    const ex = v.exchange;
    if (v.discovering) return false;
    v.discovering = true;
    try {
      const d = await v.adapter.discover(this.opts.endpoints[ex].rest, this.metadataFetch(ex), this.now(), this.optionsOf(ex));
      if (v.stopped) return false;
      v.discovered = d.table;
      v.skipped = { ...d.skipped };
      v.refreshedMs = this.now();
      v.discoveryFailures = 0;
      v.metadataAttempts = 0;
      v.metadata = 'loaded';
      const skipped = Object.values(d.skipped).reduce((a, b) => a + b, 0);
      this.log('info', `${ex}: discovered ${d.table.size} perpetuals${skipped > 0 ? `, ${skipped} entries skipped` : ''}`, skipped > 0 ? { skipped: d.skipped } : undefined);
      return true;
    } catch (e) {
      if (v.stopped) return false;
      v.discoveryFailures++;
      v.lastError = feedError(e, 'metadata', this.now());
      if (v.discovered === null) v.metadata = 'failed';
      // Retried for as long as the venue stays configured: a venue that was away at start joins when it returns.
      const delay = backoffDelayMs(this.backoff, v.metadataAttempts++, this.random);
      const first = v.discovered === null;
      this.log('error', `${ex}: discovery failed${first ? '' : ' (keeping the last good instrument list)'}; retrying in ${delay} ms`, { err: v.lastError.message, code: v.lastError.code });
      v.scheduleRetry(delay, () => {
        if (!this.running || v.stopped || !this.venues.includes(v)) return;
        if (first) void this.launch(v);
        else void this.refreshVenue(v);
      });
      this.emit(v);
      return false;
    } finally {
      v.discovering = false;
      if (this.rediscover.delete(ex) && v.discovered !== null) void this.refreshVenue(v);
    }
  }

  /** A periodic (or retried) re-read of one venue's list; a change of what trades updates the universe. */
  private async refreshVenue(v: VenueFeed): Promise<void> {
    if (!this.running || v.stopped) return;
    if (await this.discoverVenue(v)) await this.enqueue(() => this.resync());
    else this.emit(v);
  }

  /** Recomputes the universe over the discovered venues and brings each one's subscriptions to it. */
  private async resync(): Promise<void> {
    if (!this.running) return;
    const live = this.venues.filter((v) => v.discovered !== null && !v.stopped);
    const universe = computeUniverse(new Map(live.map((v) => [v.exchange, v.discovered!])), this.rules);
    // In parallel: one venue's socket planning (a token fetch) never holds up another's subscriptions.
    await Promise.all(
      live.map((v) => {
        v.unlisted = universe.unlisted.get(v.exchange) ?? [];
        return this.syncVenue(v, universe.symbols.get(v.exchange) ?? []);
      }),
    );
  }

  /**
   * Brings one venue's subscriptions to `wanted` (its real symbols from discovery): new ones are
   * registered and subscribed, those that left unsubscribed and made unusable in the engine, with
   * `instrument_delisted` when the venue no longer lists them as trading, else `config_changed`.
   */
  private async syncVenue(v: VenueFeed, wanted: string[]): Promise<void> {
    const ex = v.exchange;
    const table = v.discovered!;
    // The parsers' table: refreshed fields, ids kept; a symbol that left keeps its entry with id -1 so a late frame is dropped quietly.
    // Funding timing is live data: a subscribed symbol whose interval or next time changed gets it pushed now.
    let timingPushed = false;
    for (const s of wanted) {
      const fresh = table.get(s)!;
      const known = v.meta.get(s);
      if (known) {
        const before = applyRefreshedMeta(known, fresh);
        if (this.pushTiming(v, known, before)) timingPushed = true;
      } else v.meta.set(s, { ...fresh, id: -1 });
    }
    if (timingPushed) this.opts.engine.drain();
    if (v.adapter.refreshAfterSettlement) for (const s of wanted) this.noteRestTiming(v, v.meta.get(s)!);
    const before = new Set(v.symbols);
    const now = new Set(wanted);
    const add = wanted.filter((s) => !before.has(s));
    const remove = v.symbols.filter((s) => !now.has(s));
    if (add.length === 0 && remove.length === 0 && (v.connections.length > 0 || wanted.length === 0)) {
      this.emit(v);
      return;
    }
    this.unregister(v, remove);
    this.register(v, add);
    v.symbols = wanted;
    v.generation++;
    if (add.length + remove.length > 0) this.log('info', `${ex}: subscriptions changed`, { added: add.length, removed: remove.length, ...(add.length + remove.length <= 20 ? { add, remove } : {}) });
    if (wanted.length === 0) {
      await Promise.all(v.connections.map((c) => c.stop()));
      v.connections.length = 0;
      v.parsers.length = 0;
      v.markDown(this.now()); // sockets made later must all be live again before the venue counts
      v.lastError = reasonError('NOT_LISTED', `none of the instruments is listed by ${ex}`, this.now());
      this.emit(v);
      return;
    }
    if (v.connections.length === 0) {
      await this.connectVenue(v);
      this.emit(v);
      return;
    }
    const plans = v.connections.map((c) => c.currentPlan);
    const change = plans.every((p): p is ConnectionPlan => p !== null) ? (v.adapter.liveChange?.(plans, wanted, add, remove) ?? null) : null;
    if (change && change.length === v.connections.length) {
      v.connections.forEach((c, i) => c.applyChange(change[i]!.messages, change[i]!.topicCount, change[i]!.symbols));
    } else {
      // The venue's socket layout changes: re-make its sockets with the new list.
      await Promise.all(v.connections.map((c) => c.stop()));
      v.connections.length = 0;
      v.parsers.length = 0;
      await this.connectVenue(v);
    }
    this.emit(v);
  }

  /**
   * After a refresh of `m` (its funding timing before: `before`): the engine gets the venue's current rate
   * with the new timing when the timing changed (`timingPush`, shared with the replay). Returns whether it pushed.
   */
  private pushTiming(v: VenueFeed, m: InstrumentMeta, before: FundingTiming): boolean {
    const p = timingPush(m, before, v.lastFunding.get(m), this.now());
    if (p === null) return false;
    this.opts.engine.pushFunding(m.id, p.rate, p.intervalMs, p.nextFundingMs, p.predicted, p.exchangeTsMs, nowUs());
    v.noteFunding(m, p.rate, p.intervalMs, p.nextFundingMs, p.predicted, p.exchangeTsMs);
    if (p.intervalChanged) this.log('info', `${v.exchange}: ${m.symbol} funding interval changed`, { intervalMs: p.intervalMs, previousIntervalMs: before.intervalMs, nextFundingMs: p.nextFundingMs });
    return true;
  }

  /** A REST-known next settlement of a subscribed symbol (venues with `refreshAfterSettlement`). */
  private noteRestTiming(v: VenueFeed, m: InstrumentMeta): void {
    if (m.nextFundingMs > 0) v.noteNextSettlement(m.nextFundingMs);
    if (m.seedFunding && m.seedFunding.nextFundingMs > 0) v.noteNextSettlement(m.seedFunding.nextFundingMs);
  }

  /** Registers `symbols` of the venue's metadata with the engine (listed again if they had left) and pushes their REST-seeded funding. */
  private register(v: VenueFeed, symbols: readonly string[]): void {
    const { engine } = this.opts;
    const recvUs = nowUs();
    for (const s of symbols) {
      const m = v.meta.get(s);
      if (!m) continue;
      m.id = engine.registerInstrument(v.exchange, m.symbol, { base: m.base, quote: m.quote });
      engine.setInstrumentListed?.(m.id, true);
      const seed = m.seedFunding;
      if (seed) {
        engine.pushFunding(m.id, seed.rate, seed.intervalMs, seed.nextFundingMs, seed.predicted, seed.tsMs, recvUs);
        v.noteFunding(m, seed.rate, seed.intervalMs, seed.nextFundingMs, seed.predicted, seed.tsMs);
      }
    }
    engine.drain();
  }

  /** Takes `symbols` out of the engine's universe: their open opportunities close, frames in flight are dropped. */
  private unregister(v: VenueFeed, symbols: readonly string[]): void {
    if (symbols.length === 0) return;
    const { engine } = this.opts;
    engine.drain(); // records already queued for them are applied before they go
    for (const s of symbols) {
      const m = v.meta.get(s);
      if (!m || m.id < 0) continue;
      const listed = v.discovered?.get(s);
      const delisted = listed === undefined || !isTrading(listed);
      engine.setInstrumentListed?.(m.id, false, delisted ? 'instrument_delisted' : 'config_changed');
      m.id = -1; // frames still in flight are dropped quietly
    }
    engine.drain();
  }

  private emit(v: VenueFeed): void {
    if (this.listeners.length === 0) return;
    const s = v.state(this.now());
    for (const l of this.listeners) l(s);
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>): void {
    this.opts.logger?.[level]({ component: 'feeds', ...extra }, msg);
  }

  /** A venue's start: down until its sockets are live; discovery, then its share of the universe. */
  private async startVenue(v: VenueFeed): Promise<void> {
    const ex = v.exchange;
    // Not scanned until every socket is live (a no-op for a venue that never had quotes).
    this.opts.engine.setExchangeDown(ex, true);
    this.emit(v);
    if (!this.opts.endpoints[ex]?.rest) {
      v.metadata = 'failed';
      v.lastError = reasonError('NO_ENDPOINTS', `no endpoints configured for ${ex}`, this.now());
      this.emit(v);
      return;
    }
    if (!(await this.discoverVenue(v))) return;
    if (v.stopped) return; // disabled while discovering
    this.emit(v);
    await this.enqueue(() => this.resync());
    this.startRestStats(v);
  }

  /**
   * A venue whose streams lack open interest / volume (VenueAdapter.restStats): one read of its statistics
   * endpoints now (its symbols are registered by then), then one every period, until the venue stops.
   */
  private startRestStats(v: VenueFeed): void {
    const rs = v.adapter.restStats;
    if (!rs || v.statsTimer !== null || v.stopped || !this.running) return;
    void this.pollRestStats(v);
    v.statsTimer = setInterval(() => void this.pollRestStats(v), this.opts.restStatsPeriodMs ?? rs.periodMs);
    v.statsTimer.unref?.();
  }

  /** One round of a venue's statistics reads: each body recorded (as a `stats` read) and parsed into the engine. */
  private async pollRestStats(v: VenueFeed): Promise<void> {
    const rs = v.adapter.restStats;
    const rest = this.opts.endpoints[v.exchange]?.rest;
    if (!rs || !rest || v.statsPolling || v.stopped || !this.running || v.symbols.length === 0) return;
    v.statsPolling = true;
    try {
      for (const path of rs.paths) {
        const url = `${rest}${path}`;
        const requestMs = this.now();
        let body: unknown;
        try {
          body = await this.fetchJson(url);
        } catch (e) {
          v.statsFailed('stats_fetch_failed');
          this.log('warn', `${v.exchange}: market statistics read failed (kept the last figures)`, { path, err: (e as Error).message });
          continue;
        }
        if (v.stopped) return;
        this.opts.recorder?.recordRest(v.exchange, url, body, requestMs, undefined, true);
        if (v.applyRestStats((sink) => rs.parse(path, body, v.meta, sink, requestMs)) < 0) v.statsFailed('stats_bad_body');
      }
    } finally {
      v.statsPolling = false;
    }
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
        // A socket that knows its symbols re-plans just those (live changes may have moved them between sockets).
        const previous = conn.currentPlan;
        const fresh = pickReplan(await planFor(previous?.symbols ? [...previous.symbols] : v.symbols), previous, i);
        if (!fresh) throw new Error(`no plan #${i}`);
        return fresh;
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
          connectPacer: this.connectPacers.for(ex),
        },
      );
      v.connections.push(conn);
    });
    for (const c of v.connections) c.start();
  }
}
