/** Turns the engine's raw counters into the wire `EngineStats` (rates computed between calls). */
import type { EngineCounters } from '../engine/index.js';
import type { EngineStats, LatencyStage, LatencySummary } from '../../shared/protocol.js';

export class EngineStatsTracker {
  private lastUpdates = 0;
  private lastMs = 0;
  private rate = 0;

  constructor(
    private readonly read: () => EngineCounters,
    private readonly extraLatency: () => Partial<Record<LatencyStage, LatencySummary>> = () => ({}),
    private readonly now: () => number = Date.now,
  ) {}

  stats(): EngineStats {
    const c = this.read();
    const nowMs = this.now();
    // Rate over at least 500 ms so frequent readers (REST, metrics) do not see noise.
    if (this.lastMs === 0) {
      this.lastMs = nowMs;
      this.lastUpdates = c.updates;
    } else if (nowMs - this.lastMs >= 500) {
      this.rate = ((c.updates - this.lastUpdates) * 1000) / (nowMs - this.lastMs);
      this.lastMs = nowMs;
      this.lastUpdates = c.updates;
    }
    const busMissed: Record<string, number> = {};
    for (const s of c.bus.subscribers) busMissed[s.name] = s.missed;
    const rejected: Record<string, number> = {};
    for (const [k, v] of Object.entries(c.rejected)) if (v > 0) rejected[k] = v;
    const pick = (s: { p50Us: number; p99Us: number; count: number }): LatencySummary => ({
      p50Us: Number.isFinite(s.p50Us) ? s.p50Us : 0,
      p99Us: Number.isFinite(s.p99Us) ? s.p99Us : 0,
      count: s.count,
    });
    return {
      tsMs: nowMs,
      updatesPerSec: Math.round(this.rate),
      updatesTotal: c.updates,
      pipelineDropped: c.pipeline.dropped,
      rejected,
      busMissed,
      opportunitiesOpen: c.detector.open,
      quarantine: c.quarantine,
      wsClients: 0,
      latency: {
        ...this.extraLatency(),
        pipeline_to_detected: pick(c.latencyUs.pipeline_to_detected),
        detected_to_bus: pick(c.latencyUs.detected_to_bus),
      },
    };
  }
}
