/**
 * Nobody gets in who should not (issue 10 §3): Host names (DNS rebinding) and cross-site Origins, over real
 * HTTP and WebSocket on 127.0.0.1. Before the guard, every request below that expects 421/403 succeeded: a
 * rebound name could read and change everything, and /ws handed positions to any Origin even with API_TOKEN.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { trackApps, type TestApp } from './harness.js';
import { rawRequest, wsHandshake } from './raw-http.js';

const { serve, closeAll } = trackApps();
afterEach(closeAll);

/** Opens a real paper position (so there is something to close and to leak). */
async function openPosition(a: TestApp): Promise<string> {
  a.flat('BTC-PERP', 50_000);
  a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
  a.strategy.start();
  for (let i = 0; i < 20 && a.strategy.positions().length === 0; i++) {
    a.strategy.step(Date.now());
    await new Promise((r) => setTimeout(r, 10));
  }
  const open = a.strategy.positions().filter((p) => p.state !== 'closed');
  expect(open.length).toBeGreaterThan(0);
  return open[0].id;
}

describe('Host header: only the configured names are served (DNS-rebinding defence)', () => {
  it('a rebound name gets 421 on reads, writes and /ws; the state does not change', async () => {
    const { a, port } = await serve();
    await openPosition(a);
    const evil = { host: `attacker.example:${port}` };
    const read = await rawRequest(port, { path: '/api/positions', headers: evil });
    expect(read.status).toBe(421);
    expect(read.json()).toMatchObject({ error: 'misdirected_request', field: 'host' });
    expect(read.body).not.toContain('BTC-PERP'); // nothing leaks

    const put = await rawRequest(port, { method: 'PUT', path: '/api/config', headers: evil, body: { thresholds: { minSpreadBps: 99 } } });
    expect(put.status).toBe(421);
    const halt = await rawRequest(port, { method: 'POST', path: '/api/trading-state', headers: { ...evil, origin: `http://attacker.example:${port}` }, body: { state: 'halted', closeAll: true } });
    expect(halt.status).toBe(421);
    expect(a.config.version).toBe(1);
    expect(a.strategy.tradingState()).toBe('active');
    expect(a.strategy.positions().filter((p) => p.state !== 'closed').length).toBeGreaterThan(0);

    const ws = await wsHandshake(`ws://127.0.0.1:${port}/ws`, { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` });
    expect(ws).toEqual({ opened: false, status: 421 });
    // the dashboard (/) is refused too, so a rebound page cannot even load it
    expect((await rawRequest(port, { path: '/', headers: evil })).status).toBe(421);
  });

  it('the loopback names are served on any port; ALLOWED_HOSTS adds names', async () => {
    const { port } = await serve({ access: { allowedHosts: ['localhost', '127.0.0.1', '[::1]', 'scanner.example.org', 'pinned.example:9443'], allowedOrigins: [] } });
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost', 'LOCALHOST:1', `scanner.example.org:${port}`, 'scanner.example.org.', 'pinned.example:9443']) {
      expect((await rawRequest(port, { path: '/api/health', headers: { host } })).status, host).toBe(200);
    }
    for (const host of ['pinned.example:9444', 'pinned.example', 'scanner.example.org.evil.example', '127.0.0.1.nip.io', 'localhost.evil.example']) {
      expect((await rawRequest(port, { path: '/api/health', headers: { host } })).status, host).toBe(421);
    }
  });

  it('under BASE_PATH the guard runs before the sub-path redirect', async () => {
    const { port } = await serve({ basePath: '/perpscan' });
    expect((await rawRequest(port, { path: '/perpscan/api/health', headers: { host: `localhost:${port}` } })).status).toBe(200);
    expect((await rawRequest(port, { path: '/perpscan/api/health', headers: { host: 'attacker.example' } })).status).toBe(421);
    expect((await rawRequest(port, { path: '/perpscan', headers: { host: 'attacker.example' } })).status).toBe(421);
    expect((await rawRequest(port, { path: '/perpscan', headers: { host: `localhost:${port}` } })).status).toBe(301);
  });

  it('behind a trusted proxy the forwarded host is checked; an untrusted X-Forwarded-Host is ignored', async () => {
    const behind = await serve({ trustProxy: 'loopback', access: { allowedHosts: ['localhost', '127.0.0.1', '[::1]', 'scanner.example.org'], allowedOrigins: [] } });
    const via = (xfh: string) => rawRequest(behind.port, { path: '/api/health', headers: { host: `127.0.0.1:${behind.port}`, 'x-forwarded-host': xfh } });
    expect((await via('scanner.example.org')).status).toBe(200);
    expect((await via('attacker.example')).status).toBe(421);
    // No proxy trusted: X-Forwarded-Host is just a header; the Host is what counts.
    const direct = await serve();
    expect((await rawRequest(direct.port, { path: '/api/health', headers: { host: `127.0.0.1:${direct.port}`, 'x-forwarded-host': 'attacker.example' } })).status).toBe(200);
    expect((await rawRequest(direct.port, { path: '/api/health', headers: { host: 'attacker.example', 'x-forwarded-host': '127.0.0.1' } })).status).toBe(421);
  });
});

describe('Origin: mutating routes and /ws refuse other sites', () => {
  it('a cross-site page cannot change the config, halt trading or close positions', async () => {
    const { a, port } = await serve();
    const id = await openPosition(a);
    const headers = { host: `127.0.0.1:${port}`, origin: 'https://evil.example' };
    const put = await rawRequest(port, { method: 'PUT', path: '/api/config', headers, body: { thresholds: { minSpreadBps: 99 } } });
    expect(put.status).toBe(403);
    expect(put.json()).toMatchObject({ error: 'forbidden_origin', field: 'origin' });
    expect((await rawRequest(port, { method: 'POST', path: '/api/trading-state', headers, body: { state: 'halted', closeAll: true } })).status).toBe(403);
    expect((await rawRequest(port, { method: 'POST', path: `/api/positions/${encodeURIComponent(id)}/close`, headers, body: {} })).status).toBe(403);
    // another port of the same machine is another origin too
    const otherPort = { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port + 1}` };
    expect((await rawRequest(port, { method: 'POST', path: '/api/trading-state', headers: otherPort, body: { state: 'halted' } })).status).toBe(403);
    // a sandboxed page sends Origin: null
    expect((await rawRequest(port, { method: 'POST', path: '/api/trading-state', headers: { host: `127.0.0.1:${port}`, origin: 'null' }, body: { state: 'halted' } })).status).toBe(403);
    expect(a.config.version).toBe(1);
    expect(a.strategy.tradingState()).toBe('active');
    expect(a.strategy.position(id)?.state).not.toBe('closed');
    // reads stay open (the browser's same-origin policy keeps their bodies from the other site)
    expect((await rawRequest(port, { path: '/api/config', headers })).status).toBe(200);
  });

  it('same-origin, origin-less (curl) and ALLOWED_ORIGINS requests pass', async () => {
    const { a, port } = await serve({ access: { allowedHosts: ['localhost', '127.0.0.1', '[::1]'], allowedOrigins: ['https://dash.example.org'] } });
    // each accepted PUT changes a value (a PUT that changes nothing keeps the version)
    const body = (minSpreadBps: number) => ({ thresholds: { minSpreadBps } });
    expect((await rawRequest(port, { method: 'PUT', path: '/api/config', headers: { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` }, body: body(9) })).status).toBe(200);
    expect((await rawRequest(port, { method: 'PUT', path: '/api/config', headers: { host: `localhost:${port}` }, body: body(10) })).status).toBe(200);
    expect((await rawRequest(port, { method: 'PUT', path: '/api/config', headers: { host: `localhost:${port}`, origin: 'https://dash.example.org' }, body: body(11) })).status).toBe(200);
    expect((await rawRequest(port, { method: 'PUT', path: '/api/config', headers: { host: `localhost:${port}`, origin: 'https://dash.example.org.evil.example' }, body: body(12) })).status).toBe(403);
    expect(a.config.version).toBe(4);
  });

  it('/ws refuses a cross-site Origin (even with API_TOKEN set) and serves same-origin and origin-less clients', async () => {
    const { a, port } = await serve({ apiToken: 'x'.repeat(40) });
    await openPosition(a);
    const url = `ws://127.0.0.1:${port}/ws`;
    expect(await wsHandshake(url, { origin: 'https://evil.example' })).toEqual({ opened: false, status: 403 });
    const same = await wsHandshake(url, { origin: `http://127.0.0.1:${port}` });
    expect(same.opened && JSON.parse(same.firstMessage).messages[0].type).toBe('snapshot');
    const script = await wsHandshake(url);
    expect(script.opened && JSON.parse(script.firstMessage).messages[0].positions.length).toBeGreaterThan(0);
    expect(a.hub.counters.connectionsTotal).toBe(2); // the refused one never became a client
  });
});
