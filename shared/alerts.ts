/**
 * Alerts (issue 13 §4): rules that pick transitions (an opportunity opened/closed, a position
 * opened/closed/broken, a feed down/up, the trading state changed) and sinks they are sent to (a generic
 * JSON webhook, the Telegram Bot API, a Discord webhook, a Slack incoming webhook).
 *
 * Secrets (bot tokens, webhook URLs) are stored in full on the server but only ever leave it masked
 * (`maskSecret`): GET /api/alerts returns them masked, and a PUT that sends back a masked value keeps the
 * stored one (`isMasked`).
 */
import Type, { type Static } from 'typebox';
import { ExchangeEnum } from './schemas.js';

export const ALERT_EVENT_KINDS = [
  'opportunity_opened',
  'opportunity_closed',
  'position_opened',
  'position_closed',
  'position_broken',
  'feed_down',
  'feed_up',
  'trading_state',
] as const;
export type AlertEventKind = (typeof ALERT_EVENT_KINDS)[number];

export const AlertEventKindEnum = Type.Enum(ALERT_EVENT_KINDS, { description: 'A transition' });

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'Stable id (letters, digits, _ . -)' });

export const AlertRuleSchema = Type.Object(
  {
    id: Id,
    name: Type.String({ maxLength: 120, default: '' }),
    enabled: Type.Boolean({ default: true }),
    events: Type.Array(AlertEventKindEnum, { uniqueItems: true, description: 'Transitions this rule alerts on' }),
    minAprPct: Type.Union([Type.Number(), Type.Null()], { description: 'Opportunity events: funding APR (%) must be at least this; null = not checked' }),
    minProfitBps: Type.Union([Type.Number(), Type.Null()], { description: 'Opportunity events: projected profit (bps) must be at least this; null = not checked' }),
    instruments: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 500, description: 'Instrument keys (e.g. BTC-PERP); empty = all' }),
    venues: Type.Array(ExchangeEnum, { uniqueItems: true, description: 'Opportunities/positions: both legs on these venues; feeds: this venue; empty = all' }),
    allowCrossQuote: Type.Boolean({ description: 'Alert on cross-quote (USDT against USDC) opportunities' }),
    cooldownMs: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'After an alert, the same transition of the same subject is not alerted again by this rule for this long' }),
    sinks: Type.Array(Id, { uniqueItems: true, description: 'Sink ids to send to; empty = every enabled sink' }),
  },
  { additionalProperties: false },
);
export type AlertRule = Static<typeof AlertRuleSchema>;

const Url = Type.String({ minLength: 1, maxLength: 2048 });

export const WebhookSinkSchema = Type.Object(
  { id: Id, kind: Type.Literal('webhook'), enabled: Type.Boolean(), url: Url },
  { additionalProperties: false, description: 'Generic JSON webhook: POST url with the alert as JSON. The URL is a secret.' },
);
export const TelegramSinkSchema = Type.Object(
  {
    id: Id,
    kind: Type.Literal('telegram'),
    enabled: Type.Boolean(),
    baseUrl: Type.String({ minLength: 1, maxLength: 512, description: 'Bot API base, default https://api.telegram.org' }),
    botToken: Type.String({ minLength: 1, maxLength: 256, description: 'Secret' }),
    chatId: Type.String({ minLength: 1, maxLength: 64 }),
  },
  { additionalProperties: false, description: 'Telegram Bot API: POST {baseUrl}/bot<token>/sendMessage' },
);
export const DiscordSinkSchema = Type.Object(
  { id: Id, kind: Type.Literal('discord'), enabled: Type.Boolean(), webhookUrl: Url },
  { additionalProperties: false, description: 'Discord webhook (execute webhook). The URL is a secret.' },
);
export const SlackSinkSchema = Type.Object(
  { id: Id, kind: Type.Literal('slack'), enabled: Type.Boolean(), webhookUrl: Url },
  { additionalProperties: false, description: 'Slack incoming webhook. The URL is a secret.' },
);
export const AlertSinkSchema = Type.Union([WebhookSinkSchema, TelegramSinkSchema, DiscordSinkSchema, SlackSinkSchema]);
export type WebhookSink = Static<typeof WebhookSinkSchema>;
export type TelegramSink = Static<typeof TelegramSinkSchema>;
export type DiscordSink = Static<typeof DiscordSinkSchema>;
export type SlackSink = Static<typeof SlackSinkSchema>;
export type AlertSink = WebhookSink | TelegramSink | DiscordSink | SlackSink;
export type AlertSinkKind = AlertSink['kind'];
export const ALERT_SINK_KINDS: readonly AlertSinkKind[] = ['webhook', 'telegram', 'discord', 'slack'];

/** The secret fields of each sink kind. */
export const SINK_SECRETS: Readonly<Record<AlertSinkKind, readonly string[]>> = {
  webhook: ['url'],
  telegram: ['botToken'],
  discord: ['webhookUrl'],
  slack: ['webhookUrl'],
};

export const AlertsConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Master switch' }),
    rules: Type.Array(AlertRuleSchema, { maxItems: 50 }),
    sinks: Type.Array(AlertSinkSchema, { maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type AlertsConfig = Static<typeof AlertsConfigSchema>;

export const DEFAULT_TELEGRAM_BASE_URL = 'https://api.telegram.org';
export const DEFAULT_ALERTS_CONFIG: AlertsConfig = { enabled: true, rules: [], sinks: [] };

/** Per-sink delivery counters. */
export const AlertSinkStatusSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  queued: Type.Integer({ description: 'Waiting in this sink’s queue (the one in flight included)' }),
  sent: Type.Integer(),
  failed: Type.Integer({ description: 'Given up after the last retry, or refused (4xx)' }),
  dropped: Type.Integer({ description: 'Not queued because the queue was full' }),
  retries: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastSentMs: Type.Union([Type.Number(), Type.Null()]),
});
export type AlertSinkStatus = Static<typeof AlertSinkStatusSchema>;

export const AlertsStatusSchema = Type.Object({
  /** Transitions that matched a rule and were queued (once per sink). */
  fired: Type.Integer(),
  /** Matches held back by a rule's cooldown. */
  suppressed: Type.Integer(),
  /** Repeats of a state already alerted (deduplicated). */
  deduplicated: Type.Integer(),
  queued: Type.Integer(),
  sent: Type.Integer(),
  failed: Type.Integer(),
  dropped: Type.Integer({ description: 'Alerts lost because a sink queue was full' }),
  sinks: Type.Array(AlertSinkStatusSchema),
});
export type AlertsStatus = Static<typeof AlertsStatusSchema>;

export const AlertsResponseSchema = Type.Object({
  config: AlertsConfigSchema,
  status: AlertsStatusSchema,
});
export type AlertsResponse = Static<typeof AlertsResponseSchema>;

export const AlertsTestBodySchema = Type.Object(
  { sinks: Type.Optional(Type.Array(Id, { description: 'Sink ids to test; absent = every enabled sink' })) },
  { additionalProperties: false },
);

export const AlertTestResultSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  ok: Type.Boolean(),
  status: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the sink’s answer; null when none came' }),
  error: Type.Union([Type.String(), Type.Null()]),
  ms: Type.Number(),
});
export type AlertTestResult = Static<typeof AlertTestResultSchema>;
export const AlertsTestResponseSchema = Type.Object({ results: Type.Array(AlertTestResultSchema) });
export type AlertsTestResponse = Static<typeof AlertsTestResponseSchema>;

export const MASK_PREFIX = '****';

/** `****` + the last 4 characters (URLs keep their origin in front, which is not secret). */
export function maskSecret(value: string): string {
  const tail = value.length > 8 ? value.slice(-4) : '';
  if (/^https?:\/\//i.test(value)) {
    try {
      return `${new URL(value).origin}/${MASK_PREFIX}${tail}`;
    } catch {
      // not a URL after all: mask as a token
    }
  }
  return `${MASK_PREFIX}${tail}`;
}

/** A value the client sent back unchanged from a GET (so the stored secret stays). */
export function isMasked(value: string): boolean {
  return value.includes(MASK_PREFIX);
}
