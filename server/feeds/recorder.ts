/**
 * Records every raw frame as one JSON line: `{"t":<receive epoch ms>,"ex":"<venue id>","raw":"<frame>"}`, and
 * every REST metadata response the feeds used as `{"t":<request epoch ms>,"ex":"<venue id>","rest":"<path?query>","raw":"<JSON body>"}`
 * (so a replay uses the same instruments, contract values and funding times; see server/replay/recorded-metadata.ts).
 * A REST read for market statistics (VenueAdapter.restStats) carries `"stats":true` too: a replay applies
 * its figures at its time instead of loading it as metadata.
 * A path ending in `.gz` is gzip-compressed (zlib). Reading back: `readRecording` (replay).
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { type Exchange, isExchange } from '../../shared/exchanges.js';

export interface RecordedFrame {
  /** Receive time, epoch ms. */
  t: number;
  ex: Exchange;
  /** The text frame exactly as received (a REST response: its JSON body). */
  raw: string;
  /**
   * Only on a REST response: the request's path and query (e.g. `/v5/market/instruments-info?category=linear&limit=1000`).
   * Its `t` is the time the request was sent (venues state some times relative to it).
   */
  rest?: string;
  /** Only on a REST response: a market-statistics read (VenueAdapter.restStats), not metadata. */
  stats?: true;
}

/** The path and query of a REST URL (what a `rest` frame stores; the origin differs between live and simulator). */
export function restPathOf(url: string, requestBody?: unknown): string {
  const u = new URL(url, 'http://recorded.invalid');
  // A POST API (one path, many request types) is told apart by its JSON body.
  return requestBody === undefined ? u.pathname + u.search : `${u.pathname}${u.search}#${JSON.stringify(requestBody)}`;
}

export class FrameRecorder {
  readonly path: string;
  private readonly file: WriteStream;
  private readonly gzip: Gzip | null;
  private closed = false;
  frames = 0;
  restResponses = 0;

  constructor(path: string) {
    this.path = path;
    this.file = createWriteStream(path);
    this.gzip = path.endsWith('.gz') ? createGzip() : null;
    if (this.gzip) this.gzip.pipe(this.file);
  }

  /** Appends one frame (buffered; never blocks the feed). */
  record(exchange: Exchange, raw: string, recvMs: number): void {
    if (this.closed) return;
    this.frames++;
    const line = `{"t":${recvMs},"ex":"${exchange}","raw":${JSON.stringify(raw)}}\n`;
    (this.gzip ?? this.file).write(line);
  }

  /** Appends one REST response body the feeds used (`url`'s origin is dropped, a POST's request body kept; `requestMs` = when it was sent; `stats` = a market-statistics read). */
  recordRest(exchange: Exchange, url: string, body: unknown, requestMs: number, requestBody?: unknown, stats = false): void {
    if (this.closed) return;
    this.restResponses++;
    const line = `{"t":${requestMs},"ex":"${exchange}","rest":${JSON.stringify(restPathOf(url, requestBody))},${stats ? '"stats":true,' : ''}"raw":${JSON.stringify(JSON.stringify(body))}}\n`;
    (this.gzip ?? this.file).write(line);
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve, reject) => {
      this.file.once('close', () => resolve());
      this.file.once('error', reject);
      (this.gzip ?? this.file).end();
    });
  }
}

/** Parses one recording line; null when it is not a valid frame record. */
export function parseRecordLine(line: string): RecordedFrame | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (typeof r.t !== 'number' || !Number.isFinite(r.t) || !isExchange(r.ex) || typeof r.raw !== 'string') return null;
  if (r.rest === undefined) return { t: r.t, ex: r.ex, raw: r.raw };
  if (typeof r.rest !== 'string' || !r.rest.startsWith('/')) return null;
  return r.stats === true ? { t: r.t, ex: r.ex, rest: r.rest, stats: true, raw: r.raw } : { t: r.t, ex: r.ex, rest: r.rest, raw: r.raw };
}

/** Streams a recording (plain or .gz) line by line; invalid lines are counted via `onBadLine`. */
export async function* readRecording(path: string, onBadLine?: (lineNo: number) => void): AsyncGenerator<RecordedFrame> {
  const file: Readable = createReadStream(path);
  const input: Readable = path.endsWith('.gz') ? file.pipe(createGunzip()) : file;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line === '') continue;
    const frame = parseRecordLine(line);
    if (frame) yield frame;
    else onBadLine?.(n);
  }
}
