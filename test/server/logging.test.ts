/**
 * What the operator reads in the log of the real server process: JSON lines when stdout is not a terminal
 * and pino-pretty on a terminal, no per-request lines at info and exactly one per request at debug, a line
 * per venue going live and one for a recording with its path, and the config source told truthfully.
 */
import { EXCHANGES } from '../../shared/exchanges.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { childEnv, REPO_ROOT, type ServerProcess, startServerProcess } from '../helpers/server.js';
import { describeWith, REDIS_URL } from '../helpers/services.js';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const dir = mkdtempSync(join(tmpdir(), 'perpscan-logs-'));
const running: ServerProcess[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(env: Record<string, string | undefined>, args: string[] = []): Promise<ServerProcess> {
  const server = await startServerProcess({ env, args, timeoutMs: 60_000 });
  running.push(server);
  return server;
}

/** Every line the process wrote, parsed: a line that is not JSON fails the test. */
function parsed(server: ServerProcess): LogLine[] {
  return server.logs.filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.parse(l) as LogLine;
    } catch {
      throw new Error(`log line is not JSON: ${l}`);
    }
  });
}

async function waitForLines(server: ServerProcess, match: (l: LogLine) => boolean, count: number, timeoutMs = 20_000): Promise<LogLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = parsed(server).filter(match);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const DEBUG = 20;
const INFO = 30;
const WARN = 40;

describe('server log', () => {
  it('at info: JSON lines, a line per venue going live, the recording path, the env config source, no request lines', { timeout: 90_000 }, async () => {
    const recording = join(dir, 'frames.jsonl');
    const server = await start({ LOG_LEVEL: 'info', PERPSCAN_MIN_SPREAD_BPS: '7' }, [`--record=${recording}`]);

    const live = await waitForLines(server, (l) => l.msg.startsWith('feed live: '), EXCHANGES.length);
    expect(live.map((l) => l.venue).sort()).toEqual([...EXCHANGES].sort());
    for (const l of live) expect(l.msg).toBe(`feed live: ${String(l.venue)}`);

    for (let i = 0; i < 5; i++) expect((await fetch(`${server.baseUrl}/api/health`)).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/api/nope`)).status).toBe(404);
    await new Promise((r) => setTimeout(r, 300));

    const lines = parsed(server);
    expect(lines.every((l) => l.level >= INFO)).toBe(true);
    expect(lines.filter((l) => /request|not found/i.test(l.msg))).toEqual([]);
    const recordingLine = lines.find((l) => l.msg.startsWith('recording market frames'));
    expect(recordingLine).toMatchObject({ level: INFO, path: recording });
    expect(recordingLine?.msg).toContain(recording);
    const config = lines.find((l) => l.msg.startsWith('config loaded'));
    expect(config).toMatchObject({ msg: 'config loaded from env', source: 'env', env: ['PERPSCAN_MIN_SPREAD_BPS'], version: 1 });
    expect(config).not.toHaveProperty('file');

    expect(await server.stop()).toBe(0);
    expect(parsed(server).find((l) => l.msg === 'recording closed')).toMatchObject({ path: recording, frames: expect.any(Number) });
  });

  it('at debug: exactly one line per request; a config file is named as the source', { timeout: 90_000 }, async () => {
    const file = join(dir, 'perpscan.config.json');
    writeFileSync(file, JSON.stringify({ thresholds: { minSpreadBps: 6 } }));
    const server = await start({ LOG_LEVEL: 'debug', PERPSCAN_CONFIG: file, FEEDS: 'none' });
    expect(parsed(server).find((l) => l.msg.startsWith('config loaded'))).toMatchObject({ msg: 'config loaded from file', source: 'file', file });

    for (let i = 0; i < 3; i++) await fetch(`${server.baseUrl}/api/health?n=${i}`);
    await fetch(`${server.baseUrl}/api/nope`);
    const requests = await waitForLines(server, (l) => l.msg === 'request', 4, 5000);
    expect(requests).toHaveLength(4);
    for (const r of requests) expect(r.level).toBe(DEBUG);
    expect(requests.map((r) => [r.method, r.url, r.statusCode])).toEqual([
      ['GET', '/api/health?n=0', 200],
      ['GET', '/api/health?n=1', 200],
      ['GET', '/api/health?n=2', 200],
      ['GET', '/api/nope', 404],
    ]);
    for (const r of requests) expect(r.durationMs).toBeTypeOf('number');
    expect(parsed(server).filter((l) => /incoming request|request completed|not found/.test(l.msg))).toEqual([]);
  });

  it('with no file and no overrides the source is the defaults', { timeout: 90_000 }, async () => {
    const server = await start({ LOG_LEVEL: 'info', FEEDS: 'none' });
    expect(parsed(server).find((l) => l.msg.startsWith('config loaded'))).toMatchObject({ msg: 'config loaded from defaults', source: 'defaults' });
  });
});

describeWith(['redis'], 'server log with a persisted config', () => {
  it('names the persisted config as the source and the env overrides it did not apply', { timeout: 120_000 }, async () => {
    const env = { LOG_LEVEL: 'info', FEEDS: 'none', REDIS_URL, REDIS_PREFIX: `perpscan-logtest-${process.pid}-${Date.now()}:` };
    const first = await start(env);
    const put = await fetch(`${first.baseUrl}/api/config`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ thresholds: { minSpreadBps: 12 } }) });
    expect(put.status).toBe(200);
    expect(await first.stop()).toBe(0);
    running.length = 0;

    const second = await start({ ...env, PERPSCAN_MIN_SPREAD_BPS: '3' });
    const lines = parsed(second);
    const loaded = lines.find((l) => l.msg.startsWith('config loaded'));
    expect(loaded).toMatchObject({ msg: 'config loaded from persisted', source: 'persisted', version: 2, ignored: ['PERPSCAN_MIN_SPREAD_BPS'] });
    expect(loaded?.savedMs).toBeTypeOf('number');
    expect(lines.find((l) => l.level === WARN && String(l.msg).includes('not applied'))?.msg).toContain('PERPSCAN_MIN_SPREAD_BPS');
    const config = (await (await fetch(`${second.baseUrl}/api/config`)).json()) as { config: { thresholds: { minSpreadBps: number } } };
    expect(config.config.thresholds.minSpreadBps).toBe(12); // what the log says is what is in force
  });
});

describe('server log on a terminal', () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  });

  it('is human-readable (pino-pretty), not JSON', { timeout: 90_000 }, async () => {
    // `script` gives the server a pseudo-terminal as stdout, as an interactive shell would.
    child = spawn('script', ['-qfec', `${process.execPath} --import tsx server/main.ts`, '/dev/null'], {
      cwd: REPO_ROOT,
      env: childEnv({ LOG_LEVEL: 'info', FEEDS: 'none' }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    // eslint-disable-next-line no-control-regex
    const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
    const deadline = Date.now() + 60_000;
    while (!/INFO: listening/.test(strip(out)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const plain = strip(out);
    const listening = plain.split(/\r?\n/).find((l) => l.includes('INFO: listening'));
    expect(listening, plain.slice(-2000)).toBeDefined();
    expect(listening).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: listening/);
    expect(plain).toMatch(/INFO: config loaded from defaults/);
    expect(plain.split(/\r?\n/).filter((l) => l.trim().startsWith('{"level"'))).toEqual([]);
  });
});
