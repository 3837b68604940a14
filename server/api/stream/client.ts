/**
 * One `/ws` connection: numbers its frames contiguously, batches pre-encoded messages into one frame per
 * hub tick, and cuts itself off when its unsent buffer passes the limit (a client that stops reading must
 * never hold memory or slow anyone else down).
 */
import type { WebSocket } from 'ws';
import type { CompiledFilter } from './filter.js';

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

  constructor(
    readonly id: number,
    readonly socket: WebSocket,
    readonly remote: string,
  ) {}

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
    this.socket.send(frame);
    this.framesSent++;
    this.bytesSent += frame.length;
    if (this.socket.bufferedAmount > maxBufferBytes) {
      this.terminate();
      return false;
    }
    return true;
  }

  /**
   * Sends one frame whose `messages` tail (`<messages>]}` as UTF-8 bytes) is shared by every unfiltered
   * client: only the small header is encoded per client.
   */
  sendSharedFrame(tail: Buffer, maxBufferBytes: number, sentUs: number): boolean {
    if (this.closed) return false;
    if (this.socket.readyState !== 1 /* OPEN */) return true;
    const header = Buffer.from(`{"frame":${++this.frameNo},"sentUs":${sentUs},"messages":[`);
    const frame = Buffer.concat([header, tail], header.length + tail.length);
    this.socket.send(frame, { binary: false });
    this.framesSent++;
    this.bytesSent += frame.length;
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
    this.socket.terminate();
  }
}
