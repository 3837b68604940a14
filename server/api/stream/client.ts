/**
 * One `/ws` connection: its audience (subscribe filter), its contiguous frame numbers, its send-buffer
 * state (lagging = over the limit, backlog being dropped until it drains and a snapshot resyncs it), and
 * what it may send us (message budget, subscribe throttle). Frames are written through `ws`'s public API.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { StreamFilter } from '../../../shared/protocol.js';
import type { Audience } from './audience.js';
import { LatestWinsThrottle, TokenBucket } from './client-limits.js';

export interface ClientLimits {
  /** Messages the client may send per second (a burst of twice that is allowed). */
  messagesPerSec: number;
  /** Least time between two applied subscribes (each rebuilds a full snapshot). */
  subscribeIntervalMs: number;
}

const OPEN = 1;
const TEXT_FRAGMENT = { binary: false, fin: false, compress: false } as const;
const TEXT_LAST = { binary: false, fin: true, compress: false } as const;

export class StreamClient {
  private frameNo = 0;
  /** Set when a pong arrived since the last heartbeat ping. */
  alive = true;
  closed = false;
  framesSent = 0;
  bytesSent = 0;
  malformed = 0;
  /** Messages dropped because the client sent faster than its budget. */
  rateLimited = 0;
  /** Over its buffer limit: frames are dropped (counted in `droppedBytes`) until it drains and is resynced. */
  lagging = false;
  droppedBytes = 0;
  /** performance.now() of the last resync (a client that lags again soon after one is cut). */
  lastResyncMs = Number.NEGATIVE_INFINITY;
  readonly messageBudget: TokenBucket;
  /** Subscribes are merged (latest filter wins) and applied at most once per `subscribeIntervalMs`. */
  readonly subscribes: LatestWinsThrottle<StreamFilter>;

  constructor(
    readonly id: number,
    readonly socket: WebSocket,
    readonly remote: string,
    public audience: Audience,
    limits: ClientLimits,
    applySubscribe: (client: StreamClient, filter: StreamFilter) => void,
    /**
     * The upgraded TCP socket (the HTTP request's `socket`, public Node API), corked around the two
     * fragments of a shared frame so they leave in one write; absent = two writes.
     */
    private readonly tcp: Socket | null = null,
  ) {
    this.messageBudget = new TokenBucket(limits.messagesPerSec, 2 * limits.messagesPerSec);
    this.subscribes = new LatestWinsThrottle(limits.subscribeIntervalMs, (filter) => applySubscribe(this, filter));
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === OPEN;
  }

  /** Bytes queued for this client and not yet handed to the kernel (`ws`'s public `bufferedAmount`). */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** Sends one whole frame whose `messages` array is `body` (comma-joined encoded messages); returns bytes written. */
  sendFrame(body: string, sentUs: number): number {
    if (!this.open) return 0;
    const frame = `{"frame":${++this.frameNo},"sentUs":${sentUs},"messages":[${body}]}`;
    this.socket.send(frame, { compress: false });
    return this.counted(Buffer.byteLength(frame));
  }

  /**
   * Sends one frame whose tail (`,"sentUs":T,"messages":[…]}`, encoded once for the whole audience) is
   * shared: the frame is one WebSocket text message in two fragments, this client's `{"frame":N` and the
   * shared tail, which `ws` writes as is (no per-client copy). Returns bytes written.
   */
  sendShared(tail: Buffer): number {
    if (!this.open) return 0;
    const head = `{"frame":${++this.frameNo}`;
    this.tcp?.cork();
    try {
      this.socket.send(head, TEXT_FRAGMENT);
      this.socket.send(tail, TEXT_LAST);
    } finally {
      this.tcp?.uncork();
    }
    return this.counted(head.length + tail.length);
  }

  private counted(bytes: number): number {
    this.framesSent++;
    this.bytesSent += bytes;
    return bytes;
  }

  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscribes.cancel();
    this.socket.terminate();
  }

  /** Closes with a WebSocket status code (e.g. 1008 policy violation); the client sees the reason. */
  closeWith(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.subscribes.cancel();
    this.socket.close(code, reason);
  }
}
