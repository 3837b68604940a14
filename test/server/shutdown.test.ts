/**
 * Shutdown of the real server process: it exits promptly on SIGTERM even when nobody reads its stdout
 * any more (it used to hang on the broken log pipe until SIGKILL), and with Redis away it says how many
 * writes could not be flushed instead of waiting for them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../persistence/helpers.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';

/**
 * The exit, once the output is complete too: 'close' (exit and EOF on stdout and stderr), not 'exit', after
 * which lines the process wrote last (the shutdown's) may still be in the pipe, not yet in `logs`.
 */
function exited(s: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const c = s.child;
  const drained = [c.stdout, c.stderr].every((st) => !st || st.destroyed || st.readableEnded);
  if ((c.exitCode !== null || c.signalCode !== null) && drained) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
  return new Promise((resolve) => c.once('close', (code, signal) => resolve({ code, signal })));
}

/** Resolves the exit, or null when the process is still alive after `ms`. */
async function exitWithin(s: ServerProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  const result = await Promise.race([exited(s), late]);
  clearTimeout(timer);
  return result;
}

describe('server shutdown', () => {
  const servers: ServerProcess[] = [];
  let redis: PrivateRedis | null = null;
  afterAll(async () => {
    for (const s of servers) await s.kill9();
    await redis?.destroy();
  });

  it('exits within a few seconds of SIGTERM when its stdout pipe was closed by the reader', async () => {
    const server = await startServerProcess();
    servers.push(server);
    // The reader goes away (a closed terminal, a dead log shipper); the next log line is the shutdown's.
    server.child.stdout?.destroy();
    await new Promise((r) => setTimeout(r, 2000));
    server.child.kill('SIGTERM');
    const result = await exitWithin(server, 5_000);
    expect(result, 'still running 5 s after SIGTERM').not.toBeNull();
    expect(result).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('with Redis away, reports how many writes could not be flushed and still exits promptly', async () => {
    redis = await PrivateRedis.start();
    const server = await startServerProcess({ env: { SIM_RATE: '1000', REDIS_URL: redis.url, REDIS_PREFIX: 'perpscan-shutdown-test:' } });
    servers.push(server);
    await new Promise((r) => setTimeout(r, 1000));
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1500)); // market records pile up while Redis is away
    server.child.kill('SIGTERM');
    const result = await exitWithin(server, 8_000);
    expect(result, 'still running 8 s after SIGTERM').not.toBeNull();
    expect(result?.code).toBe(0);
    const line = server.logs.map((l) => (l.startsWith('{') ? (JSON.parse(l) as { msg?: string; unflushed?: number }) : {})).find((r) => typeof r.unflushed === 'number');
    expect(line?.msg).toMatch(/^shutdown: \d+ persistence writes could not be flushed$/);
    expect(line?.unflushed).toBeGreaterThan(0);
  }, 60_000);
});
