/** The figures of `npm run bench -- cluster` (bench/results/cluster.json) and the shape of one measurement. */

/** Every figure cluster.json carries (null = not measured in this run). */
export interface ClusterFigures {
  /** Engine bus → edge send over Redis at 10,000 events/s (goal p99 < 2 ms). */
  redis_hop_p50_ms: number | null;
  redis_hop_p99_ms: number | null;
  clients: number | null;
  /** 3,000 clients at 10 Hz over two edges. */
  delivery_p99_ms: number | null;
  /** 1,000 clients at 10 Hz on one node (ROLE=all). */
  single_node_delivery_p99_ms: number | null;
  /** A bare `ws` server sending the same frames to the same clients in the same run. */
  floor_p99_ms: number | null;
  /** single_node_delivery_p99_ms ÷ floor_p99_ms (goal ≤ 1.5). */
  fanout_ratio_vs_floor: number | null;
  /** Active engine `kill -9` → the standby's rows flowing again. */
  failover_s: number | null;
}

export interface Measurement {
  name: string;
  fields: Array<keyof ClusterFigures>;
  /** Absent: not built yet; `needs` says what it waits for. */
  run?: () => Promise<{ figures: Partial<ClusterFigures>; detail: Record<string, unknown>; rows: Array<[string, string | number]> }>;
  needs?: string;
}
