/**
 * Keeps one `/ws` connection alive for a `StreamStore`: parses frames, resyncs (reconnect → new snapshot) on a
 * frame gap or a `missed` notice, reconnects with backoff after a drop, and reports its status.
 * Works with the browser's WebSocket and with the `ws` package (tests) through `SocketLike`.
 */
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { StreamFilter } from '../../../shared/protocol.js';
import { Observable } from './observable.js';
import { sameStreamFilter } from './server-filter.js';
import type { StreamStore } from './stream-store.js';

/** The part of the WebSocket API used here (browser WebSocket and `ws` both have it). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface ConnectionInfo {
  status: ConnectionStatus;
  /** Failed attempts since the last good connection. */
  attempt: number;
  /** When the next reconnect is due (local ms), while reconnecting. */
  nextRetryMs: number | null;
  /** Since when the stream has been down (local ms); null while live. */
  downSinceMs: number | null;
  connectedSinceMs: number | null;
  lastMessageMs: number | null;
  reconnects: number;
  resyncs: number;
  lastError: string | null;
  framesPerSec: number;
  messagesPerSec: number;
}

export interface ConnectionOptions {
  url: string;
  store: StreamStore;
  createSocket: (url: string) => SocketLike;
  backoff?: BackoffOptions;
  /** No frame for this long on an open socket counts as a dead connection (the server sends stats every second). */
  silenceMs?: number;
  now?: () => number;
  /** Quiet time before a changed subscribe filter is sent (typing in a field sends once). */
  filterDebounceMs?: number;
}

export class StreamConnection extends Observable<ConnectionInfo> {
  private socket: SocketLike | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private readonly now: () => number;
  private info: ConnectionInfo;
  private frameTimes: number[] = [];
  private messageCounts: number[] = [];
  private everConnected = false;
  /** The subscribe filter wanted, and the one the current socket's server side has (a new socket starts unfiltered). */
  private filter: StreamFilter = {};
  private sentFilter: StreamFilter = {};
  private filterTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: ConnectionOptions) {
    const now = (opts.now ?? Date.now)();
    const info: ConnectionInfo = {
      status: 'stopped',
      attempt: 0,
      nextRetryMs: null,
      downSinceMs: now,
      connectedSinceMs: null,
      lastMessageMs: null,
      reconnects: 0,
      resyncs: 0,
      lastError: null,
      framesPerSec: 0,
      messagesPerSec: 0,
    };
    super(info);
    this.info = info;
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.info.status !== 'stopped') return;
    this.update({ status: 'connecting' });
    this.watchdog = setInterval(() => this.checkSilence(), 1000);
    this.connect();
  }

  stop(): void {
    this.clearRetry();
    if (this.filterTimer) clearTimeout(this.filterTimer);
    this.filterTimer = null;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.dropSocket();
    this.update({ status: 'stopped', nextRetryMs: null });
  }

  /** Throws the current connection away and takes a fresh snapshot on a new one. */
  resync(reason: string): void {
    if (this.info.status === 'stopped') return;
    this.dropSocket();
    this.update({ resyncs: this.info.resyncs + 1, lastError: `resync: ${reason}` });
    this.scheduleReconnect(0);
  }

  /**
   * Sets the server-side subscribe filter (a pre-filter; see server-filter.ts). Sent after `filterDebounceMs`
   * of quiet, and again on every new connection. The server answers a subscribe with a fresh filtered
   * snapshot, which replaces the store's rows, so rows that stopped matching do not linger as open.
   */
  setFilter(filter: StreamFilter): void {
    this.filter = filter;
    if (this.filterTimer) clearTimeout(this.filterTimer);
    this.filterTimer = setTimeout(() => {
      this.filterTimer = null;
      this.syncFilter();
    }, this.opts.filterDebounceMs ?? 300);
  }

  /** Sends the wanted filter when the live socket's server side has another one. */
  private syncFilter(): void {
    if (this.info.status !== 'live' || this.socket === null || sameStreamFilter(this.filter, this.sentFilter)) return;
    this.sentFilter = this.filter;
    this.send({ type: 'subscribe', filter: this.filter });
  }

  send(message: unknown): void {
    try {
      this.socket?.send(JSON.stringify(message));
    } catch {
      // a send on a closing socket is harmless: the reconnect sends nothing stale
    }
  }

  private connect(): void {
    this.clearRetry();
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(this.opts.url);
    } catch (err) {
      this.onDown(err instanceof Error ? err.message : String(err));
      return;
    }
    this.socket = socket;
    this.sentFilter = {}; // a new connection starts unfiltered on the server
    this.opts.store.beginConnection();
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.update({ status: 'connecting', nextRetryMs: null });
    };
    socket.onmessage = (ev) => {
      if (this.socket === socket) this.onMessage(ev.data);
    };
    socket.onerror = () => {
      if (this.socket === socket) this.update({ lastError: 'socket error' });
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.onDown('connection closed');
    };
  }

  private onMessage(data: unknown): void {
    const now = this.now();
    let frame: unknown;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      this.opts.store.applyFrame(null); // counted as malformed; the next frame number then shows the gap
      return;
    }
    const result = this.opts.store.applyFrame(frame);
    this.frameTimes.push(now);
    const messages = (frame as { messages?: unknown[] })?.messages;
    this.messageCounts.push(Array.isArray(messages) ? messages.length : 0);
    this.trimRates(now);
    if (!result.ok) {
      if (result.reason === 'malformed') return;
      this.resync(result.detail);
      return;
    }
    const wasLive = this.info.status === 'live';
    this.update({
      status: 'live',
      attempt: 0,
      downSinceMs: null,
      connectedSinceMs: wasLive ? this.info.connectedSinceMs : now,
      lastMessageMs: now,
      reconnects: !wasLive && this.everConnected ? this.info.reconnects + 1 : this.info.reconnects,
      ...this.rates(),
    });
    this.everConnected = true;
    if (!wasLive) this.syncFilter(); // after every (re)connect and resync: the first snapshot was unfiltered
  }

  private onDown(reason: string): void {
    if (this.info.status === 'stopped') return;
    const attempt = this.info.attempt;
    this.update({ lastError: reason, attempt: attempt + 1, downSinceMs: this.info.downSinceMs ?? this.now(), connectedSinceMs: null });
    this.scheduleReconnect(backoffDelayMs(attempt, this.opts.backoff ?? DEFAULT_BACKOFF));
  }

  private scheduleReconnect(delayMs: number): void {
    this.clearRetry();
    this.update({ status: 'reconnecting', nextRetryMs: this.now() + delayMs, downSinceMs: this.info.downSinceMs ?? this.now() });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delayMs);
  }

  private checkSilence(): void {
    const now = this.now();
    this.trimRates(now);
    if (this.info.status === 'live') {
      const silence = this.opts.silenceMs ?? 10_000;
      if (this.info.lastMessageMs !== null && now - this.info.lastMessageMs > silence) {
        this.dropSocket();
        this.onDown(`no message for ${Math.round((now - this.info.lastMessageMs) / 1000)} s`);
        return;
      }
      this.update(this.rates());
    }
  }

  private trimRates(now: number): void {
    while (this.frameTimes.length > 0 && now - this.frameTimes[0] > 5000) {
      this.frameTimes.shift();
      this.messageCounts.shift();
    }
  }

  private rates(): { framesPerSec: number; messagesPerSec: number } {
    const n = this.frameTimes.length;
    if (n === 0) return { framesPerSec: 0, messagesPerSec: 0 };
    const span = Math.max(1000, Math.min(5000, this.now() - this.frameTimes[0]));
    const messages = this.messageCounts.reduce((a, b) => a + b, 0);
    return { framesPerSec: (n * 1000) / span, messagesPerSec: (messages * 1000) / span };
  }

  private dropSocket(): void {
    const s = this.socket;
    this.socket = null;
    if (!s) return;
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
    try {
      s.close();
    } catch {
      // already closed
    }
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private update(patch: Partial<ConnectionInfo>): void {
    this.info = { ...this.info, ...patch };
    this.set(this.info);
  }
}
