/**
 * What Gate's futures sockets share, quote and depth alike: the path, the application heartbeat, our
 * per-socket contract count, and the envelope's time units (gate.com/docs/developers/futures/ws/en, read
 * 2026-12-01).
 */
import { isEpochMs } from '../../feeds/adapter.js';

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
 * second), else `time` (seconds) × 1000. NaN when a field is not in the unit its name says.
 */
export function envelopeMs(msg: Record<string, unknown>): number {
  const s = msg.time;
  if (typeof s !== 'number' || !Number.isInteger(s) || !isEpochSeconds(s)) return NaN;
  if (msg.time_ms === undefined) return s * 1000;
  const ms = msg.time_ms;
  if (typeof ms !== 'number' || !isEpochMs(ms) || Math.abs(Math.floor(ms / 1000) - s) > 1) return NaN;
  return ms;
}

export function pingMessage(): string {
  return JSON.stringify({ time: Math.floor(Date.now() / 1000), channel: 'futures.ping' });
}

