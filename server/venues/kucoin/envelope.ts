/**
 * KuCoin's WebSocket envelope (`type`), the same on every public channel: the outcome of a control frame
 * (welcome, ack, pong, error, notice), or null for a `message` frame the caller then routes by topic.
 */
import { count, type ParseOutcome } from '../../feeds/adapter.js';

/** `errors` counts venue errors by code and unknown types; returns null for a data (`message`) frame. */
export function kucoinControlOutcome(msg: Record<string, unknown>, errors: Record<string, number>): ParseOutcome | null {
  switch (msg.type) {
    case 'message':
      return null;
    case 'welcome':
      return 'welcome';
    case 'ack':
      return 'ack';
    case 'pong':
      return 'pong';
    case 'error':
      // Codes are venue-sent: kept short so they cannot grow the reason names.
      count(errors, `venue_error:${typeof msg.code === 'number' || typeof msg.code === 'string' ? String(msg.code).slice(0, 12) : 'unknown'}`);
      return 'venue_error';
    case 'notice':
      return 'ignored';
    default:
      count(errors, 'unknown_type');
      return 'rejected';
  }
}
