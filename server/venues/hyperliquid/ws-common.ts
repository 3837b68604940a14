/** What Hyperliquid's sockets share, quote and depth alike: the path, the heartbeat, the greeting text. */

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

/**
 * Whether a non-JSON text frame is the venue's greeting: the known text, compared loosely (case, a missing
 * period, surrounding white space or a line end), or ANY plain text that is the first frame of a connection
 * (`first`): the greeting's wording is not documented, and the SDKs (Python compares the exact text, nktkas
 * drops every non-JSON frame) show only that it is plain text before any JSON. A JSON-looking frame
 * (`{`/`[` first, a truncated frame stays an error) or any valid JSON (`42`, `"x"`) is never a greeting.
 */
export function isGreeting(raw: string, first: boolean): boolean {
  if (raw === HL_WELCOME_TEXT) return true;
  const c = raw.trimStart().charCodeAt(0);
  if (c === 123 || c === 91 || raw.trim() === '') return false; // `{`, `[`, empty
  if (GREETING.test(raw)) return true;
  if (!first) return false;
  try {
    JSON.parse(raw);
    return false;
  } catch {
    return true;
  }
}
