/**
 * Subscribes the alerts service to the three sources of transitions, beside the other consumers and off
 * the hot path: the opportunity bus and the strategy's event ring (own cursors, drained when the ring
 * wakes its subscribers after the publishing step), and the feed manager's state listener.
 */
import type { FeedState } from '../../shared/feeds.js';
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { StrategyEvent } from '../../shared/position.js';
import { FeedTransitions, fromOpportunityEvent, fromStrategyEvent } from './events.js';
import type { AlertEvent } from './rules.js';

/** The part of a BroadcastRing (server/engine/bus.ts) a subscriber needs. */
interface Ring<T> {
  subscribe(name: string, onWake?: () => void): { popBatch(max: number): T[]; close(): void };
}

export interface AlertSources {
  opportunities: Ring<OpportunityEvent>;
  strategy: Ring<StrategyEvent>;
  feeds: { onState(listener: (state: FeedState) => void): void } | null;
  now: () => number;
}

/**
 * `wants(kind)`: some enabled rule alerts on that kind (cheap; checked before an event is converted).
 */
export function wireAlerts(handle: (e: AlertEvent) => void, sources: AlertSources, wants: (kind: AlertEvent['kind']) => boolean = () => true): { stop(): void } {
  let stopped = false;
  const opp = sources.opportunities.subscribe('alerts', () => {
    for (let batch = opp.popBatch(4096); batch.length > 0; batch = opp.popBatch(4096)) {
      if (!wants('opportunity_opened') && !wants('opportunity_closed')) continue; // popped (the ring can release them), not converted
      for (const e of batch) handle(fromOpportunityEvent(e));
    }
  });
  const strat = sources.strategy.subscribe('alerts', () => {
    for (let batch = strat.popBatch(1024); batch.length > 0; batch = strat.popBatch(1024)) {
      for (const e of batch) {
        const a = fromStrategyEvent(e);
        if (a) handle(a);
      }
    }
  });
  const feeds = new FeedTransitions();
  sources.feeds?.onState((state) => {
    if (stopped) return;
    const a = feeds.next(state, sources.now());
    if (a) handle(a);
  });
  return {
    stop: () => {
      stopped = true;
      opp.close();
      strat.close();
    },
  };
}
