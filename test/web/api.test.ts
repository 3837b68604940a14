/** ApiClient against a real HTTP server on 127.0.0.1 that records what it received. */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { ApiClient, ApiError, TOKEN_STORAGE_KEY, type StorageLike } from '../../web/src/lib/api.js';

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: string;
}

const seen: Seen[] = [];
let base = '';
const server = createServer(async (req: IncomingMessage, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
  res.setHeader('content-type', 'application/json');
  if (req.url === '/app/api/config' && req.method === 'GET') return res.end(JSON.stringify({ version: 3, config: DEFAULT_CONFIG }));
  if (req.url === '/app/api/config' && req.method === 'PUT') {
    const patch = JSON.parse(body) as { thresholds?: { minSpreadBps?: unknown } };
    if (typeof patch.thresholds?.minSpreadBps !== 'number') {
      res.statusCode = 400;
      return res.end(JSON.stringify({ error: 'invalid_config', field: 'thresholds.minSpreadBps', message: 'must be number' }));
    }
    return res.end(JSON.stringify({ version: 4, config: DEFAULT_CONFIG }));
  }
  if (req.url === '/app/api/positions/p%7C1/close') {
    if (req.headers.authorization !== 'Bearer s3cret') {
      res.statusCode = 401;
      return res.end(JSON.stringify({ error: 'unauthorized', message: 'missing or wrong API token' }));
    }
    return res.end(JSON.stringify({ id: 'p|1', state: 'closed' }));
  }
  if (req.url === '/app/api/trades?limit=500') return res.end(JSON.stringify({ count: 1, fills: [{ id: 'f1', side: 'buy', price: 10, fillMs: 5 }] }));
  if (req.url === '/app/api/rejections?limit=500') return res.end(JSON.stringify({ count: 1, rejections: [{ tsMs: 1, opportunityId: 'x', instrument: 'BTC-PERP', reason: 'cooldown', detail: '' }] }));
  res.statusCode = 404;
  res.end(JSON.stringify({ error: 'not_found', message: 'no such route' }));
});

class MapStorage implements StorageLike {
  readonly map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('ApiClient', () => {
  it('uses URLs relative to the page directory', async () => {
    const api = new ApiClient({ base, storage: null });
    const cfg = await api.getConfig();
    expect(cfg.version).toBe(3);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/app/api/config', auth: undefined });
    expect((await api.getRejections())[0].reason).toBe('cooldown');
    const trades = await api.getTrades();
    expect(trades.map((f) => f.id)).toEqual(['f1']);
    expect(seen.at(-1)!.url).toBe('/app/api/trades?limit=500');
  });

  it('turns a 400 into an ApiError naming the field', async () => {
    const api = new ApiClient({ base, storage: null });
    const err = await api.putConfig({ thresholds: { minSpreadBps: 'wide' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, field: 'thresholds.minSpreadBps', message: 'must be number' });
    expect(await api.putConfig({ thresholds: { minSpreadBps: 3 } })).toMatchObject({ version: 4 });
  });

  it('keeps the token in storage and sends it on mutating calls only', async () => {
    const storage = new MapStorage();
    const api = new ApiClient({ base, storage });
    await expect(api.closePosition('p|1')).rejects.toMatchObject({ status: 401 });
    api.token = ' s3cret ';
    expect(storage.map.get(TOKEN_STORAGE_KEY)).toBe('s3cret');
    const again = new ApiClient({ base, storage }); // a reload of the page
    await again.closePosition('p|1');
    expect(seen.at(-1)).toMatchObject({ method: 'POST', auth: 'Bearer s3cret' });
    await again.getConfig();
    expect(seen.at(-1)!.auth).toBeUndefined();
    again.token = '';
    expect(storage.map.has(TOKEN_STORAGE_KEY)).toBe(false);
    storage.setItem(TOKEN_STORAGE_KEY, 'from-another-tab');
    expect(again.token).toBe('from-another-tab');
    storage.removeItem(TOKEN_STORAGE_KEY);
    expect(again.token).toBe('');
  });

  it('reports an unreachable server as a network error', async () => {
    const api = new ApiClient({ base: 'http://127.0.0.1:9/', storage: null });
    await expect(api.getConfig()).rejects.toMatchObject({ status: 0, code: 'network' });
  });
});
