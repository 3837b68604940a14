/** A raw `ws` test client that records every frame, ping and the close, with awaitable predicates. */
import { WebSocket } from 'ws';

export interface Frame {
  text: string;
  json: unknown;
  at: number;
}

export class WsProbe {
  readonly frames: Frame[] = [];
  pings = 0;
  closeInfo: { code: number; reason: string } | null = null;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      let json: unknown = undefined;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.frames.push({ text, json, at: Date.now() });
      this.wake();
    });
    ws.on('ping', () => {
      this.pings++;
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  static open(url: string, opts: { autoPong?: boolean } = {}): Promise<WsProbe> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { autoPong: opts.autoPong ?? true });
      const probe = new WsProbe(ws);
      ws.once('open', () => resolve(probe));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Frames (parsed JSON objects) received so far that match. */
  jsons<T = Record<string, unknown>>(match: (m: Record<string, unknown>) => boolean = () => true): T[] {
    return this.frames
      .map((f) => f.json)
      .filter((j): j is Record<string, unknown> => typeof j === 'object' && j !== null && !Array.isArray(j))
      .filter(match) as T[];
  }

  /** Resolves when `check()` returns a value other than undefined/false; rejects after `timeoutMs`. */
  async until<T>(check: () => T | undefined | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; last frames: ${this.frames.slice(-3).map((f) => f.text.slice(0, 200)).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the first JSON frame matching `match` (including ones already received). */
  next(match: (m: Record<string, unknown>) => boolean, timeoutMs = 5000, what = 'frame'): Promise<Record<string, unknown>> {
    return this.until(() => this.jsons(match)[0], timeoutMs, what);
  }

  closed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closeInfo ?? undefined, timeoutMs, 'close');
  }

  close(): void {
    this.ws.terminate();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}

/** Opens a probe on `url` and closes it when `f` ends. */
export async function withProbe(url: string, f: (ws: WsProbe) => Promise<void>): Promise<void> {
  const ws = await WsProbe.open(url);
  try {
    await f(ws);
  } finally {
    ws.close();
  }
}

/** Opens probes through `f` (as `WsProbe.open`) and closes them all when it ends. */
export async function withProbes(f: (open: (url: string, opts?: { autoPong?: boolean }) => Promise<WsProbe>) => Promise<void>): Promise<void> {
  const probes: WsProbe[] = [];
  try {
    await f(async (url, opts) => {
      const p = await WsProbe.open(url, opts);
      probes.push(p);
      return p;
    });
  } finally {
    for (const p of probes) p.close();
  }
}
