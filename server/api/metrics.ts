/**
 * Prometheus metrics (prom-client) on a private registry, read from the live components at scrape time:
 * market updates, drops, per-stage latency, ws clients, feed states, persistence backlog.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { FeedState, FeedStatus } from '../../shared/feeds.js';
import type { EngineStats } from '../../shared/protocol.js';
import type { PersistenceHealth } from '../persistence/persistence.js';
import type { StreamCounters } from './stream/hub.js';

export interface MetricsSources {
  stats(): EngineStats;
  feeds(): FeedState[];
  persistence(): PersistenceHealth;
  stream(): StreamCounters;
  configVersion(): number;
}

const FEED_STATUSES: FeedStatus[] = ['connecting', 'live', 'stale', 'backoff', 'stopped'];

export class ApiMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Gauge<'method' | 'status'>;
  private readonly requestCounts = new Map<string, number>();

  constructor(sources: MetricsSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'perpscan_process_' });
    const g = <L extends string>(name: string, help: string, labelNames: L[], collect: (gauge: Gauge<L>) => void) =>
      new Gauge<L>({ name, help, labelNames, registers: [r], collect(this: Gauge<L>) { collect(this); } });

    g('perpscan_market_updates_total', 'Market updates processed by the engine', [], (m) => m.set(sources.stats().updatesTotal));
    g('perpscan_market_updates_per_second', 'Market updates per second (last interval)', [], (m) => m.set(sources.stats().updatesPerSec));
    g('perpscan_pipeline_dropped_total', 'Updates dropped because the pipeline ring was full', [], (m) => m.set(sources.stats().pipelineDropped));
    g('perpscan_updates_rejected_total', 'Updates rejected for insane values, by reason', ['reason'], (m) => {
      m.reset();
      for (const [reason, n] of Object.entries(sources.stats().rejected)) m.set({ reason }, n);
    });
    g('perpscan_bus_missed_total', 'Events missed by slow bus subscribers', ['subscriber'], (m) => {
      m.reset();
      for (const [subscriber, n] of Object.entries(sources.stats().busMissed)) m.set({ subscriber }, n);
    });
    g('perpscan_opportunities_open', 'Open opportunities', [], (m) => m.set(sources.stats().opportunitiesOpen));
    g('perpscan_latency_microseconds', 'Per-stage latency over the last stats interval', ['stage', 'quantile'], (m) => {
      m.reset();
      for (const [stage, s] of Object.entries(sources.stats().latency)) {
        if (!s) continue;
        m.set({ stage, quantile: '0.5' }, s.p50Us);
        m.set({ stage, quantile: '0.99' }, s.p99Us);
      }
    });
    g('perpscan_ws_clients', 'Connected /ws clients', [], (m) => m.set(sources.stream().clients));
    g('perpscan_ws_frames_sent_total', 'Frames sent to /ws clients', [], (m) => m.set(sources.stream().framesSent));
    g('perpscan_ws_clients_cut_off_total', 'Clients terminated because their send buffer passed the limit', [], (m) => m.set(sources.stream().terminatedSlow));
    g('perpscan_ws_missed_events_total', 'Bus events the stream lost (clients told to resync)', [], (m) => m.set(sources.stream().missedEvents));
    g('perpscan_feed_status', 'Feed status per exchange (1 for the current status)', ['exchange', 'status'], (m) => {
      m.reset();
      for (const f of sources.feeds()) for (const status of FEED_STATUSES) m.set({ exchange: f.exchange, status }, f.status === status ? 1 : 0);
    });
    g('perpscan_feed_messages_total', 'Wire messages received per exchange', ['exchange'], (m) => {
      m.reset();
      for (const f of sources.feeds()) m.set({ exchange: f.exchange }, f.messages);
    });
    g('perpscan_feed_errors_total', 'Malformed or unknown wire messages dropped per exchange', ['exchange'], (m) => {
      m.reset();
      for (const f of sources.feeds()) m.set({ exchange: f.exchange }, Object.values(f.errors).reduce((a, b) => a + b, 0));
    });
    g('perpscan_feed_reconnects_total', 'Reconnects per exchange', ['exchange'], (m) => {
      m.reset();
      for (const f of sources.feeds()) m.set({ exchange: f.exchange }, f.reconnects);
    });
    g('perpscan_persistence_backlog', 'Writes buffered and not yet acknowledged', [], (m) => m.set(sources.persistence().backlog));
    g('perpscan_persistence_dropped_total', 'Writes dropped because the backlog passed its bound', [], (m) => m.set(sources.persistence().dropped));
    g('perpscan_persistence_connected', '1 when the store is reachable', [], (m) => m.set(sources.persistence().connected ? 1 : 0));
    g('perpscan_config_version', 'Current config version', [], (m) => m.set(sources.configVersion()));
    this.httpRequests = g('perpscan_http_requests_total', 'HTTP requests by method and status', ['method', 'status'], (m) => {
      m.reset();
      for (const [key, n] of this.requestCounts) {
        const [method, status] = key.split(' ');
        m.set({ method, status }, n);
      }
    });
  }

  countRequest(method: string, status: number): void {
    const key = `${method} ${status}`;
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
