/**
 * The `/ws` fan-out writer: turns each audience's owed messages into ONE encoded frame tail per tick and
 * writes it to the audience's clients, one frame per client per tick, with bounded send buffers.
 *
 * - Encoding: an audience's messages are joined and encoded to bytes once (`framesEncoded` counts these);
 *   every member gets the same bytes, only its `{"frame":N` head is its own (StreamClient.sendShared).
 * - Bounded buffers: before each write the client's `bufferedAmount` (public `ws` API) is checked. Over
 *   `maxClientBufferBytes` the client starts lagging: its frames are dropped, not queued. When its buffer
 *   has drained to half the limit it is resynced at the next write (`snapshotFor`: a fresh snapshot replaces
 *   the dropped backlog).
 *   A lagging client that would have been sent another `maxClientBufferBytes` meanwhile, or that lags
 *   again within RESYNC_COOLDOWN_MS of a resync, is cut (`cut`). Memory per client is thus bounded and no
 *   client ever slows another or the engine.
 * - Large fan-outs are written in slices across event-loop turns (FLUSH_BUDGET_MS each) so feeds and the
 *   engine run in between; a later write (or a snapshot) first completes the one in progress, so every
 *   client's frames stay in order.
 */
import type { Audience } from './audience.js';
import type { StreamClient } from './client.js';

/**
 * Time a flush may write before yielding to the event loop (checked every FLUSH_CHECK clients). A
 * 1,000-client tick fits in one pass, so every client of a tick gets the same, short delay.
 */
const FLUSH_BUDGET_MS = 50;
const FLUSH_CHECK = 64;
/** A client that lags again this soon after a resync cannot keep up: it is cut rather than resynced in a loop. */
export const RESYNC_COOLDOWN_MS = 10_000;

export interface FanoutCounters {
  framesSent: number;
  bytesSent: number;
  /** Frame bodies encoded (one per audience per tick, plus one per snapshot). */
  framesEncoded: number;
  /** Frames not sent to a lagging client (its backlog, replaced by a snapshot on resync). */
  framesDropped: number;
  /** Lagging clients brought back with a fresh snapshot. */
  resyncs: number;
  /** Clients cut off because they could not keep up. */
  terminatedSlow: number;
}

export interface FanoutWriterOptions {
  maxBufferBytes: () => number;
  /**
   * The encoded snapshot for a lagging client whose buffer drained. Asked for at the start of a write,
   * when the snapshot covers exactly what has been dispatched (the audiences' owed messages included).
   */
  snapshotFor: (client: StreamClient) => string;
  /** Cuts a client off (the hub terminates and forgets it). */
  cut: (client: StreamClient, why: string) => void;
  /** Called when a write pass reached its last client (for latency: bus → sent). */
  passDone: (job: { pumpStartUs: number; recvUs: number[] | null }) => void;
}

interface WriteJob {
  clients: StreamClient[];
  index: number;
  tails: Map<Audience, Buffer>;
  /** Clients resynced at the start of this write (their snapshot already holds its messages). */
  resynced: Set<StreamClient> | null;
  pumpStartUs: number;
  recvUs: number[] | null;
}

export class FanoutWriter {
  readonly counters: FanoutCounters = { framesSent: 0, bytesSent: 0, framesEncoded: 0, framesDropped: 0, resyncs: 0, terminatedSlow: 0 };
  private job: WriteJob | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(private readonly opts: FanoutWriterOptions) {}

  /**
   * Writes what the audiences owe (their `out` lists, emptied here) to `clients`. Lagging clients are
   * visited too (to be resynced once drained), so pass every client, not only those owed something.
   */
  write(clients: StreamClient[], audiences: Iterable<Audience>, sentUs: number, pumpStartUs: number, recvUs: number[] | null): void {
    this.complete();
    const resynced = this.resyncDrained(clients, sentUs);
    const tails = new Map<Audience, Buffer>();
    for (const a of audiences) {
      if (a.out.length === 0) continue;
      tails.set(a, Buffer.from(`,"sentUs":${sentUs},"messages":[${a.out.join(',')}]}`));
      a.out.length = 0;
      this.counters.framesEncoded++;
    }
    if (tails.size === 0) return;
    this.job = { clients, index: 0, tails, resynced, pumpStartUs, recvUs };
    this.runSlice(FLUSH_BUDGET_MS);
    if (this.job && !this.immediate) this.immediate = setImmediate(() => this.continue());
  }

  /**
   * Lagging clients whose buffer drained to half the limit get a fresh snapshot, which replaces their
   * dropped backlog and this write's frame (both are in it); returns them so the write skips them.
   */
  private resyncDrained(clients: StreamClient[], sentUs: number): Set<StreamClient> | null {
    let resynced: Set<StreamClient> | null = null;
    const half = this.opts.maxBufferBytes() / 2;
    for (const c of clients) {
      if (!c.lagging || c.closed || c.bufferedAmount > half) continue;
      c.lagging = false;
      c.droppedBytes = 0;
      c.lastResyncMs = performance.now();
      this.counters.resyncs++;
      this.counters.framesEncoded++;
      this.countSent(c.sendFrame(this.opts.snapshotFor(c), sentUs));
      (resynced ??= new Set()).add(c);
    }
    return resynced;
  }

  /**
   * One client's own frame (a snapshot): written after everything queued before it. A snapshot restarts
   * the client's view, so a lagging client's dropped backlog is made good by it.
   */
  sendSnapshot(client: StreamClient, encodedSnapshot: string, sentUs: number): void {
    this.complete();
    client.lagging = false;
    client.droppedBytes = 0;
    this.counters.framesEncoded++;
    this.countSent(client.sendFrame(encodedSnapshot, sentUs));
  }

  /** Finishes a write in progress now (before something that must follow it). */
  complete(): void {
    if (this.job) this.runSlice(Number.POSITIVE_INFINITY);
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
  }

  close(): void {
    this.closed = true;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    this.job = null;
  }

  private continue(): void {
    this.immediate = null;
    if (!this.job || this.closed) return;
    this.runSlice(FLUSH_BUDGET_MS);
    if (this.job) this.immediate = setImmediate(() => this.continue());
  }

  private runSlice(budgetMs: number): void {
    const job = this.job;
    if (!job) return;
    const deadline = performance.now() + budgetMs;
    const end = job.clients.length;
    for (; job.index < end; job.index++) {
      if (job.index % FLUSH_CHECK === FLUSH_CHECK - 1 && performance.now() > deadline) break;
      const c = job.clients[job.index];
      if (!c.closed && !job.resynced?.has(c)) this.writeOne(c, job.tails.get(c.audience));
    }
    if (job.index < end) return;
    this.job = null;
    this.opts.passDone(job);
  }

  private writeOne(c: StreamClient, tail: Buffer | undefined): void {
    if (!tail) return;
    const max = this.opts.maxBufferBytes();
    if (c.lagging) {
      this.drop(c, tail, max);
      return;
    }
    if (c.bufferedAmount > max) {
      if (performance.now() - c.lastResyncMs < RESYNC_COOLDOWN_MS) {
        this.cut(c, 'lagging again right after a resync');
        return;
      }
      c.lagging = true;
      this.drop(c, tail, max);
      return;
    }
    this.countSent(c.sendShared(tail));
  }

  private drop(c: StreamClient, tail: Buffer, max: number): void {
    this.counters.framesDropped++;
    c.droppedBytes += tail.length;
    if (c.droppedBytes > max) this.cut(c, 'its backlog passed the buffer limit again while lagging');
  }

  private cut(c: StreamClient, why: string): void {
    this.counters.terminatedSlow++;
    this.opts.cut(c, why);
  }

  private countSent(bytes: number): void {
    if (bytes === 0) return;
    this.counters.framesSent++;
    this.counters.bytesSent += bytes;
  }
}
