/**
 * Starts the real server (`node --import tsx server/main.ts`) as a child process on an ephemeral port with
 * the built-in simulator, and waits until it logs that it is listening. For tests that need a real process:
 * dashboard (browser), persistence (kill -9 and restart), start-up, reverse proxy.
 *
 * The child's environment is this process's minus perpscan's own variables (REDIS_URL, API_TOKEN, BASE_PATH,
 * ...), so a test gets the defaults unless it passes them in `env` (a value of `undefined` removes one).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServerProcessOptions {
  env?: Record<string, string | undefined>;
  args?: string[];
  /** ms to wait for "listening" (default 30 s). */
  timeoutMs?: number;
  /** How the server is launched: from source through tsx (default), or `npm start` (compiled; `child` is npm). */
  launcher?: 'tsx' | 'npm start';
  /** What counts as started: the "listening" line (default), or a ROLE=engine standby waiting for the lease (then `port` is 0). */
  readyWhen?: 'listening' | 'standby';
}

export interface ServerProcess {
  /** http://127.0.0.1:PORT plus BASE_PATH (no trailing slash). */
  baseUrl: string;
  /** ws://127.0.0.1:PORT{BASE_PATH}/ws */
  wsUrl: string;
  port: number;
  child: ChildProcess;
  /** Everything the child wrote (stdout and stderr), line by line. */
  logs: string[];
  /** SIGTERM and wait for exit and the end of its output (see waitClosed); resolves the exit code (null if killed by a signal). */
  stop(): Promise<number | null>;
  /** SIGKILL (no graceful shutdown) and wait for exit. */
  kill9(): Promise<void>;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const OWN_VARS = [
  'HOST',
  'PORT',
  'FEEDS',
  'BASE_PATH',
  'TRUST_PROXY',
  'API_TOKEN',
  'REDIS_URL',
  'REDIS_PREFIX',
  'PERPSCAN_CONFIG',
  'SIM_RATE',
  'SIM_SEED',
  'SIM_DISLOCATIONS_PER_MIN',
  'SIM_UNIVERSE',
  'SIM_CHURN_SEC',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'FEED_ENDPOINTS',
  'ALLOWED_HOSTS',
  'ALLOWED_ORIGINS',
  'AUTH_FAILURE_LIMIT',
  'AUTH_FAILURE_WINDOW_MS',
  'MAX_CONNECTIONS_PER_IP',
  'HTTP_REQUEST_TIMEOUT_MS',
  'HTTP_HEADERS_TIMEOUT_MS',
  'WS_CLIENT_MESSAGES_PER_SEC',
  'ROLE',
  'LEASE_TTL_MS',
];

export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of OWN_VARS) delete env[k];
  for (const k of Object.keys(env)) if (k.startsWith('PERPSCAN_') || k.startsWith('VITEST')) delete env[k];
  env.HOST = '127.0.0.1';
  env.PORT = '0';
  env.FEEDS = 'sim';
  // The process tests watch the configured instruments: no generated universe unless a test asks for one.
  env.SIM_UNIVERSE = '0';
  env.PERPSCAN_CONFIG = '/nonexistent/perpscan.config.json';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * Waits for the child's 'close', not its 'exit': 'close' comes once it has exited AND its stdout and stderr
 * reached EOF, i.e. every holder of the pipes closed them (with `npm start` the server, npm's child, may
 * outlive npm by a moment), so every line written is in `logs` by then. Resolves the exit code. Should a
 * stray holder keep a pipe open, it resolves anyway 10 s after the exit.
 */
export function waitClosed(child: ChildProcess): Promise<number | null> {
  const exited = child.exitCode !== null || child.signalCode !== null;
  const drained = [child.stdout, child.stderr].every((s) => !s || s.destroyed || s.readableEnded);
  if (exited && drained) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    let fallback: NodeJS.Timeout | undefined;
    const done = (code: number | null) => {
      clearTimeout(fallback);
      child.off('close', done);
      child.off('exit', arm);
      resolve(code);
    };
    const arm = () => {
      fallback = setTimeout(() => done(child.exitCode), 10_000);
    };
    child.once('close', done);
    if (exited) arm();
    else child.once('exit', arm);
  });
}

export async function startServerProcess(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  const env = childEnv(opts.env);
  const args = opts.args ?? [];
  const [command, commandArgs]: [string, string[]] = opts.launcher === 'npm start' ? ['npm', ['start', '--silent', '--', ...args]] : [process.execPath, ['--import', 'tsx', 'server/main.ts', ...args]];
  const viaNpm = opts.launcher === 'npm start';
  const child = spawn(command, commandArgs, {
    cwd: REPO_ROOT,
    env,
    // npm in its own process group, so a forced kill can take the server (npm's child) with it.
    detached: viaNpm,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  /** SIGKILL to the server and, when launched through npm, to npm's whole process group. */
  const forceKill = () => {
    if (viaNpm && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
        return;
      } catch {
        // group already gone
      }
    }
    child.kill('SIGKILL');
  };
  const basePath = (env.BASE_PATH ?? '').replace(/\/+$/, '');

  const port = await new Promise<number>((resolve, reject) => {
    const timeout = setTimeout(() => {
      forceKill();
      reject(new Error(`server did not start within ${opts.timeoutMs ?? 30_000} ms:\n${logs.slice(-30).join('\n')}`));
    }, opts.timeoutMs ?? 30_000);
    const onLine = (line: string) => {
      logs.push(line);
      if (!line.startsWith('{')) return;
      try {
        const rec = JSON.parse(line) as { msg?: string; port?: number };
        if (opts.readyWhen === 'standby' && rec.msg?.startsWith('standby:')) {
          clearTimeout(timeout);
          resolve(0);
        } else if (rec.msg === 'listening' && typeof rec.port === 'number') {
          clearTimeout(timeout);
          resolve(rec.port);
        }
      } catch {
        // not JSON: keep it in logs
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    child.once('exit', (code, signal) => {
      clearTimeout(timeout);
      reject(new Error(`server exited (code ${code}, signal ${signal}) before listening:\n${logs.slice(-30).join('\n')}`));
    });
  });

  return {
    baseUrl: `http://127.0.0.1:${port}${basePath}`,
    wsUrl: `ws://127.0.0.1:${port}${basePath}/ws`,
    port,
    child,
    logs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = waitClosed(child);
      child.kill('SIGTERM');
      const timer = setTimeout(forceKill, 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) {
        if (viaNpm) forceKill(); // npm gone, its server perhaps not
        return;
      }
      const exited = waitClosed(child);
      forceKill();
      await exited;
    },
  };
}
