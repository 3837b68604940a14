/** Debian's nginx on a free loopback port with deploy/nginx-cluster.conf (edge ports substituted), for the cluster tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/server.js';
import { NGINX_PATH } from '../helpers/services.js';
import { freePort } from '../persistence/helpers.js';

export interface NginxProcess {
  /** http://127.0.0.1:PORT (nginx serves perpscan under /perpscan). */
  base: string;
  stop(): Promise<void>;
}

/** The cluster template with its upstream servers replaced by `edgePorts`, wrapped as a complete private nginx.conf. */
export function clusterNginxConfig(edgePorts: number[], listenPort: number, dir: string): string {
  const template = readFileSync(join(REPO_ROOT, 'deploy/nginx-cluster.conf'), 'utf8');
  const servers = edgePorts.map((p) => `    server 127.0.0.1:${p} max_fails=2 fail_timeout=5s;`).join('\n');
  const site = template.replace(/(?:^ {4}server 127\.0\.0\.1:\d+ [^\n]*\n)+/m, `${servers}\n`).replace(/^(\s*)listen 80;/m, `$1listen 127.0.0.1:${listenPort};`);
  return [
    process.getuid?.() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 1024; }',
    'http {',
    `  access_log ${dir}/access.log;`,
    `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
    site,
    '}',
  ].join('\n');
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export async function startClusterNginx(edgePorts: number[]): Promise<NginxProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'perpscan-nginx-cluster-'));
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub), { recursive: true });
  const listenPort = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, clusterNginxConfig(edgePorts, listenPort, dir));
  const child: ChildProcess = spawn(NGINX_PATH, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr?.on('data', (d: Buffer) => (errors += d.toString()));
  const until = Date.now() + 10_000;
  while (!(await connects(listenPort))) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`nginx did not start: ${errors}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base: `http://127.0.0.1:${listenPort}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      await exited;
    },
  };
}
