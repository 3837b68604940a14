/**
 * What venue-agnostic suites need to talk to one venue's simulated twin from the outside (the venue's REST
 * listing with its status words, a quote subscription probe) and the venue's BTC spellings for engine tests.
 * Each venue's data is `test/fixtures/<venue>/twin-probe.ts` (default export), loaded by the registry's ids,
 * so adding a venue touches its own fixture folder, not these suites. A venue without one fails here.
 */
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import type { SettleCurrency } from '../../shared/opportunity.js';
import type { VenueEndpoints } from '../../server/simulator/index.js';
import type { WsProbe } from '../simulator/probe.js';

export type WireMessage = Record<string, unknown>;

/** An open quote subscription on a twin: the socket and how to tell its data and error frames apart. */
export interface QuoteProbe {
  probe: WsProbe;
  isData: (m: WireMessage) => boolean;
  isError: (m: WireMessage) => boolean;
}

export interface TwinProbe {
  /** The venue's native BTC symbol per settle currency (test markets; the engine never parses them). */
  btcSymbols: Record<SettleCurrency, string>;
  /**
   * The simulator universe's PEPE leg as the venue lists it (a low-priced coin some venues list ×1000): its
   * settle currency and native symbol.
   */
  pepe: { settle: SettleCurrency; nativeSymbol: string };
  /** The venue's REST listing of a running twin: native symbol → the venue's status words for it. */
  restList: (rest: string) => Promise<Map<string, string>>;
  /** `restList` words of a listed, trading symbol. */
  liveStatus: string;
  /** `restList` words during a delisting notice. */
  delistingStatus: string;
  /** `restList` words once delisted; undefined = the symbol leaves the list. */
  delistedStatus?: string;
  /** What subscribing to a symbol that is no longer listed yields: an error frame, or nothing at all. */
  unknownSymbol: 'error' | 'silent';
  /** Opens a socket on the twin and subscribes the symbol's quote stream. */
  openQuotes: (endpoints: VenueEndpoints, symbol: string) => Promise<QuoteProbe>;
}

async function load(exchange: Exchange): Promise<TwinProbe> {
  const mod = (await import(`../fixtures/${exchange}/twin-probe.ts`)) as { default?: TwinProbe };
  if (!mod.default) throw new Error(`test/fixtures/${exchange}/twin-probe.ts has no default export (the venue's twin probe)`);
  return mod.default;
}

export const TWIN_PROBES: ReadonlyMap<Exchange, TwinProbe> = new Map(await Promise.all(EXCHANGES.map(async (ex) => [ex, await load(ex)] as const)));

export function twinProbe(exchange: Exchange): TwinProbe {
  const p = TWIN_PROBES.get(exchange);
  if (!p) throw new Error(`no twin probe for ${exchange}`);
  return p;
}
