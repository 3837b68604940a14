/**
 * The REST metadata responses found in a recording (`rest` frames), answered back to the venue adapters'
 * own loaders: a replay then has the instruments, contract values, funding intervals, next funding times
 * and REST-seeded funding the live feeds had, instead of the built-in defaults.
 *
 *   recorded.add(frame);                       // every `rest` frame, in file order
 *   if (recorded.pending(venue)) table = await recorded.load(venue, adapter, symbols);
 */
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { FetchJson, MetadataTable, VenueAdapter } from '../feeds/adapter.js';
import { type RecordedFrame, restPathOf } from '../feeds/recorder.js';

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
   * Runs the venue adapter's loader for `symbols` against the recorded responses (clock: the first
   * pending request's time). Throws, like the live loader, when a response it needs is not recorded.
   */
  async load(ex: Exchange, adapter: VenueAdapter, symbols: string[]): Promise<MetadataTable> {
    const nowMs = this.pendingSinceMs.get(ex) ?? 0;
    this.pendingSinceMs.delete(ex);
    const bodies = this.bodies.get(ex)!;
    const fetchJson: FetchJson = async (url) => {
      const path = restPathOf(url);
      if (!bodies.has(path)) throw new Error(`${path} is not in the recording`);
      return bodies.get(path);
    };
    return adapter.loadMetadata('', symbols, fetchJson, nowMs);
  }
}
