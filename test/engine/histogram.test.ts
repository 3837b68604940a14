import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../server/engine/histogram.js';

describe('LatencyHistogram', () => {
  it('reports percentiles within its ~6 % bucket precision', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.recordNs(i * 100); // 100 ns .. 100 µs, uniform
    expect(h.count).toBe(1000);
    const p50 = h.percentileNs(50); // true 50,000
    expect(p50).toBeGreaterThanOrEqual(50_000);
    expect(p50).toBeLessThanOrEqual(50_000 * 1.07);
    const p99 = h.percentileNs(99); // true 99,000
    expect(p99).toBeGreaterThanOrEqual(99_000);
    expect(p99).toBeLessThanOrEqual(100_000);
    const s = h.summary();
    expect(s.maxUs).toBe(100);
    expect(s.meanUs).toBeCloseTo(50.05, 6);
  });

  it('small values are exact, huge ones clamp into the last bucket, negatives count as 0', () => {
    const h = new LatencyHistogram();
    h.recordNs(3);
    h.recordNs(-5);
    h.recordNs(1e13);
    expect(h.percentileNs(10)).toBe(0);
    expect(h.percentileNs(50)).toBe(3);
    expect(h.percentileNs(100)).toBeGreaterThan(4e9);
    h.reset();
    expect(h.count).toBe(0);
    expect(Number.isNaN(h.percentileNs(50))).toBe(true);
  });
});
