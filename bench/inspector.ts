/**
 * A benchmark's window into a server process started with `--inspect=127.0.0.1:0` (loopback, random port,
 * announced on stderr): force a full GC and read the heap after it, or evaluate a small expression. Bench
 * only: the server needs no endpoint of its own for this, so nothing reaches a production surface.
 */
import WebSocket from 'ws';

interface EvalReply {
  result?: { result?: { value?: unknown }; exceptionDetails?: { text?: string } };
  error?: { message?: string };
}

export class InspectorSession {
  private id = 0;
  private readonly pending = new Map<number, (m: EvalReply) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as EvalReply & { id?: number };
      if (m.id === undefined) return;
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      resolve?.(m);
    });
  }

  static async open(url: string): Promise<InspectorSession> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new InspectorSession(ws);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<EvalReply> {
    const my = ++this.id;
    return new Promise((resolve) => {
      this.pending.set(my, resolve);
      this.ws.send(JSON.stringify({ id: my, method, params }));
    });
  }

  /** Evaluates `expression` in the server's global scope; returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.call('Runtime.evaluate', { expression, returnByValue: true });
    if (r.error || r.result?.exceptionDetails) throw new Error(`inspector: ${r.error?.message ?? r.result?.exceptionDetails?.text ?? 'evaluation failed'}`);
    return r.result?.result?.value as T;
  }

  /** Forces a full GC, then returns the V8 heap used after it (MB). */
  async heapAfterGcMb(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    return Number(await this.evaluate<number>('process.memoryUsage().heapUsed')) / 1024 / 1024;
  }

  close(): void {
    this.ws.close();
  }
}

/** One-shot: a full GC in the process behind `url`, and its heap used after it (MB). */
export async function heapAfterGcMb(url: string): Promise<number> {
  const s = await InspectorSession.open(url);
  try {
    return await s.heapAfterGcMb();
  } finally {
    s.close();
  }
}

/** The inspector's WebSocket URL from the `Debugger listening on ws://…` line node prints on stderr. */
export function inspectorUrlOf(line: string): string {
  const url = /ws:\/\/\S+/.exec(line)?.[0];
  if (!url) throw new Error(`no inspector URL in: ${line}`);
  return url;
}
