/** Start-up settings and config: file → env → persisted → REST, and a clear exit on bad input. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyConfigPatch, DEFAULT_CONFIG } from '../../shared/config.js';
import { defaultAllowedHosts, readServerSettings } from '../../server/config/env.js';
import { describeConfigSource, envConfigPatch, loadStartupConfig, pickStartupConfig } from '../../server/config/load.js';
import { childEnv, REPO_ROOT } from '../helpers/server.js';

/** 32 characters: the shortest API_TOKEN a non-loopback server accepts. */
const LONG_TOKEN = 'k'.repeat(32);
const dir = mkdtempSync(join(tmpdir(), 'perpscan-config-'));
function file(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

describe('server settings (env)', () => {
  it('defaults to 127.0.0.1:8080, simulator, root path', () => {
    const r = readServerSettings({}, [], '/srv');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings).toMatchObject({ host: '127.0.0.1', port: 8080, feeds: 'sim', basePath: '', trustProxy: false, apiToken: null, redisUrl: null, configPath: '/srv/perpscan.config.json', recordFile: null });
  });

  it('runs a 300-coin simulated universe by default (more messages to go round), SIM_UNIVERSE=0 keeps the configured instruments', () => {
    const d = readServerSettings({}, [], '/srv');
    expect(d.ok && d.settings).toMatchObject({ simUniverse: 300, simRate: 1000, simChurnSec: undefined });
    const off = readServerSettings({ SIM_UNIVERSE: '0', SIM_CHURN_SEC: '60' }, [], '/srv');
    expect(off.ok && off.settings).toMatchObject({ simUniverse: 0, simRate: 200, simChurnSec: 60 });
    const bad = readServerSettings({ SIM_UNIVERSE: 'lots' }, [], '/srv');
    expect(bad.ok).toBe(false);
  });

  it('reads every variable and --record', () => {
    const r = readServerSettings(
      { HOST: '0.0.0.0', PORT: '0', FEEDS: 'live', BASE_PATH: '/perpscan/', TRUST_PROXY: '1', API_TOKEN: LONG_TOKEN, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: 'x:', PERPSCAN_CONFIG: 'conf.json' },
      ['--record', 'frames.jsonl.gz'],
      '/srv',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings).toMatchObject({ host: '0.0.0.0', port: 0, feeds: 'live', basePath: '/perpscan', trustProxy: true, apiToken: LONG_TOKEN, redisUrl: 'redis://127.0.0.1:6379', redisPrefix: 'x:', configPath: '/srv/conf.json', recordFile: '/srv/frames.jsonl.gz' });
    const hops = readServerSettings({ TRUST_PROXY: '2' });
    expect(hops.ok && hops.settings.trustProxy).toBe(2);
  });

  it.each([
    [{ PORT: '70000' }, [], 'PORT'],
    [{ PORT: 'abc' }, [], 'PORT'],
    [{ FEEDS: 'fake' }, [], 'FEEDS'],
    [{ BASE_PATH: 'no-slash' }, [], 'BASE_PATH'],
    [{}, ['--bogus'], '--bogus'],
    [{}, ['--record'], '--record'],
    [{ HOST: '0.0.0.0' }, [], 'API_TOKEN'],
    [{ HOST: '192.168.1.5' }, [], 'API_TOKEN'],
    [{ HOST: '0.0.0.0', API_TOKEN: 'k'.repeat(31) }, [], 'API_TOKEN'],
    [{ HOST: '192.168.1.5', API_TOKEN: 'secret' }, [], 'API_TOKEN'],
    [{ ALLOWED_HOSTS: 'good.example, bad host' }, [], 'ALLOWED_HOSTS'],
    [{ ALLOWED_ORIGINS: 'https://ok.example, not a url' }, [], 'ALLOWED_ORIGINS'],
    [{ ALLOWED_ORIGINS: 'https://ok.example/with/path' }, [], 'ALLOWED_ORIGINS'],
    [{ MAX_CONNECTIONS_PER_IP: '-1' }, [], 'MAX_CONNECTIONS_PER_IP'],
    [{ HTTP_REQUEST_TIMEOUT_MS: '0' }, [], 'HTTP_REQUEST_TIMEOUT_MS'],
    [{ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '9000' }, [], 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ AUTH_FAILURE_LIMIT: '0' }, [], 'AUTH_FAILURE_LIMIT'],
    [{ WS_CLIENT_MESSAGES_PER_SEC: 'fast' }, [], 'WS_CLIENT_MESSAGES_PER_SEC'],
  ])('%j %j → error naming %s', (env, argv, field) => {
    const r = readServerSettings(env, argv);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0].field).toBe(field);
  });

  it('a non-loopback host needs an API token of at least 32 characters; loopback names need none', () => {
    expect(readServerSettings({ HOST: '0.0.0.0', API_TOKEN: LONG_TOKEN }).ok).toBe(true);
    const short = readServerSettings({ HOST: '0.0.0.0', API_TOKEN: 'secret' });
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.errors[0].message).toMatch(/at least 32 characters/);
    // a short token is still fine on loopback (nothing but this machine can reach it)
    expect(readServerSettings({ HOST: '127.0.0.1', API_TOKEN: 'secret' }).ok).toBe(true);
    for (const HOST of ['localhost', '127.0.0.1', '127.1.2.3', '::1']) expect(readServerSettings({ HOST }).ok).toBe(true);
  });
});

describe('access and limit settings (env)', () => {
  it('defaults: loopback names plus the listen address, no extra origins, bounded HTTP timeouts, a per-address cap', () => {
    const r = readServerSettings({ HOST: '127.0.0.2' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings.allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]', '127.0.0.2']);
    expect(r.settings.allowedOrigins).toEqual([]);
    expect(r.settings.http).toEqual({ requestTimeoutMs: 15_000, headersTimeoutMs: 10_000, maxConnectionsPerIp: 64 });
    expect(r.settings.authFailures).toEqual({ max: 10, windowMs: 60_000 });
    expect(r.settings.wsClientMessagesPerSec).toBe(20);
  });

  it('a wildcard listen address allows the machine\'s own addresses and name', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4' }],
      eth0: [
        { address: '192.168.1.5', family: 'IPv4' },
        { address: 'fe80::1', family: 'IPv6' },
      ],
    } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
    expect(defaultAllowedHosts('0.0.0.0', interfaces, 'Box.local')).toEqual(['localhost', '127.0.0.1', '[::1]', '192.168.1.5', '[fe80::1]', 'box.local']);
  });

  it('reads ALLOWED_HOSTS / ALLOWED_ORIGINS (normalised) and the limits', () => {
    const r = readServerSettings({
      ALLOWED_HOSTS: 'Scanner.Example.org, 10.0.0.7:8443, ::1',
      ALLOWED_ORIGINS: 'https://dash.example.org/, http://localhost:5173',
      MAX_CONNECTIONS_PER_IP: '0',
      HTTP_REQUEST_TIMEOUT_MS: '20000',
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      AUTH_FAILURE_LIMIT: '3',
      AUTH_FAILURE_WINDOW_MS: '30000',
      WS_CLIENT_MESSAGES_PER_SEC: '5',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // the loopback names and the listen address stay allowed; ALLOWED_HOSTS adds to them
    expect(r.settings.allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]', 'scanner.example.org', '10.0.0.7:8443']);
    expect(r.settings.allowedOrigins).toEqual(['https://dash.example.org', 'http://localhost:5173']);
    expect(r.settings.http).toEqual({ requestTimeoutMs: 20_000, headersTimeoutMs: 5_000, maxConnectionsPerIp: 0 });
    expect(r.settings.authFailures).toEqual({ max: 3, windowMs: 30_000 });
    expect(r.settings.wsClientMessagesPerSec).toBe(5);
    const any = readServerSettings({ ALLOWED_HOSTS: '*', ALLOWED_ORIGINS: '*' });
    expect(any.ok && any.settings.allowedHosts).toBe('*');
    expect(any.ok && any.settings.allowedOrigins).toBe('*');
  });
});

describe('config loading', () => {
  it('uses defaults when the file is missing', () => {
    const r = loadStartupConfig({ path: join(dir, 'missing.json'), env: {} });
    expect(r.ok && r.config).toEqual(DEFAULT_CONFIG);
  });

  it('reports which of file, env, persisted and defaults supplied the config', () => {
    const path = file('origin.json', JSON.stringify({ thresholds: { minSpreadBps: 8 } }));
    const cases: Array<[string, NodeJS.ProcessEnv, object]> = [
      [join(dir, 'missing.json'), {}, { source: 'defaults' }],
      [path, {}, { source: 'file', file: path }],
      [join(dir, 'missing.json'), { PERPSCAN_MIN_PROFIT_BPS: '3' }, { source: 'env', env: ['PERPSCAN_MIN_PROFIT_BPS'] }],
      [path, { PERPSCAN_MIN_PROFIT_BPS: '3', PERPSCAN_EXCHANGES: 'okx,bybit' }, { source: 'file+env', file: path, env: ['PERPSCAN_EXCHANGES', 'PERPSCAN_MIN_PROFIT_BPS'] }],
    ];
    const savedMs = Date.now() + 60_000;
    for (const [p, env, expected] of cases) {
      const r = loadStartupConfig({ path: p, env });
      if (!r.ok) throw new Error('load failed');
      const picked = pickStartupConfig(r, null, 1000);
      expect(describeConfigSource(picked, r.origin)).toEqual(expected);
      // A persisted config saved after the file wins; what it overrides is named, not claimed as applied.
      const persisted = pickStartupConfig(r, { version: 4, config: DEFAULT_CONFIG, updatedMs: savedMs }, 1000);
      const ignored = [...(r.origin.file ? [r.origin.file] : []), ...r.origin.env];
      expect(describeConfigSource(persisted, r.origin)).toEqual({ source: 'persisted', savedMs, ...(ignored.length ? { ignored } : {}) });
    }
  });

  it('a config object handed over by code is reported as such, not as defaults', () => {
    const picked = pickStartupConfig({ config: DEFAULT_CONFIG, fileMtimeMs: null }, null, 1000);
    expect(describeConfigSource(picked, null)).toEqual({ source: 'options' });
  });

  it('file then env overrides', () => {
    const path = file('ok.json', JSON.stringify({ thresholds: { minSpreadBps: 8, minProfitBps: 4 }, market: { exchanges: ['bybit', 'okx'] } }));
    const r = loadStartupConfig({ path, env: { PERPSCAN_MIN_SPREAD_BPS: '11', PERPSCAN_INSTRUMENTS: 'BTC-PERP, ETH-PERP', PERPSCAN_STRATEGY_ENABLED: 'false' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.thresholds).toMatchObject({ minSpreadBps: 11, minProfitBps: 4 });
    expect(r.config.market).toEqual({ ...DEFAULT_CONFIG.market, exchanges: ['bybit', 'okx'], instruments: ['BTC-PERP', 'ETH-PERP'] });
    expect(r.config.strategy.enabled).toBe(false);
    expect(r.fileMtimeMs).toBeGreaterThan(0);
  });

  it.each([
    ['bad-value.json', JSON.stringify({ detector: { staleAfterMs: 5 } }), {}, 'detector.staleAfterMs'],
    ['unknown.json', JSON.stringify({ thresholds: { minSpred: 1 } }), {}, 'thresholds.minSpred'],
    ['not-json.json', '{ nope', {}, '(file)'],
    ['ok2.json', '{}', { PERPSCAN_MIN_SPREAD_BPS: 'ten' }, 'thresholds.minSpreadBps'],
    ['ok3.json', '{}', { PERPSCAN_UPDATE_RATE_HZ: '0' }, 'stream.updateRateHz'],
    ['ok4.json', '{}', { PERPSCAN_EXCHANGES: 'bybit,ftx' }, 'market.exchanges.1'],
  ])('%s with env %j → error naming %s', (name, body, env, field) => {
    const r = loadStartupConfig({ path: file(name, body), env });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0].field).toBe(field);
  });

  it('market: "all" by default; exclude, minVenues and discoveryRefreshMs validated, errors naming the field', () => {
    expect(DEFAULT_CONFIG.market).toMatchObject({ instruments: 'all', exclude: [], minVenues: 2, discoveryRefreshMs: 300_000 });
    const ok = applyConfigPatch(DEFAULT_CONFIG, { market: { instruments: 'all', exclude: ['DOGE-PERP', 'binance:PEPE-PERP'], minVenues: 3, discoveryRefreshMs: 60_000 } });
    expect(ok.ok && ok.config.market).toMatchObject({ instruments: 'all', exclude: ['DOGE-PERP', 'binance:PEPE-PERP'], minVenues: 3, discoveryRefreshMs: 60_000 });
    const cases: Array<[unknown, string]> = [
      [{ instruments: 'some' }, 'market.instruments'],
      [{ instruments: ['btc'] }, 'market.instruments'],
      [{ exclude: ['ftx:BTC-PERP'] }, 'market.exclude.0'],
      [{ exclude: 'BTC-PERP' }, 'market.exclude'],
      [{ minVenues: 0 }, 'market.minVenues'],
      [{ minVenues: 1.5 }, 'market.minVenues'],
      [{ discoveryRefreshMs: 100 }, 'market.discoveryRefreshMs'],
    ];
    for (const [market, field] of cases) {
      const r = applyConfigPatch(DEFAULT_CONFIG, { market });
      expect(r.ok, JSON.stringify(market)).toBe(false);
      if (!r.ok) expect(r.errors.map((e) => e.field), JSON.stringify(market)).toContain(field);
    }
    expect(loadStartupConfig({ path: join(dir, 'missing.json'), env: { PERPSCAN_INSTRUMENTS: 'all' } })).toMatchObject({ ok: true, config: { market: { instruments: 'all' } } });
  });

  it('first-release keys (BTC-USDT-PERP) are normalised to BTC-PERP: file, env, PUT patch and persisted config', () => {
    const path = file('legacy.json', JSON.stringify({ market: { instruments: ['BTC-USDT-PERP', 'ETH-PERP'], exclude: ['okx:SOL-USDC-PERP'] } }));
    const r = loadStartupConfig({ path, env: {} });
    expect(r.ok && r.config.market).toMatchObject({ instruments: ['BTC-PERP', 'ETH-PERP'], exclude: ['okx:SOL-PERP'] });
    const env = loadStartupConfig({ path: join(dir, 'missing.json'), env: { PERPSCAN_INSTRUMENTS: 'BTC-USDT-PERP,BTC-USDC-PERP,XRP-PERP' } });
    expect(env.ok && env.config.market.instruments).toEqual(['BTC-PERP', 'XRP-PERP']); // duplicates after normalising dropped
    const put = applyConfigPatch(DEFAULT_CONFIG, { market: { instruments: ['DOGE-USDT-PERP'], exclude: ['SOL-USDT-PERP'] } });
    expect(put.ok && put.config.market).toMatchObject({ instruments: ['DOGE-PERP'], exclude: ['SOL-PERP'] });
    const legacyMarket = { exchanges: ['bybit', 'okx'], instruments: ['BTC-USDT-PERP', 'ETH-USDT-PERP'] }; // first release: no exclude/minVenues
    const saved = { version: 3, config: { ...DEFAULT_CONFIG, market: legacyMarket } as unknown as typeof DEFAULT_CONFIG, updatedMs: 9000 };
    const restored = pickStartupConfig({ config: DEFAULT_CONFIG, fileMtimeMs: 1000 }, saved, 10_000);
    expect(restored.source).toBe('persisted');
    expect(restored.versioned.config.market).toEqual({ ...DEFAULT_CONFIG.market, exchanges: ['bybit', 'okx'], instruments: ['BTC-PERP', 'ETH-PERP'] });
  });

  it('env errors say which variable', () => {
    const r = loadStartupConfig({ path: join(dir, 'missing.json'), env: { PERPSCAN_UPDATE_RATE_HZ: '0' } });
    expect(!r.ok && r.errors[0].message).toContain('PERPSCAN_UPDATE_RATE_HZ');
    expect(envConfigPatch({ PERPSCAN_MAX_OPEN_POSITIONS: '3' }).patch).toEqual({ risk: { maxOpenPositions: 3 } });
  });

  it('the persisted config wins when it is newer than the file; the version never goes back', () => {
    const fileConfig = { ...DEFAULT_CONFIG, thresholds: { ...DEFAULT_CONFIG.thresholds, minSpreadBps: 8 } };
    const saved = { version: 7, config: { ...DEFAULT_CONFIG, thresholds: { ...DEFAULT_CONFIG.thresholds, minSpreadBps: 3 } }, updatedMs: 2000 };
    const newer = pickStartupConfig({ config: fileConfig, fileMtimeMs: 1000 }, saved, 5000);
    expect(newer.source).toBe('persisted');
    expect(newer.versioned.version).toBe(7);
    expect(newer.versioned.config.thresholds.minSpreadBps).toBe(3);
    const older = pickStartupConfig({ config: fileConfig, fileMtimeMs: 3000 }, saved, 5000);
    expect(older.source).toBe('file');
    expect(older.versioned.version).toBe(8);
    expect(older.versioned.config.thresholds.minSpreadBps).toBe(8);
    const none = pickStartupConfig({ config: fileConfig, fileMtimeMs: null }, null, 5000);
    expect(none.versioned).toEqual({ version: 1, config: fileConfig, updatedMs: 5000 });
    const broken = pickStartupConfig({ config: fileConfig, fileMtimeMs: null }, { version: 2, config: { nope: 1 } as never, updatedMs: 9000 }, 5000);
    expect(broken.source).toBe('file');
    expect(broken.persistedErrors.length).toBeGreaterThan(0);
  });
});

describe('server process start-up errors', () => {
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: REPO_ROOT, env: childEnv(env), encoding: 'utf8', timeout: 30_000 });

  it('exits 1 naming the field when the config file is invalid', () => {
    const path = file('invalid.json', JSON.stringify({ thresholds: { minSpreadBps: 'wide' } }));
    utimesSync(path, new Date(), new Date());
    const r = run({ PERPSCAN_CONFIG: path });
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toContain('thresholds.minSpreadBps');
  });

  it('exits 1 on a non-loopback HOST without API_TOKEN', () => {
    const r = run({ HOST: '0.0.0.0' });
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toContain('API_TOKEN');
  });

  it('exits 1 naming API_TOKEN when a non-loopback HOST has a token shorter than 32 characters', () => {
    const r = run({ HOST: '0.0.0.0', API_TOKEN: 'short-secret' });
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/API_TOKEN.*at least 32 characters/);
  });
});
