/**
 * `npm run cluster -- --edges 2 --standby [--redis URL] [--port 8081] [--prefix perpscan:]`: a local
 * perpscan cluster on loopback (docs/cluster.md) — Redis (REDIS_URL / --redis, else a private
 * redis-server on a free port), one engine (ROLE=engine, the built-in simulator as the market), with
 * --standby a second engine waiting for the lease, and N edges (ROLE=edge) on consecutive ports from
 * --port (8081, 8082, … as in deploy/nginx-cluster.conf). Every process logs to this terminal with its
 * name. An engine that exits (killed, or it lost the lease) is replaced by a new one, which waits as
 * the standby: `kill -9` the active engine's pid to watch a failover. Ctrl-C stops everything.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface ClusterArgs {
  edges: number;
  standby: boolean;
  redisUrl: string | null;
  port: number;
  prefix: string;
}

function parseArgs(argv: string[]): ClusterArgs {
  const out: ClusterArgs = { edges: 2, standby: false, redisUrl: process.env.REDIS_URL || null, port: 8081, prefix: process.env.REDIS_PREFIX || 'perpscan:' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--edges') out.edges = Number(value());
    else if (a === '--standby') out.standby = true;
    else if (a === '--redis') out.redisUrl = value();
    else if (a === '--port') out.port = Number(value());
    else if (a === '--prefix') out.prefix = value();
    else throw new Error(`unknown argument ${a} (supported: --edges N, --standby, --redis URL, --port P, --prefix P)`);
  }
  if (!Number.isInteger(out.edges) || out.edges < 1 || out.edges > 32) throw new Error('--edges must be 1..32');
  if (!Number.isInteger(out.port) || out.port < 1 || out.port > 65535 - out.edges) throw new Error('--port must be a port number');
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Prefixes each line of a child's output with its name. */
function pipeNamed(name: string, child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        process.stdout.write(`[${name}] ${buf.slice(0, i)}\n`);
        buf = buf.slice(i + 1);
      }
    });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const children = new Set<ChildProcess>();
  let stopping = false;

  let redisUrl = args.redisUrl;
  if (!redisUrl) {
    if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) throw new Error('no REDIS_URL and redis-server is not installed (apt-get install -y redis-server)');
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', mkdtempSync(join(tmpdir(), 'perpscan-cluster-redis-'))], { stdio: 'ignore' });
    children.add(redis);
    if (!(await waitForPort(port, 5000))) throw new Error('the private redis-server did not start');
    redisUrl = `redis://127.0.0.1:${port}`;
    console.log(`[cluster] private redis-server on ${redisUrl}`);
  }

  const spawnServer = (name: string, env: Record<string, string>): ChildProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redisUrl as string, REDIS_PREFIX: args.prefix, HOST: '127.0.0.1', LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    pipeNamed(`${name} pid ${child.pid}`, child);
    console.log(`[cluster] ${name} started (pid ${child.pid})`);
    return child;
  };

  let engines = 0;
  const startEngine = (): void => {
    const n = ++engines;
    // Engines listen on ephemeral ports (their /api answers directly; edges reach them through Redis).
    const child = spawnServer(`engine-${n}`, { ROLE: 'engine', PORT: '0', FEEDS: process.env.FEEDS ?? 'sim' });
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (stopping) return;
      console.log(`[cluster] engine-${n} exited (${signal ?? `code ${code}`}); starting a new engine as the standby`);
      startEngine();
    });
  };
  startEngine();
  if (args.standby) startEngine();
  for (let i = 0; i < args.edges; i++) {
    const port = args.port + i;
    const child = spawnServer(`edge-${i + 1}`, { ROLE: 'edge', PORT: String(port), TRUST_PROXY: 'loopback' });
    child.once('exit', () => children.delete(child));
    console.log(`[cluster] edge-${i + 1}: http://127.0.0.1:${port}/`);
  }
  console.log(`[cluster] nginx in front: deploy/nginx-cluster.conf lists edges ${args.port}..${args.port + args.edges - 1}. Ctrl-C stops the cluster.`);

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('[cluster] stopping');
    for (const c of children) c.kill('SIGTERM');
    setTimeout(() => process.exit(0), 6000).unref();
    const check = setInterval(() => {
      if ([...children].every((c) => c.exitCode !== null || c.signalCode !== null)) {
        clearInterval(check);
        process.exit(0);
      }
    }, 100);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`cluster: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
