/**
 * What Bitget's v3 public sockets share, quote and depth alike: the path, the heartbeat, our channels per
 * socket, the `{instType, topic, symbol}` args and how they are batched into requests, and error codes.
 */
import type { WsLimits } from '../../../shared/venue-facts.js';
import type { ConnectionPlan, SubscriptionChange, VenueEndpoints } from '../../feeds/adapter.js';
import { batchRequests, changesOf, redistribute, splitSymbols, subscribeSpacingMs, topicsPerMessage, type SymbolCost } from '../../feeds/plan-limits.js';
import { facts } from './facts.js';
import { parseNative } from './symbols.js';

export const BITGET_WS_PATH = '/v3/ws/public';
/** The docs ask for a `ping` every 30 s and drop a socket after 2 min without one; we ping a little early. */
export const BITGET_PING_MS = 25_000;
/**
 * Channels we put on one socket: the docs allow 1000 but "highly recommend" fewer than 50 for stability.
 * 40 leaves room for symbols added live (liveChange) before a socket reaches the recommendation.
 */
export const BITGET_TOPICS_PER_SOCKET = 40;
/** v3 `instType` (lower case) of a settle currency, and back. */
export const INST_TYPE_OF: Readonly<Record<string, string>> = { USDT: 'usdt-futures', USDC: 'usdc-futures' };
/** One v3 channel arg: `{"instType":"usdt-futures","topic":"ticker","symbol":"BTCUSDT"}`. */
export interface BitgetArg {
  instType: string;
  topic: string;
  symbol: string;
}

export function argOf(topic: string, symbol: string): BitgetArg {
  return { instType: INST_TYPE_OF[parseNative(symbol)?.quote ?? 'USDT'] ?? 'usdt-futures', topic, symbol };
}

const argBytes = (a: BitgetArg) => JSON.stringify(a).length;
/** `{"op":"unsubscribe","args":[]}` and some. */
const REQUEST_OVERHEAD = 40;
/** The documented limits with our per-socket channel count (the recommendation, not the hard cap). */
export const PLAN_LIMITS: WsLimits = { ...facts.limits, topicsPerConnection: Math.min(facts.limits.topicsPerConnection, BITGET_TOPICS_PER_SOCKET) };

const COST: SymbolCost = { topics: 1, chars: () => 0 };

/**
 * The sockets of one kind, labelled `<label>#<i>`: each symbol on the `topic` channel, at most PLAN_LIMITS'
 * channels a socket. `requests` spells the subscribe/unsubscribe requests for the `topic` channels of some
 * symbols, within the args-per-request and 4096-byte limits.
 */
export function topicSockets(label: string, topic: string) {
  const requests = (op: 'subscribe' | 'unsubscribe', syms: readonly string[]): string[] =>
    batchRequests(syms.map((s) => argOf(topic, s)), facts.limits, topicsPerMessage(facts.limits), argBytes, REQUEST_OVERHEAD).map((args) => JSON.stringify({ op, args }));
  return {
    requests,
    plan(endpoints: VenueEndpoints, symbols: string[], maxAgeMs: number): ConnectionPlan[] {
      return splitSymbols(symbols, PLAN_LIMITS, COST).map((group, i) => ({
        label: `${label}#${i}`,
        url: `${endpoints.ws}${BITGET_WS_PATH}`,
        subscribeMessages: requests('subscribe', group),
        topicCount: group.length,
        awaitWelcome: false,
        // 10 messages per second per connection, pings included.
        subscribeSpacingMs: subscribeSpacingMs(facts.limits),
        heartbeat: { everyMs: BITGET_PING_MS, whenIdle: false, message: () => 'ping' },
        maxAgeMs,
        symbols: group,
        limits: facts.limits,
      }));
    },
    liveChange(plans: readonly ConnectionPlan[], _symbols: readonly string[], add: readonly string[], remove: readonly string[]): SubscriptionChange[] | null {
      const r = redistribute(plans.map((p) => p.symbols), add, remove, PLAN_LIMITS, COST);
      return r === null ? null : changesOf(r, requests);
    },
  };
}

/** An error code as the venue sent it (documented as a string, sent as a number): a short digit string, else `unknown`. */
export function codeOf(code: unknown): string {
  if (typeof code === 'number' && Number.isInteger(code) && code >= 0 && code < 1e9) return String(code);
  if (typeof code === 'string' && /^\d{1,9}$/.test(code)) return code;
  return 'unknown';
}

