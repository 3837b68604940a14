/**
 * OKX depth: the `books` channel on `/ws/v5/public` (400 levels: a snapshot, then increments every 100 ms).
 * Docs (read 2026-12-02): https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 *   - `action` "snapshot" then "update"; levels are [price, size (contracts), "0" (deprecated), orders];
 *     a size of "0" removes the price;
 *   - `prevSeqId` is -1 on the snapshot and the previous message's `seqId` on every update (an update
 *     with no change, sent as a keep-alive, has empty sides and seqId = prevSeqId); anything else is a gap;
 *   - `checksum`: CRC32 as a SIGNED 32-bit integer of the first 25 bids and asks interleaved as
 *     "bidPx:bidSz:askPx:askSz:..." (when one side has fewer than 25 levels the rest of the other follows),
 *     on the prices and sizes exactly as the venue sent them (strings; "3366.10" ≠ "3366.1").
 * A gap or a checksum mismatch drops the book and resubscribes the instrument for a fresh snapshot.
 * Sizes are contracts: base = sz × ctVal (contractValue), folded by the parser base.
 */
import { crc32 } from 'node:zlib';
import { count, isEpochMs, isRecord, num, type ConnectionPlan, type InstrumentMeta, type MetadataTable, type ParseOutcome, type VenueEndpoints } from '../../feeds/adapter.js';
import { applyLevels, applySnapshotLevels, readLevels } from '../../depth/parser-base.js';
import type { ScanKeys, ScannedLevels } from '../../depth/frame-scan.js';
import type { L2Book } from '../../depth/l2-book.js';
import { ChecksummedDepthParser } from '../../depth/level-texts.js';
import type { DepthSink, VenueDepth } from '../../depth/types.js';
import { channelSockets } from './ws-common.js';

export const OKX_DEPTH_CHANNEL = 'books';
/** Levels per side the checksum covers. */
export const OKX_CHECKSUM_LEVELS = 25;
/** Levels the `books` channel carries (the snapshot's depth; the venue keeps the top 400). */
const OKX_BOOK_LEVELS = 400;
const books = channelSockets('okx/depth', 'd', [OKX_DEPTH_CHANNEL]);

/**
 * The documented checksum string of a book's top 25 per side, `text(side, price)` giving a level's
 * "price:size" as sent. Exported for the twin (which must sign its frames the same way) and tests.
 */
export function okxChecksumString(bidPrices: readonly number[], askPrices: readonly number[], bidText: (p: number) => string, askText: (p: number) => string): string {
  const parts: string[] = [];
  const nb = Math.min(OKX_CHECKSUM_LEVELS, bidPrices.length);
  const na = Math.min(OKX_CHECKSUM_LEVELS, askPrices.length);
  for (let i = 0; i < Math.max(nb, na); i++) {
    if (i < nb) parts.push(bidText(bidPrices[i]!));
    if (i < na) parts.push(askText(askPrices[i]!));
  }
  return parts.join(':');
}

/** CRC32 of the checksum string as OKX sends it: a signed 32-bit integer. */
export function okxChecksum(text: string): number {
  return crc32(text) | 0;
}

export class OkxDepthParser extends ChecksummedDepthParser {
  /** Level sides read by scanFrame, not JSON.parse. */
  protected override readonly scanKeys: ScanKeys = { pairs: new Set(['bids', 'asks']) };

  parse(raw: string, sink: DepthSink): ParseOutcome {
    if (raw === 'pong') return 'pong';
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    const arg = msg.arg;
    if (typeof msg.event === 'string') {
      if (msg.event === 'subscribe' || msg.event === 'unsubscribe') return 'ack';
      if (msg.event === 'error') {
        // An error frame is `venue_error` (ParseOutcome), as the quote parser answers it, not a damaged frame.
        count(this.errors, `venue_error:${String(msg.code ?? 'unknown')}`);
        return 'venue_error';
      }
      // 64008 comes on every socket before a service upgrade: the depth socket must reconnect too (as quotes do).
      if (msg.event === 'notice') return msg.code === '64008' ? 'reconnect_notice' : 'ignored';
      return this.reject('unknown_event');
    }
    if (!isRecord(arg) || arg.channel !== OKX_DEPTH_CHANNEL) return this.reject('unknown_channel');
    const instId = arg.instId;
    const meta = typeof instId === 'string' ? this.meta.get(instId) : undefined;
    if (meta === undefined) return this.reject('unknown_symbol');
    const data = msg.data;
    if (!Array.isArray(data) || data.length !== 1 || !isRecord(data[0])) return this.reject('missing_data');
    const d = data[0];
    const seqId = num(d.seqId);
    const prevSeqId = num(d.prevSeqId);
    const checksum = num(d.checksum);
    const ts = num(d.ts);
    if (!Number.isSafeInteger(seqId) || !Number.isSafeInteger(prevSeqId) || !Number.isInteger(checksum)) return this.reject('bad_sequence');
    // A plausible epoch ms, not just positive: a damaged `ts` far in the future would make a stale book look fresh.
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    if (!readLevels(d.bids, this.bidScratch) || !readLevels(d.asks, this.askScratch)) return this.reject('bad_levels');
    const symbol = instId as string;
    const book = this.bookOf(symbol);
    const texts = this.textsOf(symbol);
    if (msg.action === 'snapshot') {
      if (prevSeqId !== -1) return this.reject('bad_sequence');
      applySnapshotLevels(book, this.bidScratch, this.askScratch);
      texts.clear();
    } else if (msg.action === 'update') {
      if (!book.synced) return 'ignored'; // until the resubscribe's snapshot
      if (prevSeqId !== book.seq) {
        this.lose(meta, book, 'gap', sink);
        return 'data';
      }
      applyLevels(book, 'bid', this.bidScratch);
      applyLevels(book, 'ask', this.askScratch);
    } else return this.reject('unknown_action');
    // Sides were validated by readLevels: every level is an array of at least two.
    texts.keep('bid', this.bidScratch, d.bids as ScannedLevels | unknown[][]);
    texts.keep('ask', this.askScratch, d.asks as ScannedLevels | unknown[][]);
    book.bids.truncate(OKX_BOOK_LEVELS);
    book.asks.truncate(OKX_BOOK_LEVELS);
    const expected = texts.interleavedCrc32(book, OKX_CHECKSUM_LEVELS); // okxChecksum(texts.interleaved(…)), without the string
    if (expected !== checksum) {
      this.lose(meta, book, 'checksum', sink);
      return 'data';
    }
    book.seq = seqId;
    book.synced = true;
    book.exchangeTsMs = ts;
    this.publish(meta, book, sink);
    return 'data';
  }

  private lose(meta: InstrumentMeta, book: L2Book, reason: 'gap' | 'checksum', sink: DepthSink): void {
    this.clearTexts(meta.symbol);
    this.loseSync(meta, book, reason, sink);
  }
}

export const okxDepth: VenueDepth = {
  async plan(endpoints: VenueEndpoints, symbols: string[]): Promise<ConnectionPlan[]> {
    return books.plan(endpoints, symbols);
  },
  liveChange: books.liveChange,
  createParser(meta: MetadataTable, levels: number) {
    return new OkxDepthParser(meta, levels);
  },
  resubscribe: books.resubscribe,
};
