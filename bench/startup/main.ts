/**
 * bench/startup: how fast `npm start` is ready once built, and how fast SIGTERM to npm frees the port.
 *
 * Builds first (scripts/build.mjs, not timed), then launches `npm start` (PORT=0, the built-in simulator,
 * memory persistence: a fresh user's settings) `--runs` times, and `node dist/server/main.js` as many
 * times for comparison. Measured per launch: spawn → the "listening" log line, and SIGTERM (to npm, or
 * to node) → the process gone and the port refusing connections.
 *
 *   npx tsx bench/startup/main.ts [--runs 5]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { childEnv, REPO_ROOT } from '../../test/helpers/server.js';
import { report, Samples, writeResult } from '../lib.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Launches once; resolves [ms to "listening", ms from SIGTERM to exit with the port closed]. */
async function launch(command: string, args: string[]): Promise<[number, number]> {
  const t0 = performance.now();
  const child: ChildProcess = spawn(command, args, { cwd: REPO_ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
  const readyMs = performance.now() - t0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const t1 = performance.now();
  child.kill('SIGTERM');
  await exited;
  while (await portOpen(port)) await new Promise((r) => setTimeout(r, 10));
  return [readyMs, performance.now() - t1];
}

const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
if (build.status !== 0) throw new Error('build failed');

const result: Record<string, unknown> = { runs: RUNS };
for (const [name, command, args] of [
  ['npm start', 'npm', ['start', '--silent']],
  ['node dist/server/main.js', process.execPath, ['dist/server/main.js']],
] as const) {
  const ready = new Samples(RUNS);
  const stop = new Samples(RUNS);
  for (let i = 0; i < RUNS; i++) {
    const [r, s] = await launch(command, [...args]);
    ready.add(r);
    stop.add(s);
  }
  const rs = ready.summary();
  const ss = stop.summary();
  report(name, [
    ['ready p50 (ms)', rs.p50],
    ['ready max (ms)', rs.max],
    ['SIGTERM → port free p50 (ms)', ss.p50],
    ['SIGTERM → port free max (ms)', ss.max],
  ]);
  result[name] = { ready_p50_ms: rs.p50, ready_max_ms: rs.max, stop_p50_ms: ss.p50, stop_max_ms: ss.max };
}
console.log(`\nwrote ${writeResult('startup', result)}`);
