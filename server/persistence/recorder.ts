/**
 * The persistence subscriber of the opportunity bus: every event the detector publishes is handed to
 * `persistence.appendOpportunityEvent` (a memory-only enqueue) when the bus wakes its subscribers, i.e.
 * after the detection step that published it, never inside it.
 */
import type { OpportunityEvent } from '../../shared/opportunity.js';
import type { Persistence } from './persistence.js';

/** The part of the engine's BroadcastRing this needs (server/engine/bus.ts). */
export interface OpportunitySource {
  subscribe(
    name: string,
    onWake?: () => void,
  ): { popBatch(max: number): OpportunityEvent[]; takeMissed(): number; readonly pending: number; close(): void };
}

export interface OpportunityRecorder {
  /** Events handed to persistence. */
  readonly recorded: number;
  /** Events the recorder lost because it fell more than the bus capacity behind. */
  readonly missed: number;
  /** Records what is pending now (also called on every wake). */
  drain(): void;
  stop(): void;
}

export function recordOpportunities(bus: OpportunitySource, persistence: Pick<Persistence, 'appendOpportunityEvent'>): OpportunityRecorder {
  let recorded = 0;
  let missed = 0;
  const drain = (): void => {
    missed += sub.takeMissed();
    for (;;) {
      const batch = sub.popBatch(4096);
      if (batch.length === 0) return;
      for (const e of batch) persistence.appendOpportunityEvent(e);
      recorded += batch.length;
    }
  };
  const sub = bus.subscribe('persistence', () => drain());
  return {
    get recorded() {
      return recorded;
    },
    get missed() {
      return missed;
    },
    drain,
    stop: () => {
      drain();
      sub.close();
    },
  };
}
