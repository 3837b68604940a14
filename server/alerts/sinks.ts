/**
 * Each sink's request in its real format, and what its answer means (ok / retry after / give up).
 *
 * - Generic webhook: POST `url`, `Content-Type: application/json`, body = the alert as JSON
 *   (`{ source, kind, tsMs, subject, instrument, venues, text, details }`); any 2xx is success.
 * - Telegram Bot API (https://core.telegram.org/bots/api#sendmessage, #making-requests):
 *   POST `{baseUrl}/bot<token>/sendMessage` with JSON `{ chat_id, text }`; the answer is
 *   `{ ok, result | error_code, description, parameters: { retry_after } }` — a 429 says how many seconds to
 *   wait in `parameters.retry_after`. Text is limited to 4096 characters.
 * - Discord (https://discord.com/developers/docs/resources/webhook#execute-webhook, /topics/rate-limits):
 *   POST the webhook URL with JSON `{ content }` (≤ 2000 characters); 204 No Content (200 with `?wait=true`);
 *   a 429 carries a `Retry-After` header and `retry_after` (seconds, may be fractional) in its JSON body.
 * - Slack incoming webhook (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks,
 *   https://docs.slack.dev/apis/web-api/rate-limits): POST the webhook URL with JSON `{ text }`; 200 `ok`;
 *   a 429 carries `Retry-After` (seconds).
 *
 * Secrets are in the URL (webhooks) or its path (the Telegram token): nothing here logs a URL, and
 * `redact` strips every secret from an error text before it is kept or logged.
 */
import { type AlertSink, DEFAULT_TELEGRAM_BASE_URL, maskSecret, SINK_SECRETS } from '../../shared/alerts.js';
import type { AlertEvent } from './rules.js';

export interface SinkRequest {
  url: string;
  body: string;
}

/** The message a sink receives: the event, or a test. */
export interface AlertMessage {
  event: AlertEvent;
  /** The rule that fired it (null for a test). */
  ruleId: string | null;
  /** A test alert (POST /api/alerts/test): the webhook's `kind` says `test`. */
  test?: boolean;
}

const TELEGRAM_MAX = 4096;
const DISCORD_MAX = 2000;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function messageText(m: AlertMessage): string {
  return `[perpscan] ${m.event.text}`;
}

export function sinkRequest(sink: AlertSink, m: AlertMessage): SinkRequest {
  const text = messageText(m);
  switch (sink.kind) {
    case 'webhook':
      return {
        url: sink.url,
        body: JSON.stringify({
          source: 'perpscan',
          kind: m.test ? 'test' : m.event.kind,
          tsMs: m.event.tsMs,
          rule: m.ruleId,
          subject: m.event.subject,
          instrument: m.event.instrument,
          venues: m.event.venues,
          text,
          details: m.event.details,
        }),
      };
    case 'telegram': {
      const base = (sink.baseUrl || DEFAULT_TELEGRAM_BASE_URL).replace(/\/+$/, '');
      return { url: `${base}/bot${sink.botToken}/sendMessage`, body: JSON.stringify({ chat_id: sink.chatId, text: clip(text, TELEGRAM_MAX), disable_web_page_preview: true }) };
    }
    case 'discord':
      return { url: sink.webhookUrl, body: JSON.stringify({ content: clip(text, DISCORD_MAX), allowed_mentions: { parse: [] } }) };
    case 'slack':
      return { url: sink.webhookUrl, body: JSON.stringify({ text }) };
  }
}

export type SinkOutcome =
  | { kind: 'ok'; status: number }
  /** Worth another try: 429 (with the wait the sink asked for, ms, when it said), 5xx, 408. */
  | { kind: 'retry'; status: number; retryAfterMs: number | null; error: string }
  /** Any other answer: the request itself is wrong (bad token, unknown chat, removed webhook). */
  | { kind: 'fail'; status: number; error: string };

/** `Retry-After` as delta-seconds or an HTTP date → ms; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
  if (!header) return null;
  const s = header.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isFinite(t) ? Math.max(0, t - nowMs) : null;
}

/** Reads a sink's answer (status, Retry-After header, JSON body) into an outcome. */
export function interpretResponse(sink: AlertSink, status: number, retryAfterHeader: string | null, bodyText: string, nowMs: number): SinkOutcome {
  let body: unknown = null;
  try {
    body = bodyText ? JSON.parse(bodyText) : null;
  } catch {
    body = null;
  }
  const obj = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
  // Telegram answers 200 with ok:false in theory only for odd cases; treat ok:false as the error it names.
  if (status >= 200 && status < 300 && !(sink.kind === 'telegram' && obj?.ok === false)) return { kind: 'ok', status };
  const description = typeof obj?.description === 'string' ? obj.description : typeof obj?.message === 'string' ? obj.message : bodyText.slice(0, 200);
  const error = redact(sink, `HTTP ${status}${description ? `: ${description}` : ''}`);
  if (status === 429) {
    let wait = parseRetryAfter(retryAfterHeader, nowMs);
    const params = obj?.parameters as Record<string, unknown> | undefined;
    if (wait === null && typeof params?.retry_after === 'number') wait = Math.round(params.retry_after * 1000);
    if (wait === null && typeof obj?.retry_after === 'number') wait = Math.round(obj.retry_after * 1000);
    return { kind: 'retry', status, retryAfterMs: wait, error };
  }
  if (status >= 500 || status === 408) return { kind: 'retry', status, retryAfterMs: parseRetryAfter(retryAfterHeader, nowMs), error };
  return { kind: 'fail', status, error };
}

/** The sink's secret values. */
export function sinkSecrets(sink: AlertSink): string[] {
  const rec = sink as unknown as Record<string, unknown>;
  return SINK_SECRETS[sink.kind].map((f) => rec[f]).filter((v): v is string => typeof v === 'string' && v.length > 0);
}

/** `text` with every secret of the sink (and a Telegram token's path form) replaced by its mask. */
export function redact(sink: AlertSink, text: string): string {
  let out = text;
  for (const secret of sinkSecrets(sink)) {
    out = out.split(secret).join(maskSecret(secret));
    // A URL may come back normalised or percent-encoded: its path alone is secret too.
    try {
      const path = new URL(secret).pathname;
      if (path.length > 1) out = out.split(path).join('/' + maskSecret(path).replace(/^\//, ''));
    } catch {
      // a token, not a URL
    }
  }
  return out;
}
