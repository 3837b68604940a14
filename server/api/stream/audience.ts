/**
 * An audience: the clients of one `/ws` subscribe filter (or of none). Every message is encoded once and
 * filtered once per audience, not per client, so clients with the same filter share one frame body per
 * tick. The filter's visibility (which ids were shown) belongs to the audience: a client joining it gets
 * a snapshot of everything the audience may see (see CompiledFilter.snapshotFor), so later updates and
 * closes are the same for every member.
 */
import type { StreamFilter } from '../../../shared/protocol.js';
import { CompiledFilter } from './filter.js';

export class Audience {
  /** Encoded messages owed to the members since the last flush. */
  readonly out: string[] = [];
  members = 0;

  constructor(
    readonly key: string,
    /** null: unfiltered (every message). */
    readonly filter: CompiledFilter | null,
  ) {}
}

/** The canonical key of a filter: equal filters (in any order) share an audience; '' = no filter. */
export function audienceKey(filter: CompiledFilter | null): string {
  if (filter === null) return '';
  const s = filter.spec;
  return JSON.stringify([s.instruments?.slice().sort() ?? null, s.exchanges?.slice().sort() ?? null, s.minProfitBps ?? null]);
}

/** Audiences by filter, created on first join and dropped when their last member leaves. */
export class Audiences {
  private readonly byKey = new Map<string, Audience>();

  /** The audience for `spec` (an empty filter = unfiltered), with one more member. */
  join(spec: StreamFilter | null): Audience {
    const compiled = spec === null ? null : new CompiledFilter(spec);
    const filter = compiled === null || compiled.isEmpty ? null : compiled;
    const key = audienceKey(filter);
    let audience = this.byKey.get(key);
    if (!audience) {
      audience = new Audience(key, filter);
      this.byKey.set(key, audience);
    }
    audience.members++;
    return audience;
  }

  leave(audience: Audience): void {
    audience.members--;
    if (audience.members <= 0) this.byKey.delete(audience.key);
  }

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<Audience> {
    return this.byKey.values();
  }
}
