/**
 * deploy/nginx.conf in front of a real server under BASE_PATH=/perpscan: Debian's nginx on a free loopback
 * port with the template (upstream port and listen address substituted), checking REST, the dashboard HTML
 * and one of its assets, and a /ws stream through the proxy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NGINX_PATH, describeWith } from '../helpers/services.js';
import { REPO_ROOT, type ServerProcess, startServerProcess } from '../helpers/server.js';
import { rawRequest } from '../api/raw-http.js';
import { StreamTestClient } from '../api/ws-client.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The deploy template as a complete nginx.conf for a private, unprivileged-path instance. */
export function nginxConfigFromTemplate(template: string, opts: { listenPort: number; upstreamPort: number; dir: string }): string {
  const site = template
    .replace(/server 127\.0\.0\.1:8080;/, `server 127.0.0.1:${opts.upstreamPort};`)
    .replace(/^(\s*)listen 80;/m, `$1listen 127.0.0.1:${opts.listenPort};`);
  const d = opts.dir;
  return [
    process.getuid?.() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${d}/nginx.pid;`,
    `error_log ${d}/error.log warn;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${d}/access.log;`,
    `  client_body_temp_path ${d}/body; proxy_temp_path ${d}/proxy; fastcgi_temp_path ${d}/fastcgi; uwsgi_temp_path ${d}/uwsgi; scgi_temp_path ${d}/scgi;`,
    site,
    '}',
  ].join('\n');
}

describeWith(['nginx'], 'deploy/nginx.conf in front of perpscan under /perpscan', () => {
  let server: ServerProcess;
  let nginx: ChildProcess;
  let base = '';
  const dir = mkdtempSync(join(tmpdir(), 'perpscan-nginx-'));

  beforeAll(async () => {
    expect(existsSync(join(REPO_ROOT, 'dist/web/index.html'))).toBe(true); // npm test builds the dashboard first
    server = await startServerProcess({ env: { BASE_PATH: '/perpscan', TRUST_PROXY: 'loopback', SIM_RATE: '400' } });
    const listenPort = await freePort();
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub), { recursive: true });
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConfigFromTemplate(readFileSync(join(REPO_ROOT, 'deploy/nginx.conf'), 'utf8'), { listenPort, upstreamPort: server.port, dir }));
    nginx = spawn(NGINX_PATH, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    nginx.stderr?.on('data', (d: Buffer) => (errors += d.toString()));
    await waitForPort(listenPort, 10_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${errors}`);
    });
    base = `http://127.0.0.1:${listenPort}`;
  }, 60_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx.once('exit', r));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await server?.stop();
  });

  it('proxies REST under the sub-path', async () => {
    const r = await fetch(`${base}/perpscan/api/health`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { status: string }).status).toBe('ok');
    const cfg = await fetch(`${base}/perpscan/api/config`);
    expect(((await cfg.json()) as { version: number }).version).toBeGreaterThanOrEqual(1);
    const bad = await fetch(`${base}/perpscan/api/config`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"thresholds":{"minSpreadBps":"x"}}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { field: string }).field).toBe('thresholds.minSpreadBps');
    expect((await fetch(`${base}/perpscan/metrics`)).status).toBe(200);
  });

  it('serves the dashboard HTML and its assets through the proxy', async () => {
    const redirect = await fetch(`${base}/perpscan`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toMatch(/\/perpscan\/$/);
    const html = await (await fetch(`${base}/perpscan/`)).text();
    expect(html).toMatch(/<html/i);
    const assets = [...html.matchAll(/(?:src|href)="(\.\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const r = await fetch(new URL(asset, `${base}/perpscan/`));
      expect(r.status).toBe(200);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  it('refuses a rebound host name and a cross-site write through the proxy; same-origin writes pass', async () => {
    const port = Number(new URL(base).port);
    // nginx forwards the client's Host (X-Forwarded-Host); perpscan trusts it from the loopback proxy and checks it
    const rebound = await rawRequest(port, { path: '/perpscan/api/health', headers: { host: `attacker.example:${port}` } });
    expect(rebound.status).toBe(421);
    const csrf = await rawRequest(port, { method: 'POST', path: '/perpscan/api/trading-state', headers: { origin: 'https://evil.example' }, body: { state: 'halted' } });
    expect(csrf.status).toBe(403);
    const same = await rawRequest(port, { method: 'POST', path: '/perpscan/api/trading-state', headers: { origin: base }, body: { state: 'active' } });
    expect(same.status).toBe(200);
    expect(same.json()).toMatchObject({ state: 'active' });
  });

  it('streams /ws through the proxy', async () => {
    const ws = await StreamTestClient.connect(`${base.replace('http', 'ws')}/perpscan/ws`);
    try {
      expect(ws.frames[0].messages[0].type).toBe('snapshot');
      // live events keep flowing through nginx (stats at least once a second; opportunities from the simulator)
      await ws.waitFor(() => ws.messages.some((m) => m.type === 'stats') && ws.frames.length >= 3, 15_000);
      expect(ws.violations).toEqual([]);
    } finally {
      ws.close();
    }
  });
});
