/**
 * Fixed log-linear latency histogram: records without allocating (one Float64Array of counts).
 *
 * Values are recorded in nanoseconds as integers. Each power of two is split into 16 linear
 * sub-buckets, so a reported percentile is within ~6 % of the true value. Values at or above
 * 2^32 ns (~4.3 s) land in the last bucket.
 */
const SUB_BITS = 4;
const SUB_COUNT = 1 << SUB_BITS; // 16
const BUCKETS = 32 * SUB_COUNT; // exponents 0..31

export interface LatencySummary {
  count: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

function bucketOf(ns: number): number {
  if (ns < SUB_COUNT) return ns < 0 ? 0 : ns | 0;
  if (ns >= 4294967295) return BUCKETS - 1;
  const v = ns >>> 0;
  const exp = 31 - Math.clz32(v); // >= SUB_BITS here
  return exp * SUB_COUNT + ((v >>> (exp - SUB_BITS)) & (SUB_COUNT - 1));
}

/** Upper edge (ns) of a bucket: the value reported for percentiles landing in it. */
function bucketUpperNs(bucket: number): number {
  if (bucket < SUB_COUNT) return bucket;
  const exp = Math.floor(bucket / SUB_COUNT);
  const sub = bucket % SUB_COUNT;
  const width = 2 ** (exp - SUB_BITS);
  return 2 ** exp + (sub + 1) * width - 1;
}

/** What a metrics exporter reads of a histogram (no reset, no recording). */
export interface LatencyBuckets {
  readonly count: number;
  /** Sum of every recorded value, ns. */
  readonly sumNs: number;
  cumulativeCounts(boundsNs: readonly number[]): number[];
}

export class LatencyHistogram implements LatencyBuckets {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private totalNs = 0;
  private maxNs = 0;

  /** Record one value in nanoseconds. */
  recordNs(ns: number): void {
    const v = ns > 0 ? Math.round(ns) : 0;
    this.counts[bucketOf(v)]++;
    this.total++;
    this.totalNs += v;
    if (v > this.maxNs) this.maxNs = v;
  }

  /** Record one value in microseconds (e.g. a difference of nowUs() readings). */
  recordUs(us: number): void {
    this.recordNs(us * 1000);
  }

  get count(): number {
    return this.total;
  }

  get sumNs(): number {
    return this.totalNs;
  }

  /**
   * For each bound (ascending, ns) the number of values recorded at or below it, as Prometheus `le`
   * buckets. A bucket counts towards a bound when its upper edge is within it, so a value is never
   * reported below its true size (at most one sub-bucket, ~6 %, above).
   */
  cumulativeCounts(boundsNs: readonly number[]): number[] {
    const out: number[] = [];
    let b = 0;
    let seen = 0;
    // The last bucket also holds everything above ~4.3 s: its true upper edge is the largest value seen.
    const edge = (bucket: number) => (bucket === BUCKETS - 1 ? Math.max(bucketUpperNs(bucket), this.maxNs) : bucketUpperNs(bucket));
    for (const bound of boundsNs) {
      while (b < BUCKETS && edge(b) <= bound) seen += this.counts[b++];
      out.push(seen);
    }
    return out;
  }

  /** Percentile (0..100) in nanoseconds: the upper edge of the bucket holding that rank. */
  percentileNs(p: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= rank) return Math.min(bucketUpperNs(b), this.maxNs);
    }
    return this.maxNs;
  }

  summary(): LatencySummary {
    const us = (ns: number) => Math.round(ns) / 1000;
    return {
      count: this.total,
      meanUs: this.total === 0 ? Number.NaN : us(this.totalNs / this.total),
      p50Us: us(this.percentileNs(50)),
      p90Us: us(this.percentileNs(90)),
      p99Us: us(this.percentileNs(99)),
      p999Us: us(this.percentileNs(99.9)),
      maxUs: this.total === 0 ? Number.NaN : us(this.maxNs),
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.totalNs = 0;
    this.maxNs = 0;
  }
}
