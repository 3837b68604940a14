/** OKX as one module: facts, feed adapter, symbol spelling, simulated twin. */
import type { VenueModule } from '../types.js';
import { okxAdapter } from './adapter.js';
import { facts } from './facts.js';
import { OkxVenue } from './sim.js';
import * as symbols from './symbols.js';

export const okx: VenueModule = {
  facts,
  adapter: okxAdapter,
  symbols,
  replayContractValues: { BTC: 0.01, ETH: 0.1, SOL: 1, XRP: 100, DOGE: 1000 },
  twin: {
    profile: { spreadBps: 0.5, noiseBps: 0.35, basisBps: 1.2, latencyMs: 18, touchUsd: 45_000 },
    lot: (spec) => spec.contractUnit,
    create: (exchange, ctx) => new OkxVenue(exchange, ctx),
  },
};
