/**
 * What OKX's v5 public sockets share, quote and depth alike: the path, the idle ping, and how the
 * `{channel, instId}` args of each symbol are batched into requests, planned over sockets and changed live.
 */
import type { ConnectionPlan, SubscriptionChange, VenueEndpoints } from '../../feeds/adapter.js';
import { batchRequests, changesOf, redistribute, splitSymbols, subscribeSpacingMs, topicsPerMessage, type SymbolCost } from '../../feeds/plan-limits.js';
import { facts } from './facts.js';

export const OKX_WS_PATH = '/ws/v5/public';
/** The server drops a connection idle for 30 s; ping after 25 s of silence. */
export const OKX_IDLE_PING_MS = 25_000;
/** `{"id":"chg123456","op":"unsubscribe","args":[]}` and some. */
const REQUEST_OVERHEAD = 64;
const argBytes = (a: { channel: string; instId: string }) => JSON.stringify(a).length;

type Op = 'subscribe' | 'unsubscribe';

/**
 * The sockets of one kind, labelled `<label>#<i>`, each symbol subscribed on every one of `channels`.
 * 480 subscribe requests/hour/connection (facts.ts): many args per request, as many as fit in its 64 KB.
 * Request ids: `<ids>sub<j>` in a plan, `<ids>chg<n>` for a live change, `<ids>re<n>` for a resubscribe.
 */
export function channelSockets(label: string, ids: string, channels: readonly string[]) {
  const cost: SymbolCost = { topics: channels.length, chars: () => 0 };
  const requests = (op: Op, syms: readonly string[], id: (j: number) => string) => {
    const args = syms.flatMap((instId) => channels.map((channel) => ({ channel, instId })));
    return batchRequests(args, facts.limits, topicsPerMessage(facts.limits), argBytes, REQUEST_OVERHEAD).map((a, j) => JSON.stringify({ id: id(j), op, args: a }));
  };
  let changeSeq = 0;
  return {
    plan(endpoints: VenueEndpoints, symbols: string[]): ConnectionPlan[] {
      return splitSymbols(symbols, facts.limits, cost).map((group, i) => ({
        label: `${label}#${i}`,
        url: `${endpoints.ws}${OKX_WS_PATH}`,
        subscribeMessages: requests('subscribe', group, (j) => `${ids}sub${j}`),
        topicCount: group.length * channels.length,
        awaitWelcome: false,
        subscribeSpacingMs: subscribeSpacingMs(facts.limits),
        heartbeat: { everyMs: OKX_IDLE_PING_MS, whenIdle: true, message: () => 'ping' },
        maxAgeMs: 0,
        symbols: group,
        limits: facts.limits,
      }));
    },
    liveChange(plans: readonly ConnectionPlan[], _symbols: readonly string[], add: readonly string[], remove: readonly string[]): SubscriptionChange[] | null {
      const r = redistribute(plans.map((p) => p.symbols), add, remove, facts.limits, cost);
      return r === null ? null : changesOf(r, (op, syms) => requests(op, syms, () => `${ids}chg${++changeSeq}`), channels.length);
    },
    resubscribe(symbol: string): string[] {
      const id = () => `${ids}re${++changeSeq}`;
      return [...requests('unsubscribe', [symbol], id), ...requests('subscribe', [symbol], id)];
    },
  };
}
