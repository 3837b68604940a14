/**
 * REST calls of the dashboard. URLs are relative (no leading slash) so they resolve under the page's
 * directory, which keeps working behind a reverse proxy sub-path. Mutating calls carry the API token.
 * Response types are the server's declared response schemas (shared/api.ts), so a change to a route's
 * shape is a compile error here.
 */
import type {
  FeedRestartResponse,
  FeedsResponse,
  HealthResponse,
  HistoryResponse,
  OpportunitiesResponse,
  PositionsResponse,
  RejectionsResponse,
  StatsResponse,
  TradesResponse,
  TradingStateChangeResponse,
  TradingStateResponse,
} from '../../../shared/api.js';
import type { AlertsConfig, AlertsResponse, AlertsTestResponse } from '../../../shared/alerts.js';
import type { ConfigPatch, VersionedConfig } from '../../../shared/config.js';
import type { DepthStatus } from '../../../shared/depth.js';
import type { Exchange } from '../../../shared/exchanges.js';
import type { FeedState } from '../../../shared/feeds.js';
import type { FundingResponse } from '../../../shared/funding.js';
import type { FundingBackfillStatus, FundingHistoryResponse } from '../../../shared/funding-history.js';
import { historyPath, type HistoryQuery } from './funding-history.js';
import type { Opportunity } from '../../../shared/opportunity.js';
import type { Fill, Portfolio, Position, RiskRejection, TradingState } from '../../../shared/position.js';
import type { ClosedOpportunity } from '../../../shared/protocol.js';

export const TOKEN_STORAGE_KEY = 'perpscan.apiToken';

/** A failed call. `field` is the dotted config path the server named in a 400, when it named one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export type FetchLike = (input: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
}>;

export interface ApiClientOptions {
  /** Prefix for the relative URLs, e.g. '' in the browser, 'http://127.0.0.1:8080/' in a test. */
  base?: string;
  fetch?: FetchLike;
  storage?: StorageLike | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ApiClient {
  private readonly base: string;
  private readonly fetchFn: FetchLike;
  private readonly storage: StorageLike | null;
  private memoryToken = '';

  constructor(opts: ApiClientOptions = {}) {
    this.base = opts.base ?? '';
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.storage = opts.storage === undefined ? (typeof localStorage === 'undefined' ? null : localStorage) : opts.storage;
  }

  get token(): string {
    try {
      // The browser's storage is the truth when there is one (another tab may have changed or cleared it).
      return this.storage ? (this.storage.getItem(TOKEN_STORAGE_KEY) ?? '') : this.memoryToken;
    } catch {
      return this.memoryToken;
    }
  }

  set token(value: string) {
    this.memoryToken = value.trim();
    try {
      if (this.memoryToken) this.storage?.setItem(TOKEN_STORAGE_KEY, this.memoryToken);
      else this.storage?.removeItem(TOKEN_STORAGE_KEY);
    } catch {
      // storage disabled: the token lives for this page only
    }
  }

  getConfig(): Promise<VersionedConfig> {
    return this.call<VersionedConfig>('GET', 'api/config');
  }

  /** `force`: apply even a change that leaves no venue or no instrument scanned (refused otherwise: `nothing_scanned`). */
  putConfig(patch: ConfigPatch | Record<string, unknown>, opts: { force?: boolean } = {}): Promise<VersionedConfig> {
    return this.call('PUT', opts.force ? 'api/config?force=true' : 'api/config', patch);
  }

  /** Alert rules and sinks (secrets masked) and delivery counters. */
  getAlerts(): Promise<AlertsResponse> {
    return this.call('GET', 'api/alerts');
  }

  /** Replaces the alert rules and sinks; a secret sent back masked keeps the stored one. */
  putAlerts(config: AlertsConfig | Record<string, unknown>): Promise<AlertsResponse> {
    return this.call('PUT', 'api/alerts', config);
  }

  /** Sends a test alert to every enabled sink (or the listed ones); the result per sink. */
  testAlerts(sinks?: string[]): Promise<AlertsTestResponse> {
    return this.call('POST', 'api/alerts/test', sinks ? { sinks } : {});
  }

  /** Order books for candidate instruments: per venue sockets, books in sync, gaps, checksum failures, resyncs. */
  getDepth(): Promise<DepthStatus> {
    return this.call('GET', 'api/feeds/depth');
  }

  /** Starts one venue's feed afresh (metadata, sockets). */
  restartFeed(venue: Exchange): Promise<FeedRestartResponse> {
    return this.call('POST', `api/feeds/${encodeURIComponent(venue)}/restart`, {});
  }

  async getOpportunities(limit = 500): Promise<Opportunity[]> {
    return (await this.call<OpportunitiesResponse>('GET', `api/opportunities?limit=${limit}`)).opportunities;
  }

  async getHistory(limit = 200): Promise<ClosedOpportunity[]> {
    return (await this.call<HistoryResponse>('GET', `api/opportunities/history?limit=${limit}`)).history;
  }

  async getPositions(state: 'open' | 'closed' | 'all' = 'all'): Promise<Position[]> {
    return (await this.call<PositionsResponse>('GET', state === 'all' ? 'api/positions' : `api/positions?state=${state}`)).positions;
  }

  /** Requests the close; answers with the position as it now is (usually `closing` or `closed`). */
  closePosition(id: string): Promise<Position> {
    return this.call('POST', `api/positions/${encodeURIComponent(id)}/close`, {});
  }

  /** Fills, newest first. */
  async getTrades(limit = 500): Promise<Fill[]> {
    return (await this.call<TradesResponse>('GET', `api/trades?limit=${limit}`)).fills;
  }

  getPortfolio(): Promise<Portfolio> {
    return this.call('GET', 'api/portfolio');
  }

  /** Recent risk rejections, newest first. */
  async getRejections(limit = 500): Promise<RiskRejection[]> {
    return (await this.call<RejectionsResponse>('GET', `api/rejections?limit=${limit}`)).rejections;
  }

  async getTradingState(): Promise<TradingState> {
    return (await this.call<TradingStateResponse>('GET', 'api/trading-state')).state;
  }

  setTradingState(state: TradingState, closeAll = false): Promise<TradingStateChangeResponse> {
    return this.call('POST', 'api/trading-state', closeAll ? { state, closeAll: true } : { state });
  }

  async getFeeds(): Promise<FeedState[]> {
    return (await this.call<FeedsResponse>('GET', 'api/feeds')).feeds;
  }

  /** The funding board; `venue` / `settle` narrow it on the server. */
  getFunding(q: { venue?: string; settle?: string } = {}): Promise<FundingResponse> {
    const params = new URLSearchParams();
    if (q.venue) params.set('venue', q.venue);
    if (q.settle) params.set('settle', q.settle);
    const query = params.toString();
    return this.call('GET', query ? `api/funding?${query}` : 'api/funding');
  }

  /** Settled funding of one instrument (every venue, or one) over a time range. */
  getFundingHistory(q: HistoryQuery): Promise<FundingHistoryResponse> {
    return this.call('GET', historyPath(q));
  }

  /** Funding-history backfill progress per venue; null when no backfill runs. */
  getFundingBackfillStatus(): Promise<FundingBackfillStatus | null> {
    return this.call('GET', 'api/funding/history/status');
  }

  getHealth(): Promise<HealthResponse> {
    return this.call('GET', 'api/health');
  }

  getStats(): Promise<StatsResponse> {
    return this.call('GET', 'api/stats');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const token = this.token;
    if (method !== 'GET' && token) headers.authorization = `Bearer ${token}`;
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.fetchFn(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiError(0, 'network', `server unreachable (${err instanceof Error ? err.message : String(err)})`, null);
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    if (!res.ok) throw toApiError(res.status, parsed);
    return parsed as T;
  }
}

export function toApiError(status: number, body: unknown): ApiError {
  if (isObject(body)) {
    const field = typeof body.field === 'string' ? body.field : null;
    const message = typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : `HTTP ${status}`;
    const code = typeof body.error === 'string' ? body.error : `http_${status}`;
    return new ApiError(status, code, message, field);
  }
  if (status === 401 || status === 403) return new ApiError(status, 'unauthorized', 'the API token is missing or wrong', null);
  return new ApiError(status, `http_${status}`, typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${status}`, null);
}
