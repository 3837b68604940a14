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
import { count, isEpochMs, isRecord, num, type ConnectionPlan, type MetadataTable, type ParseOutcome, type VenueEndpoints } from '../../feeds/adapter.js';
import { JsonDepthParser, applyLevels, applySnapshotLevels, readLevels } from '../../depth/parser-base.js';
import type { ScanKeys } from '../../depth/frame-scan.js';
import type { DepthSink, VenueDepth } from '../../depth/types.js';
import { topicSockets } from './ws-common.js';

/** Levels of the subscribed depth (the venue's 50-level channel covers any configured `levels` ≤ 50). */
export const BYBIT_DEPTH_LEVELS = 50;
export const BYBIT_DEPTH_PREFIX = `orderbook.${BYBIT_DEPTH_LEVELS}.`;
const books = topicSockets('bybit/depth', 'depth-', (symbol) => `${BYBIT_DEPTH_PREFIX}${symbol}`);

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
    return books.plan(endpoints, symbols);
  },
  liveChange: books.liveChange,
  createParser(meta: MetadataTable, levels: number) {
    return new BybitDepthParser(meta, levels);
  },
  resubscribe(symbol: string): string[] {
    return [...books.change('unsubscribe', [symbol]), ...books.change('subscribe', [symbol])];
  },
};
