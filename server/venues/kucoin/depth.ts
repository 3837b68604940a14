/**
 * KuCoin Futures depth: `/contractMarket/level2Depth50:{symbol}` on a public bullet socket.
 *
 * Why this channel and not `/contractMarket/level2:{symbol}` (increments): the increment channel is only
 * usable with a REST snapshot (`GET /api/v1/level2/snapshot`) fetched while the deltas are buffered, then
 * the deltas replayed from the snapshot's `sequence` on (KuCoin's "Local order book construction
 * procedure", https://www.kucoin.com/docs-new/3470082w0, read 2026-12-02). A DepthParser does no I/O, so
 * that procedure would need a REST round trip per gap outside the parser. `level2Depth50` pushes the 50
 * best levels per side as a whole each time (every 100 ms, only when the book changed; "The system will
 * return the 50 best ask/bid orders data", https://www.kucoin.com/docs-new/3470097w0, and the Pro page's
 * table "Best 50 | 100ms", https://www.kucoin.com/docs-new/3470221w0, both read 2026-12-02), each stamped
 * with the matching engine's `sequence`. Sequence integrity here: every push replaces the book, so a
 * missed push cannot leave a wrong book behind; a push whose `sequence` is not above the last one is a
 * repeat (dropped) and a `sequence` that goes BACK means the venue's engine restarted (a `reset`: the book
 * is reported out of sync and rebuilt from that push). 50 levels also bound the candidates' cost.
 *
 * Wire: `{"topic":"/contractMarket/level2Depth50:XBTUSDTM","type":"message","subject":"level2","sn":…,
 * "data":{"bids":[["89778.6",1534],…],"sequence":…,"timestamp":…,"ts":…,"asks":[…]}}` — prices strings,
 * sizes CONTRACTS as JSON numbers (× `multiplier`), `timestamp`/`ts` ms. Control frames as on the quote
 * socket (welcome, ack, pong, error).
 */
import { DEFAULT_MAX_CONNECTION_AGE_MS, isEpochMs, isRecord, num, type ConnectionPlan, type FetchJson, type MetadataTable, type ParseOutcome, type VenueEndpoints } from '../../feeds/adapter.js';
import { changesOf, redistribute, splitSymbols, subscribeSpacingMs, type SymbolCost } from '../../feeds/plan-limits.js';
import { JsonDepthParser, applySnapshotLevels, readLevels } from '../../depth/parser-base.js';
import type { ScanKeys } from '../../depth/frame-scan.js';
import type { DepthParser, DepthSink, VenueDepth } from '../../depth/types.js';
import { bulletConnection } from './bullet.js';
import { facts } from './facts.js';
import { kucoinControlOutcome } from './envelope.js';

export const KUCOIN_DEPTH_PREFIX = '/contractMarket/level2Depth50:';
/** Levels per side of the channel. */
export const KUCOIN_DEPTH_LEVELS = 50;
const COST: SymbolCost = { topics: 1, chars: () => 0 };

export class KucoinDepthParser extends JsonDepthParser {
  /** Level sides read by scanFrame, not JSON.parse. */
  protected override readonly scanKeys: ScanKeys = { pairs: new Set(['bids', 'asks']) };

  parse(raw: string, sink: DepthSink): ParseOutcome {
    const msg = this.parseObject(raw);
    if (msg === null) return 'rejected';
    const control = kucoinControlOutcome(msg, this.errors);
    if (control !== null) return control;
    const topic = msg.topic;
    const d = msg.data;
    if (typeof topic !== 'string' || !topic.startsWith(KUCOIN_DEPTH_PREFIX) || msg.subject !== 'level2') return this.reject('unknown_subject');
    if (!isRecord(d)) return this.reject('missing_data');
    const meta = this.meta.get(topic.slice(KUCOIN_DEPTH_PREFIX.length));
    if (meta === undefined) return this.reject('unknown_symbol');
    const seq = num(d.sequence);
    if (!(Number.isInteger(seq) && seq >= 0)) return this.reject('bad_sequence');
    const ts = d.timestamp;
    if (typeof ts !== 'number' || !isEpochMs(ts)) return this.reject('bad_timestamp');
    if (!readLevels(d.bids, this.bidScratch) || !readLevels(d.asks, this.askScratch)) return this.reject('bad_level');
    const book = this.bookOf(meta.symbol);
    if (book.synced) {
      if (seq === book.seq) return 'ignored'; // the same book again
      if (seq < book.seq) this.loseSync(meta, book, 'reset', sink); // the engine's sequence restarted
    }
    applySnapshotLevels(book, this.bidScratch, this.askScratch);
      book.synced = true;
    book.seq = seq;
    book.exchangeTsMs = ts;
    this.publish(meta, book, sink);
    return 'data';
  }
}

let frameId = 0;
function frames(type: 'subscribe' | 'unsubscribe', symbols: readonly string[]): string[] {
  // One symbol per topic, as the channel is documented (`level2Depth50:{symbol}`).
  return symbols.map((s) => JSON.stringify({ id: `depth${++frameId}`, type, topic: `${KUCOIN_DEPTH_PREFIX}${s}`, privateChannel: false, response: true }));
}

export const kucoinDepth: VenueDepth = {
  async plan(endpoints: VenueEndpoints, symbols: string[], _levels: number, fetchJson: FetchJson): Promise<ConnectionPlan[]> {
    if (symbols.length === 0) return [];
    const { socketUrl, heartbeat } = await bulletConnection(endpoints, fetchJson);
    return splitSymbols(symbols, facts.limits, COST).map((group, i) => ({
      label: `kucoin/depth#${i}`,
      url: socketUrl(i),
      subscribeMessages: frames('subscribe', group),
      topicCount: group.length,
      awaitWelcome: true,
      subscribeSpacingMs: subscribeSpacingMs(facts.limits),
      heartbeat,
      maxAgeMs: DEFAULT_MAX_CONNECTION_AGE_MS,
      symbols: group,
      limits: facts.limits,
    }));
  },

  liveChange(plans, _symbols, add, remove) {
    const r = redistribute(plans.map((p) => p.symbols), add, remove, facts.limits, COST);
    return r === null ? null : changesOf(r, frames);
  },

  createParser(meta: MetadataTable, levels: number): DepthParser {
    return new KucoinDepthParser(meta, Math.min(levels, KUCOIN_DEPTH_LEVELS));
  },
};
