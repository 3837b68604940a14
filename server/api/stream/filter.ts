/**
 * A client's subscribe filter. Instruments and exchanges are properties of the opportunity id, so they
 * never change for one opportunity. `minProfitBps` does: once an opportunity passed it, the client keeps
 * getting its updates and its close (it is "visible"), so a client never sees a close for something it was
 * never shown. An `updated` for an unknown id is an upsert on the client side.
 */
import Type from 'typebox';
import { EXCHANGES, type Exchange } from '../../../shared/exchanges.js';
import type { Opportunity } from '../../../shared/opportunity.js';
import type { StreamFilter } from '../../../shared/protocol.js';

export const StreamFilterSchema = Type.Object(
  {
    instruments: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 2000 })),
    exchanges: Type.Optional(Type.Array(Type.Union(EXCHANGES.map((e) => Type.Literal(e))), { maxItems: EXCHANGES.length })),
    minProfitBps: Type.Optional(Type.Number({ minimum: -10_000, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

export const ClientMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('subscribe'), filter: StreamFilterSchema }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('ping'), id: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }),
]);

export class CompiledFilter {
  private readonly instruments: Set<string> | null;
  private readonly exchanges: Set<Exchange> | null;
  private readonly minProfitBps: number | null;
  /** Ids shown to the client (only tracked when minProfitBps is set). */
  private readonly visible = new Set<string>();

  constructor(readonly spec: StreamFilter) {
    this.instruments = spec.instruments && spec.instruments.length > 0 ? new Set(spec.instruments) : null;
    this.exchanges = spec.exchanges && spec.exchanges.length > 0 ? new Set(spec.exchanges) : null;
    this.minProfitBps = typeof spec.minProfitBps === 'number' ? spec.minProfitBps : null;
  }

  /** True when the filter lets nothing out (every message passes). */
  get isEmpty(): boolean {
    return this.instruments === null && this.exchanges === null && this.minProfitBps === null;
  }

  private matchesStatic(o: Opportunity): boolean {
    if (this.instruments && !this.instruments.has(o.instrument)) return false;
    if (this.exchanges && !(this.exchanges.has(o.longExchange) && this.exchanges.has(o.shortExchange))) return false;
    return true;
  }

  /** Decides (and records visibility for) one opportunity event. */
  pass(o: Opportunity, kind: 'opened' | 'updated' | 'closed'): boolean {
    if (!this.matchesStatic(o)) return false;
    if (this.minProfitBps === null) return true;
    if (kind === 'closed') return this.visible.delete(o.id);
    if (this.visible.has(o.id) || o.projectedProfitBps >= this.minProfitBps) {
      this.visible.add(o.id);
      return true;
    }
    return false;
  }

  /**
   * What a client joining this filter's audience is shown: everything that passes now, plus what the
   * audience was already shown (so every member gets the same later updates and closes).
   */
  snapshotFor(opportunities: Opportunity[]): Opportunity[] {
    return opportunities.filter((o) => this.pass(o, 'opened'));
  }

  matchesClosed(o: Opportunity): boolean {
    return this.matchesStatic(o) && (this.minProfitBps === null || o.projectedProfitBps >= this.minProfitBps);
  }
}
