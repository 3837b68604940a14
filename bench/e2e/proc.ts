/** Child-process plumbing for the e2e benchmark: spawn, wait for a log line, CPU and RSS from /proc. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TICKS_PER_SEC = 100; // Linux USER_HZ

export interface Proc {
  child: ChildProcess;
  lines: string[];
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A crashed benchmark must not leave servers and simulators behind.
process.on('exit', () => {
  for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
});

/** `stdin: 'pipe'` keeps the child's stdin open for control lines (child.stdin.write). */
export function startProc(args: string[], env: NodeJS.ProcessEnv, opts: { stdin?: 'ignore' | 'pipe' } = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  for (const s of [child.stdout, child.stderr]) {
    let buf = '';
    s?.setEncoding('utf8');
    s?.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        if (lines.length > 5000) lines.splice(0, 1000);
        buf = buf.slice(i + 1);
      }
      for (const w of waiters.splice(0)) w();
    });
  }
  return {
    child,
    lines,
    waitFor(pred, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timeout; last output:\n${lines.slice(-10).join('\n')}`)), timeoutMs);
        const check = () => {
          const hit = lines.find(pred);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`exited ${child.exitCode}:\n${lines.slice(-10).join('\n')}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** user+system CPU seconds of a process. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC; // utime, stime (fields 14, 15)
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** A base port with `count` free consecutive loopback ports. */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      ok = await new Promise<boolean>((resolve) => {
        const srv = net.createServer();
        srv.once('error', () => resolve(false));
        srv.listen(base + i, '127.0.0.1', () => srv.close(() => resolve(true)));
      });
    }
    if (ok) return base;
  }
  throw new Error('no free port block');
}

export const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;
