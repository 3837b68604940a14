/**
 * Process settings from the environment (not part of the versioned Config): where to listen, which feeds,
 * the reverse-proxy base path, auth, Redis. Every invalid value is reported with the variable's name.
 */
import { isAbsolute, resolve } from 'node:path';
import { EXCHANGES, type Exchange } from '../../shared/exchanges.js';

export type FeedsMode = 'sim' | 'live' | 'none';

export interface ServerSettings {
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
  /** FEED_ENDPOINTS (JSON `{ "bybit": { "ws": "...", "rest": "..." }, ... }`): venue origins for FEEDS=live, e.g. a separate simulator process. */
  feedEndpoints: Record<Exchange, { ws: string; rest: string }> | null;
  /** `--record FILE`: raw wire frames are written here by the feeds. */
  recordFile: string | null;
  logLevel: string;
}

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

  const configPath = env.PERPSCAN_CONFIG ?? './perpscan.config.json';
  const settings: ServerSettings = {
    host: env.HOST || '127.0.0.1',
    port: int('PORT', 8080, 0, 65535),
    feeds,
    basePath: basePath ?? '',
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    apiToken: env.API_TOKEN ? env.API_TOKEN : null,
    redisUrl: env.REDIS_URL ? env.REDIS_URL : null,
    redisPrefix: env.REDIS_PREFIX || 'perpscan:',
    configPath: isAbsolute(configPath) ? configPath : resolve(cwd, configPath),
    simRate: int('SIM_RATE', 200, 1, 100_000),
    simSeed: int('SIM_SEED', 1, 0, 2 ** 31 - 1),
    simDislocationsPerMin: env.SIM_DISLOCATIONS_PER_MIN ? int('SIM_DISLOCATIONS_PER_MIN', 6, 0, 100_000) : undefined,
    feedEndpoints,
    recordFile,
    logLevel: env.LOG_LEVEL || 'info',
  };
  if (errors.length === 0 && !isLoopbackHost(settings.host) && !settings.apiToken) {
    errors.push({
      field: 'API_TOKEN',
      message: `HOST=${settings.host} is not a loopback address: set API_TOKEN so the mutating routes are not open to the network`,
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, settings };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
