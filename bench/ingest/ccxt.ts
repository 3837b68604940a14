/**
 * ccxt.pro's own WebSocket message handler as a yardstick (bench/ingest, bench/universe): JSON.parse +
 * `handleMessage` of the venue's ccxt.pro class with an in-process client object (no network), and
 * throughput per CPU second.
 */
import ccxt from 'ccxt';
import type { VenueIngestBench } from '../../server/venues/bench-types.js';
import type { Exchange } from '../../shared/exchanges.js';

/** ccxt's class per venue (USDT-margined perpetuals). */
/** ccxt's id for a venue, from the venue module's `bench.ts` (null when the venue has no ingest bench). */
export async function ccxtIdOf(exchange: Exchange): Promise<string | null> {
  try {
    return ((await import(`../../server/venues/${exchange}/bench.ts`)) as { ingestBench: VenueIngestBench }).ingestBench.ccxtId;
  } catch {
    return null;
  }
}

/** A linear perpetual market as ccxt's `setMarkets` takes it. */
export function ccxtMarket(id: string, base: string, contractSize: number, settle = 'USDT'): Record<string, unknown> {
  return {
    id,
    symbol: `${base}/${settle}:${settle}`,
    base,
    quote: settle,
    settle,
    baseId: base,
    quoteId: settle,
    settleId: settle,
    type: 'swap',
    spot: false,
    margin: false,
    swap: true,
    future: false,
    option: false,
    contract: true,
    linear: true,
    inverse: false,
    active: true,
    contractSize,
    precision: { amount: 1, price: 0.1 },
    limits: {},
    info: {},
  };
}

export interface CcxtRun {
  step: (i: number) => void;
  /** Handler resolutions so far (the handler did deliver something). */
  resolved(): number;
  /** Frames the handler threw on (counted, not fatal). */
  threw(): number;
}

/** A step function running ccxt.pro's handler over `frames[i]`, or an error when the class cannot be set up. */
export function ccxtHandler(ccxtId: string, markets: Array<Record<string, unknown>>, frames: readonly string[]): CcxtRun | { error: string } {
  try {
    const Cls = (ccxt as unknown as { pro: Record<string, new (o: object) => { setMarkets(m: unknown[]): void; handleMessage(c: unknown, m: unknown): void }> }).pro[ccxtId];
    const ex = new Cls({});
    ex.setMarkets(markets);
    let resolved = 0;
    let threw = 0;
    const client: Record<string, unknown> = {
      resolve() {
        resolved++;
      },
      reject() {},
      futures: {},
      subscriptions: {},
      messageQueue: {},
      url: `wss://${ccxtId}.invalid/public/stream`,
    };
    const step = (i: number) => {
      try {
        ex.handleMessage(client, JSON.parse(frames[i]));
      } catch {
        threw++;
      }
    };
    for (let i = 0; i < Math.min(200, frames.length); i++) step(i);
    if (resolved === 0) return { error: 'handler resolved nothing' };
    return { step, resolved: () => resolved, threw: () => threw };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * Runs `step(i)` over n frames for ~`seconds` of this process's CPU time; returns frames per CPU second.
 * CPU time, not wall time: the machine is shared, and time spent descheduled is not handler cost.
 */
export function throughput(n: number, step: (i: number) => void, seconds: number): number {
  for (let i = 0; i < Math.min(n, 5000); i++) step(i); // warm-up
  let done = 0;
  const start = process.cpuUsage();
  const budgetUs = seconds * 1e6;
  let elapsedUs = 0;
  while (elapsedUs < budgetUs) {
    for (let i = 0; i < n; i++) step(i);
    done += n;
    const d = process.cpuUsage(start);
    elapsedUs = d.user + d.system;
  }
  return (done * 1e6) / elapsedUs;
}
