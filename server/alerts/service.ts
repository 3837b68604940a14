/**
 * The alerts service: the stored rules and sinks (validated, secrets kept across masked PUTs, persisted
 * like the config), the deduper (dedup + cooldown) and the dispatcher (bounded per-sink queues).
 *
 * `handle(event)` is what the wiring calls for every transition: synchronous, a few comparisons per rule
 * and an O(1) enqueue per sink; no I/O.
 */
import Type from 'typebox';
import type { Logger } from 'pino';
import {
  type AlertRule,
  AlertRuleSchema,
  type AlertSink,
  type AlertsConfig,
  type AlertsResponse,
  type AlertsStatus,
  type AlertTestResult,
  ALERT_EVENT_KINDS,
  ALERT_SINK_KINDS,
  DEFAULT_ALERTS_CONFIG,
  DEFAULT_TELEGRAM_BASE_URL,
  DiscordSinkSchema,
  isMasked,
  maskSecret,
  SINK_SECRETS,
  SlackSinkSchema,
  TelegramSinkSchema,
  WebhookSinkSchema,
} from '../../shared/alerts.js';
import { type ConfigError, schemaErrors } from '../../shared/config.js';
import { AlertDispatcher, type DeliveryOptions, type FetchFn } from './queue.js';
import { AlertDeduper, type AlertEvent, ruleMatches } from './rules.js';

export type AlertsUpdateResult = { ok: true; config: AlertsConfig } | { ok: false; errors: ConfigError[] };

/** Where the alerts config is kept (the persistence layer's two calls). */
export interface AlertsStore {
  loadAlerts(): Promise<AlertsConfig | null>;
  saveAlerts(config: AlertsConfig): void;
}

export interface AlertsServiceOptions {
  store: AlertsStore;
  logger?: Pick<Logger, 'warn' | 'info' | 'debug'> | null;
  delivery?: Partial<DeliveryOptions>;
  fetch?: FetchFn;
  now?: () => number;
}

const SINK_SCHEMAS = { webhook: WebhookSinkSchema, telegram: TelegramSinkSchema, discord: DiscordSinkSchema, slack: SlackSinkSchema } as const;
const TopSchema = Type.Object(
  { enabled: Type.Boolean(), rules: Type.Array(AlertRuleSchema, { maxItems: 50 }), sinks: Type.Array(Type.Unknown(), { maxItems: 20 }) },
  { additionalProperties: false },
);
export const DEFAULT_RULE_COOLDOWN_MS = 300_000;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fills the fields a client may leave out (documented defaults); never overwrites what was sent. */
function withDefaults(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { enabled: true, rules: [], sinks: [], ...body };
  if (Array.isArray(out.rules)) {
    out.rules = out.rules.map((r) =>
      isObj(r)
        ? { name: '', enabled: true, events: [...ALERT_EVENT_KINDS], minAprPct: null, minProfitBps: null, instruments: [], venues: [], allowCrossQuote: false, cooldownMs: DEFAULT_RULE_COOLDOWN_MS, sinks: [], ...r }
        : r,
    );
  }
  if (Array.isArray(out.sinks)) {
    out.sinks = out.sinks.map((s) => (isObj(s) ? { enabled: true, ...(s.kind === 'telegram' ? { baseUrl: DEFAULT_TELEGRAM_BASE_URL } : {}), ...s } : s));
  }
  return out;
}

function httpUrlProblem(value: string): string | null {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'must be an http(s) URL';
  } catch {
    return 'must be an absolute http(s) URL';
  }
}

/**
 * Validates a full replacement; masked secrets are replaced by the stored ones (same sink id and kind,
 * and the mask must be the stored secret's mask). Errors name the field (`sinks.1.webhookUrl`).
 */
export function validateAlertsConfig(body: unknown, stored: AlertsConfig): AlertsUpdateResult {
  if (!isObj(body)) return { ok: false, errors: [{ field: '(root)', message: 'the alerts config must be a JSON object' }] };
  const value = withDefaults(body);
  const errors = schemaErrors(TopSchema, value);
  const sinks: AlertSink[] = [];
  (Array.isArray(value.sinks) ? value.sinks : []).forEach((raw, i) => {
    const at = `sinks.${i}`;
    if (!isObj(raw) || typeof raw.kind !== 'string' || !(ALERT_SINK_KINDS as readonly string[]).includes(raw.kind)) {
      errors.push({ field: `${at}.kind`, message: `must be one of ${ALERT_SINK_KINDS.join(', ')}` });
      return;
    }
    const kind = raw.kind as AlertSink['kind'];
    const sinkErrors = schemaErrors(SINK_SCHEMAS[kind], raw).map((e) => ({ field: e.field === '(root)' ? at : `${at}.${e.field}`, message: e.message }));
    if (sinkErrors.length > 0) return void errors.push(...sinkErrors);
    const sink = { ...raw } as unknown as AlertSink;
    const rec = sink as unknown as Record<string, string>;
    const prev = stored.sinks.find((s) => s.id === sink.id && s.kind === sink.kind) as unknown as Record<string, string> | undefined;
    for (const f of SINK_SECRETS[kind]) {
      if (!isMasked(rec[f])) continue;
      if (prev && typeof prev[f] === 'string' && maskSecret(prev[f]) === rec[f]) rec[f] = prev[f];
      else errors.push({ field: `${at}.${f}`, message: 'a masked value must be the one GET returned for this sink; send the full secret to change it' });
    }
    for (const f of kind === 'telegram' ? ['baseUrl'] : SINK_SECRETS[kind]) {
      const problem = isMasked(rec[f]) ? null : httpUrlProblem(rec[f]);
      if (problem) errors.push({ field: `${at}.${f}`, message: problem });
    }
    sinks.push(sink);
  });
  if (errors.length > 0) return { ok: false, errors };
  const rules = value.rules as AlertRule[];
  const sinkIds = new Set<string>();
  sinks.forEach((s, i) => {
    if (sinkIds.has(s.id)) errors.push({ field: `sinks.${i}.id`, message: `duplicate sink id ${s.id}` });
    sinkIds.add(s.id);
  });
  const ruleIds = new Set<string>();
  rules.forEach((r, i) => {
    if (ruleIds.has(r.id)) errors.push({ field: `rules.${i}.id`, message: `duplicate rule id ${r.id}` });
    ruleIds.add(r.id);
    r.sinks.forEach((id, j) => {
      if (!sinkIds.has(id)) errors.push({ field: `rules.${i}.sinks.${j}`, message: `no sink with id ${id}` });
    });
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, config: { enabled: value.enabled as boolean, rules: rules.map((r) => ({ ...r, instruments: r.instruments.map((k) => k.trim().toUpperCase()) })), sinks } };
}

/** The config as the API shows it: every secret masked. */
export function maskedConfig(config: AlertsConfig): AlertsConfig {
  return {
    ...config,
    rules: config.rules.map((r) => ({ ...r })),
    sinks: config.sinks.map((s) => {
      const copy = { ...s } as unknown as Record<string, string>;
      for (const f of SINK_SECRETS[s.kind]) copy[f] = maskSecret(copy[f]);
      return copy as unknown as AlertSink;
    }),
  };
}

export class AlertsService {
  private current: AlertsConfig = DEFAULT_ALERTS_CONFIG;
  private readonly deduper = new AlertDeduper();
  readonly dispatcher: AlertDispatcher;
  private readonly store: AlertsStore;
  private readonly log: Pick<Logger, 'warn' | 'info' | 'debug'> | null;
  private readonly now: () => number;
  private readonly counts = { fired: 0, suppressed: 0, deduplicated: 0 };
  /** Kinds some enabled rule alerts on (with alerts enabled). */
  private wanted = new Set<string>();
  private readonly changeListeners: Array<() => void> = [];

  constructor(opts: AlertsServiceOptions) {
    this.store = opts.store;
    this.log = opts.logger ?? null;
    this.now = opts.now ?? Date.now;
    this.dispatcher = new AlertDispatcher(opts.delivery, this.log, opts.fetch, this.now);
  }

  /** Loads the persisted alerts config (an invalid one is logged and ignored). */
  async restore(): Promise<void> {
    let stored: AlertsConfig | null = null;
    try {
      stored = await this.store.loadAlerts();
    } catch (err) {
      this.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'alerts: the persisted alerts config could not be read; starting with none');
    }
    if (!stored) return;
    const result = validateAlertsConfig(stored, DEFAULT_ALERTS_CONFIG);
    if (!result.ok) {
      this.log?.warn({ errors: result.errors }, 'alerts: the persisted alerts config is invalid; starting with none');
      return;
    }
    this.apply(result.config);
  }

  get config(): AlertsConfig {
    return this.current;
  }

  update(body: unknown): AlertsUpdateResult {
    const result = validateAlertsConfig(body, this.current);
    if (!result.ok) return result;
    this.apply(result.config);
    this.store.saveAlerts(result.config);
    for (const l of this.changeListeners) l();
    this.log?.info({ rules: result.config.rules.length, sinks: result.config.sinks.map((s) => ({ id: s.id, kind: s.kind, enabled: s.enabled })), enabled: result.config.enabled }, 'alerts config updated');
    return result;
  }

  /** Called after every accepted update (the cluster publishes the new view to edges at once). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private apply(config: AlertsConfig): void {
    this.current = config;
    this.wanted = new Set(config.enabled ? config.rules.filter((r) => r.enabled).flatMap((r) => r.events) : []);
    this.dispatcher.setSinks(config.sinks);
    this.deduper.forgetRulesExcept(new Set(config.rules.map((r) => r.id)));
  }

  wants(kind: AlertEvent['kind']): boolean {
    return this.wanted.has(kind);
  }

  /** One transition: matched against every rule, deduplicated, queued once per sink. Synchronous, no I/O. */
  handle(event: AlertEvent): void {
    const c = this.current;
    if (!c.enabled || c.rules.length === 0) return;
    for (const rule of c.rules) {
      if (!ruleMatches(rule, event)) continue;
      const decision = this.deduper.decide(rule, event);
      if (decision === 'duplicate') this.counts.deduplicated++;
      else if (decision === 'cooldown') this.counts.suppressed++;
      if (decision !== 'fire') continue;
      for (const sink of c.sinks) {
        if (!sink.enabled || (rule.sinks.length > 0 && !rule.sinks.includes(sink.id))) continue;
        this.counts.fired++;
        this.dispatcher.enqueue(sink.id, { event, ruleId: rule.id });
      }
    }
  }

  status(): AlertsStatus {
    const sinks = this.dispatcher.status();
    const sum = (k: 'queued' | 'sent' | 'failed' | 'dropped') => sinks.reduce((a, s) => a + s[k], 0);
    return { ...this.counts, queued: sum('queued'), sent: sum('sent'), failed: sum('failed'), dropped: sum('dropped'), sinks };
  }

  view(): AlertsResponse {
    return { config: maskedConfig(this.current), status: this.status() };
  }

  /** Sends a test alert to the chosen sinks (all enabled ones by default) at once, one try each. */
  async test(sinkIds?: string[]): Promise<{ ok: true; results: AlertTestResult[] } | { ok: false; errors: ConfigError[] }> {
    const errors: ConfigError[] = [];
    const chosen: AlertSink[] = [];
    if (sinkIds) {
      sinkIds.forEach((id, i) => {
        const s = this.current.sinks.find((x) => x.id === id);
        if (s) chosen.push(s);
        else errors.push({ field: `sinks.${i}`, message: `no sink with id ${id}` });
      });
    } else chosen.push(...this.current.sinks.filter((s) => s.enabled));
    if (errors.length > 0) return { ok: false, errors };
    const tsMs = this.now();
    const event: AlertEvent = {
      kind: 'trading_state',
      tsMs,
      subject: 'test',
      instrument: null,
      venues: [],
      aprPct: null,
      profitBps: null,
      crossQuote: false,
      text: 'Test alert: this sink is set up correctly.',
      details: { test: true },
    };
    const results = await Promise.all(chosen.map((s) => this.dispatcher.sendNow(s, { event, ruleId: null, test: true })));
    for (const r of results) if (!r.ok) this.log?.warn({ sink: r.id, kind: r.kind, status: r.status, error: r.error }, `alerts: test alert to sink ${r.id} failed`);
    return { ok: true, results };
  }

  close(): void {
    this.dispatcher.close();
  }
}
