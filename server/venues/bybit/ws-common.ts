/**
 * What Bybit's v5 public linear sockets share, quote and depth alike: the path, the heartbeat, and how one
 * topic per symbol (`tickers.<symbol>`, `orderbook.50.<symbol>`) is planned over sockets and changed live.
 */
import { chunk, type ConnectionPlan, type SubscriptionChange, type VenueEndpoints } from '../../feeds/adapter.js';
import { changesOf, redistribute, splitSymbols, subscribeSpacingMs, topicsPerMessage, type SymbolCost } from '../../feeds/plan-limits.js';
import { facts } from './facts.js';

export const BYBIT_WS_PATH = '/v5/public/linear';
/** Args per subscribe request (facts.ts: our batch; Bybit documents no per-request cap for linear). */
export const BYBIT_ARGS_PER_MESSAGE = topicsPerMessage(facts.limits);
export const BYBIT_PING_MS = 20_000;

type Op = 'subscribe' | 'unsubscribe';

/**
 * The sockets of one kind, labelled `<label>#<i>`: one `topicOf(symbol)` arg per symbol, whose characters
 * count against the per-connection cap, so a socket is filled up to it before the next one opens. Request
 * ids: `<ids>sub-<j>` in a plan, then `<ids><op>-<n>` for each request on a live socket (`change`).
 */
export function topicSockets(label: string, ids: string, topicOf: (symbol: string) => string) {
  const cost: SymbolCost = { topics: 1, chars: (s) => topicOf(s).length };
  const requests = (op: Op, syms: readonly string[], id: (j: number) => string) =>
    chunk(syms.map(topicOf), BYBIT_ARGS_PER_MESSAGE).map((a, j) => JSON.stringify({ req_id: id(j), op, args: a }));
  let changeSeq = 0;
  const change = (op: Op, syms: readonly string[]) => requests(op, syms, () => `${ids}${op}-${++changeSeq}`);
  return {
    plan(endpoints: VenueEndpoints, symbols: string[]): ConnectionPlan[] {
      return splitSymbols(symbols, facts.limits, cost).map((group, i) => ({
        label: `${label}#${i}`,
        url: `${endpoints.ws}${BYBIT_WS_PATH}`,
        subscribeMessages: requests('subscribe', group, (j) => `${ids}sub-${j}`),
        topicCount: group.length,
        awaitWelcome: false,
        subscribeSpacingMs: subscribeSpacingMs(facts.limits),
        heartbeat: { everyMs: BYBIT_PING_MS, whenIdle: false, message: () => '{"op":"ping"}' },
        maxAgeMs: 0,
        symbols: group,
        limits: facts.limits,
      }));
    },
    liveChange(plans: readonly ConnectionPlan[], _symbols: readonly string[], add: readonly string[], remove: readonly string[]): SubscriptionChange[] | null {
      const r = redistribute(plans.map((p) => p.symbols), add, remove, facts.limits, cost);
      return r === null ? null : changesOf(r, change);
    },
    change,
  };
}
