/**
 * The `/ws` hub: wires the stream's input (StreamInput: engine bus, strategy ring, state) through the
 * MessageRouter (events → encoded messages per audience) to the FanoutWriter (one shared frame per
 * audience per tick, bounded client buffers), and owns the connections: snapshot on connect, subscribe
 * requests (what clients send is checked by ClientMessages), heartbeat, the timers (coalescing tick,
 * periodic stats).
 *
 * A client's first frame is its snapshot; a subscribe moves it to another audience and sends a fresh,
 * filtered snapshot; every client gets at most one frame per tick.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Config } from '../../../shared/config.js';
import type { FundingCrossCheck } from '../../../shared/cross-check.js';
import type { FeedState } from '../../../shared/feeds.js';
import type { EngineStats, StreamFilter } from '../../../shared/protocol.js';
import { LatencyWindow } from '../latency.js';
import type { Logger } from '../ports.js';
import { Audiences } from './audience.js';
import { type ClientLimits, StreamClient } from './client.js';
import { ClientMessages } from './client-messages.js';
import { MessageRouter, type StreamInput } from './router.js';
import { FanoutWriter } from './writer.js';

export type { StreamInput, StreamState } from './router.js';

export interface StreamHubOptions extends StreamInput {
  stream: Config['stream'];
  logger?: Logger;
  now?: () => number;
  nowUs?: () => number;
  recentlyClosedLimit?: number;
  heartbeatMs?: number;
  /** What each client may send; default 20 messages/s and one applied subscribe per 250 ms. */
  clientLimits?: Partial<ClientLimits>;
}

export interface StreamCounters {
  clients: number;
  connectionsTotal: number;
  framesSent: number;
  bytesSent: number;
  /** Frame bodies encoded: one per audience (clients sharing a filter) per tick, plus one per snapshot. */
  framesEncoded: number;
  messagesCreated: number;
  /** Frames not sent to clients over their buffer limit (replaced by a snapshot when they resync). */
  framesDropped: number;
  /** Clients that fell over their buffer limit and were brought back with a fresh snapshot. */
  resyncs: number;
  terminatedSlow: number;
  malformedClientMessages: number;
  /** Client messages dropped because their client sent faster than its budget. */
  rateLimitedClientMessages: number;
  missedEvents: number;
}

const defaultNowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

export class StreamHub {
  private readonly clients = new Set<StreamClient>();
  private readonly audiences = new Audiences();
  private readonly router: MessageRouter;
  private readonly writer: FanoutWriter;
  private readonly now: () => number;
  private readonly nowUs: () => number;
  private stream: Config['stream'];
  private nextClientId = 1;
  private connectionsTotal = 0;
  private readonly clientMessages: ClientMessages;
  private pumpStartUs = 0;
  private updateTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pumping = false;
  private closed = false;
  readonly latency = { busToSent: new LatencyWindow(), endToEnd: new LatencyWindow() };
  private readonly clientLimits: ClientLimits;
  private lastStats: EngineStats | null = null;

  constructor(private readonly opts: StreamHubOptions) {
    this.now = opts.now ?? Date.now;
    this.nowUs = opts.nowUs ?? defaultNowUs;
    this.stream = opts.stream;
    this.clientLimits = { messagesPerSec: 20, subscribeIntervalMs: 250, ...opts.clientLimits };
    this.clientMessages = new ClientMessages(this.clientLimits, (c) => this.removeClient(c), opts.logger);
    this.writer = new FanoutWriter({
      maxBufferBytes: () => this.stream.maxClientBufferBytes,
      snapshotFor: (client) => this.router.snapshot(client.audience, this.stats()),
      cut: (client, why) => this.cutOff(client, why),
      passDone: (job) => this.recordLatency(job.pumpStartUs, job.recvUs),
    });
    // Subscribes to the input: last, so a wake-up finds the writer ready.
    this.router = new MessageRouter(
      opts,
      this.audiences,
      { now: this.now, logger: opts.logger, recentlyClosedLimit: opts.recentlyClosedLimit ?? 200, hasClients: () => this.clients.size > 0 },
      () => this.pump(),
    );
    this.startTimers();
    const hb = opts.heartbeatMs ?? 30_000;
    if (hb > 0) this.heartbeatTimer = setInterval(() => this.heartbeat(), hb);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get counters(): StreamCounters {
    const w = this.writer.counters;
    return {
      clients: this.clients.size,
      connectionsTotal: this.connectionsTotal,
      framesSent: w.framesSent,
      bytesSent: w.bytesSent,
      framesEncoded: w.framesEncoded,
      messagesCreated: this.router.messagesCreated,
      framesDropped: w.framesDropped,
      resyncs: w.resyncs,
      terminatedSlow: w.terminatedSlow,
      malformedClientMessages: this.clientMessages.malformed,
      rateLimitedClientMessages: this.clientMessages.rateLimited,
      missedEvents: this.router.missedEvents,
    };
  }

  setStreamConfig(stream: Config['stream']): void {
    const changed = stream.updateRateHz !== this.stream.updateRateHz || stream.statsIntervalMs !== this.stream.statsIntervalMs;
    this.stream = stream;
    if (changed) this.startTimers();
  }

  private startTimers(): void {
    if (this.updateTimer) clearInterval(this.updateTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.closed) return;
    this.updateTimer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / this.stream.updateRateHz)));
    this.statsTimer = setInterval(() => this.publishStats(), this.stream.statsIntervalMs);
  }

  // ---- connections -------------------------------------------------------------------------------

  /**
   * Registers a connected socket: sends its snapshot, then it receives the stream. `tcp`: the upgraded
   * TCP socket (the HTTP request's `socket`), corked around each frame's two fragments when given.
   */
  addClient(socket: WebSocket, remote = '', tcp: Socket | null = null): StreamClient {
    // Everything published before this point is reflected in the snapshot, so deliver it to the others first.
    this.pump(true);
    const client = new StreamClient(this.nextClientId++, socket, remote, this.audiences.join(null), this.clientLimits, (c, filter) => this.applySubscribe(c, filter), tcp);
    this.clients.add(client);
    this.connectionsTotal++;
    socket.on('message', (data, isBinary) => this.clientMessages.handle(client, data as Buffer, isBinary));
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('close', () => this.removeClient(client));
    socket.on('error', () => this.removeClient(client));
    this.sendSnapshot(client);
    return client;
  }

  private removeClient(client: StreamClient): void {
    client.closed = true;
    client.subscribes.cancel();
    if (this.clients.delete(client)) this.audiences.leave(client.audience);
  }

  private applySubscribe(client: StreamClient, spec: StreamFilter): void {
    if (client.closed || this.closed) return;
    this.pump(true); // flush what is owed under the old filter first
    const previous = client.audience;
    client.audience = this.audiences.join(spec);
    this.audiences.leave(previous);
    this.sendSnapshot(client); // a fresh, filtered snapshot: the client's view restarts from it
  }

  private heartbeat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        c.terminate();
        this.removeClient(c);
        continue;
      }
      c.alive = false;
      if (c.socket.readyState === 1) c.socket.ping();
    }
  }

  private cutOff(client: StreamClient, why: string): void {
    if (!this.clients.has(client)) return;
    this.opts.logger?.warn({ client: client.id, remote: client.remote, bufferedBytes: client.bufferedAmount, why }, 'ws client cut off: it cannot keep up');
    client.terminate();
    this.removeClient(client);
  }

  // ---- snapshot & stats --------------------------------------------------------------------------

  private sendSnapshot(client: StreamClient): void {
    this.writer.complete(); // older frames first
    this.writer.sendSnapshot(client, this.router.snapshot(client.audience, this.stats()), Math.round(this.nowUs()));
    if (client.bufferedAmount > this.stream.maxClientBufferBytes) this.cutOff(client, 'its snapshot does not fit the buffer limit');
  }

  /** Engine stats plus the stream's own numbers. */
  stats(): EngineStats {
    const s = this.opts.state.engineStats();
    return {
      ...s,
      wsClients: this.clients.size,
      busMissed: { ...s.busMissed, ws: this.router.missedEvents },
      latency: { ...s.latency, bus_to_sent: this.latency.busToSent.summary, end_to_end: this.latency.endToEnd.summary },
    };
  }

  get lastPublishedStats(): EngineStats | null {
    return this.lastStats;
  }

  private publishStats(): void {
    this.latency.busToSent.roll();
    this.latency.endToEnd.roll();
    const stats = this.stats();
    this.lastStats = stats;
    if (this.clients.size === 0) return;
    // Periodic, not urgent: these ride on the next coalescing tick (or an earlier urgent frame), so every
    // client gets one frame per tick instead of an extra fan-out pass per stats interval.
    this.router.publish((seq, tsMs) => ({ type: 'stats', seq, tsMs, stats }), false);
    // Feed counters (messages/s, last message age) move continuously: refresh them with the stats.
    for (const feed of this.opts.state.feeds()) this.router.publish((seq, tsMs) => ({ type: 'feed', seq, tsMs, feed }), false);
  }

  // ---- out-of-band events (feeds, config) ---------------------------------------------------------

  publishFeed(feed: FeedState): void {
    this.pump();
    this.router.publish((seq, tsMs) => ({ type: 'feed', seq, tsMs, feed }));
    this.flush();
  }

  publishFundingCheck(check: FundingCrossCheck): void {
    this.pump();
    this.router.publish((seq, tsMs) => ({ type: 'funding_check', seq, tsMs, check }));
    this.flush();
  }

  publishConfigVersion(version: number): void {
    this.pump();
    this.router.publish((seq, tsMs) => ({ type: 'config', seq, tsMs, version }));
    this.flush();
  }

  // ---- the event path ----------------------------------------------------------------------------

  /** Drains the input and sends what is due now (`all`: also what could wait for the tick). Safe to call at any time. */
  pump(all = false): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      this.pumpStartUs = this.nowUs();
      this.router.drain();
      if (all || this.router.urgentOwed) this.flush();
    } finally {
      this.pumping = false;
    }
  }

  private tick(): void {
    this.pump();
    this.router.tick();
    this.flush();
  }

  /** One frame per client with something owed (lagging clients are resynced here once drained). */
  private flush(): void {
    this.router.urgentOwed = false;
    if (this.clients.size === 0) return;
    this.writer.write([...this.clients], this.audiences.values(), Math.round(this.nowUs()), this.pumpStartUs, this.router.takeRecvUs());
  }

  private recordLatency(pumpStartUs: number, recvUs: number[] | null): void {
    if (!recvUs) return;
    const doneUs = this.nowUs(); // after the last client's write
    this.latency.busToSent.record(doneUs - pumpStartUs);
    for (const r of recvUs) this.latency.endToEnd.record(doneUs - r);
  }

  /** Closes every client (1001 going away) and stops the timers and subscriptions. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.updateTimer, this.statsTimer, this.heartbeatTimer]) if (t) clearInterval(t);
    this.writer.close();
    this.router.close();
    for (const c of this.clients) {
      c.closed = true;
      c.subscribes.cancel();
      try {
        c.socket.close(1001, 'server shutting down');
      } catch {
        c.socket.terminate();
      }
    }
    this.clients.clear();
  }
}
