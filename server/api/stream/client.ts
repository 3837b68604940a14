/**
 * One `/ws` connection: numbers its frames contiguously, batches pre-encoded messages into one frame per
 * hub tick, and cuts itself off when its unsent buffer passes the limit (a client that stops reading must
 * never hold memory or slow anyone else down).
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { StreamFilter } from '../../../shared/protocol.js';
import { LatestWinsThrottle, TokenBucket } from './client-limits.js';
import type { CompiledFilter } from './filter.js';

export interface ClientLimits {
  /** Messages the client may send per second (a burst of twice that is allowed). */
  messagesPerSec: number;
  /** Least time between two applied subscribes (each rebuilds a full snapshot). */
  subscribeIntervalMs: number;
}

export class StreamClient {
  private frameNo = 0;
  /** Pre-encoded messages waiting for this client's next frame (filtered clients only; others share the hub's). */
  readonly out: string[] = [];
  filter: CompiledFilter | null = null;
  /** Set when a pong arrived since the last heartbeat ping. */
  alive = true;
  closed = false;
  framesSent = 0;
  bytesSent = 0;
  malformed = 0;
  /** Messages dropped because the client sent faster than its budget. */
  rateLimited = 0;
  readonly messageBudget: TokenBucket;
  /** Subscribes are merged (latest filter wins) and applied at most once per `subscribeIntervalMs`. */
  readonly subscribes: LatestWinsThrottle<StreamFilter>;

  constructor(
    readonly id: number,
    readonly socket: WebSocket,
    readonly remote: string,
    limits: ClientLimits,
    applySubscribe: (client: StreamClient, filter: StreamFilter) => void,
  ) {
    this.messageBudget = new TokenBucket(limits.messagesPerSec, 2 * limits.messagesPerSec);
    this.subscribes = new LatestWinsThrottle(limits.subscribeIntervalMs, (filter) => applySubscribe(this, filter));
  }

  get filtered(): boolean {
    return this.filter !== null;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /**
   * Sends one frame whose `messages` array is `body` (comma-joined encoded messages). Returns false when the
   * client was cut off because its buffer passed `maxBufferBytes`.
   */
  sendFrame(body: string, maxBufferBytes: number, sentUs: number): boolean {
    if (this.closed) return false;
    if (this.socket.readyState !== 1 /* OPEN */) return true;
    const frame = `{"frame":${++this.frameNo},"sentUs":${sentUs},"messages":[${body}]}`;
    this.socket.send(frame, { compress: false });
    this.framesSent++;
    this.bytesSent += frame.length;
    if (this.socket.bufferedAmount > maxBufferBytes) {
      this.terminate();
      return false;
    }
    return true;
  }

  /**
   * Sends one frame whose tail (`,"sentUs":T,"messages":[<messages>]}` as UTF-8 bytes) is shared by every
   * unfiltered client of a tick. Only `{"frame":N` and the WebSocket frame header are written per client,
   * into `scratch`; both parts go to the TCP socket corked, i.e. one writev, and the shared tail is never
   * copied. Falls back to `ws.send` when the raw socket is not reachable.
   */
  sendSharedFrame(tail: Buffer, maxBufferBytes: number, scratch: HeadScratch): boolean {
    if (this.closed) return false;
    if (this.socket.readyState !== 1 /* OPEN */) return true;
    const frameNo = ++this.frameNo;
    const raw = rawSocketOf(this.socket);
    let bytes: number;
    if (raw) {
      const head = scratch.head(frameNo, tail.length);
      raw.cork();
      raw.write(head);
      raw.write(tail);
      raw.uncork();
      bytes = head.length + tail.length;
    } else {
      const frame = Buffer.concat([Buffer.from(`{"frame":${frameNo}`), tail]);
      this.socket.send(frame, { binary: false, compress: false });
      bytes = frame.length;
    }
    this.framesSent++;
    this.bytesSent += bytes;
    if (this.socket.bufferedAmount > maxBufferBytes) {
      this.terminate();
      return false;
    }
    return true;
  }

  flushOwn(maxBufferBytes: number, sentUs: number): boolean {
    if (this.out.length === 0) return true;
    const body = this.out.join(',');
    this.out.length = 0;
    return this.sendFrame(body, maxBufferBytes, sentUs);
  }

  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.length = 0;
    this.subscribes.cancel();
    this.socket.terminate();
  }

  /** Closes with a WebSocket status code (e.g. 1008 policy violation); the client sees the reason. */
  closeWith(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.out.length = 0;
    this.subscribes.cancel();
    this.socket.close(code, reason);
  }
}

/**
 * `ws` keeps its TCP socket in `_socket` (not public API, stable across ws 8). Writing a complete,
 * unmasked server frame to it is what ws's own Sender does when compression is off; going around it lets
 * the shared tail be written without a per-client copy. Any other shape → null (callers use `send`).
 */
function rawSocketOf(ws: WebSocket): Duplex | null {
  const raw = (ws as unknown as { _socket?: unknown })._socket;
  return raw !== null && typeof raw === 'object' && typeof (raw as Duplex).cork === 'function' && !(raw as Duplex).destroyed ? (raw as Duplex) : null;
}

const FRAME_PREFIX = Buffer.from('{"frame":');
/** Room per client: WebSocket header (≤ 10) + `{"frame":` (9) + up to 16 digits. */
const HEAD_MAX = 40;

/**
 * Per-tick slab for the per-client frame heads (WebSocket header + `{"frame":N`). Each head is a
 * subarray of the slab; a fresh slab is taken when one fills up, so heads still queued in a socket are
 * never overwritten.
 */
export class HeadScratch {
  private slab: Buffer;
  private used = 0;

  constructor(private readonly clientsHint: number) {
    this.slab = Buffer.allocUnsafe(Math.max(16, clientsHint) * HEAD_MAX);
  }

  head(frameNo: number, tailLength: number): Buffer {
    if (this.used + HEAD_MAX > this.slab.length) {
      this.slab = Buffer.allocUnsafe(Math.max(16, this.clientsHint) * HEAD_MAX);
      this.used = 0;
    }
    const digits = String(frameNo);
    const payload = FRAME_PREFIX.length + digits.length + tailLength;
    const b = this.slab;
    const start = this.used;
    let o = start;
    b[o++] = 0x81; // FIN + text opcode
    if (payload < 126) {
      b[o++] = payload;
    } else if (payload < 65_536) {
      b[o++] = 126;
      b.writeUInt16BE(payload, o);
      o += 2;
    } else {
      b[o++] = 127;
      b.writeUInt32BE(Math.floor(payload / 2 ** 32), o);
      b.writeUInt32BE(payload >>> 0, o + 4);
      o += 8;
    }
    o += FRAME_PREFIX.copy(b, o);
    o += b.write(digits, o, 'latin1');
    this.used = o;
    return b.subarray(start, o);
  }
}
