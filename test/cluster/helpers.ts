/** Cluster tests: an engine (the API test harness behind the lease and publisher) and edges, all in-process on a real Redis. */
import pino from 'pino';
import type { BuildAppOptions } from '../../server/app.js';
import { buildEdge, type BuildEdgeOptions, type PerpscanEdge } from '../../server/cluster/edge.js';
import { type ActiveEngine, startEngineRole } from '../../server/cluster/engine-role.js';
import { buildTestApp, type TestApp } from '../api/harness.js';

export const silent = pino({ level: 'silent' });

export interface TestEngine extends ActiveEngine {
  perpscan: TestApp;
}

export async function startTestEngine(redisUrl: string, redisPrefix: string, opts: BuildAppOptions & { leaseTtlMs?: number; onLost?: (reason: string) => void } = {}): Promise<TestEngine> {
  let app: TestApp | null = null;
  const active = await startEngineRole({
    redisUrl,
    redisPrefix,
    basePath: '',
    logger: silent,
    leaseTtlMs: opts.leaseTtlMs ?? 1000,
    snapshotMs: 200,
    fundingMs: 100,
    build: async (persistence) => (app = await buildTestApp({ redisUrl, redisPrefix, persistence, ...opts })),
    onLost: opts.onLost ?? (() => undefined),
  });
  if (!app) throw new Error('engine not built');
  return Object.assign(active, { perpscan: app as TestApp });
}

export async function startTestEdge(redisUrl: string, redisPrefix: string, opts: Partial<BuildEdgeOptions> = {}): Promise<{ edge: PerpscanEdge; url: string }> {
  const edge = await buildEdge({ redisUrl, redisPrefix, logger: silent, staticDir: null, ...opts });
  await edge.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = edge.app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('edge not listening');
  return { edge, url: `http://127.0.0.1:${addr.port}` };
}

export async function json<T>(url: string, init?: { method?: string; body?: unknown; token?: string }): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (init?.body !== undefined) headers['content-type'] = 'application/json';
  if (init?.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(url, { method: init?.method ?? 'GET', headers, body: init?.body === undefined ? undefined : JSON.stringify(init.body) });
  return { status: res.status, body: (await res.json()) as T };
}
