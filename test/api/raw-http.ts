/**
 * Real HTTP requests to 127.0.0.1 with any header a hostile client could send (fetch forbids setting Host),
 * and a /ws handshake that reports how the server answered.
 */
import http from 'node:http';
import WebSocket from 'ws';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export function rawRequest(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: unknown }): Promise<RawResponse> {
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: <T>() => JSON.parse(text) as T }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export type HandshakeResult = { opened: true; firstMessage: string } | { opened: false; status: number };

/** Opens /ws with the given headers; resolves with the first message, or the HTTP status that refused the upgrade. */
export function wsHandshake(url: string, headers: Record<string, string> = {}): Promise<HandshakeResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('message', (data) => {
      resolve({ opened: true, firstMessage: data.toString() });
      ws.terminate();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('error', (err) => reject(err)); // after a resolve (terminate while connecting) this is a no-op
  });
}
