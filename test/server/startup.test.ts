/**
 * Runs `npm start` the way a user does (build the dashboard, start the server with the simulator), then
 * reads /api/health, the dashboard and a first opportunity over /ws, and stops it with SIGTERM (exit 0).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../shared/protocol.js';
import { StreamTestClient } from '../api/ws-client.js';
import { childEnv, REPO_ROOT, waitClosed } from '../helpers/server.js';

describe('npm start', () => {
  let child: ChildProcess | null = null;
  const logs: string[] = [];
  afterAll(() => {
    if (child && child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
  });

  it('builds, listens, serves health, the dashboard and a first opportunity, and stops cleanly on SIGTERM', { timeout: 180_000 }, async () => {
    // PORT=0: an ephemeral port, read from the "listening" log line. Its own process group so the whole tree stops.
    child = spawn('npm', ['start'], { cwd: REPO_ROOT, env: childEnv({ PORT: '0' }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not listen:\n${logs.slice(-20).join('\n')}`)), 150_000);
      let buf = '';
      const onData = (chunk: Buffer) => {
        buf += chunk.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          logs.push(line);
          if (line.includes('"msg":"listening"')) {
            clearTimeout(timer);
            resolve((JSON.parse(line) as { port: number }).port);
          }
        }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${logs.slice(-20).join('\n')}`)));
    });
    const base = `http://127.0.0.1:${port}`;

    const health = await fetch(`${base}/api/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    const html = await fetch(`${base}/`);
    expect(html.status).toBe(200);
    expect(await html.text()).toMatch(/<html/i);

    const ws = await StreamTestClient.connect(`ws://127.0.0.1:${port}/ws`);
    try {
      const hasOpportunity = (m: ServerMessage) => (m.type === 'snapshot' && m.opportunities.length > 0) || (m.type === 'opportunity' && m.event === 'opened');
      await ws.waitFor(() => ws.messages.some(hasOpportunity), 60_000);
      const first = ws.messages.find(hasOpportunity)!;
      const opp = first.type === 'snapshot' ? first.opportunities[0] : first.type === 'opportunity' ? first.opportunity : null;
      expect(opp?.id).toMatch(/^[A-Z0-9]+-PERP\|\w+\|\w+$/);
      expect(ws.violations).toEqual([]);
    } finally {
      ws.close();
    }

    // Wait for 'close', not 'exit': npm may die of the group signal before the server (its child) has logged
    // "stopped"; 'close' comes once every holder of the output pipes, the server too, has closed them.
    const closed = waitClosed(child);
    process.kill(-child.pid!, 'SIGTERM');
    const code = await closed;
    expect(logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    expect([0, null]).toContain(code); // npm itself may die of the group signal; the server logged a clean stop
  });
});
