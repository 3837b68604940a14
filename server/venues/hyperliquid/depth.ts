/**
 * Hyperliquid depth: one `l2Book` subscription per coin, `{"method":"subscribe","subscription":{"type":
 * "l2Book","coin":"BTC"}}` (no `nSigFigs`: full price precision), on `/ws`. Source: the official
 * Subscriptions page (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions,
 * `WsBook { coin, levels: [Array<WsLevel>, Array<WsLevel>], time }`, `WsLevel { px, sz, n }`) as summarised in
 * shared/venues-2026.md §1.4 (read 2026-12-02), with a recorded frame (tardis-node test/mappers.test.ts):
 * `{"channel":"l2Book","data":{"coin":"BANANA","time":1730160007687,"levels":[[{"px":"59.8","sz":"3.4","n":1},…],
 * [{"px":"59.811","sz":"2.9","n":1},…]]}}` — bids first (best first), then asks; px/sz decimal strings in the
 * LISTED coin (`kPEPE` = 1,000 PEPE: folded ÷1000 / ×1000 like the touch), `n` the order count.
 *
 * Every push is the whole book (up to 20 levels per side), so there is no sequence chain to keep: a push
 * replaces the book, and a missed push leaves no wrong book behind. Integrity: each push is read whole (one
 * bad level rejects it), a crossed book is a resync until the next push. No check on `time` going back: one
 * socket delivers in order, and such a check would let one wrong future `time` freeze the book.
 *
 * Budget: Hyperliquid allows 1,000 WebSocket subscriptions PER IP across all connections (official "Rate
 * limits" page; facts.ts), shared with the quote sockets: one `bbo` per scanned coin plus one `assetCtxs` per
 * dex (~230 main-dex perps + 1 today; 528 perps + 11 dexes if every HIP-3 dex were scanned). The depth plan
 * therefore carries at most HL_DEPTH_MAX_COINS coins (528 + 11 + 200 = 739 ≤ 1,000, leaving room for the
 * universe to grow): candidates past it stay touch-only, and a live change that would pass it re-plans
 * (which keeps the first HL_DEPTH_MAX_COINS).
 */
import { isEpochMs, isRecord, num, type ConnectionPlan, type FetchJson, type MetadataTable, type ParseOutcome, type VenueEndpoints } from '../../feeds/adapter.js';
import { changesOf, redistribute, splitSymbols, subscribeSpacingMs, type SymbolCost } from '../../feeds/plan-limits.js';
import { JsonDepthParser, applySnapshotLevels } from '../../depth/parser-base.js';
import { ScannedObjectLevels, type ScanKeys } from '../../depth/frame-scan.js';
import type { DepthParser, DepthSink, VenueDepth } from '../../depth/types.js';
import type { WsLimits } from '../../../shared/venue-facts.js';
import { controlOutcome, HL_PING_MS, HL_WS_PATH, isGreeting } from './ws-common.js';
import { facts } from './facts.js';

/** Depth subscriptions we allow ourselves out of the IP's 1,000 (see above). */
export const HL_DEPTH_MAX_COINS = 200;
/** Levels per side of an `l2Book` push. */
export const HL_BOOK_LEVELS = 20;
const COST: SymbolCost = { topics: 1, chars: () => 0 };
const DEPTH_LIMITS: WsLimits = { ...facts.limits, topicsPerConnection: HL_DEPTH_MAX_COINS };

const request = (method: 'subscribe' | 'unsubscribe', coin: string) => JSON.stringify({ method, subscription: { type: 'l2Book', coin } });

/** Reads one side's `{px, sz, n}` levels into `out` as flat price, size pairs; false when malformed. */
function readWsLevels(raw: unknown, out: number[]): boolean {
  if (raw instanceof ScannedObjectLevels) {
    // scanFrame's side: num(px), num(sz) per level object, the same checks as below.
    const flat = raw.flat;
    for (let i = 0; i < flat.length; i += 2) {
      const px = flat[i]!;
      const sz = flat[i + 1]!;
      if (!(px > 0 && sz > 0)) return false;
      out.push(px, sz);
    }
    return true;
  }
  if (!Array.isArray(raw)) return false;
  for (const level of raw) {
    if (!isRecord(level)) return false;
    const px = num(level.px);
    const sz = num(level.sz);
    if (!(px > 0 && sz > 0)) return false; // an aggregated level always holds an order
    out.push(px, sz);
  }
  return true;
}

export class HyperliquidDepthParser extends JsonDepthParser {
  /** The `levels` sides read by scanFrame, not JSON.parse. */
  protected override readonly scanKeys: ScanKeys = { objects: { key: 'levels', price: 'px', size: 'sz' } };
  /** No frame seen since the parser was made or reset (the connection's first frame may be plain text). */
  private fresh = true;

  override reset(): void {
    super.reset();
    this.fresh = true;
  }

  parse(raw: string, sink: DepthSink): ParseOutcome {
    const first = this.fresh;
    this.fresh = false;
    // The plain-text greeting is not JSON: tolerated, never counted as an error (see isGreeting).
    if (raw.charCodeAt(0) !== 123 && isGreeting(raw, first)) return 'welcome';
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    if (msg.channel !== 'l2Book') return controlOutcome(msg.channel, this.errors) ?? this.reject('unknown_channel');
    const d = msg.data;
    if (!isRecord(d) || typeof d.coin !== 'string') return this.reject('missing_data');
    const meta = this.meta.get(d.coin);
    if (meta === undefined) return this.reject('unknown_symbol');
    const time = d.time;
    if (typeof time !== 'number' || !isEpochMs(time)) return this.reject('bad_timestamp');
    const levels = d.levels;
    if (!Array.isArray(levels) || levels.length !== 2) return this.reject('bad_level');
    this.bidScratch.length = 0;
    this.askScratch.length = 0;
    if (!readWsLevels(levels[0], this.bidScratch) || !readWsLevels(levels[1], this.askScratch)) return this.reject('bad_level');
    const book = this.bookOf(meta.symbol);
    applySnapshotLevels(book, this.bidScratch, this.askScratch);
      book.synced = true;
    book.seq = time;
    book.exchangeTsMs = time;
    this.publish(meta, book, sink);
    return 'data';
  }
}

export const hyperliquidDepth: VenueDepth = {
  async plan(endpoints: VenueEndpoints, symbols: string[], _levels: number, _fetchJson: FetchJson): Promise<ConnectionPlan[]> {
    const coins = symbols.slice(0, HL_DEPTH_MAX_COINS);
    return splitSymbols(coins, DEPTH_LIMITS, COST).map((group, i) => ({
      label: `hyperliquid/depth#${i}`,
      url: `${endpoints.ws}${HL_WS_PATH}`,
      subscribeMessages: group.map((c) => request('subscribe', c)),
      topicCount: group.length,
      awaitWelcome: false,
      subscribeSpacingMs: subscribeSpacingMs(facts.limits),
      heartbeat: { everyMs: HL_PING_MS, whenIdle: false, message: () => '{"method":"ping"}' },
      maxAgeMs: 0,
      symbols: group,
      limits: facts.limits,
    }));
  },

  /** In place while the depth budget holds (null past it: re-planned). */
  liveChange(plans, _symbols, add, remove) {
    const r = redistribute(plans.map((p) => p.symbols), add, remove, DEPTH_LIMITS, COST);
    return r === null ? null : changesOf(r, (op, coins) => coins.map((c) => request(op, c)));
  },

  createParser(meta: MetadataTable, levels: number): DepthParser {
    return new HyperliquidDepthParser(meta, Math.min(levels, HL_BOOK_LEVELS));
  },
};
