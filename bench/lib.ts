/**
 * Shared helpers for benchmarks: latency recording without per-sample allocation, percentiles, and
 * writing results to bench/results/<name>.json (git-ignored) so runs can be compared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Fixed-capacity sample recorder (Float64Array): records without allocating; keeps the first `capacity` samples. */
export class Samples {
  private readonly values: Float64Array;
  private n = 0;
  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }
  add(v: number): void {
    if (this.n < this.values.length) this.values[this.n++] = v;
  }
  get count(): number {
    return this.n;
  }
  /** Percentile (0..100) by nearest rank over the recorded samples. */
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN;
    const sorted = this.values.slice(0, this.n).sort();
    const rank = Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1));
    return sorted[rank];
  }
  summary(): { p50: number; p99: number; p999: number; max: number; count: number } {
    if (this.n === 0) return { p50: NaN, p99: NaN, p999: NaN, max: NaN, count: 0 };
    const sorted = this.values.slice(0, this.n).sort();
    const at = (p: number) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1))];
    return { p50: at(50), p99: at(99), p999: at(99.9), max: sorted[this.n - 1], count: this.n };
  }
  reset(): void {
    this.n = 0;
  }
}

/** Monotonic nanoseconds as a number (safe for differences within a run). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export function writeResult(name: string, result: Record<string, unknown>): string {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${name}.json`;
  const body = { name, ts: new Date().toISOString(), node: process.version, ...result };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(n);
}

/** Print a small aligned table of label → value. */
export function report(title: string, rows: Array<[string, string | number]>): void {
  console.log(`\n== ${title} ==`);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${typeof v === 'number' ? fmt(v, 2) : v}`);
}
