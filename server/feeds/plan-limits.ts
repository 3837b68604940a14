/**
 * Connection planning within a venue's documented limits (shared/venue-facts.ts `WsLimits`): how many
 * symbols one socket may carry, how topics are batched into subscribe requests, and where symbols added
 * to live sockets go. Pure functions; each adapter supplies its topic spelling.
 */
import type { WsLimits } from '../../shared/venue-facts.js';
import type { ConnectionPlan, SubscriptionChange } from './adapter.js';

/** Share of a documented size limit (bytes, characters) we fill: envelopes and ids vary a little. */
export const SIZE_HEADROOM = 0.95;

/** How one symbol weighs on a socket. */
export interface SymbolCost {
  /** Topics (streams, args) per symbol on one socket. */
  topics: number;
  /** Characters of the symbol's args (counted against `argsCharsPerConnection`). */
  chars(symbol: string): number;
}

/** Topics in one subscribe request: the documented cap, or our batch where there is none. */
export function topicsPerMessage(limits: WsLimits): number {
  return Math.max(1, Math.min(limits.topicsPerMessage, limits.batchTopics ?? Infinity));
}

function charsCap(limits: WsLimits): number {
  return Math.floor(limits.argsCharsPerConnection * SIZE_HEADROOM);
}

/** Symbols one socket may still take after `topics` topics and `chars` characters, for the next symbol `s`. */
function hasRoom(limits: WsLimits, cost: SymbolCost, topics: number, chars: number, s: string): boolean {
  return topics + cost.topics <= limits.topicsPerConnection && chars + cost.chars(s) <= charsCap(limits);
}

/** Splits `symbols` over as few sockets as the per-connection limits allow (order kept; a socket is filled before the next opens). */
export function splitSymbols(symbols: readonly string[], limits: WsLimits, cost: SymbolCost): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let topics = 0;
  let chars = 0;
  for (const s of symbols) {
    if (cur.length > 0 && !hasRoom(limits, cost, topics, chars, s)) {
      out.push(cur);
      cur = [];
      topics = chars = 0;
    }
    cur.push(s);
    topics += cost.topics;
    chars += cost.chars(s);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Batches `items` into requests of at most `perMessage` items whose encoded size (`overhead` plus
 * `bytesOf` each) stays within the venue's bytes-per-message limit.
 */
export function batchRequests<T>(items: readonly T[], limits: WsLimits, perMessage: number, bytesOf: (item: T) => number, overhead: number): T[][] {
  const maxBytes = Math.floor(limits.bytesPerMessage * SIZE_HEADROOM);
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = overhead;
  for (const item of items) {
    const b = bytesOf(item) + 1; // and a comma
    if (cur.length > 0 && (cur.length >= perMessage || bytes + b > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = overhead;
    }
    cur.push(item);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Per socket: the symbols it carries after a change, and what to subscribe and unsubscribe on it. */
export interface Redistribution {
  symbols: string[][];
  added: string[][];
  removed: string[][];
}

/**
 * Places `add` on live sockets with room (first fit) and takes `remove` off the sockets carrying them.
 * null when a socket's symbol list is unknown, the new symbols do not fit, or a socket of several would be
 * left empty (the caller re-plans).
 */
export function redistribute(
  current: ReadonlyArray<readonly string[] | undefined>,
  add: readonly string[],
  remove: readonly string[],
  limits: WsLimits,
  cost: SymbolCost,
): Redistribution | null {
  if (current.some((s) => s === undefined)) return null;
  const gone = new Set(remove);
  const removed = current.map((syms) => syms!.filter((s) => gone.has(s)));
  const symbols = current.map((syms) => syms!.filter((s) => !gone.has(s)));
  const added: string[][] = symbols.map(() => []);
  const topics = symbols.map((syms) => syms.length * cost.topics);
  const chars = symbols.map((syms) => syms.reduce((n, s) => n + cost.chars(s), 0));
  const carried = new Set(symbols.flat());
  for (const s of add) {
    if (carried.has(s)) continue;
    const i = symbols.findIndex((_, j) => hasRoom(limits, cost, topics[j]!, chars[j]!, s));
    if (i < 0) return null;
    symbols[i]!.push(s);
    added[i]!.push(s);
    topics[i]! += cost.topics;
    chars[i]! += cost.chars(s);
    carried.add(s);
  }
  // A socket left with nothing would idle (a venue may close such sockets) and cannot re-plan itself: re-plan all.
  if (symbols.length > 1 && symbols.some((syms) => syms.length === 0)) return null;
  return { symbols, added, removed };
}

/** The label's group (`<venue>/public#1` → `<venue>/public`): sockets of one kind. */
export function planGroup(label: string): string {
  const hash = label.lastIndexOf('#');
  return hash < 0 ? label : label.slice(0, hash);
}

/**
 * The plan for socket `index` when it reconnects: plans made for that socket's own symbols (`fresh`) give
 * one socket per group; take the one of its group. Without a previous plan, the index of a full plan.
 */
export function pickReplan(fresh: readonly ConnectionPlan[], previous: ConnectionPlan | null, index: number): ConnectionPlan | undefined {
  if (!previous?.symbols) return fresh[index];
  const group = planGroup(previous.label);
  const p = fresh.find((f) => planGroup(f.label) === group);
  return p ? { ...p, label: previous.label } : undefined;
}

/** Even spacing of a socket's subscribe requests within its short-term message rate (the limiters keep every window). */
export function subscribeSpacingMs(limits: WsLimits, headroom = 0.8): number {
  const r = limits.messageRate;
  return r && Number.isFinite(r.count) ? Math.ceil(r.windowMs / Math.max(1, Math.floor(r.count * headroom))) : 0;
}

/**
 * The change per socket of a redistribution: `frames(op, symbols)` spells the venue's requests for those
 * symbols (unsubscribes first), `topicsPerSymbol` is how many channels each symbol carries.
 */
export function changesOf(r: Redistribution, frames: (op: 'subscribe' | 'unsubscribe', symbols: readonly string[]) => string[], topicsPerSymbol = 1): SubscriptionChange[] {
  return r.symbols.map((symbols, i) => ({ messages: [...frames('unsubscribe', r.removed[i]!), ...frames('subscribe', r.added[i]!)], topicCount: symbols.length * topicsPerSymbol, symbols }));
}
