/**
 * A local HTTP server on 127.0.0.1 standing in for an alert sink (webhook, Telegram Bot API, Discord,
 * Slack): records every request (method, path, headers, parsed JSON body, time) and answers from a script
 * (status, headers, body, or never).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  atMs: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (the request hangs until the client gives up). */
  hang?: boolean;
}

export interface SinkServer {
  base: string;
  received: Received[];
  /** Replies for the next requests, in order; then `fallback`. */
  script: Reply[];
  fallback: Reply;
  /** Resolves once `n` requests arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startSinkServer(fallback: Reply = { status: 200, body: '{"ok":true}' }): Promise<SinkServer> {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const waiters: Array<() => void> = [];
  const state = { script: [] as Reply[], fallback };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, atMs: Date.now() });
      for (const w of waiters.splice(0)) w();
      const reply = state.script.shift() ?? state.fallback;
      if (reply.hang) {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    get script() {
      return state.script;
    },
    set script(v: Reply[]) {
      state.script = v;
    },
    get fallback() {
      return state.fallback;
    },
    set fallback(v: Reply) {
      state.fallback = v;
    },
    waitFor(n: number, timeoutMs = 5_000): Promise<Received[]> {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`expected ${n} requests, got ${received.length}`)), timeoutMs);
        const check = (): void => {
          if (received.length >= n) {
            clearTimeout(deadline);
            resolve(received.slice());
          } else waiters.push(check);
        };
        check();
      });
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
