/** The real server process (test/helpers/server.ts): graceful SIGTERM exit, --record, env config overrides. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamTestClient } from '../api/ws-client.js';
import { startServerProcess } from '../helpers/server.js';

describe('server process', () => {
  it('applies env overrides, records raw frames with --record, and exits 0 on SIGTERM', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpscan-record-'));
    const file = join(dir, 'frames.jsonl');
    const server = await startServerProcess({ env: { PERPSCAN_MIN_SPREAD_BPS: '7', PERPSCAN_EXCHANGES: 'bybit,okx', SIM_RATE: '300' }, args: ['--record', file] });
    try {
      const cfg = (await (await fetch(`${server.baseUrl}/api/config`)).json()) as { version: number; config: { thresholds: { minSpreadBps: number }; market: { exchanges: string[] } } };
      expect(cfg.config.thresholds.minSpreadBps).toBe(7);
      expect(cfg.config.market.exchanges).toEqual(['bybit', 'okx']);
      const ws = await StreamTestClient.connect(server.wsUrl);
      await ws.waitFor(() => ws.messages.some((m) => m.type === 'stats' && m.stats.updatesTotal > 0), 30_000);
      ws.close();
    } finally {
      const code = await server.stop();
      expect(code).toBe(0);
    }
    expect(server.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    expect(existsSync(file)).toBe(true);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    const first = JSON.parse(lines[0]) as { t: number; ex: string; raw: string };
    expect(['bybit', 'okx']).toContain(first.ex);
    expect(typeof first.raw).toBe('string');
  });
});
