/**
 * The whole cluster as processes: real Redis, two engines (ROLE=engine, the second a standby), two edges
 * (ROLE=edge) behind real nginx (deploy/nginx-cluster.conf) and a real browser on the dashboard through
 * nginx. `kill -9` of the active engine: the standby takes the lease, restores the positions, and the
 * browser's rows flow again within 5 s on the same page and WebSocket (no reload); the open positions
 * are identical before and after.
 */
import type { Page } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import type { Position } from '../../shared/position.js';
import type { ServerFrame } from '../../shared/protocol.js';
import { ensureDashboardBuilt, launchChromium, type ChromiumSession } from '../web/browser.js';
import { describeWith } from '../helpers/services.js';
import { startServerProcess, type ServerProcess } from '../helpers/server.js';
import { deletePrefix, openBooks, SHARED_REDIS_URL, uniquePrefix, untilRedisHolds, waitFor } from '../persistence/helpers.js';
import { startClusterNginx, type NginxProcess } from './nginx.js';

const LEASE_TTL_MS = 2000;
const FAILOVER_BUDGET_MS = 5000;

/** Receive times (epoch ms) of /ws frames that carried live opportunity rows (opened or updated), and how many sockets the page opened. */
function watchStream(page: Page): { opportunityFramesMs: number[]; sockets: () => number } {
  const opportunityFramesMs: number[] = [];
  let sockets = 0;
  page.on('websocket', (ws) => {
    sockets++;
    ws.on('framereceived', ({ payload }) => {
      const frame = JSON.parse(typeof payload === 'string' ? payload : payload.toString()) as ServerFrame;
      // A takeover first closes the old engine's rows (the new snapshot lacks them): only opened/updated rows mean flowing again.
      if (frame.messages.some((m) => m.type === 'opportunity' && m.event !== 'closed')) opportunityFramesMs.push(Date.now());
    });
  });
  return { opportunityFramesMs, sockets: () => sockets };
}

describeWith(['redis', 'nginx', 'chromium'], 'cluster failover: kill -9 of the active engine behind nginx and two edges', () => {
  const prefix = uniquePrefix('cluster-failover');
  const processes: ServerProcess[] = [];
  let nginx: NginxProcess | null = null;
  let browser: ChromiumSession | null = null;
  afterAll(async () => {
    // The cluster's side of the story when something failed (lease, relay, restore).
    for (const p of processes) console.info(p.logs.filter((l) => /lease|cluster|standby|relay|restor/.test(l)).slice(-8).join('\n'));
    await browser?.close();
    await nginx?.stop();
    for (const p of processes) await p.kill9();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('the standby takes over within 5 s: rows flow again in the same page, positions identical', async () => {
    ensureDashboardBuilt();
    const common = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, BASE_PATH: '/perpscan', LEASE_TTL_MS: String(LEASE_TTL_MS) };
    const engineEnv = { ...common, ROLE: 'engine', SIM_RATE: '1000', SIM_DISLOCATIONS_PER_MIN: '600' };
    const active = await startServerProcess({ env: engineEnv, timeoutMs: 90_000 });
    processes.push(active);
    const standby = await startServerProcess({ env: engineEnv, readyWhen: 'standby', timeoutMs: 90_000 });
    processes.push(standby);
    const edgeEnv = { ...common, ROLE: 'edge', TRUST_PROXY: 'loopback' };
    const edges = [await startServerProcess({ env: edgeEnv, timeoutMs: 90_000 }), await startServerProcess({ env: edgeEnv, timeoutMs: 90_000 })];
    processes.push(...edges);
    nginx = await startClusterNginx(edges.map((e) => e.port));
    const api = async <T>(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${nginx!.base}/perpscan/api${path}`, {
        method: init?.method ?? 'GET',
        headers: init?.body === undefined ? {} : { 'content-type': 'application/json' },
        body: init?.body === undefined ? undefined : JSON.stringify(init.body),
      });
      return { status: res.status, body: (await res.json()) as T };
    };
    await waitFor(async () => (await api('/ready')).status === 200, 20_000, 'edges ready behind nginx');

    // Mutations through nginx → an edge → Redis → the engine: open positions freely, then stop new entries.
    const put = await api('/config', {
      method: 'PUT',
      body: {
        strategy: { enabled: true, minProfitBps: -10_000, minConfidence: 0, minOpportunityAgeMs: 0, minOpportunityUpdates: 0, cooldownMs: 0 },
        exits: { exitSpreadBps: -10_000, takeProfitUsd: 0, stopLossUsd: 0, maxHoldingMs: 0, exitOnFundingFlip: false, onFeedDown: 'close', minLiquidationDistancePct: 0 },
      },
    });
    expect(put).toMatchObject({ status: 200 });
    await waitFor(async () => (await api<{ count: number }>('/positions?state=open')).body.count >= 2, 45_000, 'two open positions');
    expect(await api('/trading-state', { method: 'POST', body: { state: 'reducing', reason: 'failover test' } })).toMatchObject({ status: 200, body: { state: 'reducing' } });
    // Entries in flight settle: no position is opening (or closing) any more.
    await waitFor(
      async () => (await api<{ positions: Position[] }>('/positions')).body.positions.every((p) => p.state !== 'opening' && p.state !== 'closing'),
      10_000,
      'entries in flight to settle',
    );
    const before = openBooks((await api<{ positions: Position[] }>('/positions')).body.positions);
    expect(before.length).toBeGreaterThanOrEqual(2);
    // The standby restores what Redis acknowledged: the kill -9 below comes once Redis holds these books.
    await untilRedisHolds(prefix, before);

    browser = await launchChromium();
    const page = browser.page;
    page.setDefaultTimeout(20_000);
    const stream = watchStream(page);
    await page.goto(`${nginx.base}/perpscan/`);
    await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor();
    await page.locator('[data-testid="opportunity-row"][data-state="open"]').first().waitFor({ timeout: 30_000 });
    await waitFor(() => stream.opportunityFramesMs.length > 0, 10_000, 'live opportunity frames in the browser');

    const killedMs = Date.now();
    await active.kill9();
    // The standby's lease time: frames received after it are the new engine's (the old one is long dead by then).
    const leaseTakenMs = (): number | null => {
      for (const l of standby.logs) {
        if (!l.startsWith('{')) continue;
        const rec = JSON.parse(l) as { msg?: string; time?: number };
        if (rec.msg === 'cluster: this engine holds the lease' && typeof rec.time === 'number') return rec.time;
      }
      return null;
    };
    await waitFor(() => leaseTakenMs() !== null, FAILOVER_BUDGET_MS + 5000, 'the standby takes the lease');
    const tookOverMs = leaseTakenMs() as number;
    await waitFor(() => stream.opportunityFramesMs.some((t) => t > tookOverMs), FAILOVER_BUDGET_MS + 10_000, 'opportunity frames from the new engine');
    const resumedMs = stream.opportunityFramesMs.find((t) => t > tookOverMs) as number;
    const failoverMs = resumedMs - killedMs;
    console.info(`cluster failover: kill -9 → lease taken ${((tookOverMs - killedMs) / 1000).toFixed(2)} s, rows flowing again ${(failoverMs / 1000).toFixed(2)} s (lease ttl ${LEASE_TTL_MS} ms)`);
    expect(failoverMs).toBeLessThanOrEqual(FAILOVER_BUDGET_MS);
    await page.locator('[data-testid="opportunity-row"][data-state="open"]').first().waitFor({ timeout: 5000 });
    expect(stream.sockets()).toBe(1); // the same WebSocket: no reload, no reconnect

    const after = openBooks((await api<{ positions: Position[] }>('/positions')).body.positions);
    expect(after).toEqual(before);
  }, 300_000);
});
