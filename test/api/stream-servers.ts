/**
 * Listening test apps and real /ws clients for the stream suites: `useStreamServers()` (call it at a test
 * file's top level) closes every client, then every app, after each test.
 */
import { afterEach } from 'vitest';
import { buildTestApp, type TestApp } from './harness.js';
import { StreamTestClient } from './ws-client.js';

export interface StreamServers {
  /** A test app listening on a free port of 127.0.0.1, and its /ws url (under `basePath` when given). */
  listening(opts?: Parameters<typeof buildTestApp>[0]): Promise<{ a: TestApp; url: string }>;
  /** A client on `url`, closed after the test. */
  connect(url: string): Promise<StreamTestClient>;
}

export function useStreamServers(): StreamServers {
  const apps: TestApp[] = [];
  const clients: StreamTestClient[] = [];
  afterEach(async () => {
    while (clients.length) clients.pop()!.close();
    while (apps.length) await apps.pop()!.close();
  });
  return {
    async listening(opts = {}) {
      const a = await buildTestApp(opts);
      apps.push(a);
      await a.app.listen({ host: '127.0.0.1', port: 0 });
      const addr = a.app.server.address();
      if (!addr || typeof addr === 'string') throw new Error('no address');
      return { a, url: `ws://127.0.0.1:${addr.port}${opts.basePath ?? ''}/ws` };
    },
    async connect(url) {
      const c = await StreamTestClient.connect(url);
      clients.push(c);
      return c;
    },
  };
}

/** One turn of the event loop (lets queued socket writes and reads run). */
export const tick = () => new Promise((r) => setImmediate(r));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The instruments of testConfig() and a mid price for each. */
export const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP', 'SOL-PERP'];
export const MID: Record<string, number> = { 'BTC-PERP': 50_000, 'ETH-PERP': 3000, 'SOL-PERP': 150 };
