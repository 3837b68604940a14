/**
 * Source events → AlertEvents: opportunity bus events, strategy events and feed states, each reduced to
 * the fields rules look at and one human line. Pure functions plus one small tracker (feeds), so the
 * wiring stays a few lines.
 */
import type { FeedState } from '../../shared/feeds.js';
import { isFeedLive } from '../../shared/feeds.js';
import type { Opportunity, OpportunityEvent } from '../../shared/opportunity.js';
import type { Position, StrategyEvent } from '../../shared/position.js';
import type { AlertEvent } from './rules.js';

const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : String(n));

function opportunityDetails(o: Opportunity): Record<string, unknown> {
  return {
    id: o.id,
    instrument: o.instrument,
    longExchange: o.longExchange,
    shortExchange: o.shortExchange,
    longSettle: o.longSettle,
    shortSettle: o.shortSettle,
    crossQuote: o.crossQuote,
    spreadBps: o.spreadBps,
    fundingAprPct: o.fundingAprPct,
    projectedProfitBps: o.projectedProfitBps,
    projectedProfitUsd: o.projectedProfitUsd,
    notionalUsd: o.notionalUsd,
  };
}

/** An opened or updated event is a candidate "opened" alert (the deduper drops repeats); closed is "closed". */
export function fromOpportunityEvent(e: OpportunityEvent): AlertEvent {
  const o = e.opportunity;
  const closed = e.kind === 'closed';
  return {
    kind: closed ? 'opportunity_closed' : 'opportunity_opened',
    tsMs: e.tsMs,
    subject: o.id,
    instrument: o.instrument,
    venues: [o.longExchange, o.shortExchange],
    aprPct: o.fundingAprPct,
    profitBps: o.projectedProfitBps,
    crossQuote: o.crossQuote,
    // Lazy: most updates are repeats the deduper drops; only a sent alert needs its text and details.
    get text() {
      const legs = `long ${o.longExchange}${o.longSettle !== 'USDT' ? `:${o.longSettle}` : ''} / short ${o.shortExchange}${o.shortSettle !== 'USDT' ? `:${o.shortSettle}` : ''}`;
      const figures = `spread ${fmt(o.spreadBps)} bps, profit ${fmt(o.projectedProfitBps)} bps ($${fmt(o.projectedProfitUsd)}), funding APR ${fmt(o.fundingAprPct)} %`;
      return closed ? `Opportunity closed (${e.reason}): ${o.instrument} ${legs}; ${figures}` : `Opportunity opened: ${o.instrument} ${legs}; ${figures}`;
    },
    get details() {
      return closed ? { ...opportunityDetails(o), reason: e.reason } : opportunityDetails(o);
    },
  };
}

function positionEvent(kind: 'position_opened' | 'position_closed' | 'position_broken', tsMs: number, p: Position): AlertEvent {
  const legs = `long ${p.long.exchange} / short ${p.short.exchange}`;
  const what = kind === 'position_opened' ? 'Position opened' : kind === 'position_closed' ? `Position closed${p.exitReason ? ` (${p.exitReason})` : ''}` : 'Position BROKEN (naked leg)';
  const pnl = kind === 'position_closed' ? `, realised PnL $${fmt(p.realisedPnlUsd)}` : '';
  return {
    kind,
    tsMs,
    subject: p.id,
    instrument: p.instrument,
    venues: [p.long.exchange, p.short.exchange],
    aprPct: null,
    profitBps: null,
    crossQuote: (p.long.settle ?? 'USDT') !== (p.short.settle ?? 'USDT'),
    text: `${what}: ${p.instrument} ${legs}, notional $${fmt(p.notionalUsd, 0)}${pnl}${p.action ? ` — ${p.action}` : ''}`,
    details: { id: p.id, instrument: p.instrument, state: p.state, notionalUsd: p.notionalUsd, realisedPnlUsd: p.realisedPnlUsd, exitReason: p.exitReason, action: p.action ?? null },
  };
}

/** Strategy events that are transitions; null for the rest (fills, portfolio, rejections, other updates). */
export function fromStrategyEvent(e: StrategyEvent): AlertEvent | null {
  switch (e.kind) {
    case 'position_opened':
      return positionEvent('position_opened', e.tsMs, e.position);
    case 'position_closed':
      return positionEvent('position_closed', e.tsMs, e.position);
    case 'position_updated':
      // Every update of a broken position says "broken": the deduper alerts the first only.
      return e.position.state === 'broken' ? positionEvent('position_broken', e.tsMs, e.position) : null;
    case 'trading_state':
      return {
        kind: 'trading_state',
        tsMs: e.tsMs,
        subject: 'trading',
        instrument: null,
        venues: [],
        aprPct: null,
        profitBps: null,
        crossQuote: false,
        text: `Trading state: ${e.state}${e.reason ? ` (${e.reason})` : ''}`,
        details: { state: e.state, reason: e.reason },
      };
    default:
      return null;
  }
}

/**
 * Feed states → down/up transitions. A venue's first connection is not an "up" (start-up is not news);
 * "down" is live → not live, "up" is back to live after a "down".
 */
export class FeedTransitions {
  private readonly seen = new Map<string, 'never' | 'live' | 'down'>();

  next(state: FeedState, nowMs: number): AlertEvent | null {
    if (state.removed) {
      this.seen.delete(state.exchange);
      return null;
    }
    const isLive = isFeedLive(state);
    const before = this.seen.get(state.exchange) ?? 'never';
    if (before === 'never') {
      this.seen.set(state.exchange, isLive ? 'live' : 'never');
      return null;
    }
    if ((before === 'live') === isLive) return null;
    this.seen.set(state.exchange, isLive ? 'live' : 'down');
    const why = state.lastError ? `: ${state.lastError.message}` : '';
    return {
      kind: isLive ? 'feed_up' : 'feed_down',
      tsMs: nowMs,
      subject: state.exchange,
      instrument: null,
      venues: [state.exchange],
      aprPct: null,
      profitBps: null,
      crossQuote: false,
      text: isLive ? `Feed up: ${state.exchange} is live again` : `Feed down: ${state.exchange} is ${state.status}${why}`,
      details: { venue: state.exchange, status: state.status, downSinceMs: state.downSinceMs, reconnects: state.reconnects },
    };
  }
}
