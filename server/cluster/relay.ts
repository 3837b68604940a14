/**
 * Mutations (and reads of state only the engine holds: funding history) sent to an edge reach the engine over Redis request/reply: the edge (after its own Host,
 * Origin, token and body checks) publishes the request on the requests channel with a correlation id
 * and its reply channel; the active engine (the only subscriber) runs it through its own HTTP routes
 * (`inject`: the same validation, auth and handlers as a direct call) and publishes the answer. No
 * subscriber (no active engine) or no answer within the timeout → the edge answers 503 with the reason.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Logger } from '../api/ports.js';
import type { ClusterKeys } from './keys.js';

export interface RelayRequest {
  id: string;
  replyTo: string;
  method: string;
  /** Path and query below the base path, e.g. `/api/config?force=true`. */
  path: string;
  headers: Record<string, string>;
  body: string | null;
  /** The client's address as the edge saw it (rate limits and auth failures count per client). */
  remoteAddress: string;
}

export interface RelayReply {
  id: string;
  status: number;
  contentType: string | null;
  /** Other response headers the client needs (a download's file name; see RELAYED_REPLY_HEADERS). */
  headers?: Record<string, string>;
  body: string;
}

export type RelayOutcome = { ok: true; reply: RelayReply } | { ok: false; reason: string };

export const DEFAULT_RELAY_TIMEOUT_MS = 5000;
/** Request headers the engine needs; everything else (Host, Origin, cookies) was checked on the edge. */
const FORWARDED_HEADERS = ['authorization', 'content-type', 'accept'] as const;

export function forwardedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const v = headers[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

/** Response headers passed back to the client besides the content type (relayed reads: CSV/JSON downloads). */
const RELAYED_REPLY_HEADERS = ['content-disposition', 'cache-control'] as const;

function redisOptions(name: string) {
  return { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: name, retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 1000) };
}

/** The edge's side: sends requests, matches replies by id. */
export class EdgeRelay {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly replyTo: string;
  private readonly pending = new Map<string, { resolve: (o: RelayOutcome) => void; timer: NodeJS.Timeout }>();

  constructor(
    url: string,
    private readonly keys: ClusterKeys,
    private readonly logger: Logger,
    private readonly timeoutMs = DEFAULT_RELAY_TIMEOUT_MS,
    edgeId: string = randomUUID(),
  ) {
    this.replyTo = keys.replies(edgeId);
    this.pub = new Redis(url, redisOptions(`edge-relay-${edgeId}`));
    this.sub = new Redis(url, { ...redisOptions(`edge-replies-${edgeId}`), maxRetriesPerRequest: null });
    this.pub.on('error', (err: Error) => logger.warn({ err: err.message }, 'cluster relay: redis error'));
    this.sub.on('error', (err: Error) => logger.warn({ err: err.message }, 'cluster relay: redis subscriber error'));
    this.sub.on('message', (_channel: string, raw: string) => {
      const reply = JSON.parse(raw) as RelayReply;
      const waiting = this.pending.get(reply.id);
      if (!waiting) return; // answered after its timeout: the client already has its 503
      this.pending.delete(reply.id);
      clearTimeout(waiting.timer);
      waiting.resolve({ ok: true, reply });
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    await this.sub.subscribe(this.replyTo);
  }

  async send(req: Omit<RelayRequest, 'id' | 'replyTo'>): Promise<RelayOutcome> {
    const id = randomUUID();
    const message: RelayRequest = { ...req, id, replyTo: this.replyTo };
    const outcome = new Promise<RelayOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, reason: `the engine did not answer within ${this.timeoutMs} ms` });
      }, this.timeoutMs);
      this.pending.set(id, { resolve, timer });
    });
    let receivers: number;
    try {
      receivers = await this.pub.publish(this.keys.requests, JSON.stringify(message));
    } catch (err) {
      this.settle(id, { ok: false, reason: `redis not reachable (${err instanceof Error ? err.message : String(err)})` });
      return outcome;
    }
    if (receivers === 0) this.settle(id, { ok: false, reason: 'no engine is active (failover in progress, or none running)' });
    return outcome;
  }

  private settle(id: string, outcome: RelayOutcome): void {
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    clearTimeout(waiting.timer);
    waiting.resolve(outcome);
  }

  async close(): Promise<void> {
    for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, reason: 'the edge is shutting down' });
    this.pub.disconnect();
    this.sub.disconnect();
  }
}

/** The engine's side: runs relayed requests through its own routes and publishes the answers. */
export class EngineRelayServer {
  private readonly pub: Redis;
  private readonly sub: Redis;

  constructor(
    url: string,
    private readonly keys: ClusterKeys,
    private readonly app: FastifyInstance,
    private readonly basePath: string,
    private readonly logger: Logger,
  ) {
    this.pub = new Redis(url, redisOptions('engine-relay'));
    this.sub = new Redis(url, { ...redisOptions('engine-requests'), maxRetriesPerRequest: null });
    this.pub.on('error', (err: Error) => logger.warn({ err: err.message }, 'cluster relay: redis error'));
    this.sub.on('error', (err: Error) => logger.warn({ err: err.message }, 'cluster relay: redis subscriber error'));
    this.sub.on('message', (_channel: string, raw: string) => void this.handle(raw));
  }

  async start(): Promise<void> {
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    await this.sub.subscribe(this.keys.requests);
  }

  private async handle(raw: string): Promise<void> {
    let req: RelayRequest;
    try {
      req = JSON.parse(raw) as RelayRequest;
    } catch {
      this.logger.warn({}, 'cluster relay: malformed request dropped');
      return;
    }
    let reply: RelayReply;
    try {
      const res = await this.app.inject({
        method: req.method as 'GET',
        url: `${this.basePath}${req.path}`,
        headers: req.headers,
        payload: req.body ?? undefined,
        remoteAddress: req.remoteAddress,
      });
      const ct = res.headers['content-type'];
      const headers: Record<string, string> = {};
      for (const name of RELAYED_REPLY_HEADERS) {
        const v = res.headers[name];
        if (typeof v === 'string') headers[name] = v;
      }
      reply = { id: req.id, status: res.statusCode, contentType: typeof ct === 'string' ? ct : null, headers, body: res.body };
    } catch (err) {
      reply = { id: req.id, status: 500, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: 'internal', field: null, message: `relay failed: ${err instanceof Error ? err.message : String(err)}` }) };
    }
    await this.pub.publish(req.replyTo, JSON.stringify(reply)).catch((err: unknown) => this.logger.warn({ err }, 'cluster relay: reply not sent'));
  }

  /** Stops taking requests (the lease is gone or the engine is stopping). */
  async close(): Promise<void> {
    await this.sub.unsubscribe().catch(() => undefined);
    this.sub.disconnect();
    this.pub.disconnect();
  }
}
