#!/usr/bin/env node
// `npm test`: gets the services the suites need going, builds the server and the dashboard (when their
// sources changed), type-checks (tsc --noEmit, svelte-check: 0 errors and 0 warnings), runs Vitest, and
// closes with one plain `tests: N passed, N failed, N skipped` line in which a failed build or check
// counts as one failure each (so a type error can never hide behind green tests).
//
// - Redis: uses REDIS_URL, else 127.0.0.1:6379 if it answers PING, else starts a private
//   `redis-server` on a free loopback port for this run (stopped at the end).
// - Chromium (/usr/bin/chromium) and nginx (/usr/sbin/nginx): checked, never downloaded; when missing
//   the script says exactly what to install. Under CI=true the tests that need them fail, not skip.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const ci = process.env.CI === 'true';
const extraArgs = process.argv.slice(2);
let privateRedis = null;

function ping(host, port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function ensureRedis() {
  if (process.env.REDIS_URL) {
    const u = new URL(process.env.REDIS_URL);
    if (await ping(u.hostname, Number(u.port || 6379))) return process.env.REDIS_URL;
    console.warn(`[test] REDIS_URL=${process.env.REDIS_URL} does not answer; trying others`);
  }
  if (await ping('127.0.0.1', 6379)) return 'redis://127.0.0.1:6379';
  const bin = which('redis-server');
  if (!bin) {
    console.warn('[test] no Redis answers and redis-server is not installed: apt-get install -y redis-server');
    return null;
  }
  const port = await freePort();
  const dir = join(tmpdir(), `perpscan-redis-${port}`);
  mkdirSync(dir, { recursive: true });
  privateRedis = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (await ping('127.0.0.1', port)) { console.log(`[test] started a private redis-server on 127.0.0.1:${port}`); return `redis://127.0.0.1:${port}`; }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.warn('[test] private redis-server did not come up');
  return null;
}

function stopPrivateRedis() {
  if (privateRedis && privateRedis.exitCode === null) privateRedis.kill('SIGTERM');
}
process.on('exit', stopPrivateRedis);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopPrivateRedis(); process.exit(130); });

const env = { ...process.env };
const redisUrl = await ensureRedis();
if (redisUrl) env.REDIS_URL = redisUrl; else delete env.REDIS_URL;
env.PERPSCAN_TEST_REDIS = redisUrl ?? '';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) console.warn(`[test] ${chromium} is missing: browser tests ${ci ? 'will FAIL' : 'are skipped'}. Install it with: apt-get install -y chromium`);
if (!which('nginx') && !existsSync('/usr/sbin/nginx')) console.warn(`[test] nginx is missing: reverse-proxy tests ${ci ? 'will FAIL' : 'are skipped'}. Install it with: apt-get install -y nginx`);

/** Runs one check with its output held back, so parallel checks do not interleave; resolves pass/fail. */
function runCheck(name, command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', (err) => { output += String(err); });
    child.on('close', (code, signal) => {
      const ok = code === 0;
      process.stdout.write(`[test] ${name}: ${ok ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`}\n`);
      if (!ok || output.trim() !== '') process.stdout.write(`${output.trimEnd()}\n`);
      resolve(ok);
    });
  });
}

const failedChecks = [];
// The server and browser tests need the compiled server and the built dashboard.
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit', env });
if (build.status !== 0) failedChecks.push('build');
const tscBin = join(root, 'node_modules/typescript/bin/tsc');
const svelteCheckBin = join(root, 'node_modules/svelte-check/bin/svelte-check');
const checks = await Promise.all([
  runCheck('tsc --noEmit', process.execPath, [tscBin, '--noEmit', '-p', 'tsconfig.json']),
  runCheck('svelte-check', process.execPath, [svelteCheckBin, '--tsconfig', './web/tsconfig.json', '--fail-on-warnings', '--output', 'human']),
]);
if (!checks[0]) failedChecks.push('tsc');
if (!checks[1]) failedChecks.push('svelte-check');

const resultsFile = join(root, '.vitest-results.json');
rmSync(resultsFile, { force: true });
const vitest = spawn('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...extraArgs], { cwd: root, stdio: 'inherit', env });
const code = await new Promise((resolve) => vitest.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));

let summary = null;
try {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  summary = { passed: r.numPassedTests, skipped: r.numPendingTests + (r.numTodoTests ?? 0), total: r.numTotalTests };
  if (summary.total === 0) { console.error('[test] no test ran'); stopPrivateRedis(); process.exit(1); }
  // A file that fails to load has no failed test of its own: count it as one failure so the line never hides it.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  const checksNote = failedChecks.length > 0 ? ` (failed checks: ${failedChecks.join(', ')})` : '';
  console.log(`\ntests: ${summary.passed} passed, ${r.numFailedTests + brokenFiles + failedChecks.length} failed, ${summary.skipped} skipped${checksNote}`);
} catch {
  console.error('[test] could not read the Vitest results');
}
stopPrivateRedis();
process.exit(code !== 0 ? code : failedChecks.length > 0 ? 1 : 0);
