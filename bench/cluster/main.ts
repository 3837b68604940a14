/**
 * `npm run bench -- cluster`: fan-out and scale-out figures of issue 15, in one run, written to
 * bench/results/cluster.json. Each measurement is a function filling some of the result's fields; one
 * not built yet is listed with what it needs, and its fields stay null ("not measured").
 *
 * Environment: CLUSTER_CLIENTS (1000), CLUSTER_SECONDS measured per phase (6; scale this, not the client
 * count, to fit a busy machine), CLUSTER_LOAD_PROCS (4), CLUSTER_SIM_RATE (1000 msgs/s),
 * CLUSTER_DISLOCATIONS_PER_MIN (30, as bench/e2e's fan-out), CLUSTER_INSTRUMENTS (BTC-PERP,ETH-PERP,SOL-PERP,XRP-PERP,DOGE-PERP).
 */
import { loadavg } from 'node:os';
import { report, writeResult } from '../lib.js';
import type { ClusterFigures, Measurement } from './figures.js';
import { measureClusterDelivery } from './delivery.js';
import { measureFailover } from './failover.js';
import { measureRedisHop } from './redis-hop.js';
import { measureSingleNodeVsFloor } from './single-node.js';

const clients = Number(process.env.CLUSTER_CLIENTS ?? 1000);
const seconds = Number(process.env.CLUSTER_SECONDS ?? 6);
const loadProcs = Math.max(1, Number(process.env.CLUSTER_LOAD_PROCS ?? 4));
const simRate = Number(process.env.CLUSTER_SIM_RATE ?? 1000);
const dislocationsPerMin = Number(process.env.CLUSTER_DISLOCATIONS_PER_MIN ?? 30);
const instruments = (process.env.CLUSTER_INSTRUMENTS ?? 'BTC-PERP,ETH-PERP,SOL-PERP,XRP-PERP,DOGE-PERP').split(',');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const edgeClients = Number(process.env.CLUSTER_EDGE_CLIENTS ?? 3000);
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : String(v));

/** In order; a measurement helper adds its own by giving its entry a `run` (a function in its own file). */
const MEASUREMENTS: Measurement[] = [
  {
    name: 'single node vs floor',
    fields: ['clients', 'single_node_delivery_p99_ms', 'floor_p99_ms', 'fanout_ratio_vs_floor'],
    run: async () => {
      const r = await measureSingleNodeVsFloor({ clients, seconds, loadProcs, simRate, dislocationsPerMin, instruments });
      const s = r.single_node;
      return {
        figures: { clients: r.clients, single_node_delivery_p99_ms: r.single_node_delivery_p99_ms, floor_p99_ms: r.floor_p99_ms, fanout_ratio_vs_floor: r.fanout_ratio_vs_floor },
        detail: { single_node: r.single_node, floor: r.floor },
        rows: [
          ['clients / load processes / seconds per phase', `${r.clients} / ${loadProcs} / ${seconds}`],
          ['server frames/s (per client) / mean frame bytes', `${f2(s.frames_per_sec)} / ${f2(s.mean_frame_bytes)}`],
          ['server throughput frames/s (all clients)', f2(s.frames_per_sec * r.clients)],
          ['single node delivery p50 / p99 ms', `${f2(s.p50_ms)} / ${f2(s.p99_ms)} (${s.samples} samples)`],
          ['single node opened/closed end to end p50 / p99 ms', `${f2(s.e2e_opened_closed.p50_ms)} / ${f2(s.e2e_opened_closed.p99_ms)} (${s.e2e_opened_closed.samples})`],
          ['server CPU %', f2(s.server_cpu_pct)],
          ['server pass (bus → last client written) p50 / p99 ms, last stats window', s.server_pass ? `${f2(s.server_pass.p50_ms)} / ${f2(s.server_pass.p99_ms)} (${s.server_pass.count})` : 'n/a'],
          ['floor pass (first → last send) p50 / p99 ms', `${f2(r.floor.server_pass.p50_ms)} / ${f2(r.floor.server_pass.p99_ms)} (${r.floor.server_pass.count})`],
          ['floor frames/s (per client) / throughput', `${f2(r.floor.frames_per_sec)} / ${f2(r.floor.frames_per_sec * r.clients)}`],
          ['floor delivery p50 / p99 ms', `${f2(r.floor.p50_ms)} / ${f2(r.floor.p99_ms)} (${r.floor.samples} samples)`],
          ['fanout_ratio_vs_floor (goal ≤ 1.5)', `${f2(r.fanout_ratio_vs_floor)} ${r.fanout_ratio_vs_floor <= 1.5 ? 'met' : 'MISSED'}`],
          ['frame gaps / clients cut (server, floor)', `${s.frame_gaps}, ${s.closed_early} / ${r.floor.frame_gaps}, ${r.floor.closed_early}`],
        ],
      };
    },
  },
  {
    name: 'redis hop',
    fields: ['redis_hop_p50_ms', 'redis_hop_p99_ms'],
    run: async () => {
      const r = await measureRedisHop({ redisUrl, eventsPerSec: 10_000, seconds });
      return {
        figures: { redis_hop_p50_ms: r.redis_hop_p50_ms, redis_hop_p99_ms: r.redis_hop_p99_ms },
        detail: { ...r },
        rows: [
          ['events / events per s', `${r.events} / ${f2(r.eventsPerSec)}`],
          ['engine bus → edge send p50 / p99 ms (goal p99 < 2)', `${f2(r.redis_hop_p50_ms)} / ${f2(r.redis_hop_p99_ms)} ${r.redis_hop_p99_ms < 2 ? 'met' : 'MISSED'}`],
        ],
      };
    },
  },
  {
    name: 'two edges',
    fields: ['delivery_p99_ms'],
    run: async () => {
      const r = await measureClusterDelivery({ redisUrl, clients: edgeClients, edges: 2, seconds });
      return {
        figures: { delivery_p99_ms: r.delivery_p99_ms },
        detail: { ...r },
        rows: [
          ['clients over edges', `${r.clients} over ${r.edges}`],
          ['delivery p50 / p99 / p99.9 ms', `${f2(r.delivery_p50_ms)} / ${f2(r.delivery_p99_ms)} / ${f2(r.delivery_p999_ms)} (${r.frames} frames)`],
        ],
      };
    },
  },
  {
    name: 'failover',
    fields: ['failover_s'],
    run: async () => {
      const r = await measureFailover({ redisUrl });
      return {
        figures: { failover_s: r.failover_s },
        detail: { ...r },
        rows: [
          ['kill -9 → standby holds the lease (s), lease TTL ms', `${f2(r.lease_taken_s)}, ${r.lease_ttl_ms}`],
          ['kill -9 → live rows again at an edge client (s, goal ≤ 5)', `${f2(r.failover_s)} ${r.failover_s <= 5 ? 'met' : 'MISSED'}`],
        ],
      };
    },
  },
];

const figures: ClusterFigures = {
  redis_hop_p50_ms: null,
  redis_hop_p99_ms: null,
  clients: null,
  delivery_p99_ms: null,
  single_node_delivery_p99_ms: null,
  floor_p99_ms: null,
  fanout_ratio_vs_floor: null,
  failover_s: null,
};
const details: Record<string, unknown> = {};
const notMeasured: Record<string, string> = {};
for (const m of MEASUREMENTS) {
  if (!m.run) {
    for (const f of m.fields) notMeasured[f] = `needs ${m.needs ?? 'a measurement'}`;
    console.log(`\n(${m.name}: not measured: needs ${m.needs}; ${m.fields.join(', ')} = null)`);
    continue;
  }
  const r = await m.run();
  Object.assign(figures, r.figures);
  details[m.name] = r.detail;
  report(`cluster: ${m.name}`, r.rows);
}
const file = writeResult('cluster', {
  ...figures,
  not_measured: notMeasured,
  detail: details,
  loadavg_1m_at_end: loadavg()[0],
  note: 'Delivery = client arrival − the sender\'s sentUs (start of the send pass that carried the frame), same host clock. The floor sends the frames the real server sent (recorded in the same run, at their recorded times) with one plain ws.send per client. Machine: 2 shared cores; loadavg says how busy.',
});
console.log(`\nwrote ${file}`);
process.exit(0);
