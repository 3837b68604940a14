/**
 * FeedManager: per venue, load metadata (REST, cached), register instruments with the engine, open the
 * adapter's connections, push parsed updates into the engine and drain it on the same tick, and keep
 * a FeedState per venue. A venue whose metadata cannot be loaded is reported (`metadata: 'failed'`)
 * and not connected.
 */
import type { Logger } from 'pino';
import type { Exchange } from '../../shared/exchanges.js';
import type { FeedState } from '../../shared/feeds.js';
import { nativeSymbol } from '../engine/symbols.js';
import type { FetchJson, InstrumentMeta, MetadataTable, UpdateSink, VenueAdapter, VenueEndpoints, VenueParser } from './adapter.js';
import { type BackoffOptions, FeedConnection } from './connection.js';
import { ADAPTERS } from './endpoints.js';
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
  /** Instrument keys, e.g. `BTC-USDT-PERP`. */
  instruments: string[];
  endpoints: Record<Exchange, VenueEndpoints>;
  logger?: Logger;
  /** Reconnect a socket that is silent this long (ms). Default 15 s. */
  silenceMs?: number;
  recorder?: FrameRecorder;
  now?: () => number;
  /** Rotate Binance/KuCoin sockets after this long (ms); default 23 h (venues cut at 24 h). */
  maxConnectionAgeMs?: number;
  backoff?: BackoffOptions;
  fetchJson?: FetchJson;
  metadataCache?: MetadataCache;
  adapters?: Partial<Record<Exchange, VenueAdapter>>;
}

/** Epoch µs for latency stamps (same clock as server/engine/clock.ts nowUs). */
function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

class VenueFeed implements UpdateSink {
  readonly connections: FeedConnection[] = [];
  readonly parsers: VenueParser[] = [];
  metadata: FeedState['metadata'] = 'loading';
  lastError: string | null = null;
  stopped = false;
  down = false;
  meta: MetadataTable = new Map();
  private recvUs = 0;
  private rateAtMs = 0;
  private rateCount = 0;
  messagesPerSec = 0;

  constructor(
    readonly exchange: Exchange,
    readonly adapter: VenueAdapter,
    private readonly engine: FeedEngine,
  ) {}

  quote(meta: InstrumentMeta, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number): void {
    if (meta.id >= 0) this.engine.pushQuote(meta.id, bid, ask, bidSize, askSize, exchangeTsMs, this.recvUs);
  }

  funding(meta: InstrumentMeta, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, exchangeTsMs: number): void {
    if (meta.id >= 0) this.engine.pushFunding(meta.id, rate, intervalMs, nextFundingMs, predicted, exchangeTsMs, this.recvUs);
  }

  /** One frame: parse → push → drain (detection on the same tick). */
  handle(parser: VenueParser, raw: string): ReturnType<VenueParser['parse']> {
    this.recvUs = nowUs();
    const outcome = parser.parse(raw, this);
    if (outcome === 'data') this.engine.drain();
    return outcome;
  }

  markDown(): void {
    if (this.down) return;
    this.down = true;
    this.engine.setExchangeDown(this.exchange, true);
    this.engine.drain();
  }

  /** Up again once every socket of the venue has delivered its new snapshot. */
  maybeUp(): void {
    if (!this.down || !this.connections.every((c) => c.status === 'live')) return;
    this.down = false;
    this.engine.setExchangeDown(this.exchange, false);
  }

  state(nowMs: number): FeedState {
    const cs = this.connections;
    const messages = cs.reduce((s, c) => s + c.messages, 0);
    if (nowMs - this.rateAtMs >= 1000) {
      this.messagesPerSec = this.rateAtMs === 0 ? 0 : Math.round(((messages - this.rateCount) * 1000) / (nowMs - this.rateAtMs));
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
    if (this.stopped || this.metadata === 'failed') status = 'stopped';
    else if (cs.length > 0 && cs.every((c) => c.status === 'live')) status = 'live';
    else if (cs.some((c) => c.status === 'stale')) status = 'stale';
    else if (cs.some((c) => c.status === 'backoff')) status = 'backoff';
    else status = 'connecting';
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
      lastError: this.lastError ?? cs.find((c) => c.lastError !== null)?.lastError ?? null,
    };
  }
}

export class FeedManager {
  private readonly venues: VenueFeed[];
  private readonly listeners: Array<(state: FeedState) => void> = [];
  private readonly now: () => number;
  private readonly fetchJson: FetchJson;
  private readonly cache: MetadataCache;

  constructor(private readonly opts: FeedManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.fetchJson = opts.fetchJson ?? createFetchJson();
    this.cache = opts.metadataCache ?? new MetadataCache();
    this.venues = opts.exchanges.map((ex) => new VenueFeed(ex, opts.adapters?.[ex] ?? ADAPTERS[ex], opts.engine));
  }

  /** Loads metadata, registers instruments, connects and subscribes (does not wait for data). */
  async start(): Promise<void> {
    await Promise.all(this.venues.map((v) => this.startVenue(v)));
  }

  async stop(): Promise<void> {
    for (const v of this.venues) v.stopped = true;
    await Promise.all(this.venues.flatMap((v) => v.connections.map((c) => c.stop())));
    for (const v of this.venues) this.emit(v);
  }

  states(): FeedState[] {
    const now = this.now();
    return this.venues.map((v) => v.state(now));
  }

  onState(listener: (state: FeedState) => void): void {
    this.listeners.push(listener);
  }

  /** Metadata per venue as loaded (for `--instruments` files and diagnostics). */
  metadata(): Partial<Record<Exchange, MetadataTable>> {
    return Object.fromEntries(this.venues.map((v) => [v.exchange, v.meta]));
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
    const { endpoints, engine } = this.opts;
    const symbols = this.opts.instruments.map((k) => nativeSymbol(ex, k));
    this.emit(v);
    if (!endpoints[ex]?.rest) {
      v.metadata = 'failed';
      v.lastError = `no endpoints configured for ${ex}`;
      this.emit(v);
      return;
    }
    try {
      v.meta = await this.cache.load(v.adapter, endpoints[ex].rest, symbols, this.fetchJson, this.now());
    } catch (e) {
      v.metadata = 'failed';
      v.lastError = `metadata: ${(e as Error).message}`;
      this.log('error', `${ex}: metadata could not be loaded; venue not connected`, { err: v.lastError });
      this.emit(v);
      return;
    }
    v.metadata = 'loaded';
    const missing = symbols.filter((s) => !v.meta.has(s));
    if (missing.length > 0) this.log('warn', `${ex}: not listed by the venue: ${missing.join(', ')}`);
    const listed = symbols.filter((s) => v.meta.has(s));
    const recvUs = nowUs();
    for (const m of v.meta.values()) {
      m.id = engine.registerInstrument(ex, m.symbol, { base: m.base, quote: m.quote });
      const s = m.seedFunding;
      if (s) engine.pushFunding(m.id, s.rate, s.intervalMs, s.nextFundingMs, s.predicted, s.tsMs, recvUs);
    }
    engine.drain();
    if (listed.length === 0) {
      v.stopped = true;
      v.lastError = `none of the instruments is listed by ${ex}`;
    }
    if (v.stopped) {
      this.emit(v);
      return;
    }
    let plans;
    try {
      plans = await v.adapter.plan(endpoints[ex], listed, this.fetchJson, { maxAgeMs: this.opts.maxConnectionAgeMs });
    } catch (e) {
      // Only KuCoin's token fetch can fail here: connect anyway and let the connection retry with backoff.
      plans = [null];
      v.lastError = (e as Error).message;
    }
    plans.forEach((first, i) => {
      const parser = v.adapter.createParser(v.meta);
      v.parsers.push(parser);
      let reuse = first;
      const planner = async () => {
        // The first plan is used once; every reconnect re-plans (fresh KuCoin token).
        if (reuse) {
          const p = reuse;
          reuse = null;
          return p;
        }
        const fresh = await v.adapter.plan(endpoints[ex], listed, this.fetchJson, { maxAgeMs: this.opts.maxConnectionAgeMs });
        if (!fresh[i]) throw new Error(`no plan #${i}`);
        return fresh[i];
      };
      const conn = new FeedConnection(
        `${ex}#${i}`,
        planner,
        {
          onFrame: (raw, recvMs) => {
            this.opts.recorder?.record(ex, raw, recvMs);
            return v.handle(parser, raw);
          },
          onDown: (reason) => {
            parser.reset(); // no merge state survives a drop
            this.log('warn', `${ex}: connection down (${reason})`);
            v.markDown();
          },
          onLive: () => v.maybeUp(),
          onChange: () => this.emit(v),
        },
        {
          silenceMs: this.opts.silenceMs ?? 15_000,
          backoff: this.opts.backoff,
          now: this.now,
          log: (level, msg) => this.log(level, msg),
        },
      );
      v.connections.push(conn);
    });
    if (!v.stopped) for (const c of v.connections) c.start();
    this.emit(v);
  }
}
