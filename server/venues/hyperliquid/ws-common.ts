/** What Hyperliquid's sockets share, quote and depth alike: the path, the heartbeat, the greeting text, control frames. */
import { count, type ParseOutcome } from '../../feeds/adapter.js';

export const HL_WS_PATH = '/ws';
/**
 * Client heartbeat `{"method":"ping"}` (answered `{"channel":"pong"}`), sent every 10 s whatever the traffic.
 * The venue closes a connection after 60 s of silence ("Timeouts and heartbeats" page); its wording leaves open
 * whose silence counts, and the SDKs ping on a timer regardless of traffic (nktkas every 30 s, the Python SDK
 * every 50 s), so we do too. 10 s rather than 30 s: our own feed declares a socket dead after 15 s without a
 * frame (FeedManager `silenceMs`), so a quiet socket (a few illiquid coins) must get a pong back before that.
 * 6 pings a minute per socket out of the 2,000 messages a minute per IP.
 */
export const HL_PING_MS = 10_000;
/** The plain-text frame the venue sends first (hyperliquid-python-sdk websocket_manager.py compares it exactly). */
export const HL_WELCOME_TEXT = 'Websocket connection established.';

const GREETING = /^\s*websocket connection established\.?\s*$/i;
/** A sentence: a letter, then printable text without JSON punctuation. */
const PROSE = /^\s*[A-Za-z][^{}[\]"\u0000-\u0008\u000e-\u001f]*$/;
const MAX_GREETING_CHARS = 200;

/**
 * Whether a non-JSON text frame is the venue's greeting: the known text, compared loosely (case, a missing
 * period, surrounding white space or a line end), or ANY plain text that is the first frame of a connection
 * (`first`) and reads as a sentence: the greeting's wording is not documented, and the SDKs (Python compares
 * the exact text, nktkas drops every non-JSON frame) show only that it is plain text before any JSON. Text
 * with JSON punctuation (`{}[]"`, so any damaged frame), longer than a sentence, or valid JSON (`42`, `null`)
 * is never a greeting: it stays an error.
 */
export function isGreeting(raw: string, first: boolean): boolean {
  if (raw === HL_WELCOME_TEXT) return true;
  if (GREETING.test(raw)) return true;
  if (!first || raw.length > MAX_GREETING_CHARS || !PROSE.test(raw)) return false;
  try {
    JSON.parse(raw);
    return false;
  } catch {
    return true;
  }
}

/**
 * The outcome of a control channel every Hyperliquid socket receives (quote and depth alike), or null for a
 * data channel. An `error` frame's `data` is free text ("Already subscribed: …", "Error parsing JSON …"), not a
 * stable code: it is counted as `venue_error`.
 */
export function controlOutcome(channel: unknown, errors: Record<string, number>): ParseOutcome | null {
  switch (channel) {
    case 'subscriptionResponse':
      return 'ack';
    case 'pong':
      return 'pong';
    case 'error':
      count(errors, 'venue_error');
      return 'venue_error';
    default:
      return null;
  }
}
