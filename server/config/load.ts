/**
 * Start-up config: defaults ← config file (PERPSCAN_CONFIG, optional) ← environment overrides ← the
 * persisted config when it is newer than the file. Every error names the field (and the env variable
 * or file it came from) so `npm start` can exit with a message a user can act on.
 */
import { readFileSync, statSync } from 'node:fs';
import { applyConfigPatch, type Config, type ConfigError, DEFAULT_CONFIG, type VersionedConfig } from '../../shared/config.js';

/**
 * Environment variables that override common config fields. Lists are comma-separated.
 * Documented in README ("Configuration").
 */
export const CONFIG_ENV_OVERRIDES: ReadonlyArray<{ env: string; field: string; kind: 'number' | 'boolean' | 'list' }> = [
  { env: 'PERPSCAN_EXCHANGES', field: 'market.exchanges', kind: 'list' },
  { env: 'PERPSCAN_INSTRUMENTS', field: 'market.instruments', kind: 'list' },
  { env: 'PERPSCAN_MIN_SPREAD_BPS', field: 'thresholds.minSpreadBps', kind: 'number' },
  { env: 'PERPSCAN_MIN_PROFIT_BPS', field: 'thresholds.minProfitBps', kind: 'number' },
  { env: 'PERPSCAN_MIN_FUNDING_DELTA_8H', field: 'thresholds.minFundingDelta8h', kind: 'number' },
  { env: 'PERPSCAN_NOTIONAL_USD', field: 'detector.notionalUsd', kind: 'number' },
  { env: 'PERPSCAN_HOLDING_HOURS', field: 'detector.holdingHorizonHours', kind: 'number' },
  { env: 'PERPSCAN_STALE_AFTER_MS', field: 'detector.staleAfterMs', kind: 'number' },
  { env: 'PERPSCAN_STRATEGY_ENABLED', field: 'strategy.enabled', kind: 'boolean' },
  { env: 'PERPSCAN_STARTING_CAPITAL_USD', field: 'strategy.startingCapitalUsd', kind: 'number' },
  { env: 'PERPSCAN_STRATEGY_NOTIONAL_USD', field: 'strategy.notionalUsd', kind: 'number' },
  { env: 'PERPSCAN_MAX_OPEN_POSITIONS', field: 'risk.maxOpenPositions', kind: 'number' },
  { env: 'PERPSCAN_UPDATE_RATE_HZ', field: 'stream.updateRateHz', kind: 'number' },
  { env: 'PERPSCAN_MAX_CLIENT_BUFFER_BYTES', field: 'stream.maxClientBufferBytes', kind: 'number' },
  { env: 'PERPSCAN_STATS_INTERVAL_MS', field: 'stream.statsIntervalMs', kind: 'number' },
];

/** What supplied the start-up config besides the defaults: the file (when it exists) and the env overrides used. */
export interface ConfigOrigin {
  file: string | null;
  env: string[];
}

export type LoadResult = { ok: true; config: Config; fileMtimeMs: number | null; origin: ConfigOrigin } | { ok: false; errors: ConfigError[] };

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** The env overrides as a config patch; a value that cannot be parsed is an error naming the variable. */
export function envConfigPatch(env: NodeJS.ProcessEnv): { patch: Record<string, unknown>; errors: ConfigError[]; used: string[] } {
  const patch: Record<string, unknown> = {};
  const errors: ConfigError[] = [];
  const used: string[] = [];
  for (const o of CONFIG_ENV_OVERRIDES) {
    const raw = env[o.env];
    if (raw === undefined || raw === '') continue;
    used.push(o.env);
    let value: unknown;
    if (o.kind === 'number') {
      value = Number(raw);
      if (!Number.isFinite(value)) {
        errors.push({ field: o.field, message: `${o.env}=${JSON.stringify(raw)} is not a number` });
        continue;
      }
    } else if (o.kind === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) {
        errors.push({ field: o.field, message: `${o.env}=${JSON.stringify(raw)} must be true or false` });
        continue;
      }
      value = raw === 'true' || raw === '1';
    } else {
      // PERPSCAN_INSTRUMENTS=all: every listed perpetual (market.instruments accepts "all" as well as a list).
      value = o.field === 'market.instruments' && raw.trim().toLowerCase() === 'all' ? 'all' : raw.split(',').map((s) => s.trim()).filter(Boolean);
    }
    setPath(patch, o.field, value);
  }
  return { patch, errors, used };
}

function envNamesFor(field: string, used: string[]): string {
  const o = CONFIG_ENV_OVERRIDES.find((x) => field === x.field || field.startsWith(`${x.field}.`));
  return o && used.includes(o.env) ? ` (from ${o.env})` : '';
}

/** Defaults ← file ← env. Does not look at persistence (see `pickStartupConfig`). */
export function loadStartupConfig(opts: { path: string; env: NodeJS.ProcessEnv; base?: Config }): LoadResult {
  let config = opts.base ?? DEFAULT_CONFIG;
  const origin: ConfigOrigin = { file: null, env: [] };
  let fileMtimeMs: number | null = null;
  let text: string | null = null;
  try {
    text = readFileSync(opts.path, 'utf8');
    fileMtimeMs = statSync(opts.path).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { ok: false, errors: [{ field: '(file)', message: `cannot read ${opts.path}: ${(err as Error).message}` }] };
    }
  }
  if (text !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { ok: false, errors: [{ field: '(file)', message: `${opts.path} is not valid JSON: ${(err as Error).message}` }] };
    }
    const r = applyConfigPatch(config, parsed);
    if (!r.ok) return { ok: false, errors: r.errors.map((e) => ({ field: e.field, message: `${e.message} (in ${opts.path})` })) };
    config = r.config;
    origin.file = opts.path;
  }
  const env = envConfigPatch(opts.env);
  if (env.errors.length > 0) return { ok: false, errors: env.errors };
  if (env.used.length > 0) {
    const r = applyConfigPatch(config, env.patch);
    if (!r.ok) return { ok: false, errors: r.errors.map((e) => ({ field: e.field, message: `${e.message}${envNamesFor(e.field, env.used)}` })) };
    config = r.config;
    origin.env = env.used;
  }
  return { ok: true, config, fileMtimeMs, origin };
}

/**
 * Chooses between the file/env config and the persisted one (written by PUT /api/config). The persisted
 * config (REST changes) wins when it was saved after the file last changed, or there is no file; it
 * then also wins over env overrides (order: file → env → persisted → REST). The version always
 * continues from the persisted one so it never goes backwards.
 */
export function pickStartupConfig(
  loaded: { config: Config; fileMtimeMs: number | null },
  persisted: VersionedConfig | null,
  nowMs: number,
): { versioned: VersionedConfig; source: 'file' | 'persisted'; persistedErrors: ConfigError[] } {
  if (!persisted) return { versioned: { version: 1, config: loaded.config, updatedMs: nowMs }, source: 'file', persistedErrors: [] };
  const check = applyConfigPatch(DEFAULT_CONFIG, persisted.config);
  const persistedNewer = (persisted.updatedMs ?? 0) >= (loaded.fileMtimeMs ?? 0);
  if (check.ok && persistedNewer) {
    return { versioned: { version: persisted.version, config: check.config, updatedMs: persisted.updatedMs }, source: 'persisted', persistedErrors: [] };
  }
  return {
    versioned: { version: persisted.version + 1, config: loaded.config, updatedMs: nowMs },
    source: 'file',
    persistedErrors: check.ok ? [] : check.errors,
  };
}

/** The config source as the start-up log reports it: what actually supplied the config in force. */
export interface ConfigSourceReport {
  /** `options`: a config object handed to buildApp by code (tests, benchmarks), not read from anywhere. */
  source: 'persisted' | 'file+env' | 'file' | 'env' | 'defaults' | 'options';
  /** The config file read, when it supplied the config. */
  file?: string;
  /** Environment overrides applied. */
  env?: string[];
  /** When the persisted config was saved (epoch ms), when it is the one in force. */
  savedMs?: number;
  /** File and env overrides present but not applied because the persisted config is newer. */
  ignored?: string[];
}

export function describeConfigSource(picked: { source: 'file' | 'persisted'; versioned: VersionedConfig }, origin: ConfigOrigin | null): ConfigSourceReport {
  if (picked.source === 'persisted') {
    const ignored = origin ? [...(origin.file ? [origin.file] : []), ...origin.env] : [];
    return { source: 'persisted', savedMs: picked.versioned.updatedMs, ...(ignored.length > 0 ? { ignored } : {}) };
  }
  if (!origin) return { source: 'options' };
  const source = origin.file && origin.env.length > 0 ? 'file+env' : origin.file ? 'file' : origin.env.length > 0 ? 'env' : 'defaults';
  return { source, ...(origin.file ? { file: origin.file } : {}), ...(origin.env.length > 0 ? { env: origin.env } : {}) };
}
