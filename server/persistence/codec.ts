/**
 * Wire formats of the chunked streams (see docs/persistence.md): one stream entry holds the records of
 * one write batch, one record per line. Market records are tab-separated (cheap to write at 100k/s),
 * opportunity events are JSON lines. Every line starts with its index in the batch so records of the
 * per-exchange streams can be merged back into receive order.
 */
import { isExchange, type Exchange } from '../../shared/exchanges.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { MarketRecord } from './persistence.js';

/** A Redis stream id `<ms>-<seq>` as numbers. */
export interface StreamId {
  ms: number;
  seq: number;
}

export function parseStreamId(id: string): StreamId | null {
  const dash = id.indexOf('-');
  if (dash <= 0) return null;
  const ms = Number(id.slice(0, dash));
  const seq = Number(id.slice(dash + 1));
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? { ms, seq } : null;
}

export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function compareStreamIds(a: StreamId, b: StreamId): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}

/** The next id after `last` that is at least `minMs` (stream ids must increase). */
export function nextStreamId(last: StreamId, minMs: number): StreamId {
  const ms = Math.max(Math.floor(minMs), last.ms);
  return ms === last.ms ? { ms, seq: last.seq + 1 } : { ms, seq: 0 };
}

const num = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '' : String(v));
const opt = (s: string): number | undefined => (s === '' ? undefined : Number(s));
const cleanSymbol = (s: string): string => (/[\t\n]/.test(s) ? s.replace(/[\t\n]/g, ' ') : s);

export function encodeMarketLine(index: number, r: MarketRecord): string {
  const head = `${index}\t${r.kind === 'quote' ? 'q' : 'f'}\t${cleanSymbol(r.symbol)}\t${num(r.recvMs)}\t${num(r.exchangeTsMs)}`;
  if (r.kind === 'quote') return `${head}\t${num(r.bid)}\t${num(r.ask)}\t${num(r.bidSize)}\t${num(r.askSize)}`;
  const predicted = r.predicted === undefined ? '' : r.predicted ? '1' : '0';
  return `${head}\t${num(r.fundingRate)}\t${num(r.fundingIntervalMs)}\t${num(r.nextFundingMs)}\t${predicted}`;
}

/** A decoded line with its index in the batch, or null when the line is malformed. */
export function decodeMarketLine(exchange: Exchange, line: string): { index: number; record: MarketRecord } | null {
  const f = line.split('\t');
  if (f.length !== 9 || (f[1] !== 'q' && f[1] !== 'f')) return null;
  const index = Number(f[0]);
  const recvMs = Number(f[3]);
  const exchangeTsMs = Number(f[4]);
  if (!Number.isInteger(index) || f[3] === '' || !Number.isFinite(recvMs) || !Number.isFinite(exchangeTsMs)) return null;
  if (f[1] === 'q') {
    const record: MarketRecord = { exchange, symbol: f[2], kind: 'quote', recvMs, exchangeTsMs };
    const [bid, ask, bidSize, askSize] = [opt(f[5]), opt(f[6]), opt(f[7]), opt(f[8])];
    if (bid !== undefined) record.bid = bid;
    if (ask !== undefined) record.ask = ask;
    if (bidSize !== undefined) record.bidSize = bidSize;
    if (askSize !== undefined) record.askSize = askSize;
    return { index, record };
  }
  const record: MarketRecord = { exchange, symbol: f[2], kind: 'funding', recvMs, exchangeTsMs };
  const [rate, interval, next] = [opt(f[5]), opt(f[6]), opt(f[7])];
  if (rate !== undefined) record.fundingRate = rate;
  if (interval !== undefined) record.fundingIntervalMs = interval;
  if (next !== undefined) record.nextFundingMs = next;
  if (f[8] !== '') record.predicted = f[8] === '1';
  return { index, record };
}

export function encodeEventLine(index: number, event: OpportunityEvent): string {
  return `${index}\t${JSON.stringify(event)}`;
}

export function decodeEventLine(line: string): { index: number; event: OpportunityEvent } | null {
  const tab = line.indexOf('\t');
  if (tab <= 0) return null;
  const index = Number(line.slice(0, tab));
  if (!Number.isInteger(index)) return null;
  try {
    const event = JSON.parse(line.slice(tab + 1)) as OpportunityEvent;
    if (typeof event !== 'object' || event === null || typeof event.kind !== 'string' || typeof event.tsMs !== 'number') return null;
    return { index, event };
  } catch {
    return null;
  }
}

/** Accepts a parsed MarketRecord-like value only when its required fields are sane. */
export function isMarketRecord(v: unknown): v is MarketRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<MarketRecord>;
  return isExchange(r.exchange) && typeof r.symbol === 'string' && (r.kind === 'quote' || r.kind === 'funding') && typeof r.recvMs === 'number';
}
