/**
 * The seed design's latency budget per stage (µs), to colour the system panel. Stages without a budget
 * in the seed show no target. End to end is the release goal: p99 < 5 ms.
 */
import type { LatencyStage } from '../../../shared/protocol.js';

export const LATENCY_BUDGET_US: Record<LatencyStage, number | null> = {
  receive_to_parsed: 50,
  parsed_to_pipeline: 20,
  pipeline_to_detected: 500,
  detected_to_bus: 10,
  bus_to_sent: null,
  end_to_end: 5000,
};

export const LATENCY_STAGE_LABELS: Record<LatencyStage, string> = {
  receive_to_parsed: 'receive → parsed',
  parsed_to_pipeline: 'parsed → pipeline',
  pipeline_to_detected: 'pipeline → detected',
  detected_to_bus: 'detected → bus',
  bus_to_sent: 'bus → sent',
  end_to_end: 'end to end',
};

export type BudgetVerdict = 'ok' | 'warn' | 'over' | 'none';

/** p99 within budget → ok; within 2× → warn; beyond → over. */
export function budgetVerdict(stage: LatencyStage, p99Us: number | undefined): BudgetVerdict {
  const budget = LATENCY_BUDGET_US[stage];
  if (budget === null || p99Us === undefined || !Number.isFinite(p99Us)) return 'none';
  if (p99Us <= budget) return 'ok';
  return p99Us <= budget * 2 ? 'warn' : 'over';
}
