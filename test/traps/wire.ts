/**
 * Helpers for the trap suites: fixture frames re-stamped for a scenario, and an UpdateSink that feeds a
 * real Engine exactly as server/feeds/manager.ts does (push, then drain on the same tick).
 */
import type { Exchange } from '../../shared/exchanges.js';
import type { InstrumentMeta, MetadataTable, UpdateSink, VenueParser } from '../../server/feeds/adapter.js';
import type { Engine } from '../../server/engine/engine.js';
import { fixture } from '../feeds/helpers.js';

/** A fixture frame as JSON, edited by `edit` (re-stamping times, prices), back to text. */
export function frame(exchange: Exchange, name: string, edit: (msg: Record<string, any>) => void): string {
  const msg = JSON.parse(fixture(exchange, name)) as Record<string, any>;
  edit(msg);
  return JSON.stringify(msg);
}

export class EngineSink implements UpdateSink {
  constructor(private readonly engine: Engine) {}
  quote(meta: InstrumentMeta, bid: number, ask: number, bidSize: number, askSize: number, ts: number): void {
    this.engine.pushQuote(meta.id, bid, ask, bidSize, askSize, ts, 0);
  }
  funding(meta: InstrumentMeta, rate: number, intervalMs: number, next: number, predicted: boolean, ts: number): void {
    this.engine.pushFunding(meta.id, rate, intervalMs, next, predicted, ts, 0);
  }
  stats(meta: InstrumentMeta, openInterestUsd: number, volume24hUsd: number, ts: number, fundingPrice?: number): void {
    this.engine.pushStats(meta.id, openInterestUsd, volume24hUsd, ts, 0, fundingPrice);
  }
}

/** Registers every symbol of `table` with the engine (as FeedManager.start does). */
export function register(engine: Engine, table: MetadataTable): MetadataTable {
  for (const m of table.values()) m.id = engine.registerInstrument(m.exchange, m.symbol, { base: m.base, quote: m.quote });
  return table;
}

/** Parses one frame into the engine and drains; returns the parser's outcome. */
export function feed(engine: Engine, parser: VenueParser, raw: string): ReturnType<VenueParser['parse']> {
  const outcome = parser.parse(raw, new EngineSink(engine));
  engine.drain();
  return outcome;
}
