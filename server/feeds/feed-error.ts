/**
 * Turns whatever a socket or an HTTP call threw into a `FeedError` whose `code` names the cause the user
 * can act on: the OS error code (ENOTFOUND: DNS / no internet; ECONNREFUSED: nothing listens; ETIMEDOUT),
 * or `HTTP <status>` when the venue answered but refused (a WebSocket handshake or a REST call).
 */
import type { FeedError } from '../../shared/feeds.js';

/** A non-2xx HTTP answer (thrown by `createFetchJson`). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    path: string,
  ) {
    super(`HTTP ${status} from ${path}`);
    this.name = 'HttpStatusError';
  }
}

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  name?: unknown;
  cause?: unknown;
  errors?: unknown;
  status?: unknown;
}

function asErrorLike(err: unknown): ErrorLike | null {
  return typeof err === 'object' && err !== null ? (err as ErrorLike) : null;
}

const OS_CODE = /^E[A-Z0-9_]+$/;
/** `ws` reports a refused handshake as "Unexpected server response: 503". */
const WS_HTTP_STATUS = /Unexpected server response: (\d{3})/;

/** The innermost OS error code on the chain (fetch wraps it in `cause`; dual-stack connects in `errors`). */
function osCode(e: ErrorLike | null, depth = 0): string | null {
  if (!e || depth > 4) return null;
  if (typeof e.code === 'string' && OS_CODE.test(e.code)) return e.code;
  const fromCause = osCode(asErrorLike(e.cause), depth + 1);
  if (fromCause) return fromCause;
  if (Array.isArray(e.errors)) for (const inner of e.errors) {
    const c = osCode(asErrorLike(inner), depth + 1);
    if (c) return c;
  }
  return null;
}

/** The most specific message on the chain ("fetch failed" says nothing; its cause does). */
function detail(e: ErrorLike | null, fallback: string): string {
  if (!e) return fallback;
  const own = typeof e.message === 'string' ? e.message : '';
  const cause = asErrorLike(e.cause);
  if (cause && (own === '' || own === 'fetch failed')) return detail(cause, own || fallback);
  if (own === '' && Array.isArray(e.errors) && e.errors.length > 0) return detail(asErrorLike(e.errors[0]), fallback);
  return own || fallback;
}

export function errorCode(err: unknown): string {
  const e = asErrorLike(err);
  if (err instanceof HttpStatusError) return `HTTP ${err.status}`;
  const os = osCode(e);
  if (os) return os;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const http = WS_HTTP_STATUS.exec(message);
  if (http) return `HTTP ${http[1]}`;
  if (e?.name === 'TimeoutError' || /timed? ?out/i.test(message)) return 'ETIMEDOUT';
  return 'ERROR';
}

/** `step` names what failed (`metadata`, `socket`, `plan`…); it prefixes the message. */
export function feedError(err: unknown, step: string, atMs: number): FeedError {
  const code = errorCode(err);
  const text = detail(asErrorLike(err), String(err));
  return { code, message: `${step}: ${text}`, atMs };
}

/** A failure perpscan detected itself (silence, a close by the venue, nothing listed). */
export function reasonError(code: string, message: string, atMs: number): FeedError {
  return { code, message, atMs };
}
