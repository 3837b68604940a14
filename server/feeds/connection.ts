/**
 * One venue socket's life: connect, subscribe (after the welcome where the venue sends one), client
 * heartbeat, silence detection, reconnect with exponential backoff and jitter, proactive rotation
 * before the venue's 24 h cut-off. Venue specifics come from a `ConnectionPlan`, re-made on every
 * connect (a connection token, where the venue needs one, is fresh each time). Frames go to `onFrame`; exceptions never escape.
 *
 * Planned reconnects (rotation, a venue's "reconnect soon" notice) are make-before-break: the old
 * socket keeps delivering until the new one has its first data, so the venue is never marked down
 * (which would close its opportunities, and positions with `onFeedDown: close`) for a routine rotation.
 * Only used for venues whose plans set a max age (venues that cut connections at 24 h).
 */
import WebSocket from 'ws';
import type { FeedError, FeedStatus } from '../../shared/feeds.js';
import type { ConnectionPlan, ParseOutcome } from './adapter.js';
import { nowUs } from '../engine/clock.js';
import { count } from './adapter.js';
import { feedError, reasonError } from './feed-error.js';
import { type ConnectPacer, connectionLimiters } from './rate-limiter.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Multiplier per failed attempt. */
  factor: number;
}
/**
 * Capped low on purpose: a venue that comes back is live again within ~3 s of its return (one delay at the
 * cap plus the handshake), at the price of one connection attempt every 1.5–3 s while it is away.
 */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 3_000, factor: 2 };

/**
 * Exponential backoff with "equal jitter": half the delay fixed, half random (`random` in [0, 1)), so
 * sockets that dropped together do not all come back in the same instant.
 */
export function backoffDelayMs(b: BackoffOptions, attempt: number, random: () => number): number {
  const ceiling = Math.min(b.maxMs, b.initialMs * b.factor ** Math.min(attempt, 64));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export interface ConnectionHooks {
  /** Parse and push one frame; returns what it was. `recvUs`: epoch µs read at the socket's 'message' event. */
  onFrame(raw: string, recvMs: number, recvUs: number): ParseOutcome;
  /** The socket is gone (merge state must be dropped, the venue marked down). */
  onDown(reason: string): void;
  /** First data after (re)subscribing: the new snapshot has arrived. */
  onLive(): void;
  /** Anything in `state` changed. */
  onChange(): void;
}

export interface ConnectionOptions {
  /** Reconnect when nothing arrives for this long (ms). */
  silenceMs: number;
  backoff?: BackoffOptions;
  now?: () => number;
  /** [0,1) source for jitter (injectable for tests). */
  random?: () => number;
  log?: (level: 'info' | 'warn', msg: string) => void;
  /** Paces new sockets within the venue's connections-per-IP rate (shared by the venue's connections). */
  connectPacer?: ConnectPacer;
}

export class FeedConnection {
  status: FeedStatus = 'connecting';
  messages = 0;
  reconnects = 0;
  lastMessageMs: number | null = null;
  lastError: FeedError | null = null;
  /** Topics subscribed on the current socket. */
  subscriptions = 0;
  readonly errors: Record<string, number> = {};
  label: string;

  private ws: WebSocket | null = null;
  /** The socket being replaced during a make-before-break rotation. */
  private retiring: WebSocket | null = null;
  private plan: ConnectionPlan | null = null;
  private attempts = 0;
  private stopped = false;
  private subscribed = false;
  /** The subscription changed while a plan was being made: make a fresh one. */
  private replanRequested = false;
  /** Subscription changes made while the socket was opening: sent right after the plan's subscribes. */
  private readonly pendingChange: string[] = [];
  private live = false;
  private openedMs = 0;
  private lastInboundMs = 0;
  private lastPingMs = 0;
  private tick: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private readonly subTimers = new Set<NodeJS.Timeout>();
  /** The current socket's rate budgets (messages; subscribe requests), from its plan's limits. */
  private limiters = connectionLimiters(undefined);
  /** When the last queued message of the current socket goes (epoch ms). */
  private lastQueuedMs = 0;
  /** Requests waiting for their slot, in order, each for the socket it was queued on. */
  private readonly outbox: Array<{ ws: WebSocket; msg: string; spacingMs: number }> = [];
  private outboxTimer: NodeJS.Timeout | null = null;
  private pacingTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;

  constructor(
    label: string,
    private readonly planner: () => Promise<ConnectionPlan>,
    private readonly hooks: ConnectionHooks,
    private readonly opts: ConnectionOptions,
  ) {
    this.label = label;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
  }

  /** A socket is open (during a rotation: the old or the new one). */
  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN || this.retiring?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.pacingTimer) clearTimeout(this.pacingTimer);
    this.pacingTimer = null;
    const ws = this.ws;
    this.ws = null;
    this.status = 'stopped';
    this.retiring?.terminate();
    this.retiring = null;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.terminate();
      });
    }
    this.hooks.onChange();
  }

  /** The plan of the current socket (null before the first). */
  get currentPlan(): ConnectionPlan | null {
    return this.plan;
  }

  /**
   * Changes what the live socket carries by sending `messages` (spaced as the plan's subscribes);
   * a socket that has not subscribed yet is re-made instead, so its next plan has the new list.
   */
  applyChange(messages: readonly string[], topicCount: number, symbols?: readonly string[]): void {
    const ws = this.ws;
    if (this.stopped) return;
    // The socket's symbol list follows the change (a reconnect re-plans exactly these symbols).
    if (this.plan && symbols) this.plan = { ...this.plan, symbols, topicCount };
    const plan = this.plan;
    if (ws && plan && this.subscribed && ws.readyState === WebSocket.OPEN) {
      this.subscriptions = topicCount;
      this.sendSpaced(ws, messages, plan.subscribeSpacingMs);
      this.hooks.onChange();
      return;
    }
    if (ws && plan && !this.subscribed && (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN)) {
      // Opening (or awaiting the venue's welcome): the change follows the plan's own subscribes, in order,
      // rather than costing a reconnect (at start-up every venue's discovery changes the others' lists).
      this.pendingChange.push(...messages);
      return;
    }
    this.replanRequested = true;
    if (ws) {
      this.drop(ws, reasonError('RESUBSCRIBE', 'subscription changed before the socket subscribed', this.now()));
      ws.terminate();
    }
    // No socket: a plan is being made (re-made on return) or a reconnect is scheduled (plans afresh).
  }

  /** Replaces the socket now, make-before-break (a venue's "reconnect soon" notice, rotation). */
  recycle(reason: string): void {
    const ws = this.ws;
    if (!ws || this.retiring) return;
    this.opts.log?.('info', `${this.label}: replacing the connection (${reason})`);
    this.retiring = ws;
    this.ws = null;
    this.clearTimers();
    this.reconnects++;
    void this.connect();
  }

  /** The replacement is live: close the old socket quietly. */
  private retireOld(): void {
    const old = this.retiring;
    this.retiring = null;
    if (old) {
      old.removeAllListeners('message');
      old.close(1000, 'rotated');
    }
  }

  private setStatus(status: FeedStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.hooks.onChange();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    if (!this.retiring) this.setStatus('connecting'); // while rotating, the old socket is still live
    this.subscribed = false;
    this.live = false;
    this.replanRequested = false;
    this.pendingChange.length = 0; // a new socket is planned with the current list
    let plan: ConnectionPlan;
    try {
      plan = await this.planner();
    } catch (e) {
      this.fail(feedError(e, 'plan', this.now()));
      return;
    }
    if (this.stopped) return;
    if (this.replanRequested) return this.connect();
    // New sockets of one venue are paced within its connections-per-IP rate: asked again after every
    // wait (a late timer or a handshake settled meanwhile changes the answer), booked when the handshake ends.
    const pacer = this.opts.connectPacer;
    for (let waitMs = pacer?.delayMs(plan.limits, this.now()) ?? 0; waitMs > 0; waitMs = pacer!.delayMs(plan.limits, this.now())) {
      await new Promise<void>((resolve) => (this.pacingTimer = setTimeout(resolve, waitMs)));
      this.pacingTimer = null;
      if (this.stopped) return;
      if (this.replanRequested) return this.connect();
    }
    const settle = pacer?.begin(this.now()) ?? (() => {});
    this.plan = plan;
    this.label = plan.label;
    this.limiters = connectionLimiters(plan.limits);
    this.lastQueuedMs = 0;
    let ws: WebSocket;
    try {
      // No compression (inflating every small frame costs latency and CPU) and no UTF-8 validation pass:
      // a frame that is not valid text fails the adapter's parse and is counted as malformed anyway.
      ws = new WebSocket(plan.url, { handshakeTimeout: 10_000, perMessageDeflate: false, skipUTF8Validation: true });
    } catch (e) {
      settle(this.now());
      this.fail(feedError(e, 'bad url', this.now()));
      return;
    }
    // The handshake's end (however it ends) is the latest the venue can have counted this connect. A refused
    // upgrade ends in 'error' (no 'unexpected-response' listener here: one would swallow that error).
    for (const ev of ['open', 'error', 'close'] as const) ws.once(ev, () => settle(this.now()));
    this.ws = ws;
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.openedMs = this.lastInboundMs = this.lastPingMs = this.now();
      this.startTick();
      if (!plan.awaitWelcome) this.subscribe(ws, plan);
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const recvUs = nowUs(); // the frame's receive stamp, before any decoding
      if (this.ws === ws) this.onMessage(ws, plan, isBinary ? null : data.toString(), recvUs);
      else if (this.retiring === ws) this.onRetiringMessage(isBinary ? null : data.toString(), recvUs);
    });
    ws.on('error', (err: Error) => {
      count(this.errors, 'socket_error');
      const error = feedError(err, 'socket', this.now());
      if (this.ws === ws) this.drop(ws, error); // a late error of a socket no longer in use changes nothing
    });
    ws.on('close', (code: number) => {
      if (this.ws === ws) this.drop(ws, reasonError('CLOSED', `closed by venue (${code})`, this.now()));
      else if (this.retiring === ws) this.retiring = null; // the old socket ended first: the new one carries on
    });
  }

  private onMessage(ws: WebSocket, plan: ConnectionPlan, raw: string | null, recvUs: number): void {
    const recvMs = this.now();
    this.lastInboundMs = recvMs;
    this.lastMessageMs = recvMs;
    this.messages++;
    if (raw === null) {
      count(this.errors, 'binary_frame');
      return;
    }
    let outcome: ParseOutcome;
    try {
      outcome = this.hooks.onFrame(raw, recvMs, recvUs);
    } catch (e) {
      // A bug downstream must not kill the socket loop: count it and carry on.
      count(this.errors, 'handler_exception');
      this.lastError = feedError(e, 'frame handler', this.now());
      return;
    }
    switch (outcome) {
      case 'welcome':
        if (plan.awaitWelcome && !this.subscribed) this.subscribe(ws, plan);
        break;
      case 'data':
        if (!this.live) {
          this.live = true;
          this.attempts = 0;
          this.retireOld();
          this.setStatus('live');
          this.hooks.onLive();
        }
        break;
      case 'reconnect_notice':
        this.recycle('venue asked to reconnect');
        break;
      default:
        break;
    }
  }

  /** Frames still arriving on the socket being replaced: data only (its protocol replies are moot). */
  private onRetiringMessage(raw: string | null, recvUs: number): void {
    if (raw === null) return;
    this.lastMessageMs = this.now();
    this.messages++;
    try {
      this.hooks.onFrame(raw, this.lastMessageMs, recvUs);
    } catch (e) {
      count(this.errors, 'handler_exception');
      this.lastError = feedError(e, 'frame handler', this.now());
    }
  }

  private subscribe(ws: WebSocket, plan: ConnectionPlan): void {
    this.subscribed = true;
    this.subscriptions = this.plan?.topicCount ?? plan.topicCount;
    this.sendSpaced(ws, plan.subscribeMessages, plan.subscribeSpacingMs);
    if (this.pendingChange.length > 0) this.sendSpaced(ws, this.pendingChange.splice(0), plan.subscribeSpacingMs);
    this.hooks.onChange();
  }

  /**
   * Queues `messages` (subscribe/unsubscribe requests) at least `spacingMs` apart and within the socket's
   * rate budgets (messages per window, subscribe requests per hour); a message is dropped if the socket
   * was replaced or closed meanwhile.
   */
  private sendSpaced(ws: WebSocket, messages: readonly string[], spacingMs: number): void {
    for (const msg of messages) this.outbox.push({ ws, msg, spacingMs });
    this.drainOutbox();
  }

  /**
   * Sends queued requests one at a time. Each goes only when the limiters allow it at the actual time and is
   * booked then, never at a planned time: timers that fire late send later, never together.
   */
  private drainOutbox(): void {
    if (this.outboxTimer) return;
    while (this.outbox.length > 0) {
      const { ws, msg, spacingMs } = this.outbox[0]!;
      if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) {
        this.outbox.shift(); // the socket was replaced or closed: its requests go with it
        continue;
      }
      const now = this.now();
      const notBefore = this.lastQueuedMs > 0 ? this.lastQueuedMs + spacingMs : now;
      const at = Math.max(this.limiters.messages.earliest(now, notBefore), this.limiters.subscribes.earliest(now, notBefore));
      if (at > now) {
        this.outboxTimer = setTimeout(() => {
          this.outboxTimer = null;
          this.drainOutbox();
        }, Math.ceil(at - now));
        return;
      }
      this.outbox.shift();
      this.limiters.messages.book(now);
      this.limiters.subscribes.book(now);
      this.lastQueuedMs = now;
      ws.send(msg);
    }
  }

  private startTick(): void {
    if (this.tick) clearInterval(this.tick);
    const every = Math.max(10, Math.min(1000, Math.floor(this.opts.silenceMs / 4)));
    this.tick = setInterval(() => this.housekeeping(), every);
  }

  private housekeeping(): void {
    const ws = this.ws;
    const plan = this.plan;
    if (!ws || !plan || ws.readyState !== WebSocket.OPEN) return;
    const now = this.now();
    if (now - this.lastInboundMs > this.opts.silenceMs) {
      count(this.errors, 'silence');
      this.setStatus('stale');
      this.drop(ws, reasonError('SILENT', `silent for ${now - this.lastInboundMs} ms`, now));
      ws.terminate();
      return;
    }
    if (plan.maxAgeMs > 0 && now - this.openedMs >= plan.maxAgeMs) {
      this.opts.log?.('info', `${this.label}: rotating after ${now - this.openedMs} ms`);
      this.recycle('rotation');
      return;
    }
    const hb = plan.heartbeat;
    if (hb) {
      // Never later than half the silence limit: a quiet socket (a few illiquid symbols) must get the venue's
      // pong back before our own silence check drops it, whatever period the venue allows.
      const everyMs = Math.min(hb.everyMs, this.opts.silenceMs / 2);
      const due = hb.whenIdle ? now - this.lastInboundMs >= everyMs && now - this.lastPingMs >= everyMs : now - this.lastPingMs >= everyMs;
      if (due) {
        this.lastPingMs = now;
        this.limiters.messages.book(now); // a heartbeat cannot wait, but it uses the message budget
        ws.send(hb.message());
      }
    }
  }

  private clearTimers(): void {
    if (this.tick) clearInterval(this.tick);
    this.tick = null;
    for (const t of this.subTimers) clearTimeout(t);
    this.subTimers.clear();
    if (this.outboxTimer) clearTimeout(this.outboxTimer);
    this.outboxTimer = null;
    this.outbox.length = 0;
  }

  /** The socket is gone: tell the venue, then reconnect after backoff. */
  private drop(ws: WebSocket, error: FeedError): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.clearTimers();
    this.subscriptions = 0;
    this.live = false;
    if (this.retiring) {
      // The replacement failed: the old socket cannot be trusted to carry on alone.
      this.retiring.terminate();
      this.retiring = null;
    }
    this.lastError = error;
    ws.removeAllListeners('message');
    ws.on('error', () => {}); // late errors from a socket we no longer use
    this.safeDown(error.message);
    this.scheduleReconnect();
  }

  private safeDown(reason: string): void {
    try {
      this.hooks.onDown(reason);
    } catch (e) {
      count(this.errors, 'handler_exception');
      this.lastError = feedError(e, 'down handler', this.now());
    }
  }

  private fail(error: FeedError): void {
    this.retiring?.terminate();
    this.retiring = null;
    this.lastError = error;
    count(this.errors, 'connect_failed');
    this.safeDown(error.message);
    this.scheduleReconnect();
  }

  /** The delay before reconnect attempt number `attempt` (0-based), see `backoffDelayMs`. */
  backoffDelayMs(attempt: number): number {
    return backoffDelayMs(this.backoff, attempt, this.random);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.backoffDelayMs(this.attempts++);
    if (this.status !== 'stale') this.setStatus('backoff');
    else this.hooks.onChange();
    this.opts.log?.('warn', `${this.label}: ${this.lastError?.message ?? 'down'}; reconnecting in ${delay} ms`);
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.reconnects++;
      void this.connect();
    }, delay);
  }
}
