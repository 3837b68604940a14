/**
 * REST calls of the dashboard. URLs are relative (no leading slash) so they resolve under the page's
 * directory, which keeps working behind a reverse proxy sub-path. Mutating calls carry the API token.
 */
import type { Config, ConfigPatch, VersionedConfig } from '../../../shared/config.js';
import type { Exchange } from '../../../shared/exchanges.js';
import type { FeedState } from '../../../shared/feeds.js';
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

  async getConfig(): Promise<VersionedConfig> {
    const body = await this.call<unknown>('GET', 'api/config');
    // Accept both {version, config} and a bare config.
    if (isObject(body) && isObject(body.config)) return body as unknown as VersionedConfig;
    return { version: 0, config: body as Config };
  }

  /** `force`: apply even a change that leaves no venue or no instrument scanned (refused otherwise: `nothing_scanned`). */
  putConfig(patch: ConfigPatch | Record<string, unknown>, opts: { force?: boolean } = {}): Promise<VersionedConfig> {
    return this.call('PUT', opts.force ? 'api/config?force=true' : 'api/config', patch);
  }

  /** Starts one venue's feed afresh (metadata, sockets). */
  restartFeed(venue: Exchange): Promise<unknown> {
    return this.call('POST', `api/feeds/${encodeURIComponent(venue)}/restart`, {});
  }

  async getHistory(limit = 200): Promise<ClosedOpportunity[]> {
    return listOf<ClosedOpportunity>(await this.call('GET', `api/opportunities/history?limit=${limit}`), 'history');
  }

  async getPositions(state: 'open' | 'closed' | 'all' = 'all'): Promise<Position[]> {
    return listOf<Position>(await this.call('GET', state === 'all' ? 'api/positions' : `api/positions?state=${state}`), 'positions');
  }

  closePosition(id: string): Promise<unknown> {
    return this.call('POST', `api/positions/${encodeURIComponent(id)}/close`, {});
  }

  /** Closed trades: the server may answer with positions or with fills; both are returned, sorted out. */
  async getTrades(): Promise<{ positions: Position[]; fills: Fill[] }> {
    const body = await this.call<unknown>('GET', 'api/trades');
    const items = listOf<Record<string, unknown>>(body, 'trades');
    const positions: Position[] = [];
    const fills: Fill[] = [];
    for (const item of items) {
      if (isObject(item) && isObject(item.long) && isObject(item.short)) positions.push(item as unknown as Position);
      else if (isObject(item) && typeof item.side === 'string' && typeof item.price === 'number') fills.push(item as unknown as Fill);
    }
    if (isObject(body) && Array.isArray(body.fills)) fills.push(...(body.fills as Fill[]));
    if (isObject(body) && Array.isArray(body.positions)) positions.push(...(body.positions as Position[]));
    return { positions, fills };
  }

  getPortfolio(): Promise<Portfolio> {
    return this.call('GET', 'api/portfolio');
  }

  async getRejections(): Promise<RiskRejection[]> {
    return listOf<RiskRejection>(await this.call('GET', 'api/rejections'), 'rejections');
  }

  setTradingState(state: TradingState, closeAll = false): Promise<unknown> {
    return this.call('POST', 'api/trading-state', closeAll ? { state, closeAll: true } : { state });
  }

  async getFeeds(): Promise<FeedState[]> {
    return listOf<FeedState>(await this.call('GET', 'api/feeds'), 'feeds');
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

/** A list endpoint may answer `[...]` or `{ <key>: [...] }` / `{ items: [...] }`. */
function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  if (isObject(body)) {
    for (const k of [key, 'items', 'data']) if (Array.isArray(body[k])) return body[k] as T[];
  }
  return [];
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
