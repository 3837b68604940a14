/**
 * Order books where they matter (issue 14 §1): about once a second, picks the candidate instruments
 * (server/depth/candidates.ts) and hands each venue's depth feed (depth-feed.ts) the candidates' symbols
 * on that venue, for venues whose adapter has a depth channel. Follows config `depth` (enabled, levels,
 * candidate rules) on every round; a change of `levels` re-makes the depth sockets.
 */
import type { Config } from '../../shared/config.js';
import type { DepthStatus } from '../../shared/depth.js';
import type { Exchange } from '../../shared/exchanges.js';
import { CandidateSelector, candidateRules, type CandidateMarket } from '../depth/candidates.js';
import type { BackoffOptions } from './connection.js';
import type { DepthEngine } from './depth-feed.js';
import { VenueDepthFeed } from './depth-feed.js';
import type { DepthContext } from './manager.js';

/** The engine as the depth manager uses it (server/engine Engine satisfies it). */
export interface DepthManagerEngine extends CandidateMarket, DepthEngine {
  getConfig(): Config;
}

/** The quote feeds as the depth manager uses them (FeedManager satisfies it). */
export interface DepthHost {
  readonly exchanges: Exchange[];
  depthContext(exchange: Exchange): DepthContext | null;
}

export interface DepthManagerOptions {
  engine: DepthManagerEngine;
  host: DepthHost;
  /** Engine clock, epoch ms (default Date.now). */
  now?: () => number;
  /** Candidate selection cadence (ms). Default 1000. */
  intervalMs?: number;
  silenceMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  log?: (level: 'info' | 'warn', msg: string) => void;
}

export const DEFAULT_DEPTH_INTERVAL_MS = 1_000;

export class DepthManager {
  private readonly selector = new CandidateSelector();
  private readonly feeds = new Map<Exchange, VenueDepthFeed>();
  private levels = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly opts: DepthManagerOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.refresh(), this.opts.intervalMs ?? DEFAULT_DEPTH_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running.catch(() => undefined);
    await Promise.all([...this.feeds.values()].map((f) => f.stop()));
    this.feeds.clear();
  }

  /** One selection round (rounds never overlap); resolves when every venue's subscription change is applied. */
  refresh(): Promise<void> {
    this.running = this.running.then(() => this.round()).catch((e: unknown) => this.opts.log?.('warn', `depth: round failed: ${(e as Error).message}`));
    return this.running;
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const { engine, host } = this.opts;
    const config = engine.getConfig();
    if (config.depth.levels !== this.levels) {
      // Parsers and plans are made for a number of levels: start afresh.
      await Promise.all([...this.feeds.values()].map((f) => f.stop()));
      this.feeds.clear();
      this.levels = config.depth.levels;
    }
    const wanted = new Map<Exchange, string[]>();
    if (config.depth.enabled) {
      this.selector.update(engine, candidateRules(config), this.now());
      for (const id of this.selector.ids(engine)) {
        const ex = engine.instruments.exchangeOf(id);
        const list = wanted.get(ex);
        const symbol = engine.instruments.symbolOf(id);
        if (list) list.push(symbol);
        else wanted.set(ex, [symbol]);
      }
    } else this.selector.update(engine, { ...candidateRules(config), maxInstruments: 0 }, this.now());
    const exchanges = new Set<Exchange>([...host.exchanges, ...this.feeds.keys()]);
    await Promise.all(
      [...exchanges].map(async (ex) => {
        const ctx = host.depthContext(ex);
        let feed = this.feeds.get(ex);
        if (!ctx || !ctx.adapter.depth) {
          if (feed) {
            this.feeds.delete(ex);
            await feed.stop();
          }
          return;
        }
        const meta = ctx.meta();
        // Only symbols the quote feed subscribes (registered, so their ids are live).
        const symbols = (wanted.get(ex) ?? []).filter((s) => (meta.get(s)?.id ?? -1) >= 0);
        if (!feed) {
          if (symbols.length === 0) return;
          feed = new VenueDepthFeed({
            exchange: ex,
            depth: ctx.adapter.depth,
            engine,
            meta: ctx.meta,
            endpoints: ctx.endpoints,
            fetchJson: ctx.fetchJson,
            levels: this.levels,
            silenceMs: this.opts.silenceMs ?? 15_000,
            backoff: this.opts.backoff,
            random: this.opts.random,
            now: this.now,
            connectPacer: ctx.connectPacer,
            log: this.opts.log,
          });
          this.feeds.set(ex, feed);
        }
        await feed.setSymbols(symbols);
      }),
    );
  }

  /** The venue's depth feed (tests, status). */
  feed(exchange: Exchange): VenueDepthFeed | undefined {
    return this.feeds.get(exchange);
  }

  status(): DepthStatus {
    const config = this.opts.engine.getConfig();
    return {
      enabled: config.depth.enabled,
      levels: config.depth.levels,
      candidates: this.selector.instruments.length,
      venues: [...this.feeds.values()].map((f) => f.status()),
    };
  }
}
