/** Gate (futures v4, USDT-settled) as one module: facts, feed adapter, symbol spelling, simulated twin. */
import type { VenueModule } from '../types.js';
import { gateAdapter } from './adapter.js';
import { facts } from './facts.js';
import { GateVenue } from './sim.js';
import * as symbols from './symbols.js';

/** Gate's `quanto_multiplier` for BTC_USDT and ETH_USDT (shape notes in test/fixtures/gate/SOURCES.md); other twin contracts are one tenth of the round unit. */
const KNOWN_QUANTO: Readonly<Record<string, number>> = { BTC: 0.0001, ETH: 0.01 };

export const gate: VenueModule = {
  facts,
  adapter: gateAdapter,
  symbols,
  /** `quanto_multiplier` of the common coins (BTC 0.0001 and ETH 0.01 as in Gate's contract list; the others ⚠️ from memory, replay only). */
  replayContractValues: { BTC: 0.0001, ETH: 0.01, SOL: 1, XRP: 10, DOGE: 10 },
  twin: {
    profile: { spreadBps: 0.8, noiseBps: 0.45, basisBps: 1.6, latencyMs: 25, touchUsd: 25_000 },
    lot: (spec) => KNOWN_QUANTO[spec.base] ?? spec.contractUnit / 10,
    create: (exchange, ctx) => new GateVenue(exchange, ctx),
  },
};
