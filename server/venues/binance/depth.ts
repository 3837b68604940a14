/**
 * Binance USD-M depth: the diff stream `<symbol>@depth@100ms` on the `/public` base (combined-stream mode)
 * and the REST snapshot `GET /fapi/v1/depth`. The stream never sends a snapshot, so a book is built the
 * documented way (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly,
 * read 2026-12-02):
 *   1. subscribe and buffer the events; 2. get the REST snapshot (`lastUpdateId`); 3. drop buffered events
 *   with u < lastUpdateId; 4. the first event applied must have U ≤ lastUpdateId ≤ u; 5. from then on each
 *   event's `pu` must equal the previous event's `u`, else start again from the snapshot (a gap).
 * Quantities are absolute (0 removes the price; removing an unknown price is normal). Sizes are base coin.
 * The snapshot is asked for through DepthSink.snapshotNeeded (the depth feed fetches `snapshotUrl`, one
 * request per symbol in flight, at most one a second) — the partial-depth streams (`@depth20`) carry no
 * update ids to check continuity with, so the diff stream is the one that keeps sequence integrity.
 */
import { count, isEpochMs, isRecord, num, type ConnectionPlan, type InstrumentMeta, type MetadataTable, type ParseOutcome, type VenueEndpoints } from '../../feeds/adapter.js';
import { chunk } from '../../feeds/adapter.js';
import { changesOf, redistribute, splitSymbols, subscribeSpacingMs, topicsPerMessage, type SymbolCost } from '../../feeds/plan-limits.js';
import { JsonDepthParser, applyLevels, applySnapshotLevels, readLevels, type FlatLevels } from '../../depth/parser-base.js';
import type { ScanKeys } from '../../depth/frame-scan.js';
import type { L2Book } from '../../depth/l2-book.js';
import type { DepthSink, VenueDepth } from '../../depth/types.js';
import { facts } from './facts.js';

export const BINANCE_DEPTH_SUFFIX = '@depth@100ms';
export const BINANCE_DEPTH_PATH = '/fapi/v1/depth';
const PUBLIC_PATH = '/public/stream';
/** REST snapshot depths Binance accepts; the smallest at least twice the configured levels is asked for (room for the book to move). */
export const BINANCE_DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000] as const;
/** Levels kept per side (diffs reach beyond the snapshot's depth; the far end is never scored). */
const MAX_KEPT_LEVELS = 1000;
/** Events buffered per symbol while its snapshot is on its way (older ones are dropped: the snapshot covers them). */
const MAX_BUFFERED = 256;
const STREAM_COST: SymbolCost = { topics: 1, chars: () => 0 };
const streamOf = (symbol: string) => `${symbol.toLowerCase()}${BINANCE_DEPTH_SUFFIX}`;
let changeSeq = 0;

interface DiffEvent {
  first: number;
  last: number;
  prev: number;
  tsMs: number;
  bids: FlatLevels;
  asks: FlatLevels;
}

interface SyncState {
  buffer: DiffEvent[];
  /** A snapshot was applied and no event has bridged it yet (step 4). */
  bridging: boolean;
}

export class BinanceDepthParser extends JsonDepthParser {
  /** Level sides read by scanFrame, not JSON.parse. */
  protected override readonly scanKeys: ScanKeys = { pairs: new Set(['b', 'a']) };

  private readonly sync = new Map<string, SyncState>();

  override reset(): void {
    super.reset();
    this.sync.clear();
  }

  override forget(symbol: string): void {
    super.forget(symbol);
    this.sync.delete(symbol);
  }

  parse(raw: string, sink: DepthSink): ParseOutcome {
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    const d = isRecord(msg.data) && typeof msg.stream === 'string' ? msg.data : msg;
    if (d.e === undefined) {
      if ('result' in msg && 'id' in msg) return 'ack';
      // The documented error frame is `{"code":0,"msg":"Unknown property","id":1}` (the quote parser reads
      // both shapes); it is `venue_error`, not an unknown message.
      if (isRecord(msg.error) || (typeof msg.code === 'number' && typeof msg.msg === 'string')) {
        const code = isRecord(msg.error) ? msg.error.code : msg.code;
        count(this.errors, `venue_error:${typeof code === 'number' ? code : 'unknown'}`);
        return 'venue_error';
      }
      return this.reject('unknown_message');
    }
    if (d.e !== 'depthUpdate') return this.reject('unknown_event');
    const symbol = d.s;
    const meta = typeof symbol === 'string' ? this.meta.get(symbol) : undefined;
    if (meta === undefined) return this.reject('unknown_symbol');
    const first = num(d.U);
    const last = num(d.u);
    const prev = num(d.pu);
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || !Number.isSafeInteger(prev) || first > last) return this.reject('bad_update_id');
    const ts = num(d.T);
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    if (!readLevels(d.b, this.bidScratch) || !readLevels(d.a, this.askScratch)) return this.reject('bad_levels');
    this.onEvent(meta, { first, last, prev, tsMs: ts, bids: [...this.bidScratch], asks: [...this.askScratch] }, sink);
    return 'data';
  }

  /** The REST snapshot of `meta`'s book: applied, then the buffered events after it (steps 3-5). */
  applySnapshot(meta: InstrumentMeta, body: unknown, sink: DepthSink): ParseOutcome {
    if (!isRecord(body)) return this.reject('snapshot_not_an_object');
    const lastUpdateId = num(body.lastUpdateId);
    if (!Number.isSafeInteger(lastUpdateId)) return this.reject('snapshot_bad_update_id');
    if (!readLevels(body.bids, this.bidScratch) || !readLevels(body.asks, this.askScratch)) return this.reject('snapshot_bad_levels');
    const book = this.bookOf(meta.symbol);
    const st = this.stateOf(meta.symbol);
    applySnapshotLevels(book, this.bidScratch, this.askScratch);
    book.seq = lastUpdateId;
    book.synced = true;
    const ts = num(body.T);
    book.exchangeTsMs = isEpochMs(ts) ? ts : 0;
    st.bridging = true;
    const buffered = st.buffer;
    st.buffer = [];
    this.publish(meta, book, sink);
    for (const ev of buffered) this.onEvent(meta, ev, sink);
    return 'data';
  }

  private stateOf(symbol: string): SyncState {
    let st = this.sync.get(symbol);
    if (st === undefined) this.sync.set(symbol, (st = { buffer: [], bridging: false }));
    return st;
  }

  private onEvent(meta: InstrumentMeta, ev: DiffEvent, sink: DepthSink): void {
    const book = this.bookOf(meta.symbol);
    const st = this.stateOf(meta.symbol);
    if (!book.synced) {
      this.buffer(st, ev);
      sink.snapshotNeeded(meta);
      return;
    }
    if (ev.last < book.seq) return; // step 3: older than the snapshot
    if (st.bridging ? ev.first > book.seq : ev.prev !== book.seq) {
      this.lose(meta, book, st, ev, sink);
      return;
    }
    st.bridging = false;
    this.apply(meta, book, ev, sink);
  }

  private apply(meta: InstrumentMeta, book: L2Book, ev: DiffEvent, sink: DepthSink): void {
    applyLevels(book, 'bid', ev.bids);
    applyLevels(book, 'ask', ev.asks);
    book.bids.truncate(MAX_KEPT_LEVELS);
    book.asks.truncate(MAX_KEPT_LEVELS);
    book.seq = ev.last;
    book.exchangeTsMs = ev.tsMs;
    this.publish(meta, book, sink);
  }

  /** A gap: the book is dropped, the event kept for the next snapshot, which is asked for. */
  private lose(meta: InstrumentMeta, book: L2Book, st: SyncState, ev: DiffEvent, sink: DepthSink): void {
    this.loseSync(meta, book, 'gap', sink);
    st.bridging = false;
    this.buffer(st, ev);
    sink.snapshotNeeded(meta);
  }

  private buffer(st: SyncState, ev: DiffEvent): void {
    st.buffer.push(ev);
    if (st.buffer.length > MAX_BUFFERED) st.buffer.shift();
  }
}

/** The REST snapshot depth for `levels` levels per side. */
export function binanceSnapshotLimit(levels: number): number {
  return BINANCE_DEPTH_LIMITS.find((l) => l >= 2 * levels) ?? 1000;
}

export const binanceDepth: VenueDepth = {
  async plan(endpoints: VenueEndpoints, symbols: string[]): Promise<ConnectionPlan[]> {
    let id = 1;
    return splitSymbols(symbols, facts.limits, STREAM_COST).map((group, i) => ({
      label: `binance/depth#${i}`,
      url: `${endpoints.ws}${PUBLIC_PATH}`,
      subscribeMessages: chunk(group.map(streamOf), topicsPerMessage(facts.limits)).map((params) => JSON.stringify({ method: 'SUBSCRIBE', params, id: id++ })),
      topicCount: group.length,
      awaitWelcome: false,
      subscribeSpacingMs: subscribeSpacingMs(facts.limits),
      heartbeat: null, // the server pings; `ws` answers with pong frames
      maxAgeMs: 0,
      symbols: group,
      limits: facts.limits,
    }));
  },
  liveChange(plans, _symbols, add, remove) {
    const r = redistribute(plans.map((p) => p.symbols), add, remove, facts.limits, STREAM_COST);
    if (r === null) return null;
    return changesOf(r, (op, syms) => chunk(syms.map(streamOf), topicsPerMessage(facts.limits)).map((params) => JSON.stringify({ method: op.toUpperCase(), params, id: ++changeSeq })));
  },
  createParser(meta: MetadataTable, levels: number) {
    return new BinanceDepthParser(meta, levels);
  },
  snapshotUrl(endpoints: VenueEndpoints, symbol: string, levels: number): string {
    return `${endpoints.rest}${BINANCE_DEPTH_PATH}?symbol=${encodeURIComponent(symbol)}&limit=${binanceSnapshotLimit(levels)}`;
  },
};
