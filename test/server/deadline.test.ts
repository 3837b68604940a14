/**
 * server/deadline.ts: the deadline fires even when the request ignores its abort signal (what a lost
 * abort propagation inside fetch looks like), an outer abort ends the wait, and a request that answers in
 * time is not touched. Then the feeds' REST fetch against a 127.0.0.1 server that never answers.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { withDeadline } from '../../server/deadline.js';
import { errorCode } from '../../server/feeds/feed-error.js';
import { createFetchJson } from '../../server/feeds/metadata.js';

describe('withDeadline', () => {
  it('rejects at the deadline and aborts the signal, even when the request never looks at it', async () => {
    let seen: AbortSignal | null = null;
    const t0 = performance.now();
    const err = await withDeadline(150, (signal) => {
      seen = signal;
      return new Promise<never>(() => {}); // never settles, whatever the signal does
    }).catch((e: unknown) => e as DOMException);
    expect(err).toBeInstanceOf(DOMException);
    expect((err as DOMException).name).toBe('TimeoutError');
    expect((err as DOMException).message).toBe('no answer within 150 ms');
    expect(seen!.aborted).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(errorCode(err)).toBe('ETIMEDOUT');
  });

  it('an outer abort ends the wait at once with its reason', async () => {
    const outer = new AbortController();
    const pending = withDeadline(60_000, () => new Promise<never>(() => {}), outer.signal).catch((e: unknown) => e);
    outer.abort(new Error('shutting down'));
    expect(await pending).toEqual(new Error('shutting down'));
    const already = await withDeadline(60_000, () => Promise.resolve(1), outer.signal).catch((e: unknown) => e);
    expect(already).toEqual(new Error('shutting down'));
  });

  it('a request that answers in time gets its value and an untouched signal', async () => {
    let seen: AbortSignal | null = null;
    const v = await withDeadline(5_000, async (signal) => {
      seen = signal;
      await new Promise((r) => setTimeout(r, 20));
      return 42;
    });
    expect(v).toBe(42);
    expect(seen!.aborted).toBe(false);
  });
});

describe('createFetchJson against a server that never answers', () => {
  const hanging = new Set<ServerResponse>();
  const server = createServer((_req, res) => void hanging.add(res));
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('fails with a timeout the feed health names ETIMEDOUT, and keeps working for the next read', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fetchJson = createFetchJson(200);
    for (let i = 0; i < 3; i++) {
      const err = await fetchJson(`${base}/instruments`).catch((e: unknown) => e);
      expect(errorCode(err)).toBe('ETIMEDOUT');
    }
    expect(hanging.size).toBe(3);
  });
});
