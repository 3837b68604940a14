/**
 * The seed design's latency budget per stage: a bound on the stage's p99 (µs), to colour the system panel.
 * Stages without a budget in the seed show no target. End to end is the release goal: p99 < 5 ms.
 */
import type { LatencyStage, LatencySummary } from '../../../shared/protocol.js';

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

export type BudgetVerdict = 'ok' | 'warn' | 'over' | 'none' | 'no_samples';

/**
 * The stage's p99 against its p99 budget: within → ok; within 2× → warn; beyond → over. A stage that has
 * measured nothing yet is `no_samples` (its zeros are not a measurement); a stage without budget is `none`.
 */
export function budgetVerdict(stage: LatencyStage, summary: LatencySummary | undefined): BudgetVerdict {
  if (!summary || !(summary.count > 0) || !Number.isFinite(summary.p99Us)) return 'no_samples';
  const budget = LATENCY_BUDGET_US[stage];
  if (budget === null) return 'none';
  if (summary.p99Us <= budget) return 'ok';
  return summary.p99Us <= budget * 2 ? 'warn' : 'over';
}

/** The unit a stage's figures are shown in: the budget's (so p99 and budget read alike), µs without one. */
export function latencyUnit(stage: LatencyStage): 'µs' | 'ms' {
  const budget = LATENCY_BUDGET_US[stage];
  return budget !== null && budget >= 1000 ? 'ms' : 'µs';
}

/** A latency in the given unit, without the unit (the column header names it). */
export function fmtLatency(us: number | null | undefined, unit: 'µs' | 'ms'): string {
  if (typeof us !== 'number' || !Number.isFinite(us)) return '–';
  if (unit === 'ms') return (us / 1000).toFixed(us < 10_000 ? 2 : 1);
  return us < 10 ? us.toFixed(1) : String(Math.round(us));
}
