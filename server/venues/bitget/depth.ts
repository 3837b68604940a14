/**
 * Bitget v3 (UTA) depth: topic `books` on `/v3/ws/public` — "the first push is the full data: snapshot,
 * subsequent pushes are incremental updates: update" (the snapshot-only `books1`/`books5`/`books50` carry no
 * sequence chain). Source: Bitget UTA "Depth Channel", https://www.bitget.com/api-doc/uta/websocket/public/Order-Book-Channel
 * (copies read 2026-12-02 at www.bitgetpro.site and www.zysh.xyz, same path): push `{"action":"snapshot"|
 * "update","arg":{"instType":"usdt-futures","topic":"books","symbol":"BTCUSDT"},"data":[{"a":[["99756.7",
 * "23.9774"]],"b":[…],"checksum":0,"seq":1304314508780744705,"pseq":…,"ts":"1746698732562"}],"ts":…}`;
 * prices and sizes strings in the base coin, `ts` ms as a string.
 *
 * Integrity, as documented:
 * - `pseq` is "the serial number of the previous push": an update applies only when its `pseq` equals the
 *   `seq` of the push before it (else a `gap`). "In cases such as system releases or service restarts, the
 *   serial numbers may be reset … most likely … a push message with pseq=0": a `reset`. Both need a new
 *   snapshot, which only a re-subscription brings (VenueDepth.resubscribe: unsubscribe, then subscribe).
 *   `seq` exceeds 2^53, so it is compared as JSON.parse reads it (the same text gives the same double;
 *   two sequence numbers within 256 of each other could compare equal, which the checksum then catches).
 * - `checksum`: CRC32 of the string `bid1price:bid1size:ask1price:ask1size:bid2price:…` over the best 25
 *   levels of each side, a side's levels simply left out once it has fewer ("Build the string to check
 *   CRC32: "3366.1:7:3366.8:9:3368:8:3372:8""), compared as a SIGNED 32-bit integer (the documented
 *   samples are negative, e.g. -1367582038). Source: Bitget "Depth Channel" → Checksum,
 *   https://www.bitget.com/api-doc/contract/websocket/public/Order-Book-Channel (classic; the UTA page
 *   carries the same `checksum` field), copies read 2026-12-02 at cnbitget.com and bitgetapp.com. The
 *   prices and sizes are the strings as the venue sent them (a re-formatted number would change the
 *   CRC: "0.10" vs "0.1"), so the parser keeps each level's wire text. Checked on every update; a
 *   snapshot's `checksum` is checked when it is not 0 (the documented snapshot samples send 0).
 */
import { crc32 } from 'node:zlib';
import { DEFAULT_MAX_CONNECTION_AGE_MS, count, isEpochMs, isRecord, num, type ConnectionPlan, type FetchJson, type MetadataTable, type ParseOutcome, type VenueEndpoints } from '../../feeds/adapter.js';
import { applyLevels, applySnapshotLevels, readLevels } from '../../depth/parser-base.js';
import type { ScanKeys, ScannedLevels } from '../../depth/frame-scan.js';
import { ChecksummedDepthParser } from '../../depth/level-texts.js';
import type { DepthParser, DepthSink, VenueDepth } from '../../depth/types.js';
import { codeOf, topicSockets } from './ws-common.js';

export const BITGET_DEPTH_TOPIC = 'books';
/** Levels per side the checksum covers. */
export const BITGET_CHECKSUM_LEVELS = 25;
const books = topicSockets('bitget/depth', BITGET_DEPTH_TOPIC);

/**
 * The string the documented checksum is taken of: best-first `price:size` texts (as sent) of each side,
 * interleaved `bid1:ask1:bid2:ask2…` over at most 25 levels a side; a side's levels are left out once it
 * has no more.
 */
export function bitgetChecksumPayload(bids: readonly string[], asks: readonly string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < BITGET_CHECKSUM_LEVELS && (i < bids.length || i < asks.length); i++) {
    if (i < bids.length) parts.push(bids[i]);
    if (i < asks.length) parts.push(asks[i]);
  }
  return parts.join(':');
}

/** The documented checksum: CRC32 of bitgetChecksumPayload as a signed 32-bit integer. */
export function bitgetChecksum(bids: readonly string[], asks: readonly string[]): number {
  return crc32(bitgetChecksumPayload(bids, asks)) | 0;
}

export class BitgetDepthParser extends ChecksummedDepthParser {
  /** Level sides read by scanFrame, not JSON.parse. */
  protected override readonly scanKeys: ScanKeys = { pairs: new Set(['b', 'a']) };

  parse(raw: string, sink: DepthSink): ParseOutcome {
    if (raw === 'pong') return 'pong';
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    if (msg.event !== undefined) {
      if (msg.event === 'subscribe' || msg.event === 'unsubscribe') return 'ack';
      if (msg.event === 'error') {
        count(this.errors, `venue_error:${codeOf(msg.code)}`);
        return 'venue_error';
      }
      return this.reject('unknown_event');
    }
    const arg = msg.arg;
    if (!isRecord(arg)) {
      // The docs' unsubscribe answer echoes the request without `event`.
      if ((msg.op === 'subscribe' || msg.op === 'unsubscribe') && Array.isArray(msg.args) && msg.data === undefined) return 'ack';
      return this.reject('unknown_message');
    }
    if (arg.topic !== BITGET_DEPTH_TOPIC) return this.reject('unknown_topic');
    const meta = typeof arg.symbol === 'string' ? this.meta.get(arg.symbol) : undefined;
    if (meta === undefined) return this.reject('unknown_symbol');
    const action = msg.action;
    if (action !== 'snapshot' && action !== 'update') return this.reject('unknown_action');
    const d = Array.isArray(msg.data) && msg.data.length === 1 ? msg.data[0] : undefined;
    if (!isRecord(d)) return this.reject('missing_data');
    const seq = num(d.seq);
    const pseq = num(d.pseq ?? 0);
    if (!(Number.isInteger(seq) && seq >= 0 && Number.isInteger(pseq) && pseq >= 0)) return this.reject('bad_sequence');
    const ts = num(d.ts);
    if (!isEpochMs(ts)) return this.reject('bad_timestamp');
    const checksum = d.checksum;
    if (typeof checksum !== 'number' || !Number.isInteger(checksum) || checksum < -2_147_483_648 || checksum > 2_147_483_647) return this.reject('bad_checksum');
    const bids = d.b ?? [];
    const asks = d.a ?? [];
    if (!readLevels(bids, this.bidScratch) || !readLevels(asks, this.askScratch)) return this.reject('bad_level');
    const book = this.bookOf(meta.symbol);
    const texts = this.textsOf(meta.symbol);
    if (action === 'snapshot') {
      applySnapshotLevels(book, this.bidScratch, this.askScratch);
      book.synced = true;
      texts.clear();
    } else {
      if (!book.synced) return 'ignored'; // waiting for the snapshot of a (re)subscription
      if (pseq === 0 || pseq !== book.seq) {
        this.loseSync(meta, book, pseq === 0 ? 'reset' : 'gap', sink);
        return 'data';
      }
      applyLevels(book, 'bid', this.bidScratch);
      applyLevels(book, 'ask', this.askScratch);
    }
    // Sides were validated by readLevels: every level is an array of at least two.
    texts.keep('bid', this.bidScratch, bids as ScannedLevels | unknown[][]);
    texts.keep('ask', this.askScratch, asks as ScannedLevels | unknown[][]);
    if ((action === 'update' || checksum !== 0) && texts.interleavedCrc32(book, BITGET_CHECKSUM_LEVELS) !== checksum) {
      this.loseSync(meta, book, 'checksum', sink);
      return 'data';
    }
    book.seq = seq;
    book.exchangeTsMs = ts;
    this.publish(meta, book, sink);
    return 'data';
  }
}

export const bitgetDepth: VenueDepth = {
  async plan(endpoints: VenueEndpoints, symbols: string[], _levels: number, _fetchJson: FetchJson): Promise<ConnectionPlan[]> {
    return books.plan(endpoints, symbols, DEFAULT_MAX_CONNECTION_AGE_MS);
  },

  liveChange: books.liveChange,

  /** After a gap, reset or checksum mismatch: unsubscribe `books`, subscribe it again (a snapshot follows). */
  resubscribe(symbol: string): string[] {
    return [...books.requests('unsubscribe', [symbol]), ...books.requests('subscribe', [symbol])];
  },

  createParser(meta: MetadataTable, levels: number): DepthParser {
    return new BitgetDepthParser(meta, levels);
  },
};
