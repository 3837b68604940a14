/**
 * `npm start` in production form: compiled JavaScript (no TypeScript transpiler in the process), no
 * rebuild when nothing changed, and `kill -TERM <npm pid>` stops the server and frees its port.
 * (How fast it is ready: bench/startup.)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { describeWith, REDIS_URL } from '../helpers/services.js';
import { REPO_ROOT, startServerProcess } from '../helpers/server.js';

/** Command lines of the direct children of `pid` (from /proc). */
function childCommands(pid: number): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent pid (the command name in field 2 may contain spaces).
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(name), cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true when something accepts connections on 127.0.0.1:port. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

beforeAll(() => {
  // The first build (tsc + Vite) may take a while; the test measures the start after it.
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}, 300_000);

describe('npm start', () => {
  it('runs the compiled server as npm’s child without rebuilding, and SIGTERM to npm frees the port', async () => {
    const srv = await startServerProcess({ launcher: 'npm start', env: { FEEDS: 'none' } });
    onTestFinished(() => srv.kill9()); // whatever failed, nothing keeps running
    const npmPid = srv.child.pid!;

    // Nothing changed since the build: no rebuild on start.
    expect(srv.logs.filter((l) => l.includes('[build]'))).toEqual([]);
    // npm's only child is the node server itself (no shell in between, no tsx loader).
    const kids = childCommands(npmPid);
    expect(kids.map((k) => k.cmd)).toEqual([expect.stringMatching(/(^|\/)node scripts\/start\.mjs$/)]);
    expect(kids[0].cmd).not.toMatch(/tsx|--import|--loader/);
    const serverPid = kids[0].pid;
    const nodeOptions = readFileSync(`/proc/${serverPid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('NODE_OPTIONS=')) ?? '';
    expect(nodeOptions).not.toMatch(/tsx|--import|--loader/);

    // It serves the built dashboard from dist/web.
    const res = await fetch(`${srv.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(readFileSync(`${REPO_ROOT}/dist/web/index.html`, 'utf8'));
    // How fast it is ready is measured by bench/startup, not here (a shared machine's load decides it);
    // what makes it fast is asserted above: no build, compiled files, no transpiler.

    await srv.stop(); // SIGTERM to the npm process
    const deadline = Date.now() + 10_000;
    while (alive(serverPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(serverPid)).toBe(false);
    expect(await portOpen(srv.port)).toBe(false);
    expect(srv.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  }, 60_000);
});

describeWith(['redis'], 'npm start with Redis', () => {
  it('starts the persistence writer thread from the compiled worker file', async () => {
    const srv = await startServerProcess({ launcher: 'npm start', env: { FEEDS: 'none', REDIS_URL, REDIS_PREFIX: `perpscan-npm-start-${process.pid}:` } });
    onTestFinished(() => srv.kill9());
    try {
      const listening = srv.logs.find((l) => l.includes('"msg":"listening"'));
      expect(listening).toContain('"persistence":"redis"');
      // `connected` is reported by the writer thread itself: it ran from dist/server/persistence/writer-worker.js.
      let persistence: unknown = null;
      for (let i = 0; i < 100 && persistence !== 'connected'; i++) {
        persistence = ((await (await fetch(`${srv.baseUrl}/api/ready`)).json()) as { persistence?: unknown }).persistence;
        if (persistence !== 'connected') await new Promise((r) => setTimeout(r, 100));
      }
      expect(persistence).toBe('connected');
    } finally {
      expect(await srv.stop()).toBe(0);
    }
  }, 60_000);
});
