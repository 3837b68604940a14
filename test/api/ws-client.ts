/** A real `ws` client that records every frame of /ws and checks the framing as it goes. */
import WebSocket from 'ws';
import type { ServerFrame, ServerMessage } from '../../shared/protocol.js';

export class StreamTestClient {
  readonly frames: ServerFrame[] = [];
  readonly messages: ServerMessage[] = [];
  /** Framing violations seen (frame gaps, seq going backwards): must stay empty. */
  readonly violations: string[] = [];
  closed: { code: number } | null = null;
  private lastSeq = -1;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      const expected = this.frames.length + 1;
      if (frame.frame !== expected) this.violations.push(`frame ${frame.frame}, expected ${expected}`);
      for (const m of frame.messages) {
        // A snapshot restarts the view; it carries the seq of the last message before it.
        if (m.type !== 'snapshot' && m.seq <= this.lastSeq) this.violations.push(`seq ${m.seq} after ${this.lastSeq}`);
        this.lastSeq = Math.max(this.lastSeq, m.seq);
        this.messages.push(m);
      }
      this.frames.push(frame);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code) => {
      this.closed = { code };
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(url: string): Promise<StreamTestClient> {
    const ws = new WebSocket(url);
    const client = new StreamTestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await client.waitFor(() => client.frames.length >= 1);
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Resolves when `pred` holds (checked after every frame); rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting (${this.messages.length} messages, closed=${JSON.stringify(this.closed)})`)), timeoutMs);
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else if (this.closed) {
          clearTimeout(timer);
          reject(new Error(`socket closed (${this.closed.code}) while waiting`));
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  opportunityEvents(): Array<Extract<ServerMessage, { type: 'opportunity' }>> {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: 'opportunity' }> => m.type === 'opportunity');
  }

  /** Opportunity events that arrived after the `n`-th snapshot (1-based), e.g. after a filter's fresh snapshot. */
  opportunityEventsAfterSnapshot(n: number): Array<Extract<ServerMessage, { type: 'opportunity' }>> {
    let seen = 0;
    const start = this.messages.findIndex((m) => m.type === 'snapshot' && ++seen === n);
    return start < 0 ? [] : this.messages.slice(start + 1).filter((m): m is Extract<ServerMessage, { type: 'opportunity' }> => m.type === 'opportunity');
  }

  snapshots(): Array<Extract<ServerMessage, { type: 'snapshot' }>> {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: 'snapshot' }> => m.type === 'snapshot');
  }

  close(): void {
    if (!this.closed) this.ws.terminate();
  }
}
