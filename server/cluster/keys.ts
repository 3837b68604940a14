/**
 * The Redis keys of a cluster (ROLE=engine / ROLE=edge) under the persistence prefix, next to the
 * persistence keys (server/persistence/redis-keys.ts). Documented in docs/cluster.md.
 */
export function clusterKeys(prefix: string) {
  const p = `${prefix}cluster:`;
  return {
    /** Last event sequence number handed out (INCRBY by the active engine only). */
    seq: `${p}seq`,
    /** Capped stream of event batches, entry id `<last seq of the batch>-0`, field `p` = the published payload. */
    events: `${p}events`,
    /** Pub/Sub channel carrying the same payloads live. */
    live: `${p}live`,
    /** Hash: the engine's state and the sequence it reflects (`seq`, `token`, one JSON field per part). */
    snapshot: `${p}snapshot`,
    /** String: the engine's funding board (FundingBoardState JSON), rewritten fenced when it changed. */
    funding: `${p}funding`,
    /** Lease: SET NX PX by the active engine, value = its owner id; renewed while it lives. */
    lease: `${p}lease`,
    /** Fencing token: INCR on every acquisition; writes carrying an older token are refused. */
    fence: `${p}fence`,
    /** Pub/Sub channel of relayed mutations (only the active engine subscribes). */
    requests: `${p}requests`,
    /** Pub/Sub channel of one edge's replies. */
    replies: (edgeId: string) => `${p}replies:${edgeId}`,
  };
}
export type ClusterKeys = ReturnType<typeof clusterKeys>;
