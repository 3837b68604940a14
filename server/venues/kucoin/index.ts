/** KuCoin as one module: facts, feed adapter, symbol spelling, simulated twin. */
import type { VenueModule } from '../types.js';
import { kucoinAdapter } from './adapter.js';
import { facts } from './facts.js';
import { KucoinVenue } from './sim.js';
import * as symbols from './symbols.js';

export const kucoin: VenueModule = {
  facts,
  adapter: kucoinAdapter,
  symbols,
  replayContractValues: { BTC: 0.001, ETH: 0.01, SOL: 0.1, XRP: 10, DOGE: 100 },
  twin: {
    profile: { spreadBps: 0.9, noiseBps: 0.5, basisBps: 1.8, latencyMs: 30, touchUsd: 20_000 },
    lot: (spec) => spec.contractUnit / 10,
    create: (exchange, ctx) => new KucoinVenue(exchange, ctx),
  },
};
