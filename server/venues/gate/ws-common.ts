/**
 * What Gate's futures sockets share, quote and depth alike: the path, the application heartbeat, our
 * per-socket contract count, and the envelope's time units (gate.com/docs/developers/futures/ws/en, read
 * 2026-12-01).
 */
import { isEpochMs, isRecord, type ParseOutcome } from '../../feeds/adapter.js';

export const GATE_WS_PATH = '/v4/ws/usdt';
/** Application-level heartbeat (`futures.ping` → `futures.pong`); the docs' demo sends one every 10 s. */
export const GATE_PING_MS = 10_000;
/**
 * Contracts per socket: our choice, not a venue limit. Gate documents no cap but closes a connection whose
 * client falls behind its updates (gatews#25), so a large universe is spread over a few sockets.
 */
export const GATE_SYMBOLS_PER_SOCKET = 200;
/** A plausible unix time in SECONDS (2001..2286); float-formatted values allowed. */
export function isEpochSeconds(s: number): boolean {
  return s >= 1e9 && s < 1e10;
}

/**
 * The frame time in epoch ms from the envelope: `time_ms` when present (it must agree with `time` to the
 * second), else `time` (seconds) × 1000. NaN when a field is not in the unit its name says, or neither is
 * there. `time_ms` alone is accepted: Gate's own `futures.obu` push examples carry no `time`.
 */
export function envelopeMs(msg: Record<string, unknown>): number {
  const s = msg.time;
  const ms = msg.time_ms;
  if (s === undefined) return typeof ms === 'number' && isEpochMs(ms) ? ms : NaN;
  if (typeof s !== 'number' || !Number.isInteger(s) || !isEpochSeconds(s)) return NaN;
  if (ms === undefined) return s * 1000;
  if (typeof ms !== 'number' || !isEpochMs(ms) || Math.abs(Math.floor(ms / 1000) - s) > 1) return NaN;
  return ms;
}

/** Gate's server notices channel (quote and depth sockets alike). */
export const GATE_SYSTEM_CHANNEL = 'futures.system';

/**
 * A server notice, or null for any other frame. `futures.system` (gate.com/docs/developers/futures/ws/en
 * "Service upgrade notification", and Gate announcement 49851, 2026-02-12): `{time, time_ms,
 * channel:"futures.system", event:"update", result:{type, msg}}`; `type:"upgrade"` = the server will close
 * this connection soon for an upgrade and asks the client to reconnect: a `reconnect_notice` (the
 * connection is recycled before the cut). Other types (`invalid_sbe_schema_id`, `outdated_sbe_schema_id`,
 * …) carry no market data: `ignored`. Gate's own SDK (gate/gatews python/gate_ws/client.py, 2026) also
 * reconnects on `event:"upgrade"` on any channel: the same notice.
 */
export function systemNotice(msg: Record<string, unknown>): ParseOutcome | null {
  if (msg.event === 'upgrade') return 'reconnect_notice';
  if (msg.channel !== GATE_SYSTEM_CHANNEL) return null;
  return isRecord(msg.result) && msg.result.type === 'upgrade' ? 'reconnect_notice' : 'ignored';
}

/**
 * `error` is null (or absent) on success, else `{code, message}` (DOC-WS codes 1..4; `futures.obu` answers
 * a duplicate subscription with code 2); the reason counted is `venue_error:<code>`.
 */
export function venueErrorReason(error: unknown): string | null {
  if (error === null || error === undefined) return null;
  const code = isRecord(error) && (typeof error.code === 'number' || typeof error.code === 'string') ? String(error.code).slice(0, 12) : 'unknown';
  return `venue_error:${code}`;
}

export function pingMessage(): string {
  return JSON.stringify({ time: Math.floor(Date.now() / 1000), channel: 'futures.ping' });
}

