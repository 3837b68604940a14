/**
 * Gate futures v4 depth: `futures.obu`, stream `ob.{contract}.{level}` (50 levels every 20 ms, or 400 every
 * 100 ms), on the quote sockets' URL `/v4/ws/usdt`. Gate's "Perpetual Depth Channel Upgrade" announcement
 * (https://www.gate.com/announcements/article/44946, 2025-05-13; copies read 2026-12-02 at
 * www.gatesite.work and app.beainet.net, same article id):
 * - the first push after subscribing is always full (`full: true`): it REPLACES the local book and its `u`
 *   becomes the local depth id; the server may send a full push again at any time;
 * - an incremental push has no `full` field and carries `U` (first id) and `u` (last id): it is continuous
 *   only when `U` = local id + 1 (then the local id becomes `u`; a level whose size is "0" is removed);
 *   otherwise "unsubscribe from the symbol and resubscribe to obtain an initial full depth snapshot" —
 *   here: a `gap` resync, and VenueDepth.resubscribe gives the unsubscribe + subscribe frames;
 * - one subscription per stream per connection (a duplicate answers error code 2).
 * Chosen over `futures.order_book_update` + REST `order_book?with_id=true`: that sync procedure needs a
 * REST snapshot fetched while deltas are buffered, which a DepthParser (no I/O) cannot do; `futures.obu`
 * carries its own snapshot and the same U/u continuity rule.
 *
 * Units: sizes are CONTRACTS (integer strings, decimal with `X-Gate-Size-Decimal`), × `quanto_multiplier`
 * (InstrumentMeta.contractValue) for the base coin; `result.t` is ms; the envelope `time` is SECONDS and
 * `time_ms` ms (adapter.ts envelopeMs checks both). Only the top `level` levels are kept after a delta (the
 * channel maintains that window and does not promise a removal for a level that drops out of it).
 */
import { isEpochMs, isRecord, num, type ConnectionPlan, type FetchJson, type MetadataTable, type ParseOutcome, type VenueEndpoints } from '../../feeds/adapter.js';
import { JsonDepthParser, applyLevels, applySnapshotLevels, readLevels } from '../../depth/parser-base.js';
import type { ScanKeys } from '../../depth/frame-scan.js';
import type { DepthParser, DepthSink, VenueDepth } from '../../depth/types.js';
import { contractSockets, controlOutcome, envelopeMs } from './ws-common.js';

export const GATE_DEPTH_CHANNEL = 'futures.obu';
/** The stream depths Gate offers (levels per side). */
const DEPTHS = [50, 400] as const;
const books = contractSockets('gate/depth', 1);

/** The smallest stream depth that covers `levels`. */
export function gateDepthOf(levels: number): number {
  return DEPTHS.find((d) => d >= levels) ?? DEPTHS[DEPTHS.length - 1];
}

/** `ob.BTC_USDT.50` → `BTC_USDT` (contract names hold no dot), or null. */
function contractOf(stream: string): string | null {
  const first = stream.indexOf('.');
  const last = stream.lastIndexOf('.');
  return stream.startsWith('ob.') && last > first + 1 ? stream.slice(first + 1, last) : null;
}

export class GateDepthParser extends JsonDepthParser {
  /** Level sides read by scanFrame, not JSON.parse. */
  protected override readonly scanKeys: ScanKeys = { pairs: new Set(['b', 'a']) };

  constructor(
    meta: MetadataTable,
    levels: number,
    /** The subscribed stream depth: the book is cut to it after each delta. */
    private readonly depth: number,
    clock?: () => number,
  ) {
    super(meta, levels, clock);
  }

  parse(raw: string, sink: DepthSink): ParseOutcome {
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    const control = controlOutcome(msg, this.errors);
    if (control !== null) return control;
    if (msg.channel !== GATE_DEPTH_CHANNEL) return this.reject('unknown_channel');
    // Pushes carry the envelope times when sent (seconds and ms; the docs' examples show `time_ms` alone or
    // neither): when present they must be in those units.
    if ((msg.time !== undefined || msg.time_ms !== undefined) && Number.isNaN(envelopeMs(msg))) return this.reject('bad_timestamp');
    const r = msg.result;
    if (!isRecord(r) || typeof r.s !== 'string') return this.reject('missing_data');
    const contract = contractOf(r.s);
    const meta = contract === null ? undefined : this.meta.get(contract);
    if (meta === undefined) return this.reject('unknown_symbol');
    const t = r.t;
    if (typeof t !== 'number' || !isEpochMs(t)) return this.reject('bad_timestamp');
    const u = num(r.u);
    if (!(Number.isInteger(u) && u >= 0)) return this.reject('bad_sequence');
    // A side may be left out of a push when it did not change.
    if (!readLevels(r.b ?? [], this.bidScratch) || !readLevels(r.a ?? [], this.askScratch)) return this.reject('bad_level');
    const book = this.bookOf(meta.symbol);
    if (r.full === true) {
      applySnapshotLevels(book, this.bidScratch, this.askScratch);
      book.synced = true;
    } else {
      const first = num(r.U);
      if (!(Number.isInteger(first) && first >= 0 && first <= u)) return this.reject('bad_sequence');
      if (!book.synced) return 'ignored'; // waiting for the full push of a (re)subscription
      if (first !== book.seq + 1) {
        this.loseSync(meta, book, 'gap', sink);
        return 'data';
      }
      applyLevels(book, 'bid', this.bidScratch);
      applyLevels(book, 'ask', this.askScratch);
      book.bids.truncate(this.depth);
      book.asks.truncate(this.depth);
    }
    book.seq = u;
    book.exchangeTsMs = t;
    this.publish(meta, book, sink);
    return 'data';
  }
}

function requests(depth: number): (event: 'subscribe' | 'unsubscribe', symbols: readonly string[]) => string[] {
  // One stream per request, as the announcement's example subscribes; `time` is unix seconds.
  return (event, symbols) => symbols.map((s) => JSON.stringify({ time: Math.floor(Date.now() / 1000), channel: GATE_DEPTH_CHANNEL, event, payload: [`ob.${s}.${depth}`] }));
}

/**
 * The stream depth of the last plan: liveChange and resubscribe are not told `levels`, and the depth feed
 * plans with one `levels` for the whole venue.
 */
let plannedDepth: number = DEPTHS[0];

export const gateDepth: VenueDepth = {
  async plan(endpoints: VenueEndpoints, symbols: string[], levels: number, _fetchJson: FetchJson): Promise<ConnectionPlan[]> {
    plannedDepth = gateDepthOf(levels);
    return books.plan(endpoints, symbols, requests(plannedDepth), 0);
  },

  liveChange(plans, _symbols, add, remove) {
    return books.liveChange(plans, add, remove, requests(plannedDepth));
  },

  /** The documented way back after a gap: unsubscribe the stream, subscribe it again (a full push follows). */
  resubscribe(symbol: string): string[] {
    const frames = requests(plannedDepth);
    return [...frames('unsubscribe', [symbol]), ...frames('subscribe', [symbol])];
  },

  createParser(meta: MetadataTable, levels: number): DepthParser {
    const depth = gateDepthOf(levels);
    return new GateDepthParser(meta, Math.min(levels, depth), depth);
  },
};
