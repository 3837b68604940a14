/** Shared bits for the feed tests: fixture loading, a collecting sink, metadata for the fixtures' symbols. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Exchange } from '../../shared/exchanges.js';
import type { Engine } from '../../server/engine/engine.js';
import type { FeedEngine } from '../../server/feeds/manager.js';
import type { InstrumentMeta, MetadataTable, UpdateSink } from '../../server/feeds/adapter.js';
import { instrumentKey } from '../../server/venues/symbology.js';

export function fixture(exchange: Exchange, name: string): string {
  const text = readFileSync(fileURLToPath(new URL(`../fixtures/${exchange}/${name}`, import.meta.url)), 'utf8');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

export function fixtureLines(exchange: Exchange, name: string): string[] {
  return fixture(exchange, name).split('\n');
}

export type Update =
  | { kind: 'quote'; symbol: string; bid: number; ask: number; bidSize: number; askSize: number; ts: number }
  | { kind: 'funding'; symbol: string; rate: number; intervalMs: number; nextFundingMs: number; predicted: boolean; ts: number };

export class CollectingSink implements UpdateSink {
  updates: Update[] = [];
  quote(meta: InstrumentMeta, bid: number, ask: number, bidSize: number, askSize: number, ts: number): void {
    this.updates.push({ kind: 'quote', symbol: meta.symbol, bid, ask, bidSize, askSize, ts });
  }
  funding(meta: InstrumentMeta, rate: number, intervalMs: number, nextFundingMs: number, predicted: boolean, ts: number): void {
    this.updates.push({ kind: 'funding', symbol: meta.symbol, rate, intervalMs, nextFundingMs, predicted, ts });
  }
  take(): Update[] {
    const u = this.updates;
    this.updates = [];
    return u;
  }
}

export function table(
  exchange: Exchange,
  entries: Array<{ symbol: string; base: string; quote?: string; contractValue?: number; fundingIntervalMs?: number; nextFundingMs?: number; priceMultiplier?: number; position?: number }>,
): MetadataTable {
  const t: MetadataTable = new Map();
  for (const e of entries) {
    const quote = e.quote ?? 'USDT';
    t.set(e.symbol, {
      exchange,
      symbol: e.symbol,
      key: instrumentKey(e.base),
      base: e.base,
      quote,
      contractValue: e.contractValue ?? 1,
      fundingIntervalMs: e.fundingIntervalMs ?? 8 * 3_600_000,
      nextFundingMs: e.nextFundingMs ?? 0,
      id: -1,
      ...(e.priceMultiplier !== undefined ? { priceMultiplier: e.priceMultiplier } : {}),
      ...(e.position !== undefined ? { position: e.position } : {}),
    });
  }
  return t;
}

export function totalErrors(errors: Record<string, number>): number {
  return Object.values(errors).reduce((a, b) => a + b, 0);
}

/** Polls `cond` every 20 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real engine as a FeedManager sees it, recording every setExchangeDown call. */
export class RecordingEngine implements FeedEngine {
  readonly downCalls: Array<[Exchange, boolean]> = [];
  constructor(readonly engine: Engine) {}
  registerInstrument(exchange: Exchange, symbol: string, meta: { base: string; quote: string }): number {
    return this.engine.registerInstrument(exchange, symbol, meta);
  }
  pushQuote(id: number, bid: number, ask: number, bidSize: number, askSize: number, ts: number, recvUs: number): boolean {
    return this.engine.pushQuote(id, bid, ask, bidSize, askSize, ts, recvUs);
  }
  pushFunding(id: number, rate: number, intervalMs: number, next: number, predicted: boolean, ts: number, recvUs: number): boolean {
    return this.engine.pushFunding(id, rate, intervalMs, next, predicted, ts, recvUs);
  }
  drain(max?: number): number {
    return this.engine.drain(max);
  }
  setExchangeDown(exchange: Exchange, down: boolean): void {
    this.downCalls.push([exchange, down]);
    this.engine.setExchangeDown(exchange, down);
  }
}
