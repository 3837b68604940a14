/**
 * Bybit v5 linear depth: `orderbook.50.<symbol>` on `/v5/public/linear` (50 levels, pushed every 20 ms).
 * Docs (read 2026-12-02): https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
 *   - after a subscribe the venue sends a `snapshot`, then `delta`s (a level with size "0" is removed);
 *     a new snapshot at any time replaces the local book;
 *   - `data.u` is the update id, consecutive per symbol ("u" = 1 is a snapshot after a service restart:
 *     overwrite the book); `data.seq` is the cross sequence (not continuous), `cts` the matching time.
 * Sync rule here: a delta must carry u = last u + 1 (an older u is a duplicate and is ignored; a jump is a
 * gap → the book is dropped and the symbol resubscribed for a fresh snapshot). The venue keeps the top 50,
 * so the book is truncated to 50 after each delta. Sizes are base coin (contractValue 1).
 */
import { chunk, count, isEpochMs, isRecord, num, type ConnectionPlan, type MetadataTable, type ParseOutcome, type VenueEndpoints } from '../../feeds/adapter.js';
import { changesOf, redistribute, splitSymbols, subscribeSpacingMs, type SymbolCost } from '../../feeds/plan-limits.js';
import { JsonDepthParser, applyLevels, applySnapshotLevels, readLevels } from '../../depth/parser-base.js';
import type { ScanKeys } from '../../depth/frame-scan.js';
import type { DepthSink, VenueDepth } from '../../depth/types.js';
import { BYBIT_ARGS_PER_MESSAGE, BYBIT_PING_MS, BYBIT_WS_PATH } from './adapter.js';
import { facts } from './facts.js';

/** Levels of the subscribed depth (the venue's 50-level channel covers any configured `levels` ≤ 50). */
export const BYBIT_DEPTH_LEVELS = 50;
export const BYBIT_DEPTH_PREFIX = `orderbook.${BYBIT_DEPTH_LEVELS}.`;
const topicOf = (symbol: string) => `${BYBIT_DEPTH_PREFIX}${symbol}`;
const ARG_COST: SymbolCost = { topics: 1, chars: (s) => topicOf(s).length };
let changeSeq = 0;

export class BybitDepthParser extends JsonDepthParser {
  /** Level sides read by scanFrame, not JSON.parse. */
  protected override readonly scanKeys: ScanKeys = { pairs: new Set(['b', 'a']) };

  parse(raw: string, sink: DepthSink): ParseOutcome {
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    const topic = msg.topic;
    if (typeof topic !== 'string') {
      if (msg.ret_msg === 'pong' || msg.op === 'pong') return 'pong';
      if (msg.success === false) {
        // An error frame is `venue_error` (ParseOutcome), as the quote parser answers it, not a damaged frame.
        count(this.errors, `venue_error:${String(msg.op ?? 'unknown')}`);
        return 'venue_error';
      }
      if ((msg.op === 'subscribe' || msg.op === 'unsubscribe') && msg.success === true) return 'ack';
      return this.reject('unknown_message');
    }
    if (!topic.startsWith(BYBIT_DEPTH_PREFIX)) return this.reject('unknown_topic');
    const symbol = topic.slice(BYBIT_DEPTH_PREFIX.length);
    const meta = this.meta.get(symbol);
    if (meta === undefined) return this.reject('unknown_symbol');
    const data = msg.data;
    if (!isRecord(data)) return this.reject('missing_data');
    if (data.s !== undefined && data.s !== symbol) return this.reject('symbol_mismatch');
    const u = num(data.u);
    if (!Number.isSafeInteger(u) || u < 1) return this.reject('bad_update_id');
    const ts = num(msg.ts);
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    if (!readLevels(data.b, this.bidScratch) || !readLevels(data.a, this.askScratch)) return this.reject('bad_levels');
    const book = this.bookOf(symbol);
    if (msg.type === 'snapshot') {
      applySnapshotLevels(book, this.bidScratch, this.askScratch);
      if (u === 1 && book.synced) this.countReset();
    } else if (msg.type === 'delta') {
      if (!book.synced) return 'ignored'; // after a loss of sync, until the resubscribe's snapshot
      if (u <= book.seq) return 'ignored'; // already applied (a duplicate)
      if (u !== book.seq + 1) {
        this.loseSync(meta, book, 'gap', sink);
        return 'data';
      }
      applyLevels(book, 'bid', this.bidScratch);
      applyLevels(book, 'ask', this.askScratch);
      book.bids.truncate(BYBIT_DEPTH_LEVELS);
      book.asks.truncate(BYBIT_DEPTH_LEVELS);
    } else return this.reject('unknown_type');
    book.seq = u;
    book.synced = true;
    book.exchangeTsMs = ts;
    this.publish(meta, book, sink);
    return 'data';
  }

  /** A snapshot with u = 1 over a live book: the venue restarted its book (the new snapshot is used at once). */
  private countReset(): void {
    this.resyncs.reset = (this.resyncs.reset ?? 0) + 1;
  }
}

export const bybitDepth: VenueDepth = {
  async plan(endpoints: VenueEndpoints, symbols: string[]): Promise<ConnectionPlan[]> {
    return splitSymbols(symbols, facts.limits, ARG_COST).map((group, i) => ({
      label: `bybit/depth#${i}`,
      url: `${endpoints.ws}${BYBIT_WS_PATH}`,
      subscribeMessages: chunk(group.map(topicOf), BYBIT_ARGS_PER_MESSAGE).map((a, j) => JSON.stringify({ req_id: `depth-sub-${j}`, op: 'subscribe', args: a })),
      topicCount: group.length,
      awaitWelcome: false,
      subscribeSpacingMs: subscribeSpacingMs(facts.limits),
      heartbeat: { everyMs: BYBIT_PING_MS, whenIdle: false, message: () => '{"op":"ping"}' },
      maxAgeMs: 0,
      symbols: group,
      limits: facts.limits,
    }));
  },
  liveChange(plans, _symbols, add, remove) {
    const r = redistribute(plans.map((p) => p.symbols), add, remove, facts.limits, ARG_COST);
    if (r === null) return null;
    return changesOf(r, (op, syms) => chunk(syms.map(topicOf), BYBIT_ARGS_PER_MESSAGE).map((a) => JSON.stringify({ req_id: `depth-${op}-${++changeSeq}`, op, args: a })));
  },
  createParser(meta: MetadataTable, levels: number) {
    return new BybitDepthParser(meta, levels);
  },
  resubscribe(symbol: string): string[] {
    const args = [topicOf(symbol)];
    return [JSON.stringify({ req_id: `depth-unsubscribe-${++changeSeq}`, op: 'unsubscribe', args }), JSON.stringify({ req_id: `depth-subscribe-${++changeSeq}`, op: 'subscribe', args })];
  },
};
