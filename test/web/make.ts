/** Builders of realistic domain objects for the dashboard's store tests. */
import type { Exchange } from '../../shared/exchanges.js';
import { opportunityId, type Opportunity } from '../../shared/opportunity.js';
import type { Leg, Portfolio, Position } from '../../shared/position.js';
import type { EngineStats, ServerFrame, ServerMessage, Snapshot } from '../../shared/protocol.js';

export function opportunity(instrument: string, longEx: Exchange, shortEx: Exchange, profitBps: number, over: Partial<Opportunity> = {}): Opportunity {
  const longAsk = 100;
  const spreadBps = profitBps + 22;
  return {
    id: opportunityId(instrument, longEx, shortEx, over.longSettle, over.shortSettle),
    instrument,
    longExchange: longEx,
    shortExchange: shortEx,
    longSettle: 'USDT',
    shortSettle: 'USDT',
    crossQuote: (over.longSettle ?? 'USDT') !== (over.shortSettle ?? 'USDT'),
    longSymbol: instrument.replace(/-PERP$/, '').replace('-', ''),
    shortSymbol: instrument.replace(/-PERP$/, '').replace('-', ''),
    longAsk,
    shortBid: longAsk * (1 + spreadBps / 1e4),
    longAskSize: 10,
    shortBidSize: 10,
    spreadBps,
    longFundingRate8h: 0.0001,
    shortFundingRate8h: 0.0002,
    fundingDelta8h: 0.0001,
    fundingAprPct: 10.95,
    longNextFundingMs: 1_700_000_000_000 + 3_600_000,
    shortNextFundingMs: 1_700_000_000_000 + 7_200_000,
    longFundingIntervalMs: 28_800_000,
    shortFundingIntervalMs: 28_800_000,
    feesBps: 21,
    slippageBps: 1,
    expectedFundingBps: 0,
    projectedProfitBps: profitBps,
    projectedProfitUsd: profitBps / 10,
    notionalUsd: 1000,
    confidence: 60,
    breakEvenHours: null,
    longQuoteAgeMs: 5,
    shortQuoteAgeMs: 8,
    firstSeenMs: 1_700_000_000_000,
    updatedMs: 1_700_000_000_000,
    peakProfitBps: profitBps,
    updateCount: 1,
    ...over,
  };
}

function leg(exchange: Exchange, side: 'long' | 'short'): Leg {
  return {
    exchange,
    symbol: 'BTCUSDT',
    side,
    quantity: 0.01,
    entryPrice: 100_000,
    markPrice: 100_010,
    marginUsd: 200,
    liquidationPrice: side === 'long' ? 80_000 : 120_000,
    liquidationDistancePct: 20,
    fundingUsd: 0,
    feesUsd: 0.5,
    unrealisedPnlUsd: 0.1,
    nextFundingMs: 1_700_000_000_000 + 3_600_000,
  };
}

export function position(id: string, state: Position['state'] = 'open', over: Partial<Position> = {}): Position {
  return {
    id,
    instrument: 'BTC-PERP',
    opportunityId: opportunityId('BTC-PERP', 'okx', 'bybit'),
    state,
    long: leg('okx', 'long'),
    short: leg('bybit', 'short'),
    notionalUsd: 1000,
    openedMs: 1_700_000_000_000,
    closedMs: state === 'closed' ? 1_700_000_060_000 : null,
    entrySpreadBps: 30,
    currentSpreadBps: 10,
    entryProjectedProfitBps: 8,
    realisedPnlUsd: state === 'closed' ? 1.2 : 0,
    unrealisedPnlUsd: 0.2,
    fundingUsd: 0,
    feesUsd: 1,
    exitReason: state === 'closed' ? 'manual' : null,
    transitions: [],
    ...over,
  };
}

export function stats(over: Partial<EngineStats> = {}): EngineStats {
  return {
    tsMs: 1_700_000_000_000,
    updatesPerSec: 1000,
    updatesTotal: 5000,
    pipelineDropped: 0,
    rejected: {},
    busMissed: {},
    opportunitiesOpen: 0,
    quarantine: { total: 0, byExchange: {}, active: {}, review: [] },
    wsClients: 1,
    latency: { end_to_end: { p50Us: 300, p99Us: 1200, count: 5000 } },
    ...over,
  };
}

export function portfolio(over: Partial<Portfolio> = {}): Portfolio {
  return {
    tsMs: 1_700_000_000_000,
    startingCapitalUsd: 100_000,
    equityUsd: 100_000,
    availableCapitalUsd: 99_600,
    reservedMarginUsd: 400,
    grossExposureUsd: 2000,
    exposureByInstrument: {},
    exposureByExchange: {},
    realisedPnlUsd: 0,
    unrealisedPnlUsd: 0,
    feesPaidUsd: 0,
    fundingUsd: 0,
    dailyPnlUsd: 0,
    openPositions: 0,
    tradingState: 'active',
    ...over,
  };
}

export function snapshot(seq: number, opportunities: Opportunity[], over: Partial<Snapshot> = {}): Snapshot {
  return {
    type: 'snapshot',
    seq,
    tsMs: 1_700_000_000_000,
    opportunities,
    recentlyClosed: [],
    positions: [],
    portfolio: portfolio(),
    tradingState: 'active',
    feeds: [],
    configVersion: 1,
    stats: stats(),
    ...over,
  };
}

export function frame(n: number, ...messages: ServerMessage[]): ServerFrame {
  return { frame: n, messages };
}

export const opened = (seq: number, o: Opportunity): ServerMessage => ({ type: 'opportunity', seq, tsMs: o.updatedMs, recvUs: o.updatedMs * 1000, event: 'opened', opportunity: o });
export const updated = (seq: number, o: Opportunity): ServerMessage => ({ type: 'opportunity', seq, tsMs: o.updatedMs, recvUs: o.updatedMs * 1000, event: 'updated', opportunity: o });
export const closed = (seq: number, o: Opportunity, reason: 'spread_below_min' | 'stale_quote' = 'spread_below_min', lifetimeMs = 1234): ServerMessage => ({
  type: 'opportunity',
  seq,
  tsMs: o.updatedMs,
  recvUs: o.updatedMs * 1000,
  event: 'closed',
  opportunity: o,
  reason,
  lifetimeMs,
});
