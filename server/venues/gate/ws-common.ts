/**
 * What Gate's futures sockets share, quote and depth alike: the path, the application heartbeat, our
 * per-socket contract count, and the envelope's time units (gate.com/docs/developers/futures/ws/en, read
 * 2026-12-01).
 */
import type { WsLimits } from '../../../shared/venue-facts.js';
import { count, isEpochMs, isRecord, type ConnectionPlan, type ParseOutcome, type SubscriptionChange, type VenueEndpoints } from '../../feeds/adapter.js';
import { changesOf, redistribute, splitSymbols, subscribeSpacingMs, type SymbolCost } from '../../feeds/plan-limits.js';
import { facts } from './facts.js';

export const GATE_WS_PATH = '/v4/ws/usdt';
/** Application-level heartbeat (`futures.ping` → `futures.pong`); the docs' demo sends one every 10 s. */
export const GATE_PING_MS = 10_000;
/**
 * Handshake header asking for sizes as decimal strings: Gate's changelog of 2025-12-09 says that without it
 * fractional sizes are rounded DOWN to whole contracts (and integer sizes are to be retired). Both forms parse.
 */
export const GATE_WS_HEADERS: Readonly<Record<string, string>> = { 'X-Gate-Size-Decimal': '1' };
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

/**
 * The outcome of a frame that is not market data, quote and depth sockets alike, or null for a data frame:
 * an error reply (counted as one whatever else it carries: a refused request may lack the channel), a
 * frame without a channel (rejected), a pong, a server notice, or an ack (acks ride the data channel's
 * name with the request's event). Reasons are counted in `errors`.
 */
export function controlOutcome(msg: Record<string, unknown>, errors: Record<string, number>): ParseOutcome | null {
  const error = venueErrorReason(msg.error);
  if (error !== null) {
    count(errors, error);
    return 'venue_error';
  }
  if (typeof msg.channel !== 'string') {
    count(errors, 'unknown_message');
    return 'rejected';
  }
  if (msg.channel === 'futures.pong') return 'pong';
  const notice = systemNotice(msg);
  if (notice !== null) return notice;
  if (msg.event === 'subscribe' || msg.event === 'unsubscribe') return 'ack';
  return null;
}

export function pingMessage(): string {
  return JSON.stringify({ time: Math.floor(Date.now() / 1000), channel: 'futures.ping' });
}

/** Subscribe or unsubscribe requests for some contracts. */
export type Frames = (event: 'subscribe' | 'unsubscribe', symbols: readonly string[]) => string[];

/**
 * The sockets of one kind, labelled `<label>#<i>`: `channels` subscriptions per contract, at most
 * GATE_SYMBOLS_PER_SOCKET contracts a socket; `frames` spells the requests.
 */
export function contractSockets(label: string, channels: number) {
  const limits: WsLimits = { ...facts.limits, topicsPerConnection: GATE_SYMBOLS_PER_SOCKET * channels };
  const cost: SymbolCost = { topics: channels, chars: () => 0 };
  return {
    plan(endpoints: VenueEndpoints, symbols: string[], frames: Frames, maxAgeMs: number): ConnectionPlan[] {
      return splitSymbols(symbols, limits, cost).map((group, i) => ({
        label: `${label}#${i}`,
        url: `${endpoints.ws}${GATE_WS_PATH}`,
        headers: GATE_WS_HEADERS,
        subscribeMessages: frames('subscribe', group),
        topicCount: group.length * channels,
        awaitWelcome: false,
        subscribeSpacingMs: subscribeSpacingMs(facts.limits),
        heartbeat: { everyMs: GATE_PING_MS, whenIdle: false, message: pingMessage },
        maxAgeMs,
        symbols: group,
        limits: facts.limits,
      }));
    },
    liveChange(plans: readonly ConnectionPlan[], add: readonly string[], remove: readonly string[], frames: Frames): SubscriptionChange[] | null {
      const r = redistribute(plans.map((p) => p.symbols), add, remove, limits, cost);
      return r === null ? null : changesOf(r, frames, channels);
    },
  };
}
