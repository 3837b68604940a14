/**
 * A scripted stand-in for the perpscan server, for browser tests that need an exact picture: serves the built
 * dashboard over HTTP on 127.0.0.1 and speaks the real `/ws` protocol on a real WebSocket server, with the
 * opportunities, feeds and stats the test sets. Every connection gets a snapshot of the current state, then
 * each change as an event; stats and feed states go out every `heartbeatMs` like the real hub's.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FeedState } from '../../shared/feeds.js';
import type { Opportunity, OpportunityCloseReason } from '../../shared/opportunity.js';
import type { Position } from '../../shared/position.js';
import type { ClosedOpportunity, EngineStats, ServerMessage, Snapshot, StreamFilter } from '../../shared/protocol.js';
import { portfolio, stats as makeStats } from './make.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface StageOptions {
  /** Built dashboard to serve (dist/web). */
  staticDir: string;
  heartbeatMs?: number;
  /** Server clock (default Date.now): lets a test put the server's clock ahead of or behind the browser's. */
  now?: () => number;
}

export class Stage {
  readonly opportunities = new Map<string, Opportunity>();
  readonly recentlyClosed: ClosedOpportunity[] = [];
  feeds: FeedState[] = [];
  positions: Position[] = [];
  stats: EngineStats = makeStats({ latency: {} });
  /** Client messages received (subscribe, ping). */
  readonly received: unknown[] = [];
  /** Scripted REST answers by path (`/api/funding`): the query in, the JSON body out. Other /api paths are 404. */
  readonly routes = new Map<string, (query: URLSearchParams) => unknown>();
  /** REST requests received (path and query), in order. */
  readonly requests: string[] = [];

  private http!: Server;
  private wss!: WebSocketServer;
  private readonly clients = new Map<WebSocket, { frame: number; filter: StreamFilter }>();
  private seq = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  private constructor(private readonly opts: StageOptions) {
    this.now = opts.now ?? Date.now;
  }

  static async start(opts: StageOptions): Promise<Stage> {
    const stage = new Stage(opts);
    await stage.listen();
    return stage;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}/`;
  }

  get connected(): number {
    return this.clients.size;
  }

  open(o: Opportunity): void {
    this.opportunities.set(o.id, o);
    this.send({ type: 'opportunity', seq: ++this.seq, tsMs: this.now(), recvUs: this.now() * 1000, event: 'opened', opportunity: o });
  }

  update(o: Opportunity): void {
    this.opportunities.set(o.id, o);
    this.send({ type: 'opportunity', seq: ++this.seq, tsMs: this.now(), recvUs: this.now() * 1000, event: 'updated', opportunity: o });
  }

  /** Several updates in one frame (as the hub coalesces a tick). */
  updateMany(list: Opportunity[]): void {
    for (const o of list) this.opportunities.set(o.id, o);
    this.sendAll(list.map((o) => ({ type: 'opportunity', seq: ++this.seq, tsMs: this.now(), recvUs: this.now() * 1000, event: 'updated', opportunity: o })));
  }

  close(id: string, reason: OpportunityCloseReason): void {
    const o = this.opportunities.get(id);
    if (!o) throw new Error(`no opportunity ${id}`);
    this.opportunities.delete(id);
    const tsMs = this.now();
    const lifetimeMs = Math.max(0, tsMs - o.firstSeenMs);
    this.recentlyClosed.push({ opportunity: o, reason, lifetimeMs, closedMs: tsMs });
    this.send({ type: 'opportunity', seq: ++this.seq, tsMs, recvUs: tsMs * 1000, event: 'closed', opportunity: o, reason, lifetimeMs });
  }

  setFeeds(feeds: FeedState[]): void {
    this.feeds = feeds;
  }

  setStats(over: Partial<EngineStats>): void {
    this.stats = { ...this.stats, ...over };
  }

  /** Stats and feed states, as the hub sends them every stats interval. */
  pulse(): void {
    const tsMs = this.now();
    this.sendAll([
      { type: 'stats', seq: ++this.seq, tsMs, stats: { ...this.stats, tsMs, opportunitiesOpen: this.stats.opportunitiesOpen || this.opportunities.size } },
      ...this.feeds.map((feed): ServerMessage => ({ type: 'feed', seq: ++this.seq, tsMs, feed })),
    ]);
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const ws of this.clients.keys()) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private snapshot(filter: StreamFilter): Snapshot {
    const tsMs = this.now();
    return {
      type: 'snapshot',
      seq: ++this.seq,
      tsMs,
      opportunities: [...this.opportunities.values()].filter((o) => passes(o, filter)),
      recentlyClosed: this.recentlyClosed.slice(-200).reverse(),
      positions: this.positions,
      portfolio: portfolio({ tsMs }),
      tradingState: 'active',
      feeds: this.feeds,
      configVersion: 1,
      stats: { ...this.stats, tsMs, opportunitiesOpen: this.stats.opportunitiesOpen || this.opportunities.size },
    };
  }

  private send(m: ServerMessage): void {
    this.sendAll([m]);
  }

  /** Like the hub: opportunity events only for clients whose filter they pass (closes always). */
  private sendAll(messages: ServerMessage[]): void {
    for (const [ws, c] of this.clients) {
      const mine = messages.filter((m) => m.type !== 'opportunity' || m.event === 'closed' || passes(m.opportunity, c.filter));
      if (mine.length > 0) ws.send(JSON.stringify({ frame: c.frame++, sentUs: this.now() * 1000, messages: mine }));
    }
  }

  private async listen(): Promise<void> {
    this.http = createServer((req, res) => {
      void (async () => {
        const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
        if (path.startsWith('/api/')) {
          this.requests.push(req.url ?? path);
          const route = this.routes.get(path);
          if (route) {
            const query = new URL(req.url ?? path, 'http://stage').searchParams;
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(route(query)));
            return;
          }
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not on this stage' }));
          return;
        }
        const rel = normalize(path === '/' ? '/index.html' : path).replace(/^(\.\.[/\\])+/, '');
        try {
          const body = await readFile(join(this.opts.staticDir, rel));
          res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' }).end(body);
        } catch {
          res.writeHead(404).end('not found');
        }
      })();
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.http.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/ws')) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const client = { frame: 1, filter: {} as StreamFilter };
        this.clients.set(ws, client);
        ws.send(JSON.stringify({ frame: client.frame++, messages: [this.snapshot(client.filter)] }));
        ws.on('message', (data) => {
          const m: unknown = JSON.parse(String(data));
          this.received.push(m);
          // The hub answers a subscribe with a fresh snapshot, filtered.
          if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'subscribe') {
            client.filter = (m as { filter?: StreamFilter }).filter ?? {};
            ws.send(JSON.stringify({ frame: client.frame++, messages: [this.snapshot(client.filter)] }));
          }
        });
        ws.on('close', () => this.clients.delete(ws));
      });
    });
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', () => r()));
    this.heartbeat = setInterval(() => this.pulse(), this.opts.heartbeatMs ?? 1000);
  }
}

function passes(o: Opportunity, f: StreamFilter): boolean {
  if (f.instruments && f.instruments.length > 0 && !f.instruments.includes(o.instrument)) return false;
  if (typeof f.minProfitBps === 'number' && !(o.projectedProfitBps >= f.minProfitBps)) return false;
  return true;
}
