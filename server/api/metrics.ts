/**
 * Prometheus metrics (prom-client) on a private registry, read from the live components at scrape time.
 *
 * Conventions (https://prometheus.io/docs/practices/naming/): every counter is a `counter` named `*_total`;
 * latencies are `histogram`s in seconds (`*_seconds`); money is `*_usd`; per-venue series carry a `venue`
 * label. Process and Node.js metrics are prom-client's defaults under their standard names (`process_*`,
 * `nodejs_*`), so stock dashboards work.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import type { AlertsStatus } from '../../shared/alerts.js';
import type { FundingBackfillStatus } from '../../shared/funding-history.js';
import type { DepthStatus } from '../../shared/depth.js';
import { type FeedState, type FeedStatus, isFeedLive } from '../../shared/feeds.js';
import type { Portfolio, TradingState } from '../../shared/position.js';
import type { EngineStats, LatencyStage } from '../../shared/protocol.js';
import type { LatencyBuckets } from '../engine/histogram.js';
import type { PersistenceHealth } from '../persistence/persistence.js';
import type { FillCount } from '../strategy/fill-log.js';
import type { StreamCounters } from './stream/hub.js';

export interface MetricsSources {
  stats(): EngineStats;
  /** Detector lifecycle counters since start. */
  opportunityCounts(): { opened: number; closed: Record<string, number> };
  feeds(): FeedState[];
  persistence(): PersistenceHealth;
  stream(): StreamCounters;
  configVersion(): number;
  portfolio(): Portfolio;
  tradingState(): TradingState;
  /** Every rejected entry evaluation since start, by reason. */
  rejectionCounts(): Record<string, number>;
  fillCounts(): FillCount[];
  /** Cumulative latency histograms per pipeline stage (those that exist in this process). */
  latency(): Partial<Record<LatencyStage, LatencyBuckets>>;
  /** Alert rule and delivery counters (absent = no alerts service). */
  alerts?(): AlertsStatus;
  /** Funding-history backfill progress and store size (absent = no backfill). */
  fundingHistory?(): FundingBackfillStatus;
  /** Order-book feeds for candidates (absent = none run). */
  depth?(): DepthStatus;
}

const FEED_STATUSES: FeedStatus[] = ['connecting', 'live', 'stale', 'backoff', 'stopped'];
const TRADING_STATES: TradingState[] = ['active', 'reducing', 'halted'];

/** Histogram bounds (seconds) for pipeline stages: 10 µs … 5 s. */
export const LATENCY_BUCKETS_SECONDS = [1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const HTTP_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** One scrape's readings, so every metric of a scrape sees the same numbers and each source is read once. */
interface Readings {
  stats: EngineStats;
  opportunities: { opened: number; closed: Record<string, number> };
  feeds: FeedState[];
  persistence: PersistenceHealth;
  stream: StreamCounters;
  portfolio: Portfolio;
}

/** Quarantined quotes since start per venue and reason (`EngineStats.quarantine.byExchange`). */
export function quarantineCounts(stats: EngineStats): Array<{ venue: string; reason: string; count: number }> {
  const out: Array<{ venue: string; reason: string; count: number }> = [];
  for (const [venue, byReason] of Object.entries(stats.quarantine.byExchange)) {
    for (const [reason, count] of Object.entries(byReason ?? {})) if (count !== undefined) out.push({ venue, reason, count });
  }
  return out;
}

/** Venue symbols whose latest quote is quarantined now, per venue. */
export function quarantineActive(stats: EngineStats): Array<{ venue: string; count: number }> {
  return Object.entries(stats.quarantine.active).flatMap(([venue, count]) => (count === undefined ? [] : [{ venue, count }]));
}

/**
 * A Prometheus histogram whose buckets are read from the engine's own allocation-free histograms at scrape
 * time (recording into prom-client on the hot path would cost a label hash and a search per update).
 */
class StageLatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly boundsNs = LATENCY_BUCKETS_SECONDS.map((s) => s * 1e9);

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => Partial<Record<LatencyStage, LatencyBuckets>>,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> }> {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const [stage, h] of Object.entries(this.read())) {
      if (!h) continue;
      const counts = h.cumulativeCounts(this.boundsNs);
      LATENCY_BUCKETS_SECONDS.forEach((le, i) => values.push({ metricName: `${this.name}_bucket`, labels: { stage, le }, value: counts[i] }));
      values.push({ metricName: `${this.name}_bucket`, labels: { stage, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${this.name}_sum`, labels: { stage }, value: h.sumNs / 1e9 });
      values.push({ metricName: `${this.name}_count`, labels: { stage }, value: h.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    // Read-only view of the engine's histograms: nothing to reset here.
  }
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readings: Readings | null = null;

  constructor(private readonly sources: MetricsSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    // Within render() every metric shares one reading; a direct registry.metrics() reads per metric.
    const read = (): Readings => this.readings ?? this.read();

    /** A counter whose value is the source's running total (set at scrape; sources never go back). */
    const counter = <L extends string>(name: string, help: string, labelNames: L[], collect: (c: Counter<L>, now: Readings) => void) =>
      new Counter<L>({
        name,
        help,
        labelNames,
        registers: [r],
        collect(this: Counter<L>) {
          this.reset();
          collect(this, read());
        },
      });
    const gauge = <L extends string>(name: string, help: string, labelNames: L[], collect: (g: Gauge<L>, now: Readings) => void) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers: [r],
        collect(this: Gauge<L>) {
          this.reset();
          collect(this, read());
        },
      });

    // Market data and engine
    counter('perpscan_market_updates_total', 'Market updates processed by the engine', [], (m, x) => m.inc(x.stats.updatesTotal));
    gauge('perpscan_market_updates_per_second', 'Market updates per second over the last stats interval', [], (m, x) => m.set(x.stats.updatesPerSec));
    counter('perpscan_pipeline_dropped_total', 'Updates dropped because the pipeline ring was full', [], (m, x) => m.inc(x.stats.pipelineDropped));
    counter('perpscan_updates_rejected_total', 'Updates rejected for insane values, by reason', ['reason'], (m, x) => {
      for (const [reason, n] of Object.entries(x.stats.rejected)) m.inc({ reason }, n);
    });
    counter('perpscan_quotes_quarantined_total', 'Quotes kept out of scoring for being far from the other venues, by venue and reason', ['venue', 'reason'], (m, x) => {
      for (const q of quarantineCounts(x.stats)) m.inc({ venue: q.venue, reason: q.reason }, q.count);
    });
    gauge('perpscan_quotes_quarantined', 'Venue symbols whose latest quote is quarantined now, per venue', ['venue'], (m, x) => {
      for (const q of quarantineActive(x.stats)) m.set({ venue: q.venue }, q.count);
    });
    counter('perpscan_bus_missed_total', 'Events missed by slow bus subscribers', ['subscriber'], (m, x) => {
      for (const [subscriber, n] of Object.entries(x.stats.busMissed)) m.inc({ subscriber }, n);
    });
    r.registerMetric(
      // prom-client's typings list only its own classes; any object with this shape is a metric to the registry.
      new StageLatencyHistogram('perpscan_stage_latency_seconds', 'Latency of each pipeline stage (receive → parsed → pipeline → detected → bus → sent), since start', () =>
        this.sources.latency(),
      ) as unknown as Metric,
    );

    // Opportunities
    gauge('perpscan_opportunities_open', 'Open opportunities', [], (m, x) => m.set(x.stats.opportunitiesOpen));
    counter('perpscan_opportunities_opened_total', 'Opportunities opened since start', [], (m, x) => m.inc(x.opportunities.opened));
    counter('perpscan_opportunities_closed_total', 'Opportunities closed since start, by reason', ['reason'], (m, x) => {
      for (const [reason, n] of Object.entries(x.opportunities.closed)) m.inc({ reason }, n);
    });

    // Paper trading
    gauge('perpscan_equity_usd', 'Portfolio equity: starting capital plus realised and unrealised PnL (USD)', [], (m, x) => m.set(x.portfolio.equityUsd));
    gauge('perpscan_realised_pnl_usd', 'Realised PnL of closed positions (USD)', [], (m, x) => m.set(x.portfolio.realisedPnlUsd));
    gauge('perpscan_unrealised_pnl_usd', 'Unrealised PnL of open positions at current marks (USD)', [], (m, x) => m.set(x.portfolio.unrealisedPnlUsd));
    gauge('perpscan_daily_pnl_usd', 'PnL of the current UTC day (USD)', [], (m, x) => m.set(x.portfolio.dailyPnlUsd));
    gauge('perpscan_gross_exposure_usd', 'Gross notional across all open legs (USD)', [], (m, x) => m.set(x.portfolio.grossExposureUsd));
    gauge('perpscan_positions_open', 'Positions not yet closed', [], (m, x) => m.set(x.portfolio.openPositions));
    gauge('perpscan_trading_state', 'Kill switch state (1 for the current state)', ['state'], (m) => {
      const current = this.sources.tradingState();
      for (const state of TRADING_STATES) m.set({ state }, state === current ? 1 : 0);
    });
    counter('perpscan_fills_total', 'Fills booked since start, by venue and purpose (entry, exit, unwind)', ['venue', 'purpose'], (m) => {
      for (const f of this.sources.fillCounts()) m.inc({ venue: f.exchange, purpose: f.purpose }, f.count);
    });
    counter('perpscan_risk_rejections_total', 'Entry evaluations refused by the risk rules since start, by reason', ['reason'], (m) => {
      for (const [reason, n] of Object.entries(this.sources.rejectionCounts())) m.inc({ reason }, n);
    });

    // Feeds
    gauge('perpscan_feed_up', 'Feed state per venue: 1 when live, 0 otherwise', ['venue'], (m, x) => {
      for (const f of x.feeds) m.set({ venue: f.exchange }, isFeedLive(f) ? 1 : 0);
    });
    gauge('perpscan_feed_status', 'Feed status per venue (1 for the current status)', ['venue', 'status'], (m, x) => {
      for (const f of x.feeds) for (const status of FEED_STATUSES) m.set({ venue: f.exchange, status }, f.status === status ? 1 : 0);
    });
    gauge('perpscan_feed_last_message_age_seconds', 'Seconds since the venue last sent a message (absent before the first)', ['venue'], (m, x) => {
      for (const f of x.feeds) if (f.lastMessageAgeMs !== null && f.lastMessageAgeMs >= 0) m.set({ venue: f.exchange }, f.lastMessageAgeMs / 1000);
    });
    counter('perpscan_feed_messages_total', 'Wire messages received per venue', ['venue'], (m, x) => {
      for (const f of x.feeds) m.inc({ venue: f.exchange }, f.messages);
    });
    counter('perpscan_feed_errors_total', 'Malformed or unknown wire messages dropped, per venue and reason', ['venue', 'reason'], (m, x) => {
      for (const f of x.feeds) for (const [reason, n] of Object.entries(f.errors)) m.inc({ venue: f.exchange, reason }, n);
    });
    counter('perpscan_feed_reconnects_total', 'Reconnects per venue', ['venue'], (m, x) => {
      for (const f of x.feeds) m.inc({ venue: f.exchange }, f.reconnects);
    });

    // Order books for candidates (issue 14)
    const depth = () => this.sources.depth?.();
    gauge('perpscan_depth_candidates', 'Candidate instruments with order books subscribed', [], (m) => m.set(depth()?.candidates ?? 0));
    gauge('perpscan_depth_books', 'Order books in sync per venue', ['venue'], (m) => {
      for (const v of depth()?.venues ?? []) m.set({ venue: v.exchange }, v.books);
    });
    counter('perpscan_depth_messages_total', 'Depth frames received per venue', ['venue'], (m) => {
      for (const v of depth()?.venues ?? []) m.inc({ venue: v.exchange }, v.messages);
    });
    counter('perpscan_depth_gaps_total', 'Depth sequence gaps per venue', ['venue'], (m) => {
      for (const v of depth()?.venues ?? []) m.inc({ venue: v.exchange }, v.gaps);
    });
    counter('perpscan_depth_checksum_failures_total', 'Depth checksum mismatches per venue', ['venue'], (m) => {
      for (const v of depth()?.venues ?? []) m.inc({ venue: v.exchange }, v.checksumFailures);
    });
    counter('perpscan_depth_resyncs_total', 'Order books resynced per venue (gaps, checksums, resets, crossed books, disconnects)', ['venue'], (m) => {
      for (const v of depth()?.venues ?? []) m.inc({ venue: v.exchange }, v.resyncs);
    });
    counter('perpscan_depth_errors_total', 'Malformed or unknown depth frames dropped, per venue and reason', ['venue', 'reason'], (m) => {
      for (const v of depth()?.venues ?? []) for (const [reason, n] of Object.entries(v.errors)) m.inc({ venue: v.exchange, reason }, n);
    });

    // Stream, persistence, config
    gauge('perpscan_ws_clients', 'Connected /ws clients', [], (m, x) => m.set(x.stream.clients));
    counter('perpscan_ws_connections_total', 'Accepted /ws connections since start', [], (m, x) => m.inc(x.stream.connectionsTotal));
    counter('perpscan_ws_frames_sent_total', 'Frames sent to /ws clients', [], (m, x) => m.inc(x.stream.framesSent));
    counter('perpscan_ws_bytes_sent_total', 'Bytes of frames sent to /ws clients', [], (m, x) => m.inc(x.stream.bytesSent));
    counter('perpscan_ws_frames_encoded_total', 'Frame bodies encoded (one per audience per tick, plus snapshots): shared by every client of an audience', [], (m, x) => m.inc(x.stream.framesEncoded));
    counter('perpscan_ws_frames_dropped_total', 'Frames not sent to clients over their buffer limit (replaced by a snapshot on resync)', [], (m, x) => m.inc(x.stream.framesDropped));
    counter('perpscan_ws_resyncs_total', 'Clients over their buffer limit resynced with a fresh snapshot once drained', [], (m, x) => m.inc(x.stream.resyncs));
    counter('perpscan_ws_clients_cut_off_total', 'Clients terminated because they could not keep up with the stream', [], (m, x) => m.inc(x.stream.terminatedSlow));
    counter('perpscan_ws_missed_events_total', 'Bus events the stream lost (clients told to resync)', [], (m, x) => m.inc(x.stream.missedEvents));
    counter('perpscan_ws_malformed_messages_total', 'Client messages that were not valid protocol messages', [], (m, x) => m.inc(x.stream.malformedClientMessages));
    counter('perpscan_ws_rate_limited_messages_total', 'Client messages dropped because their client sent faster than its budget', [], (m, x) => m.inc(x.stream.rateLimitedClientMessages));
    gauge('perpscan_persistence_backlog', 'Writes buffered and not yet acknowledged', [], (m, x) => m.set(x.persistence.backlog));
    counter('perpscan_persistence_dropped_total', 'Writes dropped because the backlog passed its bound', [], (m, x) => m.inc(x.persistence.dropped));
    gauge('perpscan_persistence_connected', '1 when the store is reachable', [], (m, x) => m.set(x.persistence.connected ? 1 : 0));
    gauge('perpscan_config_version', 'Current config version', [], (m) => m.set(this.sources.configVersion()));

    // Alerts: a slow or failing sink never delays the engine; what it costs shows here.
    const alerts = () => this.sources.alerts?.();
    counter('perpscan_alerts_fired_total', 'Alerts queued to a sink (one per matching rule and sink)', [], (m) => m.inc(alerts()?.fired ?? 0));
    counter('perpscan_alerts_deduplicated_total', 'Repeats of a state already alerted, not sent', [], (m) => m.inc(alerts()?.deduplicated ?? 0));
    counter('perpscan_alerts_suppressed_total', 'Matches held back by a rule cooldown', [], (m) => m.inc(alerts()?.suppressed ?? 0));
    counter('perpscan_alert_deliveries_total', 'Alert deliveries per sink and outcome (sent, failed after retries, dropped on a full queue)', ['sink', 'kind', 'outcome'], (m) => {
      for (const sink of alerts()?.sinks ?? []) {
        for (const outcome of ['sent', 'failed', 'dropped'] as const) m.inc({ sink: sink.id, kind: sink.kind, outcome }, sink[outcome]);
      }
    });
    gauge('perpscan_alert_queue_length', 'Alerts waiting in each sink queue (the one in flight included)', ['sink', 'kind'], (m) => {
      for (const sink of alerts()?.sinks ?? []) m.set({ sink: sink.id, kind: sink.kind }, sink.queued);
    });

    // Funding history: backfill progress per venue and the store's size.
    const history = () => this.sources.fundingHistory?.();
    counter('perpscan_funding_backfill_requests_total', 'Funding-history requests sent per venue', ['venue'], (m) => {
      for (const v of history()?.venues ?? []) m.inc({ venue: v.venue }, v.requests);
    });
    counter('perpscan_funding_backfill_errors_total', 'Funding-history requests that failed per venue', ['venue'], (m) => {
      for (const v of history()?.venues ?? []) m.inc({ venue: v.venue }, v.errors);
    });
    counter('perpscan_funding_backfill_points_total', 'Settlements stored by the backfill per venue', ['venue'], (m) => {
      for (const v of history()?.venues ?? []) m.inc({ venue: v.venue }, v.points);
    });
    gauge('perpscan_funding_backfill_legs', 'Legs known to the backfill per venue and state (done, failed, pending)', ['venue', 'state'], (m) => {
      for (const v of history()?.venues ?? []) {
        m.set({ venue: v.venue, state: 'done' }, v.legsDone);
        m.set({ venue: v.venue, state: 'failed' }, v.legsFailed);
        m.set({ venue: v.venue, state: 'pending' }, Math.max(0, v.legs - v.legsDone - v.legsFailed));
      }
    });
    gauge('perpscan_funding_history_points', 'Settlements held in the funding-history store', [], (m) => m.set(history()?.storedPoints ?? 0));

    // HTTP: counted as requests finish (real counters, not readings).
    this.httpRequests = new Counter({ name: 'perpscan_http_requests_total', help: 'HTTP requests by method and status', labelNames: ['method', 'status'], registers: [r] });
    this.httpDuration = new Histogram({
      name: 'perpscan_http_request_duration_seconds',
      help: 'HTTP request duration by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: HTTP_BUCKETS_SECONDS,
      registers: [r],
    });
  }

  /** One finished HTTP request; `route` is the route pattern (bounded label set), null when none matched. */
  countRequest(method: string, status: number, route: string | null, durationMs: number): void {
    this.httpRequests.inc({ method, status: String(status) });
    this.httpDuration.observe({ method, route: route ?? '(unmatched)' }, durationMs / 1000);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    this.readings = this.read();
    try {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    } finally {
      this.readings = null;
    }
  }

  private read(): Readings {
    const s = this.sources;
    return { stats: s.stats(), opportunities: s.opportunityCounts(), feeds: s.feeds(), persistence: s.persistence(), stream: s.stream(), portfolio: s.portfolio() };
  }
}
