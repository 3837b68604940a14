/**
 * Process settings from the environment (not part of the versioned Config): where to listen, which feeds,
 * the reverse-proxy base path, auth, Redis. Every invalid value is reported with the variable's name.
 */
import { networkInterfaces, hostname as osHostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';
import { LOOPBACK_HOST_NAMES, normaliseAllowedHost, normaliseOrigin } from '../api/access.js';

/** An API token guessable in reasonable time must not guard a server the network can reach. */
export const MIN_API_TOKEN_LENGTH = 32;

export type FeedsMode = 'sim' | 'live' | 'none';
/** ROLE: one process does everything (all), or a cluster over Redis: the engine (with a standby) and edges (docs/cluster.md). */
export type ServerRole = 'all' | 'engine' | 'edge';

export interface ServerSettings {
  role: ServerRole;
  /** LEASE_TTL_MS: the engine lease's time to live; a standby takes over within about this long of the active engine's death. */
  leaseTtlMs: number;
  host: string;
  /** 0 = an ephemeral port (the bound address is logged). */
  port: number;
  feeds: FeedsMode;
  /** '' for the root, else '/perpscan' (leading slash, no trailing slash). */
  basePath: string;
  trustProxy: boolean | number | string;
  apiToken: string | null;
  redisUrl: string | null;
  redisPrefix: string;
  configPath: string;
  /** Simulator settings (FEEDS=sim). */
  simRate: number;
  simSeed: number;
  simDislocationsPerMin: number | undefined;
  /** SIM_UNIVERSE: coins of the generated universe (default 300; 0 = only the configured instruments, on every venue). */
  simUniverse: number;
  /** SIM_CHURN_SEC: seconds between listings/delistings in the universe (default: the simulator's, 300; 0 = none). */
  simChurnSec: number | undefined;
  /** FEED_ENDPOINTS (JSON `{ "<venue id>": { "ws": "...", "rest": "..." }, ... }`): venue origins for FEEDS=live, e.g. a separate simulator process. */
  feedEndpoints: Record<Exchange, { ws: string; rest: string }> | null;
  /** `--record FILE`: raw wire frames are written here by the feeds. */
  recordFile: string | null;
  logLevel: string;
  /** Host names (optionally with a port) the server answers to: the defaults plus ALLOWED_HOSTS; '*' = any (no DNS-rebinding defence). */
  allowedHosts: string[] | '*';
  /** ALLOWED_ORIGINS: cross-site origins allowed to call mutating routes and /ws ('*' = any). */
  allowedOrigins: string[] | '*';
  /** AUTH_FAILURE_LIMIT failed authentications per AUTH_FAILURE_WINDOW_MS from one address, then 429. */
  authFailures: { max: number; windowMs: number };
  http: HttpLimits;
  /** WS_CLIENT_MESSAGES_PER_SEC: messages a /ws client may send per second (burst twice that). */
  wsClientMessagesPerSec: number;
}

export interface HttpLimits {
  /** HTTP_REQUEST_TIMEOUT_MS: the whole request (headers and body) must arrive within this, else 408. */
  requestTimeoutMs: number;
  /** HTTP_HEADERS_TIMEOUT_MS: the request headers must arrive within this (≤ requestTimeoutMs). */
  headersTimeoutMs: number;
  /** MAX_CONNECTIONS_PER_IP: open connections from one address (0 = no cap); trusted proxies are exempt. */
  maxConnectionsPerIp: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { requestTimeoutMs: 15_000, headersTimeoutMs: 10_000, maxConnectionsPerIp: 64 };
export const DEFAULT_AUTH_FAILURES = { max: 10, windowMs: 60_000 };
export const DEFAULT_WS_CLIENT_MESSAGES_PER_SEC = 20;

export interface SettingsError {
  field: string;
  message: string;
}

export type SettingsResult = { ok: true; settings: ServerSettings } | { ok: false; errors: SettingsError[] };

export function normaliseBasePath(raw: string | undefined): string | null {
  if (raw === undefined || raw === '' || raw === '/') return '';
  const trimmed = raw.replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed) || trimmed.includes('//')) return null;
  return trimmed;
}

function parseTrustProxy(raw: string | undefined): boolean | number | string {
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  if (/^\d+$/.test(raw)) return Number(raw); // number of hops
  return raw; // comma-separated addresses / CIDRs, passed to Fastify
}

/** Reads the process settings from `env` and `argv` (the arguments after the script). */
export function readServerSettings(env: NodeJS.ProcessEnv, argv: string[] = [], cwd = process.cwd()): SettingsResult {
  const errors: SettingsError[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      errors.push({ field: name, message: `must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}` });
      return fallback;
    }
    return n;
  };

  const feedsRaw = env.FEEDS ?? 'sim';
  let feeds: FeedsMode = 'sim';
  if (feedsRaw === 'sim' || feedsRaw === 'live' || feedsRaw === 'none') feeds = feedsRaw;
  else errors.push({ field: 'FEEDS', message: `must be sim, live or none, got ${JSON.stringify(feedsRaw)}` });

  const basePath = normaliseBasePath(env.BASE_PATH);
  if (basePath === null) errors.push({ field: 'BASE_PATH', message: `must look like /perpscan, got ${JSON.stringify(env.BASE_PATH)}` });

  let recordFile: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--record') {
      const file = argv[i + 1];
      if (!file || file.startsWith('--')) errors.push({ field: '--record', message: 'needs a file path' });
      else recordFile = isAbsolute(file) ? file : resolve(cwd, file);
      i++;
    } else if (a.startsWith('--record=')) {
      recordFile = resolve(cwd, a.slice('--record='.length));
    } else {
      errors.push({ field: a, message: 'unknown argument (supported: --record FILE)' });
    }
  }

  let feedEndpoints: ServerSettings['feedEndpoints'] = null;
  if (env.FEED_ENDPOINTS) {
    try {
      const parsed = JSON.parse(env.FEED_ENDPOINTS) as Record<string, { ws?: unknown; rest?: unknown }>;
      const out = {} as Record<Exchange, { ws: string; rest: string }>;
      for (const ex of EXCHANGES) {
        const e = parsed[ex];
        if (!e || typeof e.ws !== 'string' || typeof e.rest !== 'string') throw new Error(`${ex}: needs { "ws": "...", "rest": "..." }`);
        out[ex] = { ws: e.ws, rest: e.rest };
      }
      feedEndpoints = out;
    } catch (err) {
      errors.push({ field: 'FEED_ENDPOINTS', message: (err as Error).message });
    }
  }

  const roleRaw = env.ROLE || 'all';
  let role: ServerRole = 'all';
  if (roleRaw === 'all' || roleRaw === 'engine' || roleRaw === 'edge') role = roleRaw;
  else errors.push({ field: 'ROLE', message: `must be all, engine or edge, got ${JSON.stringify(roleRaw)}` });
  if (role !== 'all' && !env.REDIS_URL) errors.push({ field: 'REDIS_URL', message: `ROLE=${role} needs Redis (engine and edges meet there)` });

  const host = env.HOST || '127.0.0.1';
  // ALLOWED_HOSTS adds names (e.g. the public name behind a proxy) to the defaults, which stay: they are
  // loopback names and IP literals, which DNS cannot rebind.
  const listedHosts = parseList(env.ALLOWED_HOSTS, 'ALLOWED_HOSTS', normaliseAllowedHost, errors);
  const allowedHosts = listedHosts === '*' ? '*' : [...new Set([...defaultAllowedHosts(host), ...(listedHosts ?? [])])];
  const allowedOrigins = parseList(env.ALLOWED_ORIGINS, 'ALLOWED_ORIGINS', normaliseOrigin, errors) ?? [];
  const requestTimeoutMs = int('HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.requestTimeoutMs, 1_000, 3_600_000);
  const headersTimeoutMs = int('HTTP_HEADERS_TIMEOUT_MS', Math.min(DEFAULT_HTTP_LIMITS.headersTimeoutMs, requestTimeoutMs), 1_000, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) errors.push({ field: 'HTTP_HEADERS_TIMEOUT_MS', message: `must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})` });

  const configPath = env.PERPSCAN_CONFIG ?? './perpscan.config.json';
  const simUniverse = int('SIM_UNIVERSE', 300, 0, 5000);
  const settings: ServerSettings = {
    role,
    leaseTtlMs: int('LEASE_TTL_MS', 3000, 500, 60_000),
    host,
    port: int('PORT', 8080, 0, 65535),
    feeds,
    basePath: basePath ?? '',
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    apiToken: env.API_TOKEN ? env.API_TOKEN : null,
    redisUrl: env.REDIS_URL ? env.REDIS_URL : null,
    redisPrefix: env.REDIS_PREFIX || 'perpscan:',
    configPath: isAbsolute(configPath) ? configPath : resolve(cwd, configPath),
    // A universe spreads the messages over ~800 pairs: more of them by default so each still moves.
    simRate: int('SIM_RATE', simUniverse > 0 ? 1000 : 200, 1, 100_000),
    simUniverse,
    simChurnSec: env.SIM_CHURN_SEC ? int('SIM_CHURN_SEC', 300, 0, 86_400) : undefined,
    simSeed: int('SIM_SEED', 1, 0, 2 ** 31 - 1),
    simDislocationsPerMin: env.SIM_DISLOCATIONS_PER_MIN ? int('SIM_DISLOCATIONS_PER_MIN', 6, 0, 100_000) : undefined,
    feedEndpoints,
    recordFile,
    logLevel: env.LOG_LEVEL || 'info',
    allowedHosts,
    allowedOrigins,
    authFailures: {
      max: int('AUTH_FAILURE_LIMIT', DEFAULT_AUTH_FAILURES.max, 1, 1_000_000),
      windowMs: int('AUTH_FAILURE_WINDOW_MS', DEFAULT_AUTH_FAILURES.windowMs, 1_000, 86_400_000),
    },
    http: { requestTimeoutMs, headersTimeoutMs, maxConnectionsPerIp: int('MAX_CONNECTIONS_PER_IP', DEFAULT_HTTP_LIMITS.maxConnectionsPerIp, 0, 1_000_000) },
    wsClientMessagesPerSec: int('WS_CLIENT_MESSAGES_PER_SEC', DEFAULT_WS_CLIENT_MESSAGES_PER_SEC, 1, 10_000),
  };
  if (errors.length === 0 && !isLoopbackHost(settings.host)) {
    if (!settings.apiToken) {
      errors.push({
        field: 'API_TOKEN',
        message: `HOST=${settings.host} is not a loopback address: set API_TOKEN so the mutating routes are not open to the network`,
      });
    } else if (settings.apiToken.length < MIN_API_TOKEN_LENGTH) {
      errors.push({
        field: 'API_TOKEN',
        message: `HOST=${settings.host} is not a loopback address: API_TOKEN must be at least ${MIN_API_TOKEN_LENGTH} characters (got ${settings.apiToken.length}); e.g. openssl rand -hex 32`,
      });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, settings };
}

/** A comma-separated list, each item normalised (null = invalid → error); undefined when the variable is unset; '*' alone = any. */
function parseList(raw: string | undefined, field: string, normalise: (item: string) => string | null, errors: SettingsError[]): string[] | '*' | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (raw.trim() === '*') return '*';
  const out: string[] = [];
  for (const item of raw.split(',').map((i) => i.trim()).filter(Boolean)) {
    const n = normalise(item);
    if (n === null) errors.push({ field, message: `invalid entry ${JSON.stringify(item)}` });
    else out.push(n);
  }
  return out;
}

/**
 * The loopback names, plus the listen address; a wildcard listen address (0.0.0.0, ::) adds this machine's
 * interface addresses and host name, so the server answers to whatever address the network reaches it by.
 * IP literals cannot be rebound by DNS, so none of these weakens the DNS-rebinding defence.
 */
export function defaultAllowedHosts(host: string, interfaces = networkInterfaces(), machineName = osHostname()): string[] {
  const hosts = new Set<string>(LOOPBACK_HOST_NAMES);
  if (host === '0.0.0.0' || host === '::' || host === '[::]') {
    for (const list of Object.values(interfaces)) for (const i of list ?? []) {
      const address = normaliseAllowedHost(i.address);
      if (address) hosts.add(address);
    }
    const name = normaliseAllowedHost(machineName);
    if (name) hosts.add(name);
  } else {
    const own = normaliseAllowedHost(host);
    if (own) hosts.add(own);
  }
  return [...hosts];
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
