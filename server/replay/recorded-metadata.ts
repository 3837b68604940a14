/**
 * The REST metadata responses found in a recording (`rest` frames), answered back to the venue adapters'
 * own loaders: a replay then has the instruments, contract values, funding intervals, next funding times
 * and REST-seeded funding the live feeds had, instead of the built-in defaults.
 *
 *   recorded.add(frame);                       // every `rest` frame, in file order
 *   if (recorded.pending(venue)) table = await recorded.load(venue, adapter, keys, fallbackSymbols, config.venues[venue]);
 */
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { FetchJson, MetadataTable, VenueAdapter, VenueOptions } from '../feeds/adapter.js';
import { type RecordedFrame, restPathOf } from '../feeds/recorder.js';
import { isTrading } from '../feeds/universe.js';

export class RecordedMetadata {
  /** Latest recorded body per venue and request path (a later load of the same path replaces it). */
  private readonly bodies = new Map<Exchange, Map<string, unknown>>(EXCHANGES.map((ex) => [ex, new Map()]));
  /** Request time of the first response recorded since the venue's last load (the live loader's `now`). */
  private readonly pendingSinceMs = new Map<Exchange, number>();
  /** `rest` frames whose body was not JSON. */
  badBodies = 0;

  /** Keeps one `rest` frame's body for its venue. */
  add(frame: RecordedFrame & { rest: string }): void {
    let body: unknown;
    try {
      body = JSON.parse(frame.raw);
    } catch {
      this.badBodies++;
      return;
    }
    this.bodies.get(frame.ex)!.set(frame.rest, body);
    if (!this.pendingSinceMs.has(frame.ex)) this.pendingSinceMs.set(frame.ex, frame.t);
  }

  /** True when responses for `ex` arrived since its last `load`. */
  pending(ex: Exchange): boolean {
    return this.pendingSinceMs.has(ex);
  }

  /**
   * Runs the venue adapter's discovery against the recorded responses (the live feeds discover since
   * issue 11) and keeps the trading entries of `keys` (every one with `all`); a recording from before
   * discovery, whose responses answer only the per-symbol loader, falls back to it for `symbols`
   * (the configured keys' default spellings). `options` are the venue's options from the config
   * (config.venues), handed to discovery as the live feeds do: a venue whose options select more markets
   * (e.g. extra dexes) lists them only with them. Clock: the first pending request's time. Throws, like
   * the live loader, when a response it needs is not recorded.
   */
  async load(ex: Exchange, adapter: VenueAdapter, keys: 'all' | readonly string[], symbols: string[], options: VenueOptions = {}): Promise<MetadataTable> {
    const nowMs = this.pendingSinceMs.get(ex) ?? 0;
    const fetchJson = this.fetchFor(ex);
    try {
      const { table } = await adapter.discover('', fetchJson, nowMs, options);
      this.pendingSinceMs.delete(ex);
      const wanted = keys === 'all' ? null : new Set(keys);
      for (const [s, m] of table) if (!isTrading(m) || (wanted && !wanted.has(m.key))) table.delete(s);
      return table;
    } catch {
      return this.loadSymbols(ex, adapter, symbols);
    }
  }

  private fetchFor(ex: Exchange): FetchJson {
    const bodies = this.bodies.get(ex)!;
    return async (url, init) => {
      const path = restPathOf(url, init?.body);
      if (!bodies.has(path)) throw new Error(`${path} is not in the recording`);
      return bodies.get(path);
    };
  }

  /** The per-symbol loader against the recorded responses (recordings made before discovery). */
  async loadSymbols(ex: Exchange, adapter: VenueAdapter, symbols: string[]): Promise<MetadataTable> {
    const nowMs = this.pendingSinceMs.get(ex) ?? 0;
    this.pendingSinceMs.delete(ex);
    const bodies = this.bodies.get(ex)!;
    const fetchJson: FetchJson = async (url, init) => {
      const path = restPathOf(url, init?.body);
      if (!bodies.has(path)) throw new Error(`${path} is not in the recording`);
      return bodies.get(path);
    };
    return adapter.loadMetadata('', symbols, fetchJson, nowMs);
  }
}
