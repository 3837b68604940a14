/**
 * A latency recorder (µs) read two ways: percentiles per stats interval (the dashboard's budget) and a
 * cumulative histogram since start (Prometheus). Both allocation-free engine histograms.
 */
import { type LatencyBuckets, LatencyHistogram } from '../engine/histogram.js';
import type { LatencySummary } from '../../shared/protocol.js';

export class LatencyWindow {
  private readonly histogram = new LatencyHistogram();
  private readonly sinceStart = new LatencyHistogram();
  private last: LatencySummary = { p50Us: 0, p99Us: 0, count: 0 };

  record(us: number): void {
    if (!(us >= 0)) return; // negative = clocks disagree; ignore
    this.histogram.recordUs(us);
    this.sinceStart.recordUs(us);
  }

  /** Summary of the samples since the previous roll; starts a new window. */
  roll(): LatencySummary {
    const s = this.histogram.summary();
    this.last = s.count > 0 ? { p50Us: s.p50Us, p99Us: s.p99Us, count: s.count } : { p50Us: 0, p99Us: 0, count: 0 };
    this.histogram.reset();
    return this.last;
  }

  /** The last completed window. */
  get summary(): LatencySummary {
    return this.last;
  }

  /** Every sample since start (never rolled). */
  get cumulative(): LatencyBuckets {
    return this.sinceStart;
  }
}
